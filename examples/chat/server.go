package main

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

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

// newChat builds the chat's runtime server: the typed handlers from the generated package, and
// the page mux as Fallback so that page and socket share one port and one path, as in Ambiorix.
func newChat(logger *slog.Logger, cfg config) (*runtime.Server, *presence) {
	mux := pages()
	rt := runtime.NewServer(runtime.Options{
		Fallback:               mux,
		Logger:                 logger,
		CompatibleFingerprints: cfg.compatible,
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
	api := gen.Serve(rt)
	count := &presence{every: cfg.presenceEvery, announce: func() {
		api.BroadcastUpdate(gen.Update{Count: int64(rt.Len())})
	}}
	api.OnConnect(func(context.Context, *gen.Conn) { count.changed() })
	api.OnDisconnect(func(*gen.Conn, error) { count.changed() })

	// As in the documentation: every chat line goes to every client, the sender included.
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
	return rt, count
}

// defaultPresenceInterval is how often, at most, the client count goes out. The documentation's
// chat announces it on every join and leave, which costs O(N) frames per join and O(N^2) for a
// crowd arriving at once; announcing at most once per interval, after the first change, costs
// O(N) per interval however many join.
const defaultPresenceInterval = 100 * time.Millisecond

// presence coalesces changes of the client count into one announcement per interval.
type presence struct {
	every    time.Duration
	announce func()

	mu      sync.Mutex
	pending *time.Timer
	stopped bool
}

// changed schedules an announcement, unless one is already due; with no interval it announces
// at once, as the documentation's chat does.
func (p *presence) changed() {
	if p.every <= 0 {
		p.announce()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending != nil || p.stopped {
		return
	}
	p.pending = time.AfterFunc(p.every, func() {
		p.mu.Lock()
		p.pending = nil
		stopped := p.stopped
		p.mu.Unlock()
		if !stopped {
			p.announce()
		}
	})
}

// stop cancels a pending announcement and ignores later changes.
func (p *presence) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	if p.pending != nil {
		p.pending.Stop()
	}
}

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
	rt       *runtime.Server
	presence *presence
	http     *http.Server
	done     chan error // receives http.Serve's result once
}

// config is what the command line sets.
type config struct {
	// presenceEvery is the interval of the count announcements (0: on every change).
	presenceEvery time.Duration
	// compatible lists the fingerprints of earlier schemas whose tabs the server still serves;
	// a tab of any other schema is told to reload.
	compatible []string
	// metrics serves Prometheus metrics at /metrics.
	metrics bool
}

// serve starts the chat on ln and returns at once.
func serve(ln net.Listener, logger *slog.Logger, cfg config) *server {
	rt, count := newChat(logger, cfg)
	s := &server{
		rt:       rt,
		presence: count,
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
	s.presence.stop()
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
