package runtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Client is a Go peer of an Ambiorix server (this project's or R's). It
// speaks the same envelope with the same handler, send and call API as the
// server side: register handlers, then Dial; nothing that arrives after Dial
// returns is lost. All methods are safe for concurrent use.
type Client struct {
	ep          *endpoint
	dialer      *websocket.Dialer
	header      http.Header
	fingerprint string // announced at each dial; see ClientOptions.Fingerprint

	mu      sync.Mutex
	conn    *Conn
	retired bool // conn's counts are in the totals
	dialing bool
}

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
	c := &Client{ep: ep, dialer: d, header: opts.Header, fingerprint: opts.Fingerprint}
	ep.leave = c.retire
	return c
}

// Dial connects a new client to url (ws:// or wss://).
func Dial(ctx context.Context, url string, opts ClientOptions) (*Client, error) {
	c := NewClient(opts)
	if err := c.Dial(ctx, url); err != nil {
		return nil, err
	}
	return c, nil
}

// Dial connects c to url. A client whose connection has closed may dial
// again; dialling while connected is an error.
func (c *Client) Dial(ctx context.Context, url string) error {
	c.mu.Lock()
	if c.dialing {
		c.mu.Unlock()
		return errors.New("ambigen: client is already dialling")
	}
	if c.conn != nil {
		select {
		case <-c.conn.Done():
		default:
			c.mu.Unlock()
			return errors.New("ambigen: client is already connected")
		}
	}
	c.dialing = true
	c.mu.Unlock()
	// The lock is not held while dialling, so Conn and Close stay
	// responsive during a slow handshake.
	target := url
	if c.fingerprint != "" {
		target = withFingerprint(url, c.fingerprint)
	}
	ws, resp, err := c.dialer.DialContext(ctx, target, c.header)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dialing = false
	if err != nil {
		if resp != nil {
			return fmt.Errorf("ambigen: dial %s: %w (HTTP %s)", url, err, resp.Status)
		}
		return fmt.Errorf("ambigen: dial %s: %w", url, err)
	}
	conn := newConn(c.ep, ws, &gorillaWire{ws: ws, timeout: c.ep.cfg.writeTimeout}, false, nil, context.Background())
	c.conn, c.retired = conn, false
	conn.start()
	go conn.readLoop(0)
	return nil
}

// Handle registers h for messages named name.
func (c *Client) Handle(name string, h Handler) error {
	return c.ep.register(name, route{handle: h})
}

// HandleCall registers h for calls the server makes.
func (c *Client) HandleCall(name string, h CallHandler) error {
	return c.ep.register(name, route{call: h})
}

// Conn is the current connection, or nil before Dial. Sends and calls on
// a nil *Conn fail with an error matching ErrClosed.
func (c *Client) Conn() *Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn
}

// Close performs the close handshake (1000) and waits until the
// connection is down. Closing a client that is not connected is a no-op.
func (c *Client) Close() error {
	conn := c.Conn()
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
