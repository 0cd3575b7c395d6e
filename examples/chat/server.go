package main

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/jsclient"
	"github.com/ambigen/ambigen/metrics"
	"github.com/ambigen/ambigen/runtime"
)

// The page, the Ambiorix documentation's page and the committed bundle are compiled into the
// binary so that `go run ./examples/chat` works from any directory.
//
//go:embed templates static
var assets embed.FS

// greetingReply is what the documentation's greeting handler answers (section 15.2).
const greetingReply = "Hello from the server!"

// The chat's rooms. Every tab is in #general, whose lines are the documentation's chat messages
// (they go to everyone) and whose presence is the count the header shows; a tab joins and leaves
// #random with the join and leave messages, and only #random's members get its lines.
const (
	general = "#general"
	random  = "#random"
)

// rooms are the rooms a tab may ask to join.
var rooms = []string{general, random}

// maxName bounds the name a tab gives in the page URL (?name=ada); it is shown to the others.
const maxName = 32

// newChat builds the chat's runtime server: the typed handlers from the generated package, and
// the page mux as Fallback so that page and socket share one port and one path, as in Ambiorix.
func newChat(logger *slog.Logger, cfg config) *runtime.Server {
	// OnPresence needs the typed facade, which needs the runtime server it configures; api is
	// set before the server can accept anyone.
	var api *gen.Server
	mux := pages()
	rt := runtime.NewServer(runtime.Options{
		Fallback:               mux,
		Logger:                 logger,
		CompatibleFingerprints: cfg.compatible,
		// The name a tab gives is its identity, and so its user key: the tabs of one name are
		// one user in the presence lists. Anyone may claim any name; this is a demo, not a login.
		Authenticate: func(r *http.Request) (any, error) {
			name := strings.TrimSpace(r.URL.Query().Get("name"))
			if name == "" || utf8.RuneCountInString(name) > maxName || !utf8.ValidString(name) {
				return nil, nil
			}
			return name, nil
		},
		// Presence changes are coalesced by the runtime (PresenceInterval): a crowd joining at
		// once costs one announcement per interval, not one per join. With a broker this runs on
		// every node with the cluster's presence, so each node tells its own tabs (Local).
		OnPresence: func(p runtime.Presence) {
			everyone := api.Everyone().Local()
			if p.Room == general {
				everyone.BroadcastUpdate(gen.Update{Count: int64(p.Conns)})
				return
			}
			everyone.BroadcastPresence(presenceOf(p))
		},
		PresenceInterval: cfg.presenceInterval(),
		Broker:           cfg.broker,
	})
	if cfg.metrics {
		// Every message counted and timed by name, through the runtime's interceptors.
		m := metrics.New(metrics.Options{})
		m.Instrument(rt)
		reg := prometheus.NewRegistry()
		reg.MustRegister(m)
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	}
	// Serve also declares gen.Fingerprint, the schema's own, to rt.
	api = gen.Serve(rt)
	api.OnConnect(func(_ context.Context, c *gen.Conn) {
		if err := api.Join(c, general); err != nil {
			return // closed already
		}
		// A new tab learns who is in #random now; later changes reach it with everyone's.
		_ = c.SendPresence(presenceOf(api.Presence(random)))
	})

	// As in the documentation: every chat line goes to every client, the sender included (on
	// every node, with a broker).
	api.OnChat(func(_ context.Context, _ *gen.Conn, msg string) {
		api.BroadcastChat(msg)
	})
	api.OnGreeting(func(_ context.Context, c *gen.Conn, msg string) {
		logger.Debug("greeting", "conn", c.ID(), "msg", msg)
		if err := c.SendGreeting(greetingReply); err != nil {
			logger.Debug("greeting reply not sent", "conn", c.ID(), "err", err)
		}
	})
	// post carries the structured ChatMessage; the server stamps the time so clients need not
	// trust each other's clocks.
	api.OnPost(func(_ context.Context, _ *gen.Conn, msg gen.ChatMessage) {
		if msg.SentAt == nil {
			now := time.Now().UTC()
			msg.SentAt = &now
		}
		api.BroadcastPost(msg)
	})
	api.HandleAdd(func(_ context.Context, _ *gen.Conn, req gen.AddRequest) (int64, error) {
		sum := req.A + req.B
		// Overflow is the caller's mistake, so it gets a code it can branch on instead of a wrong sum.
		if (req.A > 0 && req.B > 0 && sum < 0) || (req.A < 0 && req.B < 0 && sum >= 0) {
			return 0, &runtime.CallError{Code: runtime.CodeInvalidArgument, Message: "sum overflows a 64-bit integer"}
		}
		return sum, nil
	})
	// The server decides who is in which room: a tab asks, and only for the chat's own rooms.
	api.OnJoin(func(_ context.Context, c *gen.Conn, req gen.Join) {
		if slices.Contains(rooms, req.Room) {
			_ = api.Join(c, req.Room)
		}
	})
	api.OnLeave(func(_ context.Context, c *gen.Conn, req gen.Leave) {
		if req.Room != general {
			api.Leave(c, req.Room)
		}
	})
	// A line said in a room goes to that room's members on every node, if the sender is one.
	api.OnSay(func(_ context.Context, c *gen.Conn, line gen.Say) {
		if slices.Contains(rt.RoomsOf(c.Runtime()), line.Room) {
			api.Room(line.Room).BroadcastSay(line)
		}
	})
	return rt
}

// presenceOf is the presence message of p.
func presenceOf(p runtime.Presence) gen.Presence {
	users := p.Users
	if users == nil {
		users = []string{}
	}
	return gen.Presence{Room: p.Room, Count: int64(p.Conns), Users: users}
}

// defaultPresenceInterval is how often, at most, the client count and a room's presence go out.
// The documentation's chat announces the count on every join and leave, which costs O(N) frames
// per join and O(N^2) for a crowd arriving at once; announcing at most once per interval, after
// the first change, costs O(N) per interval however many join.
const defaultPresenceInterval = runtime.DefaultPresenceInterval

// pages serves everything that is not a WebSocket upgrade.
func pages() *http.ServeMux {
	static, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder
	}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", page("templates/chat.html"))
	mux.Handle("GET /ambiorix", page("templates/ambiorix-chat.html"))
	// ambiorix.js comes from jsclient so that the global-API script always matches the runtime
	// it was built with; the page's own bundle is the committed static/app.js.
	mux.Handle("GET /static/ambiorix.js", jsclient.Handler())
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	return mux
}

// page serves one embedded HTML file, like Ambiorix's res$send_file.
func page(name string) http.Handler {
	body, err := assets.ReadFile(name)
	if err != nil {
		panic(err) // a missing embedded file is a build mistake, caught by the first test
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	})
}

// server is one running chat: the runtime server and the http.Server in front of it.
type server struct {
	rt   *runtime.Server
	http *http.Server
	done chan error // receives http.Serve's result once
}

// config is what the command line sets.
type config struct {
	// presenceEvery is the interval of the count announcements (0: on every change).
	presenceEvery time.Duration
	// compatible lists the fingerprints of earlier schemas whose tabs the server still serves;
	// a tab of any other schema is told to reload.
	compatible []string
	// broker joins this server to the others of a cluster (-redis); nil runs it alone.
	broker runtime.Broker
	// metrics serves Prometheus metrics at /metrics.
	metrics bool
}

// presenceInterval is the runtime's PresenceInterval for -presence-interval, where 0 means what
// the documentation's chat does: announce every change.
func (c config) presenceInterval() time.Duration {
	if c.presenceEvery <= 0 {
		return -1
	}
	return c.presenceEvery
}

// serve starts the chat on ln and returns at once.
func serve(ln net.Listener, logger *slog.Logger, cfg config) *server {
	rt := newChat(logger, cfg)
	s := &server{
		rt: rt,
		http: &http.Server{
			Handler:           rt,
			ReadHeaderTimeout: 10 * time.Second,
			// A keep-alive connection that carries no request is closed after a while: a crowd
			// of idle browsers must not hold sockets forever. Upgraded WebSockets are hijacked
			// and not subject to it.
			IdleTimeout: 60 * time.Second,
			ErrorLog:    slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
		done: make(chan error, 1),
	}
	go func() {
		err := s.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return s
}

// httpGrace is how long shutdown lets page and script requests in flight finish. They take
// milliseconds; the bound exists because browsers keep spare preconnected sockets that never
// carry a request, and http.Server.Shutdown counts those as busy for 5 s.
const httpGrace = 500 * time.Millisecond

// shutdown closes every WebSocket with 1001 (going away) first, because http.Server.Shutdown
// does not wait for hijacked connections, then stops accepting, lets requests in flight finish
// within httpGrace, closes what is left, and waits for Serve to return.
func (s *server) shutdown(ctx context.Context) error {
	rtErr := s.rt.Shutdown(ctx)
	hctx, cancel := context.WithTimeout(ctx, httpGrace)
	defer cancel()
	httpErr := s.http.Shutdown(hctx)
	if errors.Is(httpErr, context.DeadlineExceeded) && ctx.Err() == nil {
		httpErr = s.http.Close()
	}
	serveErr := <-s.done
	return errors.Join(rtErr, httpErr, serveErr)
}
