package runtime

import (
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// outbox holds what waits to be written to one connection, and the writer
// role: whoever holds it is the only one writing to the wire. Everything
// the connection sends goes through here: data frames, pongs, pings, the
// close frame, and the frames gorilla makes on its own (see sockConn).
//
// The role moves between three holders (writerRole). A sender that finds
// the connection idle takes the role and writes its batch itself, without
// waiting: on a socket that keeps up (the common case) a send is one write
// system call on the sender's goroutine, with no goroutine switch. What the
// socket does not take at once goes to a writer goroutine, which waits on
// the socket and writes everything queued meanwhile as one batch (one
// writev), so that a writer that fell behind catches up in a few calls
// instead of one call per frame. While the role is held, other senders only
// queue.
//
// The phase (outPhase) says what may still be written: data frames while
// open; once a close frame is decided, what was queued and then the close
// frame, and nothing after it; nothing at all once the socket failed.
type outbox struct {
	// The fields a send to an idle connection touches come first.
	mu       sync.Mutex
	role     writerRole
	phase    outPhase
	nb       bool // w can write without waiting (tryWrite may succeed)
	pongDue  bool
	pingDue  bool
	w        wire
	waiting  int         // bytes in frames
	queued   int         // bytes accepted and not yet written: waiting plus the batch being written
	batch    net.Buffers // the array batches are built in; reused by the role holder
	inflight net.Buffers // what of the batch is still to be written (the wire consumes it)
	one      [1][]byte   // the first batch array: a single frame needs no array of its own

	limit      int      // bytes that may be queued (Options.SendBuffer)
	frames     [][]byte // data frames waiting for the writer
	ctl        *control // the pong and close frames, made when first needed
	closeTaken bool     // the close frame is in a batch being written

	// Once nothing more will be written and no one holds the role, the
	// outbox has stopped; end waits for that.
	stopped signal

	closeSent func()      // runs after the close frame is written
	failed    func(error) // runs when a write fails; the socket is then dead
}

// control holds the outbox's rare frames apart, so that a connection that
// is never pinged and never closes by itself carries no room for them.
type control struct {
	pong  []byte // payload of the latest ping not answered yet
	close []byte // the close frame, once decided
}

func (o *outbox) control() *control {
	if o.ctl == nil {
		o.ctl = new(control)
	}
	return o.ctl
}

type writerRole uint8

const (
	roleIdle    writerRole = iota // nobody writes; the next sender takes the role
	roleInline                    // a sender writes without waiting, on its own goroutine
	roleRunning                   // the writer goroutine writes, waiting on the socket as needed
)

type outPhase uint8

const (
	phaseOpen    outPhase = iota // data frames are accepted
	phaseClosing                 // the close frame is decided: it is written after what is queued
	phaseClosed                  // the close frame is written; nothing follows it
	phaseFailed                  // the socket failed or the connection ended; nothing is written
)

// maxInlineRounds bounds the batches a sender writes for others before it
// hands the role to a writer goroutine: a broadcaster must not be kept
// writing one busy connection's frames.
const maxInlineRounds = 2

// keepQueueCap is the largest frame and batch array kept between batches;
// larger ones are let go so that an idle connection holds little memory.
const keepQueueCap = 16

func (o *outbox) init(w wire, nb bool, limit int, closeSent func(), failed func(error)) {
	o.w, o.nb, o.limit = w, nb, limit
	o.closeSent, o.failed = closeSent, failed
}

// send queues a complete data frame, which the outbox then owns. It never
// waits on the socket. It returns ErrClosed once a close is decided, and
// ErrSlowConsumer when the frame would take the queued bytes past the limit:
// then the waiting frames are dropped and a 1008 close is decided instead,
// and only this one call sees ErrSlowConsumer.
func (o *outbox) send(f []byte) error {
	o.mu.Lock()
	if o.phase != phaseOpen {
		o.mu.Unlock()
		return ErrClosed
	}
	if o.queued > 0 && o.queued+len(f) > o.limit {
		o.decideCloseLocked(websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "slow consumer"), true)
		o.kickLocked()
		return ErrSlowConsumer
	}
	o.frames = append(o.frames, f)
	o.waiting += len(f)
	o.queued += len(f)
	o.kickLocked()
	return nil
}

// sendNow writes f at once if the connection is idle and its socket takes
// all of f without waiting. It reports whether f was taken (written, or
// copied to be written later): when it was not, the caller queues it with
// send. f is not retained, so it may live in a pooled buffer.
func (o *outbox) sendNow(f []byte) (bool, error) {
	if !o.nb {
		return false, nil
	}
	o.mu.Lock()
	if o.phase != phaseOpen {
		o.mu.Unlock()
		return false, ErrClosed
	}
	if o.role != roleIdle || o.waiting > 0 || o.pongDue || o.pingDue {
		o.mu.Unlock()
		return false, nil
	}
	o.role = roleInline
	o.queued += len(f)
	if o.batch == nil {
		o.batch = o.one[:0]
	}
	o.batch = append(o.batch[:0], f)
	o.inflight = o.batch
	o.mu.Unlock()
	// The wire consumes a field, not a local: a local's address handed to
	// an interface method would cost an allocation per send.
	switch err := o.w.tryWrite(&o.inflight); err {
	case nil:
		// The common case, done under one lock: nothing else is due, so
		// the role is given back at once.
		o.mu.Lock()
		o.queued -= len(f)
		if o.waiting == 0 && !o.pongDue && !o.pingDue && o.phase == phaseOpen {
			o.releaseLocked()
			o.mu.Unlock()
			return true, nil
		}
		o.mu.Unlock()
		o.flush(1)
	case errWouldBlock:
		// The caller's buffer is reused as soon as this returns: the rest
		// of the frame becomes the outbox's own.
		rest := make([]byte, 0, len(f))
		for _, p := range o.inflight {
			rest = append(rest, p...)
		}
		o.batch = append(o.batch[:0], rest)
		o.inflight = o.batch
		o.mu.Lock()
		o.role = roleRunning
		o.mu.Unlock()
		go o.run(len(f), false)
	default:
		o.fail(err)
	}
	return true, nil
}

// pong queues the answer to a ping. Only the latest ping is answered if
// several arrive before the writer gets to them (RFC 6455, section 5.5.3).
func (o *outbox) ping() {
	o.mu.Lock()
	if o.phase != phaseOpen {
		o.mu.Unlock()
		return
	}
	o.pingDue = true
	o.kickLocked()
}

// pong queues the answer to a ping with payload p. Only the latest ping is
// answered when several arrive before the writer gets to them (RFC 6455,
// section 5.5.3), so a ping flood costs no memory.
func (o *outbox) pongTo(p string) {
	o.mu.Lock()
	if o.phase > phaseClosing || o.closeTaken {
		o.mu.Unlock()
		return
	}
	ctl := o.control()
	ctl.pong = append(ctl.pong[:0], p...)
	o.pongDue = true
	o.kickLocked()
}

// close decides the close frame with payload p (code and reason): it is
// written after the frames already queued, or instead of them when drop is
// set. It returns ErrClosed when a close was already decided.
func (o *outbox) close(p []byte, drop bool) error {
	o.mu.Lock()
	if o.phase != phaseOpen {
		o.mu.Unlock()
		return ErrClosed
	}
	o.decideCloseLocked(p, drop)
	o.kickLocked()
	return nil
}

// foreign takes a frame gorilla wrote on its own (see sockConn): a close
// (after a protocol error) or a pong.
func (o *outbox) foreign(f []byte) {
	if len(f) < 2 {
		return
	}
	op, payload := splitFrame(f)
	switch op {
	case websocket.CloseMessage:
		_ = o.close(payload, true)
	case websocket.PongMessage:
		o.pongTo(string(payload))
	}
}

func (o *outbox) decideCloseLocked(p []byte, drop bool) {
	o.phase = phaseClosing
	o.control().close = controlFrame(websocket.CloseMessage, p)
	if drop {
		o.dropLocked()
	}
}

func (o *outbox) dropLocked() {
	clear(o.frames)
	o.frames = o.frames[:0]
	o.queued -= o.waiting
	o.waiting = 0
}

// kickLocked makes sure someone writes what is due, and unlocks o.mu: if
// the role is free, the caller takes it and writes inline (or starts the
// writer goroutine when the wire cannot write without waiting).
func (o *outbox) kickLocked() {
	if o.role != roleIdle {
		o.mu.Unlock()
		return
	}
	if !o.nb {
		n, last, ok := o.takeLocked()
		if !ok {
			o.mu.Unlock()
			return
		}
		o.role = roleRunning
		o.mu.Unlock()
		go o.run(n, last)
		return
	}
	o.role = roleInline
	o.mu.Unlock()
	o.flush(0)
}

// flush writes batches without waiting, as the inline role holder. It
// releases the role when nothing is left, and hands it to a writer
// goroutine when the socket is full or it has done its share.
func (o *outbox) flush(round int) {
	for ; ; round++ {
		o.mu.Lock()
		n, last, ok := o.takeLocked()
		if !ok {
			o.releaseLocked()
			o.mu.Unlock()
			return
		}
		if round >= maxInlineRounds {
			o.role = roleRunning
			o.mu.Unlock()
			go o.run(n, last)
			return
		}
		o.mu.Unlock()
		switch err := o.w.tryWrite(&o.inflight); err {
		case nil:
			o.written(n, last)
		case errWouldBlock:
			o.mu.Lock()
			o.role = roleRunning
			o.mu.Unlock()
			go o.run(n, last)
			return
		default:
			o.fail(err)
			return
		}
	}
}

// run is the writer goroutine: it writes what is left of the batch in
// flight (n bytes of data frames, the close frame last when last is set),
// waiting on the socket, then whatever was queued meanwhile, until nothing
// is left.
func (o *outbox) run(n int, last bool) {
	for {
		if err := o.w.write(&o.inflight); err != nil {
			o.fail(err)
			return
		}
		o.written(n, last)
		o.mu.Lock()
		var ok bool
		n, last, ok = o.takeLocked()
		if !ok {
			o.releaseLocked()
			o.mu.Unlock()
			return
		}
		o.mu.Unlock()
	}
}

// takeLocked collects what is due into the batch in flight, in the order
// it goes on the wire: the pong, the ping, the data frames, the close
// frame. n is the bytes of data frames in it; last says it ends with the
// close frame; ok is false when nothing is due.
func (o *outbox) takeLocked() (n int, last, ok bool) {
	if o.phase >= phaseClosed {
		return 0, false, false
	}
	b := o.batch[:0]
	if o.pongDue {
		b = append(b, controlFrame(websocket.PongMessage, o.ctl.pong))
		o.pongDue = false
	}
	if o.pingDue && o.phase == phaseOpen {
		b = append(b, pingFrame)
	}
	o.pingDue = false
	if len(o.frames) > 0 {
		b = append(b, o.frames...)
		n = o.waiting
		clear(o.frames)
		o.frames = o.frames[:0]
		o.waiting = 0
	}
	if o.phase == phaseClosing && !o.closeTaken {
		b = append(b, o.ctl.close)
		o.closeTaken = true
		last = true
	}
	o.batch, o.inflight = b, b
	return n, last, len(b) > 0
}

// written notes that a batch went out whole.
func (o *outbox) written(n int, last bool) {
	o.mu.Lock()
	o.queued -= n
	wasClosing := last && o.phase == phaseClosing
	if wasClosing {
		o.phase = phaseClosed
	}
	o.mu.Unlock()
	if wasClosing && o.closeSent != nil {
		o.closeSent()
	}
}

// releaseLocked gives up the role; once nothing more can be written, the
// outbox reports that it stopped.
func (o *outbox) releaseLocked() {
	o.role = roleIdle
	clear(o.batch[:cap(o.batch)])
	o.inflight = nil
	if cap(o.batch) > keepQueueCap {
		o.batch = nil
	}
	if cap(o.frames) > keepQueueCap {
		o.frames = nil
	}
	if o.phase >= phaseClosed {
		o.stop()
	}
}

// stop notes that the outbox stopped; o.mu is held.
func (o *outbox) stop() { o.stopped.fire() }

// done returns a channel closed once the outbox has stopped.
func (o *outbox) done() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stopped.wait()
}

// fail ends writing after the socket failed (or a write made no progress
// for the write timeout): whatever is left is dropped, nothing else is
// written, and the connection is told so that it tears the socket down. A
// frame cut off half-way is never followed by another.
func (o *outbox) fail(err error) {
	o.mu.Lock()
	o.phase = phaseFailed
	o.dropLocked()
	o.queued = 0
	o.releaseLocked()
	o.mu.Unlock()
	if o.failed != nil {
		o.failed(err)
	}
}

// end stops the outbox for a connection that is finishing: a close frame
// that was decided gets up to grace to be written; then the socket is shut
// and end waits until no one writes any more.
func (o *outbox) end(grace time.Duration) {
	o.mu.Lock()
	closing := o.phase == phaseClosing
	if o.phase == phaseOpen {
		o.phase = phaseFailed
		o.dropLocked()
		if o.role == roleIdle {
			o.stop()
		}
	}
	o.mu.Unlock()
	if closing {
		t := time.NewTimer(grace)
		select {
		case <-o.done():
		case <-t.C:
		}
		t.Stop()
	}
	o.w.shut()
	<-o.done()
}

// pending is the number of bytes accepted and not yet written.
func (o *outbox) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.queued
}
