package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-faster/jx"
	"github.com/gorilla/websocket"
)

// Conn is one live connection, on the server or the client side.
//
// Send, Call, Close and the accessors are safe to call from any goroutine,
// handlers included; none of them blocks on the network. Messages of one
// Conn are handled one at a time, in arrival order, on its reader
// goroutine: a handler that blocks delays the next message of that
// connection only, and should watch ctx, which ends when the connection
// closes.
type Conn struct {
	id       uint64
	ws       *websocket.Conn
	ep       *endpoint
	identity any
	ctx      context.Context
	cancel   context.CancelFunc

	mu          sync.Mutex
	state       connState
	queue       [][]byte // frames waiting for the writer, at most cfg.sendQueue
	closeCode   int      // the close frame the writer sends once closing
	closeReason string
	cause       error                      // why the connection closed, once known
	pending     map[string]chan callResult // calls we made, by id
	nextCall    uint64

	limited io.LimitedReader // reused by the reader, to allocate nothing per message

	view atomic.Value // the typed view of generated code; see View

	// When the socket's read and write deadlines were last moved; see
	// deadlineSlack. readArmed belongs to the reader goroutine (the pong
	// handler runs on it too), writeArmed to whoever holds the writer role.
	readArmed, writeArmed time.Time
	// deadlineDirty says a control frame written through gorilla (a pong,
	// our ping) has replaced the socket's write deadline with its own.
	deadlineDirty atomic.Bool

	// rawWrites: on a server connection the writer writes each queued frame
	// (header included, see finishWriter) straight to the socket, one write
	// call, no copy into a write buffer. Client frames must be masked, so a
	// client writes through gorilla.
	rawWrites bool
	// wireMu orders the frames written past gorilla against the close
	// frame: once closeOnWire is set (our close, or our echo of the
	// peer's), no data frame may follow it (RFC 6455, section 5.5.1).
	wireMu      sync.Mutex
	closeOnWire bool

	// The writer goroutine exists only while there is something to write:
	// an idle connection holds no writer stack. writing says one runs; at
	// most one does, so it alone writes data, pings and the close frame.
	writing bool
	pingDue bool
	// dispatching says the reader is running a handler: frames queued
	// meanwhile are left for the reader to write when the handler returns
	// (see dispatchAndFlush), unless the handler runs past inlineWait, when
	// the deferral watchdog starts the writer after all. dispatchSeq
	// numbers the reader's dispatches, so the watchdog can tell a handler
	// that is still running from the next one.
	dispatching bool
	deferArmed  bool
	dispatchSeq uint64
	closeSent   bool
	writers     sync.WaitGroup
	pingTimer   *time.Timer // re-armed after each ping; nil without pings
	lingering   *time.Timer // after our close frame: gives up on the peer's answer

	done chan struct{}
}

type connState uint8

const (
	stateOpen    connState = iota
	stateClosing           // a close frame is queued; nothing more is sent or handled
	stateClosed
)

func newConn(ep *endpoint, ws *websocket.Conn, identity any, parent context.Context) *Conn {
	ctx, cancel := context.WithCancel(parent)
	c := &Conn{
		id:       connIDs.Add(1),
		ws:       ws,
		ep:       ep,
		identity: identity,
		ctx:      ctx,
		cancel:   cancel,
		done:     make(chan struct{}),
	}
	// The read limit is enforced by the reader itself so that an oversize
	// message can be skipped without losing the connection; gorilla's own
	// limit would always close it.
	ws.SetReadLimit(0)
	if ep.cfg.pongTimeout > 0 {
		c.armReadDeadline(time.Now())
		ws.SetPongHandler(func(string) error {
			c.armReadDeadline(time.Now())
			return nil
		})
	}
	// Only a server's endpoint has a registry to leave.
	c.rawWrites = ep.leave != nil
	if c.rawWrites {
		ws.SetPingHandler(c.answerPing)
		ws.SetCloseHandler(c.answerClose)
	}
	ep.stats.connections.Add(1)
	ep.stats.active.Add(1)
	return c
}

// answerPing is gorilla's default ping handler, which also notes that the
// pong's deadline replaced ours.
func (c *Conn) answerPing(data string) error {
	err := c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.ep.cfg.writeTimeout))
	c.deadlineDirty.Store(true)
	var ne net.Error
	if err == nil || errors.Is(err, websocket.ErrCloseSent) || (errors.As(err, &ne) && ne.Timeout()) {
		return nil
	}
	return err
}

// answerClose is gorilla's default close handler (echo the peer's code,
// no reason), except that the echo is ordered after any frame being written
// past gorilla and stops all later ones; if our own close frame went first,
// that already answers the peer.
func (c *Conn) answerClose(code int, _ string) error {
	c.wireMu.Lock()
	defer c.wireMu.Unlock()
	if c.closeOnWire {
		return nil
	}
	c.closeOnWire = true
	err := c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(c.ep.cfg.writeTimeout))
	c.deadlineDirty.Store(true)
	var ne net.Error
	if err == nil || errors.Is(err, websocket.ErrCloseSent) || (errors.As(err, &ne) && ne.Timeout()) {
		return nil
	}
	return err
}

// errCloseOnWire is writeFrame's answer once a close frame has been written:
// the frame is dropped, since nothing may follow the close.
var errCloseOnWire = errors.New("ambigen: close frame already written")

// writeFrame writes one frame built by finishWriter. The caller holds the
// writer role.
func (c *Conn) writeFrame(f []byte) error {
	wt := c.ep.cfg.writeTimeout
	now := time.Now()
	stale := now.Sub(c.writeArmed) > wt/deadlineSlack
	if !c.rawWrites {
		if stale {
			_ = c.ws.SetWriteDeadline(now.Add(wt))
			c.writeArmed = now
		}
		return c.ws.WriteMessage(websocket.TextMessage, envelopeOf(f))
	}
	// gorilla re-applies its own deadline to the socket before every write
	// it makes, which moves a poller timer each time; written directly, the
	// deadline is moved only when stale (see deadlineSlack) or replaced.
	//
	// Writing past gorilla is safe against the control frames it still
	// writes itself (pongs, the close echo) because every frame, ours and
	// its, goes out in one Write call, and both net.TCPConn and tls.Conn
	// hold a lock for the whole of a Write: frames never interleave.
	nc := c.ws.NetConn()
	c.wireMu.Lock()
	defer c.wireMu.Unlock()
	if c.closeOnWire {
		return errCloseOnWire
	}
	if stale || c.deadlineDirty.Load() {
		c.deadlineDirty.Store(false)
		_ = nc.SetWriteDeadline(now.Add(wt))
		c.writeArmed = now
	}
	_, err := nc.Write(f)
	return err
}

// start arms the keepalive; the caller then runs readLoop.
func (c *Conn) start() {
	if p := c.ep.cfg.pingInterval; p > 0 {
		c.mu.Lock()
		c.pingTimer = time.AfterFunc(p, c.requestPing)
		c.mu.Unlock()
	}
}

func (c *Conn) requestPing() {
	c.mu.Lock()
	if c.state == stateOpen {
		c.pingDue = true
		c.kickLocked()
	}
	c.mu.Unlock()
}

// kickLocked starts the writer if there is none. c.mu must be held.
func (c *Conn) kickLocked() {
	if c.writing || c.state == stateClosed {
		return
	}
	c.writing = true
	c.writers.Add(1)
	go c.writeLoop()
}

// ID is unique among the connections of a process.
func (c *Conn) ID() uint64 { return c.id }

// Identity is what Options.Authenticate attached, or nil.
func (c *Conn) Identity() any { return c.identity }

// Context is canceled when the connection closes (or, on a server, when
// Shutdown begins).
func (c *Conn) Context() context.Context { return c.ctx }

// Done is closed once the connection is closed and its writer has stopped.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Send is the untyped ws$send: v is encoded as encoding/json would, without
// HTML escaping; a json.RawMessage is sent as it is. It never blocks.
func (c *Conn) Send(name string, v any) error {
	if c == nil {
		return errNotConnected
	}
	if raw, ok := v.(json.RawMessage); ok {
		return c.enqueue(encodeRawFrame(name, raw, "", "", nil))
	}
	frame, err := encodeFrame(name, Any, v, "", "")
	if err != nil {
		return err
	}
	return c.enqueue(frame)
}

// Close starts the close handshake with code and reason: frames already
// queued are written first, then the close frame; the connection is torn
// down when the peer answers or after the write timeout. It returns
// ErrClosed if the connection is already closing.
func (c *Conn) Close(code int, reason string) error {
	if c == nil {
		return errNotConnected
	}
	return c.closeWith(code, reason, nil, false)
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

// closeWith moves an open connection to closing. dropQueue discards frames
// not yet written (the slow-consumer case, where they cannot be written).
func (c *Conn) closeWith(code int, reason string, cause error, dropQueue bool) error {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return ErrClosed
	}
	c.state = stateClosing
	c.closeCode, c.closeReason = code, reason
	if cause != nil {
		c.cause = cause
	}
	if dropQueue {
		clear(c.queue)
		c.queue = c.queue[:0]
	}
	c.kickLocked()
	c.mu.Unlock()
	return nil
}

// enqueue hands a complete frame to the writer. It never blocks: a full
// queue applies the slow-consumer policy.
func (c *Conn) enqueue(frame []byte) error { return c.enqueueFrame(frame, false) }

// inlineWait is how long frames queued while a handler runs may wait for
// the reader to write them itself. Most handlers return well within it, and
// their replies then cost no writer goroutine; a handler that keeps running
// (a loop that sends and sleeps, a slow database) has its frames written by
// a writer goroutine as before, at most this much later.
const inlineWait = time.Millisecond

// enqueueFrame is enqueue; urgent frames start the writer even while the
// reader dispatches (a call's request, which its handler then waits on).
func (c *Conn) enqueueFrame(frame []byte, urgent bool) error {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return ErrClosed
	}
	if len(c.queue) >= c.ep.cfg.sendQueue {
		c.mu.Unlock()
		if c.closeWith(websocket.ClosePolicyViolation, "slow consumer", ErrSlowConsumer, true) == nil {
			c.ep.stats.slow.Add(1)
			if l := c.ep.cfg.logger; l != nil {
				l.Warn("ambigen: slow consumer closed", "conn", c.id, "queue", c.ep.cfg.sendQueue)
			}
		}
		return ErrSlowConsumer
	}
	c.queue = append(c.queue, frame)
	switch {
	case !c.dispatching || urgent:
		c.kickLocked()
	case !c.deferArmed:
		c.deferArmed = true
		deferrals.watch(c, c.dispatchSeq)
	}
	c.mu.Unlock()
	return nil
}

// stopDeferring runs when the handler of dispatch seq has kept its frames
// waiting for inlineWait or more: from now on its frames go to a writer
// goroutine at once.
func (c *Conn) stopDeferring(seq uint64) {
	c.mu.Lock()
	if c.deferArmed && c.dispatching && c.dispatchSeq == seq {
		c.dispatching = false
		c.deferArmed = false
		if len(c.queue) > 0 {
			c.kickLocked()
		}
	}
	c.mu.Unlock()
}

// deferrals is the watchdog that bounds how long a running handler's frames
// wait for the reader. A timer per connection would cost two timer updates
// per message (and, on a quiet machine, a wake-up of the network poller);
// one goroutine for the process, alive only while handlers defer frames,
// costs a mutex and an append per message and a wake-up per inlineWait.
var deferrals deferralWatch

type deferralWatch struct {
	mu      sync.Mutex
	fresh   []deferral // armed since the last tick
	running bool
}

type deferral struct {
	c   *Conn
	seq uint64
}

// watch notes that c's dispatch seq deferred frames. c.mu is held.
func (w *deferralWatch) watch(c *Conn, seq uint64) {
	w.mu.Lock()
	w.fresh = append(w.fresh, deferral{c, seq})
	if !w.running {
		w.running = true
		go w.run()
	}
	w.mu.Unlock()
}

// run checks each deferral one full tick after the tick it was armed in,
// so that every handler gets at least inlineWait (and at most twice that)
// before its frames go to a writer goroutine; it exits once no handler has
// deferred anything for a tick.
func (w *deferralWatch) run() {
	var aged, spare []deferral
	for {
		time.Sleep(inlineWait)
		for i, d := range aged {
			d.c.stopDeferring(d.seq)
			aged[i] = deferral{}
		}
		w.mu.Lock()
		if len(w.fresh) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		spare, aged = aged[:0], w.fresh
		w.fresh = spare
		w.mu.Unlock()
	}
}

// dispatchAndFlush runs the handler for one frame on the reader, then
// writes what the handler queued from the reader itself: for the common
// handler that replies and returns, that saves starting a writer goroutine
// and switching to it for every message. It writes one batch only; if more
// is queued by then, a writer goroutine takes over, so that the reader goes
// back to reading.
func (c *Conn) dispatchAndFlush(mt int, frame []byte) {
	c.mu.Lock()
	c.dispatching = true
	c.dispatchSeq++
	c.mu.Unlock()
	c.dispatch(mt, frame)
	c.mu.Lock()
	c.dispatching = false
	c.deferArmed = false
	inline := !c.writing && c.state != stateClosed && len(c.queue) > 0
	if inline {
		c.writing = true
		c.writers.Add(1)
	}
	c.mu.Unlock()
	if inline {
		c.writeBatches(true)
	}
}

// abort tears the socket down without a handshake; the reader then fails
// and finishes the connection.
func (c *Conn) abort() {
	c.cancel()
	_ = c.ws.NetConn().Close()
}

// keepQueueCap is the largest queue backing array kept across batches;
// larger ones are dropped so that an idle connection holds little memory.
const keepQueueCap = 16

// writeLoop writes until there is nothing left to write, then exits; the
// next enqueue starts a new one. It owns every write on the socket except
// the control frames gorilla answers itself (pong, close echo), which are
// safe to interleave with ours (see writeFrame).
func (c *Conn) writeLoop() { c.writeBatches(false) }

// writeBatches writes until there is nothing left to write; with once, it
// writes one batch and hands whatever was queued meanwhile to a writer
// goroutine. The caller holds the writer role (c.writing) and a count in
// c.writers.
func (c *Conn) writeBatches(once bool) {
	defer c.writers.Done()
	cfg := &c.ep.cfg
	var spare [][]byte
	for first := true; ; first = false {
		c.mu.Lock()
		if once && !first {
			// Hand over: the reader must go back to reading.
			if cap(spare) > cap(c.queue) && len(c.queue) == 0 {
				c.queue = spare
			}
			c.writing = false
			if len(c.queue) > 0 || c.pingDue || (c.state == stateClosing && !c.closeSent) {
				c.kickLocked()
			}
			c.mu.Unlock()
			return
		}
		batch := c.queue
		c.queue = spare
		spare = nil
		ping := c.pingDue
		c.pingDue = false
		sendClose := c.state == stateClosing && !c.closeSent
		if c.state == stateClosed || (len(batch) == 0 && !ping && !sendClose) {
			// Keep the larger of the two empty arrays for the next batch.
			if cap(batch) >= cap(c.queue) {
				c.queue = batch
			}
			c.writing = false
			c.mu.Unlock()
			return
		}
		if sendClose {
			// Frames queued before the close was decided are in batch; no
			// more can be queued now.
			c.closeSent = true
		}
		code, reason := c.closeCode, c.closeReason
		c.mu.Unlock()

		for i, f := range batch {
			if err := c.writeFrame(f); err != nil {
				if err == errCloseOnWire {
					// The peer's close was answered: the handshake is done
					// and the reader is finishing the connection; what is
					// left to write is dropped with it.
					c.mu.Lock()
					c.writing = false
					c.mu.Unlock()
					return
				}
				c.writerFailed()
				return
			}
			c.ep.stats.out.Add(1)
			batch[i] = nil
		}
		if cap(batch) <= keepQueueCap {
			spare = batch[:0]
		}
		if ping {
			err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(cfg.writeTimeout))
			c.deadlineDirty.Store(true)
			if err != nil {
				c.writerFailed()
				return
			}
			c.mu.Lock()
			if c.pingTimer != nil && c.state == stateOpen {
				c.pingTimer.Reset(cfg.pingInterval)
			}
			c.mu.Unlock()
		}
		if sendClose {
			c.wireMu.Lock()
			already := c.closeOnWire
			c.closeOnWire = true
			var err error
			if !already {
				msg := websocket.FormatCloseMessage(code, reason)
				err = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(cfg.writeTimeout))
			}
			c.wireMu.Unlock()
			if err != nil {
				c.writerFailed()
				return
			}
			// The peer's close frame ends the reader; if it does not come,
			// the socket is torn down.
			c.mu.Lock()
			if c.state != stateClosed {
				c.lingering = time.AfterFunc(cfg.writeTimeout, c.abort)
			}
			c.mu.Unlock()
		}
	}
}

// writerFailed ends a writer whose socket failed: the reader notices and
// finishes the connection.
func (c *Conn) writerFailed() {
	c.mu.Lock()
	c.writing = false
	c.mu.Unlock()
	c.abort()
}

// Frame buffers are pooled: a connection holds one only while it reads and
// handles a message. Buffers that grew past maxPooledFrame are let go.
const maxPooledFrame = 64 << 10

var framePool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readLoop reads and dispatches messages until the connection fails or
// closes, then finishes it. It runs on the goroutine that owns the
// connection (the HTTP handler's, on a server).
func (c *Conn) readLoop() {
	cfg := &c.ep.cfg
	var err error
	for {
		var mt int
		var r io.Reader
		mt, r, err = c.ws.NextReader()
		if err != nil {
			break
		}
		c.ep.stats.in.Add(1)
		buf := framePool.Get().(*bytes.Buffer)
		buf.Reset()
		c.limited.R, c.limited.N = r, cfg.readLimit+1
		var n int64
		n, err = buf.ReadFrom(&c.limited)
		c.limited.R = nil
		if err != nil {
			framePool.Put(buf)
			break
		}
		switch {
		case c.closing():
			// After our close frame nothing more is handled; gorilla skips
			// the rest of the message at the next NextReader.
		case n > cfg.readLimit:
			c.reject(KindTooBig, "", errTooBig(cfg.readLimit))
		default:
			c.dispatchAndFlush(mt, buf.Bytes())
		}
		if buf.Cap() <= maxPooledFrame {
			framePool.Put(buf)
		}
		if cfg.pongTimeout > 0 {
			// Any traffic shows the peer is alive; this also keeps a long
			// handler from counting against the pong deadline.
			if now := time.Now(); now.Sub(c.readArmed) > cfg.pongTimeout/deadlineSlack {
				c.armReadDeadline(now)
			}
		}
	}
	c.finish(err)
}

// deadlineSlack bounds how far behind a socket deadline may fall before it
// is moved again, as a fraction of its timeout. Moving a deadline updates a
// timer in Go's network poller, which showed in the profile of every
// message; moving it only once 1/16 of the timeout has passed keeps every
// read and write under at least 15/16 of its timeout and at most all of it.
const deadlineSlack = 16

// armReadDeadline gives the peer pongTimeout from now; reader goroutine only.
func (c *Conn) armReadDeadline(now time.Time) {
	_ = c.ws.SetReadDeadline(now.Add(c.ep.cfg.pongTimeout))
	c.readArmed = now
}

type tooBigError struct{ limit int64 }

func (e tooBigError) Error() string {
	return "message exceeds the read limit of " + itoa(e.limit) + " bytes"
}

func errTooBig(limit int64) error { return tooBigError{limit} }

func (c *Conn) closing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state != stateOpen
}

// finish runs once, on the reader goroutine, after the socket failed or
// the close handshake ended.
func (c *Conn) finish(readErr error) {
	c.mu.Lock()
	c.state = stateClosed
	if c.cause == nil {
		c.cause = readErr
	}
	cause := c.cause
	pending := c.pending
	c.pending = nil
	c.queue = nil
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	if c.lingering != nil {
		c.lingering.Stop()
	}
	c.mu.Unlock()

	c.cancel()
	if c.ep.leave != nil {
		c.ep.leave(c)
	}
	// Closing the socket makes a writer blocked on a slow peer fail at
	// once; no new writer starts once the state is closed.
	_ = c.ws.NetConn().Close()
	c.writers.Wait()
	for _, ch := range pending {
		ch <- callResult{err: ErrClosed}
	}
	c.ep.stats.active.Add(^uint64(0))
	c.ep.debug("ambigen: connection closed", "conn", c.id, "cause", cause)
	if fn := c.ep.cfg.onDisconnect; fn != nil {
		fn(c, cause)
	}
	close(c.done)
}

// dispatch handles one complete frame.
func (c *Conn) dispatch(messageType int, frame []byte) {
	if messageType != websocket.TextMessage {
		c.reject(KindBinary, "", errors.New("binary frames are not part of the protocol"))
		return
	}
	d := decoderPool.Get().(*jx.Decoder)
	var env envelope
	kind, err := parseEnvelope(d, frame, &env)
	d.ResetBytes(nil)
	decoderPool.Put(d)
	if err != nil {
		c.reject(kind, "", err)
		return
	}
	if !env.flagged {
		c.ep.stats.ignored.Add(1)
		c.ep.debug("ambigen: ignored message without isAmbiorix: true", "conn", c.id)
		return
	}
	if env.nameKind != jx.String {
		what := "missing"
		if env.nameKind != jx.Invalid {
			what = "a JSON " + env.nameKind.String() + ", not a string"
		}
		c.reject(KindBadName, "", errors.New("name is "+what))
		return
	}
	if env.hasReplyTo {
		c.deliverReply(&env)
		return
	}
	r, ok := c.ep.lookup(env.name)
	switch {
	case ok && r.call != nil && env.hasID:
		c.serveCall(r, &env)
	case ok && r.handle != nil:
		c.serveMessage(r, env.message)
	case ok && r.call != nil:
		// A call sent without an id cannot be answered.
		c.reject(KindPayload, r.name, &PayloadError{Err: errors.New(`call without an "id"`)})
	case env.hasID:
		c.ep.stats.calls.Add(1)
		c.ep.stats.callErrors.Add(1)
		c.sendError(string(env.name), string(env.id), &CallError{Code: CodeUnimplemented, Message: "no handler for " + quote(env.name)})
	default:
		c.ep.stats.ignored.Add(1)
		c.ep.debug("ambigen: ignored message with no handler", "conn", c.id, "name", string(env.name))
	}
}

func (c *Conn) serveMessage(r route, payload []byte) {
	err := c.protect(func() error { return r.handle(c.ctx, c, payload) })
	if err == nil {
		return
	}
	var me *MessageError
	switch {
	case errors.As(err, &me):
		if me.Name == "" {
			me.Name = r.name
		}
		c.report(me)
	case isPanic(err):
		c.reject(KindPanic, r.name, err)
	case isPayload(err):
		c.reject(KindPayload, r.name, err)
	default:
		c.reject(KindHandler, r.name, err)
	}
}

// protect runs fn, turning a panic into a *PanicError.
func (c *Conn) protect(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v}
		}
	}()
	return fn()
}

func isPanic(err error) bool {
	var pe *PanicError
	return errors.As(err, &pe)
}

func isPayload(err error) bool {
	var pe *PayloadError
	return errors.As(err, &pe)
}

// reject reports bad input or a failed handler: counter, hook, rate-limited
// Warn, and in strict mode the close code for the kind.
func (c *Conn) reject(kind ErrorKind, name string, err error) {
	c.report(&MessageError{Kind: kind, Name: name, Err: err})
}

func (c *Conn) report(me *MessageError) {
	c.ep.stats.rejected.Add(1)
	if fn := c.ep.cfg.onError; fn != nil {
		fn(c, me)
	}
	c.ep.warn(c, me)
	if c.ep.cfg.strict {
		_ = c.closeWith(me.Kind.CloseCode(), me.Kind.String(), me, false)
	}
}

func quote(b []byte) string {
	w := jx.Writer{}
	w.ByteStr(b)
	return string(w.Buf)
}

func itoa(n int64) string {
	w := jx.Writer{}
	w.Int64(n)
	return string(w.Buf)
}
