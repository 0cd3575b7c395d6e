package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/go-faster/jx"
	"github.com/gorilla/websocket"
)

// Conn is one live connection, on the server or the client side.
//
// Send, Call, Close and the accessors are safe to call from any goroutine,
// handlers included; none of them blocks on the network. Messages of one
// Conn are handled one at a time, in arrival order: a handler that blocks
// delays the next message of that connection only, and should watch ctx,
// which ends when the connection closes.
//
// A connection's life, in the order of the files that implement it: the
// reader (read.go) takes each message off the socket, checking it as it
// arrives (UTF-8, size, memory, time); dispatch (dispatch.go) routes it to
// its handler and answers calls; everything written goes through the
// outbox (outbox.go) to the wire (wire.go).
type Conn struct {
	// What every message touches comes first, so that it shares as few
	// cache lines as possible: on a server with thousands of connections a
	// connection's state is cold when its next message arrives, and every
	// line it touches is a miss.
	ws  *websocket.Conn
	ep  *endpoint
	ctx context.Context
	rd  reader // the reader role's own state; see read.go

	mu    sync.Mutex
	state atomic.Uint32 // a connState; changed under mu, read without it
	disp  dispatcher    // who runs handlers; see dispatch.go

	view atomic.Value // the typed view of generated code; see View

	// Frames read and frames accepted for writing, counted here rather
	// than in the endpoint's totals so that connections on different
	// processors do not contend for one counter; see Server.Stats.
	nIn, nOut atomic.Uint64

	out outbox // its own hot fields first

	id       uint64
	identity any
	cancel   context.CancelFunc
	cause    error                      // why the connection closed, once known
	pending  map[string]chan callResult // calls we made, by id

	version     atomic.Pointer[Version] // nil until the handshake settles one; see skew.go
	countedAnon bool                    // counted in Server.Versions without its fingerprint; under the server's lock

	pingTimer *time.Timer // re-armed after each ping; nil without pings
	lingering *time.Timer // after our close frame: gives up on the peer's answer
	finished  func()      // runs last, once the connection is down
	done      signal      // everything is over; see Done
}

type connState uint32

func (c *Conn) stateNow() connState { return connState(c.state.Load()) }

const (
	stateOpen    connState = iota
	stateClosing           // a close is decided; nothing more is sent or handled
	stateClosed
)

// newConn makes the connection for a socket that speaks the protocol; w is
// where its frames go and nb says whether w can write without waiting.
func newConn(ep *endpoint, ws *websocket.Conn, w wire, nb bool, identity any, parent context.Context) *Conn {
	ctx, cancel := context.WithCancel(parent)
	c := &Conn{
		id:       connIDs.Add(1),
		ws:       ws,
		ep:       ep,
		identity: identity,
		ctx:      ctx,
		cancel:   cancel,
	}
	c.out.init(w, nb, ep.cfg.sendBuffer, c.closeSent, c.writeFailed)
	// The read limit is enforced by the reader itself, as the bytes arrive,
	// so that an oversize message can be skipped without losing the
	// connection; gorilla's own limit would always close it.
	ws.SetReadLimit(0)
	ws.SetPingHandler(c.pinged)
	ws.SetPongHandler(c.ponged)
	ws.SetCloseHandler(c.peerClosed)
	c.rd.init(c, monoNow())
	ep.stats.connections.Add(1)
	ep.stats.active.Add(1)
	return c
}

// connIDs numbers connections across the process.
var connIDs atomic.Uint64

// start arms the keepalive; the caller then runs readLoop.
func (c *Conn) start() {
	if p := c.ep.cfg.pingInterval; p > 0 {
		c.mu.Lock()
		c.pingTimer = time.AfterFunc(p, c.pingDue)
		c.mu.Unlock()
	}
}

func (c *Conn) pingDue() {
	c.out.ping()
	c.mu.Lock()
	if c.stateNow() == stateOpen && c.pingTimer != nil {
		c.pingTimer.Reset(c.ep.cfg.pingInterval)
	}
	c.mu.Unlock()
}

// ID is unique among the connections of a process.
func (c *Conn) ID() uint64 { return c.id }

// Identity is what Options.Authenticate attached, or nil (also for a nil
// *Conn). Auth gives it back with its type.
func (c *Conn) Identity() any {
	if c == nil {
		return nil
	}
	return c.identity
}

// Context is canceled when the connection closes (or, on a server, when
// Shutdown begins).
func (c *Conn) Context() context.Context { return c.ctx }

// Done is closed once the connection is closed, its handlers have returned
// and its writer has stopped.
func (c *Conn) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done.wait()
}

// Send is the untyped ws$send: v is encoded as encoding/json would, without
// HTML escaping; a json.RawMessage is sent as it is, once it is found to be
// one valid JSON value in UTF-8. It never blocks. A value that cannot be
// encoded is sent to nobody: Send returns its *EncodeError.
func (c *Conn) Send(name string, v any) error {
	if c == nil {
		return errNotConnected
	}
	if chain := c.ep.sendChain(); chain != nil {
		o, err := encodeUntypedOut(name, v)
		if err != nil {
			return err
		}
		_, err = chain(c.ctx, o.message(c, name, false))
		return err
	}
	w, err := encodeUntyped(name, v)
	if err != nil {
		return err
	}
	return c.sendWriter(w)
}

// sendWriter sends the envelope encoded in w and recycles w. A frame the
// socket takes at once is written from w's buffer; otherwise it is copied
// and queued.
func (c *Conn) sendWriter(w *jx.Writer) error {
	taken, err := c.out.sendNow(frameOf(w))
	if taken || err != nil {
		putWriter(w)
		if err == nil {
			c.nOut.Add(1)
		}
		return err
	}
	return c.enqueue(ownFrame(w))
}

// enqueue hands a complete frame, which the outbox then owns, to the
// outbox. It never blocks: a frame that would take the queued bytes past
// SendBuffer applies the slow-consumer policy.
func (c *Conn) enqueue(frame []byte) error {
	err := c.out.send(frame)
	switch err {
	case nil:
		c.nOut.Add(1)
	case ErrSlowConsumer:
		c.slowConsumer("send buffer full", ErrSlowConsumer)
	}
	return err
}

// slowConsumer notes a connection closed by the slow-consumer policy.
func (c *Conn) slowConsumer(why string, cause error) {
	c.mu.Lock()
	first := c.stateNow() == stateOpen
	if first {
		c.state.Store(uint32(stateClosing))
		c.cause = cause
	}
	c.mu.Unlock()
	if !first {
		return
	}
	c.ep.stats.slow.Add(1)
	c.ep.log.Warn("ambigen: slow consumer closed", "conn", c.id, "why", why, "limit", c.ep.cfg.sendBuffer)
}

// Close starts the close handshake with code and reason: frames already
// queued are written first, then the close frame; the connection is torn
// down when the peer answers or after the write timeout. The code must be
// one that may be sent (1000-1003, 1007-1014 or 3000-4999); a reason
// longer than the 123 bytes a close frame holds is cut at a character
// boundary. It returns ErrClosed if the connection is already closing.
func (c *Conn) Close(code int, reason string) error {
	if c == nil {
		return errNotConnected
	}
	if !sendableCloseCode(code) {
		return fmt.Errorf("ambigen: close code %d cannot be sent", code)
	}
	return c.closeWith(code, reason, nil, false)
}

// sendableCloseCode reports whether code may appear in a close frame (RFC
// 6455, section 7.4, and the IANA registry): 1004-1006 and 1015 are
// reserved for reporting, not sending.
func sendableCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	}
	return code >= 3000 && code <= 4999
}

// closePayload is a close frame's payload: the code, then the reason cut
// to what fits.
func closePayload(code int, reason string) []byte {
	if len(reason) > maxCloseReason {
		n := maxCloseReason
		for n > 0 && !utf8.RuneStart(reason[n]) {
			n--
		}
		reason = reason[:n]
	}
	return websocket.FormatCloseMessage(code, reason)
}

// errNotConnected is returned for a Client that has not dialled; it
// matches ErrClosed for callers that branch on it.
var errNotConnected error = &wrapErr{msg: "ambigen: not connected", err: ErrClosed}

type wrapErr struct {
	msg string
	err error
}

func (e *wrapErr) Error() string { return e.msg }
func (e *wrapErr) Unwrap() error { return e.err }

// closeWith moves an open connection to closing: no more messages are
// handled or sent, and the close frame is written after what is queued
// (instead of it with drop).
func (c *Conn) closeWith(code int, reason string, cause error, drop bool) error {
	c.mu.Lock()
	if c.stateNow() != stateOpen {
		c.mu.Unlock()
		return ErrClosed
	}
	c.state.Store(uint32(stateClosing))
	if cause != nil {
		c.cause = cause
	}
	c.mu.Unlock()
	_ = c.out.close(closePayload(code, reason), drop)
	return nil
}

// closeSent runs once our close frame is on the wire: the peer's answer
// ends the reader; if it does not come, the socket is torn down.
func (c *Conn) closeSent() {
	c.mu.Lock()
	if c.stateNow() != stateClosed && c.lingering == nil {
		c.lingering = time.AfterFunc(c.ep.cfg.writeTimeout, c.abort)
	}
	c.mu.Unlock()
}

// writeFailed runs when a write failed or made no progress for the write
// timeout: the socket is torn down and the reader finishes the connection.
func (c *Conn) writeFailed(err error) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.slowConsumer("no write progress", ErrSlowConsumer)
	}
	c.abort()
}

// abort tears the socket down without a handshake; the reader then fails
// and finishes the connection.
func (c *Conn) abort() {
	c.cancel()
	c.out.w.shut()
}

// pinged answers a ping from the peer (on the reader). Pings count against
// the rate limit like messages, so a ping flood is refused like any other.
func (c *Conn) pinged(data string) error {
	now := c.rd.now()
	c.rd.alive(c, now)
	switch c.rd.limit.take(&c.ep.cfg.rate, now, len(data)) {
	case refused:
		c.ep.stats.rateLimited.Add(1)
		return nil
	case exceeded:
		c.ep.stats.rateLimited.Add(1)
		c.rateLimitClose()
		return nil
	}
	c.out.pongTo(data)
	return nil
}

// ponged notes the peer's answer to our ping (on the reader).
func (c *Conn) ponged(string) error {
	c.rd.alive(c, c.rd.now())
	return nil
}

// peerClosed answers the peer's close frame with the same code (on the
// reader); gorilla then ends the reader with a *websocket.CloseError. If our
// own close went first, it is the answer. What was still queued is dropped:
// the peer has said it is going.
func (c *Conn) peerClosed(code int, text string) error {
	c.mu.Lock()
	if c.stateNow() == stateOpen {
		c.state.Store(uint32(stateClosing))
		c.cause = &websocket.CloseError{Code: code, Text: text}
	}
	c.mu.Unlock()
	_ = c.out.close(websocket.FormatCloseMessage(code, ""), true)
	return nil
}

// finish runs once, on the reader, after the socket failed or the close
// handshake ended.
func (c *Conn) finish(readErr error) {
	c.mu.Lock()
	c.state.Store(uint32(stateClosed))
	if c.cause == nil {
		c.cause = readErr
	}
	cause := c.cause
	pending := c.pending
	c.pending = nil
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	if c.lingering != nil {
		c.lingering.Stop()
	}
	c.disp.closeLocked(c.ep)
	c.mu.Unlock()

	c.cancel()
	if c.ep.leave != nil {
		c.ep.leave(c)
	}
	// A close frame already decided is written (within the write timeout);
	// then the socket is closed, which also fails a writer stuck on it.
	c.out.end(c.ep.cfg.writeTimeout)
	for _, ch := range pending {
		ch <- callResult{err: ErrClosed}
	}
	// Handlers that moved off the reader (see dispatch.go) return before
	// the connection is reported gone.
	c.disp.detached.Wait()
	c.ep.stats.active.Add(^uint64(0))
	c.ep.log.Debug("ambigen: connection closed", "conn", c.id, "cause", cause)
	c.ep.disconnected(c, cause)
	// finished runs before Done is closed, so that a Client has settled
	// its status (reconnecting, or closed) by the time a waiter wakes.
	if c.finished != nil {
		c.finished()
	}
	c.mu.Lock()
	c.done.fire()
	c.mu.Unlock()
}

// encodeUntyped encodes v as Conn.Send and Server.Broadcast do.
func encodeUntyped(name string, v any) (*jx.Writer, error) {
	if raw, ok := v.(json.RawMessage); ok {
		return encodeEnvelope(name, RawJSON, raw, meta{})
	}
	return encodeEnvelope(name, Any, v, meta{})
}
