package runtime

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"time"

	"github.com/go-faster/jx"
	"github.com/gorilla/websocket"
)

// Reconnection: the TypeScript client's policy, in Go. After a connection
// that was open drops (whatever the close code, unless Close was called),
// the client waits and dials the same URL again, waiting longer after each
// failed attempt: InitialDelay × Factor^attempt, at most MaxDelay, each
// shortened by a random share of up to Jitter so that a crowd of clients
// does not return in lockstep after a server restart. A refusal (401, 403)
// stops it. While it is away, sends and calls wait in a queue of at most
// QueueLimit messages, which the next connection gets first, in order; a
// call whose request was already written when the connection dropped fails
// with CodeClosed, as its answer may never come.

// Defaults of Reconnect, and of ClientOptions.QueueLimit: the TypeScript
// client's.
const (
	DefaultReconnectInitialDelay   = 500 * time.Millisecond
	DefaultReconnectMaxDelay       = 30 * time.Second
	DefaultReconnectFactor         = 2
	DefaultReconnectJitter         = 0.5
	DefaultReconnectConnectTimeout = 10 * time.Second
	DefaultQueueLimit              = 256
)

// Reconnect is a Client's reconnection policy. The zero value reconnects
// with the defaults.
type Reconnect struct {
	// Off turns reconnection off: a connection that drops leaves the
	// client closed, and sends fail with ErrClosed until the next Dial.
	Off bool
	// InitialDelay is the wait before the first attempt. Defaults to 500 ms.
	InitialDelay time.Duration
	// MaxDelay bounds every wait. Defaults to 30 s.
	MaxDelay time.Duration
	// Factor is the growth of the wait per failed attempt. Defaults to 2.
	Factor float64
	// Jitter is the share of a wait (0 to 1) that is randomly taken off.
	// Defaults to 0.5; negative for none.
	Jitter float64
	// MaxAttempts is how many attempts in a row may fail before the client
	// gives up (StatusClosed, queued calls failed with CodeClosed). 0 (the
	// default) never gives up.
	MaxAttempts int
	// ConnectTimeout bounds one attempt. Defaults to 10 s.
	ConnectTimeout time.Duration
}

// reconnectPolicy is a Reconnect with its defaults applied.
type reconnectPolicy struct {
	off            bool
	initial, max   time.Duration
	factor, jitter float64
	maxAttempts    int
	timeout        time.Duration
}

func newReconnectPolicy(r Reconnect) reconnectPolicy {
	p := reconnectPolicy{off: r.Off, initial: r.InitialDelay, max: r.MaxDelay, factor: r.Factor, jitter: r.Jitter, maxAttempts: r.MaxAttempts, timeout: r.ConnectTimeout}
	if p.initial <= 0 {
		p.initial = DefaultReconnectInitialDelay
	}
	if p.max <= 0 {
		p.max = DefaultReconnectMaxDelay
	}
	if p.max < p.initial {
		p.max = p.initial
	}
	if p.factor < 1 {
		p.factor = DefaultReconnectFactor
	}
	switch {
	case p.jitter == 0:
		p.jitter = DefaultReconnectJitter
	case p.jitter < 0:
		p.jitter = 0
	case p.jitter > 1:
		p.jitter = 1
	}
	if p.timeout <= 0 {
		p.timeout = DefaultReconnectConnectTimeout
	}
	return p
}

// delay is the wait before attempt number attempt (0 for the first), with
// random taking a value in [0, 1).
func (p reconnectPolicy) delay(attempt int, random func() float64) time.Duration {
	base := float64(p.initial) * math.Pow(p.factor, float64(attempt))
	base = min(base, float64(p.max))
	return time.Duration(base * (1 - p.jitter*random()))
}

// awayState is what a Client keeps while it has no open connection;
// guarded by the client's mu.
type awayState struct {
	queue    []queued
	attempt  int
	retry    *time.Timer
	cancel   context.CancelFunc // of the attempt in progress
	refusal  *HandshakeError
	attempts uint64 // attempts started, for the tests
}

// queued is a frame waiting for the next connection; call is set for a
// request.
type queued struct {
	frame []byte
	call  *queuedCall
}

// queuedCall is a call whose request waits in the queue; conn is set once
// the request was handed to a connection.
type queuedCall struct {
	id   string
	ch   chan callResult
	conn *Conn
}

// dropped runs once a connection of the client has finished: unless the
// client was closed meanwhile, it schedules a reconnect.
func (c *Client) dropped(conn *Conn) {
	conn.mu.Lock()
	cause := conn.cause
	conn.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != conn || c.status != StatusOpen {
		return
	}
	if c.policy.off {
		c.giveUpLocked(ErrClosed)
		return
	}
	c.status = StatusConnecting
	c.scheduleLocked(cause)
}

// scheduleLocked arms the next attempt; c.mu is held.
func (c *Client) scheduleLocked(cause error) {
	attempt := c.away.attempt
	d := c.policy.delay(attempt, rand.Float64)
	c.away.retry = time.AfterFunc(d, c.attempt)
	if fn := c.onReconnect; fn != nil {
		// The hook runs off the lock, and before the attempt can finish.
		go c.ep.hook("OnReconnect", func() { fn(attempt+1, d, cause) })
	}
	c.ep.log.Debug("ambigen: reconnecting", "attempt", attempt+1, "in", d, "after", cause)
}

// attempt makes one reconnection attempt (on a timer's goroutine).
func (c *Client) attempt() {
	c.mu.Lock()
	if c.status != StatusConnecting || c.dialing {
		c.mu.Unlock()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.policy.timeout)
	c.away.retry = nil
	c.away.cancel = cancel
	c.away.attempts++
	url := c.url
	c.mu.Unlock()

	conn, err := c.dialOnce(ctx, url)
	cancel()

	c.mu.Lock()
	c.away.cancel = nil
	if c.status != StatusConnecting {
		// Closed meanwhile.
		c.mu.Unlock()
		if conn != nil {
			_ = conn.Close(websocket.CloseNormalClosure, "")
			go conn.readLoop(0)
		}
		return
	}
	if err != nil {
		var he *HandshakeError
		c.away.attempt++
		if errors.As(err, &he) && he.Refused() || c.policy.maxAttempts > 0 && c.away.attempt >= c.policy.maxAttempts {
			c.giveUpLocked(err)
		} else {
			c.scheduleLocked(err)
		}
		c.mu.Unlock()
		return
	}
	c.installLocked(conn)
	c.mu.Unlock()
	c.ep.log.Debug("ambigen: reconnected", "conn", conn.id)
	c.run(conn)
}

// giveUpLocked ends the client's attempts after err: refused for a 401 or
// 403, closed otherwise; what was queued fails. c.mu is held.
func (c *Client) giveUpLocked(err error) {
	c.stopRetryLocked()
	var he *HandshakeError
	if errors.As(err, &he) && he.Refused() {
		c.status = StatusRefused
		c.away.refusal = he
		if fn := c.onRefused; fn != nil {
			go c.ep.hook("OnRefused", func() { fn(he) })
		}
		c.ep.log.Warn("ambigen: the server refused the client; not reconnecting", "status", he.Status, "reason", he.Reason)
	} else {
		c.status = StatusClosed
		if !errors.Is(err, ErrClosed) {
			err = &wrapErr{msg: "ambigen: the client stopped connecting: " + err.Error(), err: ErrClosed}
		}
	}
	queued := c.takeQueueLocked()
	go failQueued(queued, err)
}

func (c *Client) stopRetryLocked() {
	if c.away.retry != nil {
		c.away.retry.Stop()
		c.away.retry = nil
	}
	if c.away.cancel != nil {
		c.away.cancel()
	}
}

func (c *Client) takeQueueLocked() []queued {
	q := c.away.queue
	c.away.queue = nil
	return q
}

// failQueued fails the calls among what was queued with err.
func failQueued(q []queued, err error) {
	for _, item := range q {
		if item.call != nil {
			item.call.ch <- callResult{err: err}
		}
	}
}

// flushLocked hands what was queued to a new connection, in order; c.mu is
// held, so that later sends go after it.
func (c *Client) flushLocked(conn *Conn) {
	q := c.takeQueueLocked()
	for i, item := range q {
		if item.call != nil {
			if !conn.adoptCall(item.call.id, item.call.ch) {
				// The new connection is already gone: keep the rest for the next.
				c.away.queue = q[i:]
				return
			}
			item.call.conn = conn
		}
		if conn.enqueue(item.frame) != nil {
			if item.call != nil {
				conn.forgetCall(item.call.id)
				item.call.conn = nil
			}
			c.away.queue = q[i:]
			return
		}
	}
}

// openLocked is the connection sends go to now, or nil while the client is
// away; c.mu is held.
func (c *Client) openLocked() *Conn {
	if c.status == StatusOpen && c.conn != nil && c.conn.stateNow() == stateOpen {
		return c.conn
	}
	return nil
}

// waitingLocked reports whether sends are kept for a connection to come:
// the client is (re)connecting, or its connection is closing and it will
// reconnect.
func (c *Client) waitingLocked() bool {
	return c.status == StatusConnecting || c.status == StatusOpen && !c.policy.off
}

// sendOut sends an encoded message through the client's interceptors, if
// any, then post.
func (c *Client) sendOut(name string, o outgoing) error {
	if chain := c.ep.sendChain(); chain != nil {
		o.client = c
		c.mu.Lock()
		conn := c.openLocked()
		c.mu.Unlock()
		ctx := context.Background()
		if conn != nil {
			ctx = conn.ctx
		}
		_, err := chain(ctx, o.message(conn, name, false))
		return err
	}
	_, err := c.post(context.Background(), o.w, "", nil)
	return err
}

// post sends the envelope in w on the open connection, or queues it while
// the client is away. For a call (ch set) it waits for the reply.
func (c *Client) post(ctx context.Context, w *jx.Writer, id string, ch chan callResult) ([]byte, error) {
	c.mu.Lock()
	if conn := c.openLocked(); conn != nil {
		if ch == nil {
			c.mu.Unlock()
			return nil, conn.sendWriter(w)
		}
		if conn.adoptCall(id, ch) {
			c.mu.Unlock()
			return conn.awaitCall(ctx, id, ch, ownFrame(w))
		}
		// The connection closed just now: the request waits for the next.
	}
	if !c.waitingLocked() {
		c.mu.Unlock()
		putWriter(w)
		return nil, errNotConnected
	}
	if len(c.away.queue) >= c.queueLimit {
		c.mu.Unlock()
		putWriter(w)
		c.ep.log.Debug("ambigen: send queue full; message not queued", "limit", c.queueLimit)
		return nil, ErrQueueFull
	}
	item := queued{frame: ownFrame(w)}
	if ch != nil {
		item.call = &queuedCall{id: id, ch: ch}
	}
	c.away.queue = append(c.away.queue, item)
	c.mu.Unlock()
	if ch == nil {
		return nil, nil
	}
	c.ep.stats.calls.Add(1)
	return c.ep.awaitReply(ctx, ch, func() { c.forgetQueued(item.call) })
}

// forgetQueued takes a call that stopped waiting out of the queue, or out
// of the connection it was handed to.
func (c *Client) forgetQueued(qc *queuedCall) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, item := range c.away.queue {
		if item.call == qc {
			c.away.queue = append(c.away.queue[:i], c.away.queue[i+1:]...)
			return
		}
	}
	if qc.conn != nil {
		qc.conn.forgetCall(qc.id)
	}
}

// callClient sends a request through c and waits for the reply's payload.
func callClient[Req any](ctx context.Context, c *Client, name string, req Codec[Req], v Req) ([]byte, error) {
	id := c.ep.newCallID()
	o, err := encodeOut(name, req, v, meta{id: id, call: true})
	if err != nil {
		return nil, err
	}
	ch := make(chan callResult, 1)
	if chain := c.ep.sendChain(); chain != nil {
		o.client, o.ch = c, ch
		c.mu.Lock()
		conn := c.openLocked()
		c.mu.Unlock()
		return chain(ctx, o.message(conn, name, true))
	}
	return c.post(ctx, o.w, id, ch)
}
