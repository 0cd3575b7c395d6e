package runtime

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/url"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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

	schemaMu sync.Mutex // serialises SetFingerprint
	schemas  atomic.Pointer[schemas]

	mu       sync.Mutex
	registry connSet       // the live connections, in no particular order
	versions versionCounts // the registry counted by version (skew.go)
	raws     map[*websocket.Conn]struct{}
	shutting bool
	active   sync.WaitGroup // one per connection being upgraded or open

	hub *hub // rooms, users, presence and the broker (rooms.go)
}

// NewServer returns a server configured by opts.
func NewServer(opts Options) *Server {
	cfg := newConfig(limits{
		readLimit: opts.ReadLimit, messageTimeout: opts.MessageTimeout, sendBuffer: opts.SendBuffer,
		writeTimeout: opts.WriteTimeout, ping: opts.PingInterval, pong: opts.PongTimeout, rate: opts.RateLimit,
	})
	cfg.strict = opts.Strict
	cfg.onConnect = opts.OnConnect
	cfg.onDisconnect = opts.OnDisconnect
	cfg.onError = opts.OnError
	wbs := orDefault(opts.WriteBufferSize, DefaultWriteBufferSize)
	s := &Server{
		ep:   newEndpoint(cfg, opts.MessageMemory, opts.Logger),
		opts: opts,
		upgrader: websocket.Upgrader{
			ReadBufferSize:  orDefault(opts.ReadBufferSize, DefaultReadBufferSize),
			WriteBufferSize: wbs,
			WriteBufferPool: writeBufferPool(wbs),
			// The Origin is checked before Authenticate runs (see admit).
			CheckOrigin: func(*http.Request) bool { return true },
		},
		fallback: opts.Fallback,
		raws:     make(map[*websocket.Conn]struct{}),
	}
	if s.fallback == nil {
		s.fallback = http.NotFoundHandler()
	}
	s.baseCtx, s.cancelBase = context.WithCancel(context.Background())
	s.hub = newHub(s, opts)
	s.ep.leave = func(c *Conn) {
		s.remove(c)
		s.hub.drop(c)
	}
	s.schemas.Store(newSchemas(opts.CompatibleFingerprints))
	s.ep.use(opts.Interceptors)
	return s
}

// allowOrigin allows requests without an Origin (non-browser clients) and
// same-origin requests, and asks Options.CheckOrigin about the others. An
// Origin without a host (a page from a file, "null") is never the same
// origin.
func (s *Server) allowOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if u, err := url.Parse(origin); err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return s.opts.CheckOrigin != nil && s.opts.CheckOrigin(r)
}

// Handle registers h for messages named name.
func (s *Server) Handle(name string, h Handler) error {
	return s.ep.register(name, route{handle: h})
}

func (s *Server) handleTyped(name string, h Handler, typed typedHandler) error {
	return s.ep.register(name, route{handle: h, typed: typed})
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
		if isProbe(r) {
			s.serveProbe(w, r)
			return
		}
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

	identity, he := s.admit(r)
	if he != nil {
		s.ep.stats.refused.Add(1)
		refuse(w, he)
		return
	}
	h := &hijacker{ResponseWriter: w}
	ws, err := s.upgrader.Upgrade(h, r, nil)
	if err != nil {
		// The upgrader has answered with the HTTP error (400 for a bad
		// handshake).
		s.ep.log.Debug("ambigen: upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	if s.opts.Raw != nil {
		// Raw code owns the socket and may hold the request's goroutine.
		s.serveRaw(ws)
		return
	}
	wire := newSockWire(h.sock.Conn, s.ep.cfg.writeTimeout)
	c := newConn(s.ep, ws, wire, wire.nb.rc != nil, identity, s.baseCtx)
	// From here on the outbox is the socket's only writer (see sockConn).
	h.sock.owner.Store(&c.out)
	c.finished = s.active.Done
	// The version verdict goes first, before any broadcast can reach c.
	s.greet(c, r)
	s.mu.Lock()
	if s.shutting {
		s.mu.Unlock()
		_ = c.closeWith(websocket.CloseGoingAway, "server shutting down", ErrShutdown, false)
	} else {
		s.registry.add(c)
		s.versions.add(c)
		s.mu.Unlock()
		s.hub.connected(c)
	}
	s.ep.log.Debug("ambigen: connection opened", "conn", c.id, "remote", r.RemoteAddr)
	handedOff = true
	go func() {
		c.start()
		s.ep.connected(c)
		c.readLoop(0)
	}()
}

// hijacker hands gorilla's upgrade the socket wrapped in a sockConn, so
// that every later write gorilla makes on its own goes through the
// connection's outbox.
type hijacker struct {
	http.ResponseWriter
	sock *sockConn
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.sock = &sockConn{Conn: nc}
	return h.sock, brw, nil
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

// remove takes a closed connection out of the registry, and its counts
// into the server's totals (under the same lock, so that Stats counts them
// once).
func (s *Server) remove(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ep.stats.retire(c)
	if s.registry.remove(c) {
		s.versions.remove(c)
	}
}

// snapshot copies the live connections out under the lock, so that sends
// happen outside it.
func (s *Server) snapshot() []*Conn {
	s.mu.Lock()
	out := slices.Clone(s.registry.conns)
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
	return len(s.registry.conns)
}

// Broadcast is the untyped broadcast: v is encoded once as Conn.Send would,
// and queued to every live connection. It returns how many it reached. With
// a Broker it is Everyone().Broadcast: the other nodes get it too.
func (s *Server) Broadcast(name string, v any) (int, error) {
	return s.BroadcastFunc(name, v, nil)
}

// BroadcastFunc is Broadcast to the connections for which keep returns
// true (everyone but the sender, say). A filter cannot travel to other
// nodes: with keep, the broadcast stays on this one.
func (s *Server) BroadcastFunc(name string, v any, keep func(*Conn) bool) (int, error) {
	if chain := s.ep.sendChain(); chain != nil {
		o, err := encodeUntypedOut(name, v)
		if err != nil {
			return 0, err
		}
		return s.broadcastOut(chain, name, o, keep)
	}
	w, err := encodeUntyped(name, v)
	if err != nil {
		return 0, err
	}
	if keep == nil {
		return s.Everyone().send(ownFrame(w))
	}
	return s.broadcastFrame(ownFrame(w), keep), nil
}

// fanOutShare is the fewest recipients worth a goroutine of their own in a
// broadcast.
const fanOutShare = 256

// broadcastFrame sends one frame, shared by all, to the connections keep
// accepts.
func (s *Server) broadcastFrame(frame []byte, keep func(*Conn) bool) int {
	return fanOut(s.recipients(keep), frame)
}

// recipients is the live connections that keep accepts.
func (s *Server) recipients(keep func(*Conn) bool) []*Conn {
	conns := s.snapshot()
	if keep != nil {
		conns = slices.DeleteFunc(conns, func(c *Conn) bool { return !keep(c) })
	}
	return conns
}

// fanOut sends frame to conns. Every recipient whose socket is idle is
// written at once, without waiting (one system call each, no goroutine);
// large broadcasts are split over the processors, so the last recipient
// gets the frame sooner.
func fanOut(conns []*Conn, frame []byte) int {
	parts := min(goruntime.GOMAXPROCS(0), len(conns)/fanOutShare)
	if parts <= 1 {
		return sendAll(conns, frame)
	}
	size := (len(conns) + parts - 1) / parts
	counts := make([]int, parts)
	var wg sync.WaitGroup
	for p := 1; p < parts; p++ {
		part := conns[p*size : min(len(conns), (p+1)*size)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[p] = sendAll(part, frame)
		}()
	}
	counts[0] = sendAll(conns[:size], frame)
	wg.Wait()
	n := 0
	for _, k := range counts {
		n += k
	}
	return n
}

func sendAll(conns []*Conn, frame []byte) int {
	n := 0
	for _, c := range conns {
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
	defer s.hub.shutdown()
	s.mu.Lock()
	s.shutting = true
	conns := slices.Clone(s.registry.conns)
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
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.ep.stats.snapshot()
	for _, c := range s.registry.conns {
		st.addLive(c)
	}
	return st
}
