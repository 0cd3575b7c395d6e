package bench

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/runtime"
	"github.com/gorilla/websocket"
)

// Kind names the server under test.
type Kind string

const (
	// Gorilla is the floor: raw gorilla/websocket with default buffers, the
	// read loop in the HTTP handler, echoing each frame as it came.
	Gorilla Kind = "gorilla"
	// Ambigen is the runtime with the generated typed API of
	// schema/messages.yaml: frames are parsed, routed, decoded into
	// gen.ChatMessage, and the reply encoded again.
	Ambigen Kind = "ambigen"
)

// The frames the clients send. postFrame is exactly what the generated
// encoder writes for postMessage, so the echo's reply must equal it byte
// for byte (the child checks).
var (
	postFrame     = []byte(`{"name":"post","message":{"user":"ada","text":"hello, world","tags":["a","b"]},"isAmbiorix":true}`)
	postMessage   = gen.ChatMessage{User: "ada", Text: "hello, world", Tags: []string{"a", "b"}}
	greetingFrame = []byte(`{"name":"greeting","message":"hi","isAmbiorix":true}`)
)

// unreachedRate is the inbound rate limit of the ambigen servers under
// test: the clients of an echo run send tens of thousands of messages a
// second, far past the default (200 a second per connection), so the limit
// is raised out of their reach; the limiter still runs on every message, so
// its cost is measured.
var unreachedRate = runtime.RateLimit{Messages: 1e9, Burst: 1e9, Bytes: 1e15, BurstBytes: 1e15}

// server is one server under test on a loopback listener.
type server struct {
	kind Kind
	url  string
	http *http.Server
	ln   net.Listener

	rt  *runtime.Server // Ambigen
	api *gen.Server

	// Gorilla: the live connections. Each scenario has one writer per
	// connection (the echo, the chat sender's read loop, or the parent's
	// broadcast), as gorilla requires, so the baseline takes no write lock.
	mu    sync.Mutex
	raws  map[*websocket.Conn]struct{}
	count atomic.Int64
}

// startServer starts a server of kind; opts configures an Ambigen one.
// sndbuf > 0 fixes the kernel send buffer of every accepted socket (which
// turns off its autotuning).
func startServer(kind Kind, opts runtime.Options, sndbuf int) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{kind: kind, url: "ws://" + ln.Addr().String() + "/", raws: make(map[*websocket.Conn]struct{})}
	s.ln = ln
	if sndbuf > 0 {
		s.ln = &sndbufListener{Listener: ln, size: sndbuf}
	}
	var h http.Handler
	switch kind {
	case Ambigen:
		if opts.RateLimit == (runtime.RateLimit{}) {
			opts.RateLimit = unreachedRate
		}
		s.rt = runtime.NewServer(opts)
		s.api = gen.Serve(s.rt)
		s.api.OnPost(func(_ context.Context, c *gen.Conn, m gen.ChatMessage) {
			_ = c.SendPost(m)
		})
		s.api.OnGreeting(func(_ context.Context, c *gen.Conn, _ string) {
			_ = c.SendGreeting("Hello from the server!")
		})
		// The chat of the Ambiorix documentation: every line to everyone.
		s.api.OnChat(func(_ context.Context, _ *gen.Conn, line string) {
			s.api.BroadcastChat(line)
		})
		h = s.rt
	default:
		h = http.HandlerFunc(s.serveGorilla)
	}
	s.http = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	// The server's goroutines carry its kind as a profiler label, so that a
	// CPU profile of a run (ambibench -cpuprofile) tells the two apart:
	// go tool pprof -tagfocus server=ambigen.
	go pprof.Do(context.Background(), pprof.Labels("server", string(kind)), func(context.Context) {
		_ = s.http.Serve(s.ln)
	})
	return s, nil
}

// serveGorilla is the baseline handler as gorilla's examples write it:
// default upgrader, read loop on the handler's goroutine, echo; a chat
// line goes to every connection in turn, on the sender's goroutine.
func (s *server) serveGorilla(w http.ResponseWriter, r *http.Request) {
	var up websocket.Upgrader
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.raws[ws] = struct{}{}
	s.mu.Unlock()
	s.count.Add(1)
	defer func() {
		s.mu.Lock()
		delete(s.raws, ws)
		s.mu.Unlock()
		s.count.Add(-1)
		ws.Close()
	}()
	for {
		mt, p, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if bytes.HasPrefix(p, chatPrefix) {
			s.broadcastRaw(p)
			continue
		}
		if err := ws.WriteMessage(mt, p); err != nil {
			return
		}
	}
}

var chatPrefix = []byte(`{"name":"chat",`)

// broadcastRaw writes p to every gorilla connection, one after another.
func (s *server) broadcastRaw(p []byte) {
	s.mu.Lock()
	list := make([]*websocket.Conn, 0, len(s.raws))
	for ws := range s.raws {
		list = append(list, ws)
	}
	s.mu.Unlock()
	for _, ws := range list {
		_ = ws.WriteMessage(websocket.TextMessage, p)
	}
}

// conns is how many clients are connected now.
func (s *server) conns() int {
	if s.rt != nil {
		return s.rt.Len()
	}
	return int(s.count.Load())
}

// broadcast sends the post to everyone: typed and encoded once on
// ambigen, a WriteMessage loop of the same bytes on gorilla.
func (s *server) broadcast() {
	if s.api != nil {
		s.api.BroadcastPost(postMessage)
		return
	}
	s.broadcastRaw(postFrame)
}

func (s *server) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s.rt != nil {
		_ = s.rt.Shutdown(ctx)
	}
	s.mu.Lock()
	for ws := range s.raws {
		_ = ws.NetConn().Close()
	}
	s.mu.Unlock()
	_ = s.http.Shutdown(ctx)
	// Wait for the gorilla handlers to notice their sockets closed, so the
	// next scenario starts from a quiet process.
	for s.count.Load() > 0 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
}

// sndbufListener fixes the kernel send buffer of every socket it accepts
// (which turns off its autotuning) and hands the socket out as it is, so
// that the runtime can write it without waiting.
type sndbufListener struct {
	net.Listener
	size int
}

func (l *sndbufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(l.size)
	}
	return c, nil
}
