package runtime

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Defaults, applied in one place (newConfig). The keepalive relation is
// pingInterval < pongTimeout: a peer gets more than one ping period to answer
// before it is declared dead, so one delayed pong does not cost a connection.
const (
	DefaultReadLimit       = 1 << 20
	DefaultMessageMemory   = 64 << 20
	DefaultSendBuffer      = 4 << 20
	DefaultWriteTimeout    = 10 * time.Second
	DefaultPingInterval    = 20 * time.Second
	DefaultPongTimeout     = 45 * time.Second
	DefaultReadBufferSize  = 1024
	DefaultWriteBufferSize = 4096
)

// Defaults of RateLimit.
const (
	DefaultRateMessages   = 200
	DefaultRateBurst      = 1000
	DefaultRateBytes      = 1 << 20
	DefaultRateBurstBytes = 8 << 20
	DefaultMaxRefused     = 50
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
	// 1 MiB. A larger message is discarded as it arrives and reported as
	// KindTooBig; in Strict mode the connection is closed with 1009. A
	// message's buffer never grows past this size.
	ReadLimit int64
	// MessageTimeout bounds how long one message may take to arrive, from
	// its first frame to its last. A connection whose message is still
	// unfinished then is closed with 1008. Defaults to PongTimeout (45 s),
	// or to 45 s when pings are off.
	MessageTimeout time.Duration
	// MessageMemory is the memory, across all connections of the server,
	// that messages still arriving (and messages waiting for their handler)
	// may hold beyond their first 4 KiB each. A message that would take the
	// total past it closes its connection with 1013 (try again later), so
	// that a crowd of unfinished messages cannot exhaust the process.
	// Defaults to 64 MiB.
	MessageMemory int64
	// SendBuffer is how many bytes may wait to be written to one
	// connection. Defaults to 4 MiB. A send that would pass it closes the
	// connection with 1008 (the slow-consumer policy), drops what was
	// waiting, and is counted; one frame larger than SendBuffer is accepted
	// when nothing else waits. A client that keeps reading never reaches
	// it: whatever waits is written in one batch (one system call).
	SendBuffer int
	// WriteTimeout is how long a write may go without progress: a peer that
	// takes no byte for this long is disconnected (the slow-consumer policy
	// by time). It also bounds the wait for the peer's answer to our close
	// frame. Defaults to 10 s.
	WriteTimeout time.Duration
	// PingInterval is how often a Ping is sent. Defaults to 20 s; negative
	// disables pings and the pong timeout.
	PingInterval time.Duration
	// PongTimeout is how long the connection may go without a Pong before
	// it is dropped. Defaults to 45 s; raised to 1.5 × PingInterval when it
	// does not exceed PingInterval.
	PongTimeout time.Duration
	// RateLimit limits what each connection may send; see RateLimit.
	RateLimit RateLimit
	// CheckOrigin is asked about requests from another origin; it returns
	// true to allow one. Requests without an Origin header (non-browser
	// clients) and same-origin requests are always allowed; with a nil
	// CheckOrigin nothing else is.
	CheckOrigin func(r *http.Request) bool
	// Authenticate sees the upgrade request (after the Origin check); an
	// error refuses it with 401 (its text is not sent), or with the status
	// and reason of a *HandshakeError made by Refuse (403, say, with a
	// reason the client is told). An identity is attached to the
	// connection (Conn.Identity; NewAuth keeps its type). Nil accepts all.
	// It also runs for the probe a browser client sends after a failed
	// handshake (see ProbeQuery), so that the page learns why.
	Authenticate func(r *http.Request) (identity any, err error)
	// OnConnect runs after the connection joined the registry, before its
	// first message is read. It must not block for long. A panic in it is
	// recovered and logged.
	OnConnect func(c *Conn)
	// OnDisconnect runs once after the connection left the registry, its
	// handlers returned and its writer stopped; err is why it closed (a
	// *websocket.CloseError for a close frame from the peer,
	// ErrSlowConsumer, ErrShutdown, ...). A panic in it is recovered.
	OnDisconnect func(c *Conn, err error)
	// OnError receives every bad input and handler failure as a
	// *MessageError, on the connection's reader goroutine. It must not
	// block. A panic in it is recovered.
	OnError func(c *Conn, err error)
	// Strict closes the connection on bad input with the precise code
	// (ErrorKind.CloseCode) instead of keeping it open.
	Strict bool
	// Interceptors wrap every message and call received (that has a
	// handler) and sent, the first outermost; see Interceptor. Server.Use
	// adds more. None costs nothing.
	Interceptors []Interceptor
	// CompatibleFingerprints lists the fingerprints of earlier schemas
	// whose clients this server still serves, besides its own (which the
	// generated Serve declares; see Server.SetFingerprint). A client that
	// announces one of them is told "compatible", any other "reload".
	// List an earlier release's fingerprint when `ambigen breaking`
	// between it and the current schema reports nothing that breaks old
	// clients; it prints both fingerprints. NewServer panics on an entry
	// that is not a fingerprint.
	CompatibleFingerprints []string
	// UserKey turns a connection's identity (what Authenticate returned)
	// into its user key: connections with the same key are one user
	// (Server.User), and presence lists keys. Called once per connection,
	// when it joins the registry; "" means no user. Defaults to the identity
	// itself when it is a string, its String method when it is a
	// fmt.Stringer, and "" otherwise.
	UserKey func(identity any) string
	// OnPresence runs when the presence of a room (Server.Presence) has
	// changed, at most once per room per PresenceInterval, with the room's
	// presence at that moment: a burst of joins is one call. With a Broker
	// it runs on every node, with the cluster's presence, so it should tell
	// this node's connections only (Audience.Local). It runs on a timer's
	// goroutine and must not block; a panic in it is recovered.
	OnPresence func(p Presence)
	// PresenceInterval is how often, at most, OnPresence hears of one room,
	// and how often a node tells the others about its rooms. Defaults to
	// 100 ms. Negative calls OnPresence on every change, on the goroutine
	// that made it (as the Ambiorix documentation's chat announces every
	// join: a crowd of N joining then costs N calls).
	PresenceInterval time.Duration
	// Broker joins this server to others (see Broker; package broker/redis):
	// broadcasts to everyone, rooms and users, and presence, then span
	// every node. Nil keeps the server on its own. The server publishes,
	// subscribes and sends heartbeats on goroutines of its own until
	// Shutdown.
	Broker Broker
	// PresenceTTL is how long a node's presence counts after the last
	// message from it, so that a node that dies without a goodbye is
	// forgotten. Each node reports every third of it. Defaults to 15 s.
	PresenceTTL time.Duration
	// Logger receives connection events at Debug and bad input at Warn.
	// Every level is rate-limited, each line is one line, and what a peer
	// sent is cut to a couple of hundred bytes. Nil is silent.
	Logger *slog.Logger
	// ReadBufferSize is the size of the socket read buffer held for the
	// connection's life. Defaults to 1 KiB, to keep idle connections small.
	ReadBufferSize int
	// WriteBufferSize is the size of the pooled write buffers gorilla uses
	// for the handshake. Defaults to 4 KiB.
	WriteBufferSize int
}

// RateLimit limits the messages one connection may send, as two token
// buckets: one counts messages (pings included), one bytes. A message that
// finds either bucket empty is refused: a call is answered with the error
// code "resource_exhausted", any other message is dropped and reported as
// KindRateLimited. A connection that has MaxRefused messages refused in a
// row is closed with 1008. Replies to the calls this side made are not
// limited. The zero value gives the defaults; a negative rate turns that
// bucket off.
type RateLimit struct {
	// Messages is the sustained rate, in messages per second. Defaults to 200.
	Messages float64
	// Burst is how many messages may arrive at once. Defaults to 1000.
	Burst int
	// Bytes is the sustained rate in bytes per second. Defaults to 1 MiB.
	Bytes float64
	// BurstBytes is how many bytes may arrive at once. Defaults to 8 MiB,
	// and is raised to ReadLimit when smaller.
	BurstBytes int64
	// MaxRefused is how many messages in a row may be refused before the
	// connection is closed. Defaults to 50.
	MaxRefused int
}

// ClientOptions configures a Client. The zero value is ready to use;
// defaults are those of Options.
type ClientOptions struct {
	// Header is sent with the upgrade request (cookies, Authorization).
	Header http.Header
	// Dialer defaults to a websocket.Dialer with 1 KiB read buffers and a
	// pooled write buffer.
	Dialer         *websocket.Dialer
	ReadLimit      int64
	MessageTimeout time.Duration
	MessageMemory  int64
	SendBuffer     int
	WriteTimeout   time.Duration
	PingInterval   time.Duration
	PongTimeout    time.Duration
	// RateLimit limits what the server may send; off (all negative) unless
	// set, since a client trusts the server it chose.
	RateLimit *RateLimit
	// OnError receives bad input and handler failures, as Options.OnError.
	OnError func(c *Conn, err error)
	// OnConnect runs each time the client has connected (Dial, and every
	// reconnect), after what was queued was handed to the connection and
	// before its first message is handled. It must not block for long.
	OnConnect func(c *Conn)
	// OnDisconnect runs once when a dialled connection has closed.
	OnDisconnect func(c *Conn, err error)
	// Reconnect is the reconnection policy; the zero value reconnects
	// with backoff and jitter (see Reconnect).
	Reconnect Reconnect
	// QueueLimit is how many messages and calls sent through the Client
	// (Send(c, ...), Call(ctx, c, ...)) may wait while it reconnects.
	// Defaults to 256; negative keeps none. Past it, a send fails with
	// ErrQueueFull and a call with CodeQueueFull.
	QueueLimit int
	// OnReconnect runs each time a reconnection attempt is scheduled:
	// attempt counts from 1, delay is the wait before it, err is why (the
	// dropped connection's cause, or the failed attempt's error). It runs
	// on a goroutine of its own.
	OnReconnect func(attempt int, delay time.Duration, err error)
	// OnRefused runs when the server refused the client (HTTP 401 or 403,
	// on Dial or a reconnect); the client then stops (StatusRefused). It
	// runs on a goroutine of its own.
	OnRefused func(err *HandshakeError)
	// Interceptors wrap what the client receives and sends, as
	// Options.Interceptors; Client.Use adds more.
	Interceptors []Interceptor
	// Fingerprint is the schema fingerprint announced to the server in
	// the upgrade URL (the query parameter HandshakeQuery); empty announces
	// nothing. The generated NewClient and Dial set it to their schema's
	// Fingerprint when it is empty.
	Fingerprint string
	// OnVersion runs when the server's version verdict arrives, once per
	// connection, before any other message of that connection is handled;
	// v is then also what Conn.Version reports. A server that does not
	// know the handshake (an Ambiorix R server) sends none, and OnVersion
	// never runs. It runs on the connection's reader and must not block;
	// a panic in it is recovered.
	OnVersion func(c *Conn, v Version)
	// Strict is as Options.Strict.
	Strict bool
	Logger *slog.Logger
}

// config is the normalised form of either options struct that connections
// read.
type config struct {
	readLimit      int64
	messageTimeout time.Duration
	sendBuffer     int
	writeTimeout   time.Duration
	pingInterval   time.Duration // <= 0: no pings
	pongTimeout    time.Duration
	rate           rateConfig
	strict         bool
	// parseFirst turns deliverDecoded off, for tests that compare it with
	// reading every frame in full first; decodedFirst, when set, counts
	// the messages it served.
	parseFirst   bool
	decodedFirst *atomic.Int64
	onConnect    func(*Conn)
	onDisconnect func(*Conn, error)
	onError      func(*Conn, error)
	onVersion    func(*Conn, Version)
}

// limits is what both option structs share, before defaults.
type limits struct {
	readLimit      int64
	messageTimeout time.Duration
	sendBuffer     int
	writeTimeout   time.Duration
	ping, pong     time.Duration
	rate           RateLimit
}

func newConfig(l limits) config {
	c := config{
		readLimit:      l.readLimit,
		messageTimeout: l.messageTimeout,
		sendBuffer:     l.sendBuffer,
		writeTimeout:   l.writeTimeout,
		pingInterval:   l.ping,
		pongTimeout:    l.pong,
	}
	if c.readLimit <= 0 {
		c.readLimit = DefaultReadLimit
	}
	if c.sendBuffer <= 0 {
		c.sendBuffer = DefaultSendBuffer
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
	if c.messageTimeout <= 0 {
		c.messageTimeout = c.pongTimeout
		if c.messageTimeout == 0 {
			c.messageTimeout = DefaultPongTimeout
		}
	}
	c.rate = newRateConfig(l.rate, c.readLimit)
	return c
}

// rateConfig is a RateLimit with its defaults applied; a zero rate means
// that bucket is off.
type rateConfig struct {
	messages, burst   float64
	bytes, burstBytes float64
	maxRefused        int
	on                bool // at least one bucket is on
}

func newRateConfig(r RateLimit, readLimit int64) rateConfig {
	c := rateConfig{maxRefused: r.MaxRefused}
	c.messages, c.burst = bucketDefaults(r.Messages, float64(r.Burst), DefaultRateMessages, DefaultRateBurst)
	c.bytes, c.burstBytes = bucketDefaults(r.Bytes, float64(r.BurstBytes), DefaultRateBytes, DefaultRateBurstBytes)
	if c.bytes > 0 && c.burstBytes < float64(readLimit) {
		// A message the read limit allows must fit in the bucket.
		c.burstBytes = float64(readLimit)
	}
	if c.maxRefused <= 0 {
		c.maxRefused = DefaultMaxRefused
	}
	c.on = c.messages > 0 || c.bytes > 0
	return c
}

// bucketDefaults applies the defaults to one bucket: a negative rate turns
// it off (zero rate and burst), zero takes the default rate, and a missing
// burst the default burst.
func bucketDefaults(rate, burst, defRate, defBurst float64) (float64, float64) {
	switch {
	case rate < 0:
		return 0, 0
	case rate == 0:
		rate = defRate
	}
	if burst <= 0 {
		burst = defBurst
	}
	return rate, burst
}

// unlimited is the RateLimit of a Go client by default.
var unlimited = RateLimit{Messages: -1, Bytes: -1}

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
