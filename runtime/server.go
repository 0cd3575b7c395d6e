package runtime

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Server is an http.Handler that speaks the Ambiorix protocol. It upgrades
// WebSocket requests on whatever path it is mounted on and serves every
// other request with Options.Fallback, so the page and the socket can share
// "/" as with Ambiorix.
//
// All methods are safe for concurrent use. Handlers may be registered
// before or while the server runs.
type Server struct {
	ep       *endpoint
	opts     Options
	upgrader websocket.Upgrader
	fallback http.Handler

	baseCtx    context.Context
	cancelBase context.CancelFunc

	mu       sync.Mutex
	conns    map[*Conn]struct{}
	raws     map[*websocket.Conn]struct{}
	shutting bool
	active   sync.WaitGroup // one per request that upgraded or is upgrading
}

// NewServer returns a server configured by opts.
func NewServer(opts Options) *Server {
	cfg := newConfig(opts.ReadLimit, opts.SendQueue, opts.WriteTimeout, opts.PingInterval, opts.PongTimeout)
	cfg.strict = opts.Strict
	cfg.logger = opts.Logger
	cfg.onConnect = opts.OnConnect
	cfg.onDisconnect = opts.OnDisconnect
	cfg.onError = opts.OnError
	wbs := orDefault(opts.WriteBufferSize, DefaultWriteBufferSize)
	s := &Server{
		ep:   &endpoint{cfg: cfg},
		opts: opts,
		upgrader: websocket.Upgrader{
			ReadBufferSize:  orDefault(opts.ReadBufferSize, DefaultReadBufferSize),
			WriteBufferSize: wbs,
			WriteBufferPool: writeBufferPool(wbs),
			CheckOrigin:     checkOrigin(opts.CheckOrigin),
		},
		fallback: opts.Fallback,
		conns:    make(map[*Conn]struct{}),
		raws:     make(map[*websocket.Conn]struct{}),
	}
	if s.fallback == nil {
		s.fallback = http.NotFoundHandler()
	}
	s.baseCtx, s.cancelBase = context.WithCancel(context.Background())
	s.ep.leave = func(c *Conn) {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}
	return s
}

// checkOrigin allows requests without an Origin (non-browser clients) and
// same-origin requests, and asks allow about the others.
func checkOrigin(allow func(*http.Request) bool) func(*http.Request) bool {
	return func(r *http.Request) bool {
		origin := r.Header.Get("Origin")
		if origin == "" {
			return true
		}
		if u, err := url.Parse(origin); err == nil && strings.EqualFold(u.Host, r.Host) {
			return true
		}
		return allow != nil && allow(r)
	}
}

// Handle registers h for messages named name.
func (s *Server) Handle(name string, h Handler) error {
	return s.ep.register(name, route{handle: h})
}

// HandleCall registers h for calls named name.
func (s *Server) HandleCall(name string, h CallHandler) error {
	return s.ep.register(name, route{call: h})
}

// ServeHTTP upgrades WebSocket requests and hands the rest to the fallback.
// An upgraded connection is served on a goroutine of its own, so that the
// HTTP server's per-request state (its buffers, its grown stack) is freed
// at once instead of being held for the connection's life.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !websocket.IsWebSocketUpgrade(r) {
		s.fallback.ServeHTTP(w, r)
		return
	}
	s.mu.Lock()
	if s.shutting {
		s.mu.Unlock()
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	s.active.Add(1)
	s.mu.Unlock()
	handedOff := false
	defer func() {
		if !handedOff {
			s.active.Done()
		}
	}()

	var identity any
	if s.opts.Authenticate != nil {
		id, err := s.opts.Authenticate(r)
		if err != nil {
			s.ep.debug("ambigen: upgrade refused by Authenticate", "remote", r.RemoteAddr, "err", err)
			http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
			return
		}
		identity = id
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// The upgrader has answered with the HTTP error (403 for a foreign
		// Origin, 400 for a bad handshake).
		s.ep.debug("ambigen: upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	if s.opts.Raw != nil {
		// Raw code owns the socket and may hold the request's goroutine.
		s.serveRaw(ws)
		return
	}
	c := newConn(s.ep, ws, identity, s.baseCtx)
	s.mu.Lock()
	if s.shutting {
		s.mu.Unlock()
		_ = c.closeWith(websocket.CloseGoingAway, "server shutting down", ErrShutdown, false)
	} else {
		s.conns[c] = struct{}{}
		s.mu.Unlock()
	}
	s.ep.debug("ambigen: connection opened", "conn", c.id, "remote", r.RemoteAddr)
	handedOff = true
	go func() {
		defer s.active.Done()
		c.start()
		if fn := s.ep.cfg.onConnect; fn != nil {
			fn(c)
		}
		c.readLoop()
	}()
}

func (s *Server) serveRaw(ws *websocket.Conn) {
	s.mu.Lock()
	s.raws[ws] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.raws, ws)
		s.mu.Unlock()
		_ = ws.Close()
	}()
	s.opts.Raw(s.baseCtx, ws)
}

// snapshot copies the live connections out under the lock, so that sends
// happen outside it.
func (s *Server) snapshot() []*Conn {
	s.mu.Lock()
	out := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	s.mu.Unlock()
	return out
}

// Clients returns the live connections, in the order they connected.
// Closed connections leave the list (unlike Ambiorix's, which keeps them).
func (s *Server) Clients() []*Conn {
	out := s.snapshot()
	slices.SortFunc(out, func(a, b *Conn) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	return out
}

// Len is the number of live connections.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Broadcast is the untyped broadcast: v is encoded once as Conn.Send would,
// and queued to every live connection. It returns how many it reached, or
// 0 and the *EncodeError of a value that does not encode, which is sent to
// nobody.
func (s *Server) Broadcast(name string, v any) (int, error) {
	return s.BroadcastFunc(name, v, nil)
}

// BroadcastFunc is Broadcast to the connections for which keep returns
// true (everyone but the sender, say).
func (s *Server) BroadcastFunc(name string, v any, keep func(*Conn) bool) (int, error) {
	if raw, ok := v.(json.RawMessage); ok {
		return s.broadcastFrame(encodeRawFrame(name, raw, "", "", nil), keep), nil
	}
	frame, err := encodeFrame(name, Any, v, "", "")
	if err != nil {
		return 0, err
	}
	return s.broadcastFrame(frame, keep), nil
}

func (s *Server) broadcastFrame(frame []byte, keep func(*Conn) bool) int {
	n := 0
	for _, c := range s.snapshot() {
		if keep != nil && !keep(c) {
			continue
		}
		if c.enqueue(frame) == nil {
			n++
		}
	}
	return n
}

// Shutdown refuses new connections, closes every connection with 1001
// (after the frames already queued), cancels the connections' contexts and
// waits until every connection has closed and its handlers have returned,
// or until ctx ends; then it tears down what is left and returns ctx's
// error. Raw connections are closed with 1001 as well.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutting = true
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	raws := make([]*websocket.Conn, 0, len(s.raws))
	for ws := range s.raws {
		raws = append(raws, ws)
	}
	s.mu.Unlock()

	for _, c := range conns {
		_ = c.closeWith(websocket.CloseGoingAway, "server shutting down", ErrShutdown, false)
	}
	goingAway := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down")
	for _, ws := range raws {
		_ = ws.WriteControl(websocket.CloseMessage, goingAway, time.Now().Add(s.ep.cfg.writeTimeout))
	}
	s.cancelBase()

	done := make(chan struct{})
	go func() {
		s.active.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, c := range conns {
			c.abort()
		}
		for _, ws := range raws {
			_ = ws.NetConn().Close()
		}
		return ctx.Err()
	}
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats { return s.ep.stats.snapshot() }
