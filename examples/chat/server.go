package main

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/jsclient"
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
func newChat(logger *slog.Logger) *runtime.Server {
	// OnConnect and OnDisconnect need the typed facade, which needs the runtime server they
	// configure; api is set before the server can accept anyone.
	var api *gen.Server
	announce := func() { api.BroadcastUpdate(gen.Update{Count: int64(api.Runtime().Len())}) }

	rt := runtime.NewServer(runtime.Options{
		Fallback:     pages(),
		Logger:       logger,
		OnConnect:    func(*runtime.Conn) { announce() },
		OnDisconnect: func(*runtime.Conn, error) { announce() },
	})
	api = gen.Serve(rt)

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
	return rt
}

// pages serves everything that is not a WebSocket upgrade.
func pages() http.Handler {
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

// serve starts the chat on ln and returns at once.
func serve(ln net.Listener, logger *slog.Logger) *server {
	rt := newChat(logger)
	s := &server{
		rt: rt,
		http: &http.Server{
			Handler:           rt,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
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
