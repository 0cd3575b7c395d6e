package runtime

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Client is a Go peer of an Ambiorix server (this project's or R's). It
// speaks the same envelope with the same handler, send and call API as the
// server side: register handlers, then Dial; nothing that arrives after Dial
// returns is lost. All methods are safe for concurrent use.
//
// Once connected, a Client reconnects by itself after the connection drops
// (ClientOptions.Reconnect; see reconnect.go): sends and calls made while it
// is away wait in a bounded queue and go out, in order, on the next
// connection. A server that refuses it (HTTP 401 or 403) stops it: its
// status becomes StatusRefused and ClientOptions.OnRefused is told.
type Client struct {
	ep          *endpoint
	dialer      *websocket.Dialer
	header      http.Header
	fingerprint string // announced at each dial; see ClientOptions.Fingerprint
	policy      reconnectPolicy
	queueLimit  int
	onReconnect func(attempt int, delay time.Duration, err error)
	onRefused   func(err *HandshakeError)

	mu      sync.Mutex
	url     string // what the last Dial was given
	conn    *Conn
	retired bool // conn's counts are in the totals
	status  ClientStatus
	dialing bool // the caller's Dial is in progress
	away    awayState
}

// ClientStatus is where a Client is, spelt as the TypeScript client's status.
type ClientStatus string

const (
	// StatusConnecting: dialling, or reconnecting after a drop; sends and
	// calls are queued.
	StatusConnecting ClientStatus = "connecting"
	// StatusOpen: connected.
	StatusOpen ClientStatus = "open"
	// StatusClosed: not dialled yet, closed by Close, the connection
	// dropped with reconnection off, or reconnection gave up
	// (Reconnect.MaxAttempts). Sends fail with ErrClosed.
	StatusClosed ClientStatus = "closed"
	// StatusRefused: the server refused the upgrade with 401 or 403
	// (Client.Refusal says why). The client does not retry; a new Dial
	// does.
	StatusRefused ClientStatus = "refused"
)

// NewClient returns a client that is not connected yet.
func NewClient(opts ClientOptions) *Client {
	rate := unlimited
	if opts.RateLimit != nil {
		rate = *opts.RateLimit
	}
	cfg := newConfig(limits{
		readLimit: opts.ReadLimit, messageTimeout: opts.MessageTimeout, sendBuffer: opts.SendBuffer,
		writeTimeout: opts.WriteTimeout, ping: opts.PingInterval, pong: opts.PongTimeout, rate: rate,
	})
	cfg.strict = opts.Strict
	cfg.onError = opts.OnError
	cfg.onConnect = opts.OnConnect
	cfg.onDisconnect = opts.OnDisconnect
	cfg.onVersion = opts.OnVersion
	d := opts.Dialer
	if d == nil {
		d = &websocket.Dialer{
			Proxy:            http.ProxyFromEnvironment,
			HandshakeTimeout: 45 * time.Second,
			ReadBufferSize:   DefaultReadBufferSize,
			WriteBufferSize:  DefaultWriteBufferSize,
			WriteBufferPool:  writeBufferPool(DefaultWriteBufferSize),
		}
	}
	ep := newEndpoint(cfg, opts.MessageMemory, opts.Logger)
	ep.client = true
	c := &Client{
		ep: ep, dialer: d, header: opts.Header, fingerprint: opts.Fingerprint,
		policy:      newReconnectPolicy(opts.Reconnect),
		queueLimit:  opts.QueueLimit,
		onReconnect: opts.OnReconnect,
		onRefused:   opts.OnRefused,
		status:      StatusClosed,
	}
	switch {
	case c.queueLimit == 0:
		c.queueLimit = DefaultQueueLimit
	case c.queueLimit < 0:
		c.queueLimit = 0
	}
	ep.leave = c.retire
	ep.use(opts.Interceptors)
	return c
}

// Dial connects a new client to url.
func Dial(ctx context.Context, url string, opts ClientOptions) (*Client, error) {
	c := NewClient(opts)
	if err := c.Dial(ctx, url); err != nil {
		return nil, err
	}
	return c, nil
}

// Dial connects c to url, once: a failure is returned, not retried (a
// *HandshakeError when the server answered with an HTTP status, which for
// 401 and 403 also makes the status StatusRefused). Once connected, the
// client reconnects to url by itself after a drop, unless Reconnect.Off. A
// client that is closed or refused may dial again; dialling while
// connected or reconnecting is an error.
func (c *Client) Dial(ctx context.Context, url string) error {
	c.mu.Lock()
	switch {
	case c.dialing:
		c.mu.Unlock()
		return errors.New("ambigen: client is already dialling")
	case c.status == StatusOpen || c.status == StatusConnecting:
		c.mu.Unlock()
		return errors.New("ambigen: client is already connected")
	}
	c.dialing = true
	c.url = url
	c.status = StatusConnecting
	c.away.refusal = nil
	c.away.attempt = 0
	c.mu.Unlock()
	// The lock is not held while dialling, so Conn and Close stay
	// responsive during a slow handshake.
	conn, err := c.dialOnce(ctx, url)
	c.mu.Lock()
	c.dialing = false
	if err != nil {
		c.giveUpLocked(err)
		c.mu.Unlock()
		return err
	}
	if c.status != StatusConnecting {
		// Closed while dialling.
		c.mu.Unlock()
		_ = conn.Close(websocket.CloseNormalClosure, "")
		go conn.readLoop(0)
		return ErrClosed
	}
	c.installLocked(conn)
	c.mu.Unlock()
	go c.run(conn)
	return nil
}

// dialOnce makes one attempt at a connection; the caller installs it.
func (c *Client) dialOnce(ctx context.Context, url string) (*Conn, error) {
	target := url
	if c.fingerprint != "" {
		target = withFingerprint(url, c.fingerprint)
	}
	ws, resp, err := c.dialer.DialContext(ctx, target, c.header)
	if err != nil {
		err = dialError(url, err, resp)
	}
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	conn := newConn(c.ep, ws, &gorillaWire{ws: ws, timeout: c.ep.cfg.writeTimeout}, false, nil, context.Background())
	conn.finished = func() { c.dropped(conn) }
	return conn, nil
}

// installLocked makes conn the client's connection and hands it what was
// queued while the client was away; c.mu is held.
func (c *Client) installLocked(conn *Conn) {
	c.conn, c.retired = conn, false
	c.status = StatusOpen
	c.away.attempt = 0
	c.flushLocked(conn)
}

// run serves a connection the client installed: hooks, then reading.
func (c *Client) run(conn *Conn) {
	conn.start()
	c.ep.connected(conn)
	conn.readLoop(0)
}

// Handle registers h for messages named name.
func (c *Client) Handle(name string, h Handler) error {
	return c.ep.register(name, route{handle: h})
}

func (c *Client) handleTyped(name string, h Handler, typed typedHandler) error {
	return c.ep.register(name, route{handle: h, typed: typed})
}

// HandleCall registers h for calls the server makes.
func (c *Client) HandleCall(name string, h CallHandler) error {
	return c.ep.register(name, route{call: h})
}

// Conn is the current connection, or nil before Dial; while the client
// reconnects, the one that dropped. Sends and calls on a nil *Conn fail
// with an error matching ErrClosed; sends and calls on the Client itself
// (Send(c, ...), Call(ctx, c, ...)) wait for the next connection instead.
func (c *Client) Conn() *Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn
}

// Status reports where the client is.
func (c *Client) Status() ClientStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Refusal is the server's refusal when the status is StatusRefused, else nil.
func (c *Client) Refusal() *HandshakeError {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status != StatusRefused {
		return nil
	}
	return c.away.refusal
}

// Close stops reconnecting, fails what was queued (calls with CodeClosed),
// performs the close handshake (1000) and waits until the connection is
// down. Closing a client that is not connected only stops it.
func (c *Client) Close() error {
	c.mu.Lock()
	c.status = StatusClosed
	c.stopRetryLocked()
	queued := c.takeQueueLocked()
	conn := c.conn
	c.mu.Unlock()
	failQueued(queued, ErrClosed)
	if conn == nil {
		return nil
	}
	_ = conn.Close(websocket.CloseNormalClosure, "")
	<-conn.Done()
	return nil
}

// retire takes a closed connection's counts into the client's totals.
func (c *Client) retire(conn *Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ep.stats.retire(conn)
	if c.conn == conn {
		c.retired = true
	}
}

// Version is the version verdict of the current connection (see
// Conn.Version); VersionUnknown before Dial.
func (c *Client) Version() Version { return c.Conn().Version() }

// Stats returns the client's counters, summed over its connections.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.ep.stats.snapshot()
	if c.conn != nil && !c.retired {
		st.addLive(c.conn)
	}
	return st
}
