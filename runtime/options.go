package runtime

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Defaults, applied in one place (newConfig). The keepalive relation is
// pingInterval < pongTimeout: a peer gets more than one ping period to answer
// before it is declared dead, so one delayed pong does not cost a connection.
const (
	DefaultReadLimit       = 1 << 20
	DefaultSendQueue       = 256
	DefaultWriteTimeout    = 10 * time.Second
	DefaultPingInterval    = 20 * time.Second
	DefaultPongTimeout     = 45 * time.Second
	DefaultReadBufferSize  = 1024
	DefaultWriteBufferSize = 4096
)

// Options configures a Server. The zero value is ready to use.
type Options struct {
	// Fallback serves every request that is not a WebSocket upgrade, so the
	// page and the socket can share a path as with Ambiorix. Defaults to
	// http.NotFoundHandler.
	Fallback http.Handler
	// Raw, when set, hands each upgraded socket to user code instead of
	// the protocol (Ambiorix's bypass). Raw runs on the request's goroutine;
	// the socket is closed when it returns. Raw connections are not in the
	// registry and no handler fires for them. ctx ends at Shutdown.
	Raw func(ctx context.Context, ws *websocket.Conn)
	// ReadLimit is the largest message accepted, in bytes. Defaults to
	// 1 MiB. A larger message is discarded and reported as KindTooBig; in
	// Strict mode the connection is closed with 1009.
	ReadLimit int64
	// SendQueue is how many frames may wait to be written to one
	// connection. Defaults to 256. When it is full the connection is closed
	// with 1008 (the slow-consumer policy) and counted.
	SendQueue int
	// WriteTimeout bounds each write, and the wait for the peer's answer to
	// our close frame. Defaults to 10 s.
	WriteTimeout time.Duration
	// PingInterval is how often a Ping is sent. Defaults to 20 s; negative
	// disables pings and the pong timeout.
	PingInterval time.Duration
	// PongTimeout is how long the connection may go without a Pong before
	// it is dropped. Defaults to 45 s; raised to 1.5 × PingInterval when it
	// does not exceed PingInterval.
	PongTimeout time.Duration
	// CheckOrigin is asked about requests from another origin; it returns
	// true to allow one. Requests without an Origin header (non-browser
	// clients) and same-origin requests are always allowed; with a nil
	// CheckOrigin nothing else is.
	CheckOrigin func(r *http.Request) bool
	// Authenticate sees the upgrade request; an error refuses it with 401
	// (its text is not sent), an identity is attached to the connection
	// (Conn.Identity). Nil accepts all.
	Authenticate func(r *http.Request) (identity any, err error)
	// OnConnect runs after the connection joined the registry, before its
	// first message is read. It must not block for long.
	OnConnect func(c *Conn)
	// OnDisconnect runs once after the connection left the registry and its
	// writer stopped; err is why it closed (a *websocket.CloseError for a
	// close frame from the peer, ErrSlowConsumer, ErrShutdown, ...).
	OnDisconnect func(c *Conn, err error)
	// OnError receives every bad input and handler failure as a
	// *MessageError, on the connection's reader goroutine. It must not block.
	OnError func(c *Conn, err error)
	// Strict closes the connection on bad input with the precise code
	// (ErrorKind.CloseCode) instead of keeping it open.
	Strict bool
	// Logger receives connection events at Debug, bad input at Warn (rate
	// limited). Nil is silent.
	Logger *slog.Logger
	// ReadBufferSize is the size of the socket read buffer held for the
	// connection's life. Defaults to 1 KiB, to keep idle connections small.
	ReadBufferSize int
	// WriteBufferSize is the size of the pooled write buffers (taken only
	// while a frame is written). Defaults to 4 KiB.
	WriteBufferSize int
}

// ClientOptions configures a Client. The zero value is ready to use;
// defaults are those of Options.
type ClientOptions struct {
	// Header is sent with the upgrade request (cookies, Authorization).
	Header http.Header
	// Dialer defaults to a websocket.Dialer with 1 KiB read buffers and a
	// pooled write buffer.
	Dialer       *websocket.Dialer
	ReadLimit    int64
	SendQueue    int
	WriteTimeout time.Duration
	PingInterval time.Duration
	PongTimeout  time.Duration
	// OnError receives bad input and handler failures, as Options.OnError.
	OnError func(c *Conn, err error)
	// OnDisconnect runs once when a dialled connection has closed.
	OnDisconnect func(c *Conn, err error)
	// Strict is as Options.Strict.
	Strict bool
	Logger *slog.Logger
}

// config is the normalised form of either options struct that connections
// read.
type config struct {
	readLimit    int64
	sendQueue    int
	writeTimeout time.Duration
	pingInterval time.Duration // <= 0: no pings
	pongTimeout  time.Duration
	strict       bool
	logger       *slog.Logger
	onConnect    func(*Conn)
	onDisconnect func(*Conn, error)
	onError      func(*Conn, error)
}

func newConfig(readLimit int64, sendQueue int, writeTimeout, ping, pong time.Duration) config {
	c := config{readLimit: readLimit, sendQueue: sendQueue, writeTimeout: writeTimeout, pingInterval: ping, pongTimeout: pong}
	if c.readLimit <= 0 {
		c.readLimit = DefaultReadLimit
	}
	if c.sendQueue <= 0 {
		c.sendQueue = DefaultSendQueue
	}
	if c.writeTimeout <= 0 {
		c.writeTimeout = DefaultWriteTimeout
	}
	switch {
	case c.pingInterval < 0:
		c.pingInterval, c.pongTimeout = 0, 0
	case c.pingInterval == 0:
		c.pingInterval = DefaultPingInterval
	}
	if c.pingInterval > 0 {
		if c.pongTimeout <= 0 {
			c.pongTimeout = DefaultPongTimeout
		}
		if c.pongTimeout <= c.pingInterval {
			c.pongTimeout = c.pingInterval + c.pingInterval/2
		}
	}
	return c
}

func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// writeBufferPools shares one pool per buffer size across servers and
// clients, so that idle connections hold no write buffer at all.
var writeBufferPools sync.Map // int -> *sync.Pool

func writeBufferPool(size int) websocket.BufferPool {
	p, _ := writeBufferPools.LoadOrStore(size, new(sync.Pool))
	return p.(*sync.Pool)
}
