package runtime

import (
	"errors"
	"sync"

	"github.com/go-faster/jx"
	"github.com/gorilla/websocket"
)

// Dispatch: each complete message is parsed on the reader; replies to our
// calls are delivered at once, everything else goes to its handler, one
// message at a time in arrival order.
//
// The handler normally runs on the reader goroutine itself, which saves a
// goroutine switch per message. That would deadlock a handler that waits
// for a reply from its own peer (a Call made in a handler, directly or
// through another goroutine), since the reply can only arrive through the
// reader. So a call that waits while the reader runs a handler moves the
// reader role to a new goroutine (freeReader): the new reader delivers the
// reply, and queues the other messages it reads in the inbox, because the
// running handler must finish before the next one starts. The goroutine
// that ran the handler then drains the inbox and exits.
type dispatcher struct {
	running    bool   // a goroutine runs handlers (one message after another)
	readerBusy bool   // ...and it is the reader goroutine
	gen        uint32 // the reader role's generation; bumped when the role moves
	box        *inbox // made at the first message that must wait its turn
	detached   sync.WaitGroup
}

// inbox holds the messages a new reader read while a handler still ran
// off the reader; only connections whose handlers call their own peer
// ever have one.
type inbox struct {
	msgs  []*inMsg
	bytes int
	space sync.Cond // the reader waits on it while the inbox is full
}

// The inbox holds at most this many messages, or ReadLimit bytes; the
// reader waits for room beyond that (and the socket then fills up).
const maxInbox = 256

// closeLocked drops what waits in the inbox of a closed connection.
func (d *dispatcher) closeLocked(ep *endpoint) {
	if d.box == nil {
		return
	}
	for _, m := range d.box.msgs {
		ep.release(m)
	}
	d.box.msgs, d.box.bytes = nil, 0
	d.box.space.Broadcast()
}

// deliver handles one complete message on the reader goroutine. It reports
// false when the reader role moved to another goroutine meanwhile, so this
// one must stop reading.
func (c *Conn) deliver(m *inMsg, gen uint32, now mono) bool {
	if m.mt != websocket.TextMessage {
		c.ep.release(m)
		c.reject(KindBinary, "", errors.New("binary frames are not part of the protocol"))
		return true
	}
	// The commonest message, for a typed handler, is read once (see
	// deliverDecoded); anything else, or what it gives back, in full.
	if !c.ep.cfg.parseFirst && m.env.shell(m.buf) {
		if r, ok := c.ep.lookup(m.env.name); ok && r.typed != nil && r.wrapped == nil {
			if done, reader := c.deliverDecoded(m, r, gen, now); done {
				return reader
			}
		}
	}
	kind, err := parseEnvelope(m.buf, &m.env)
	env := &m.env
	switch {
	case err != nil:
		c.ep.release(m)
		c.reject(kind, "", err)
		return true
	case !env.flagged:
		c.ep.release(m)
		c.ep.stats.ignored.Add(1)
		c.ep.log.Debug("ambigen: ignored message without isAmbiorix: true", "conn", c.id)
		return true
	case env.nameKind != jx.String:
		c.ep.release(m)
		what := "missing"
		if env.nameKind != jx.Invalid {
			what = "a JSON " + env.nameKind.String() + ", not a string"
		}
		c.reject(KindBadName, "", errors.New("name is "+what))
		return true
	case env.hasReplyTo:
		// Replies answer our own calls, so they are not rate-limited, and
		// they never wait for a handler.
		c.deliverReply(env)
		c.ep.release(m)
		return true
	}
	switch c.rd.limit.take(&c.ep.cfg.rate, now, len(m.buf)) {
	case refused:
		c.refuse(m)
		return true
	case exceeded:
		c.refuse(m)
		c.rateLimitClose()
		return true
	}

	c.mu.Lock()
	d := &c.disp
	for {
		if c.stateNow() != stateOpen {
			c.mu.Unlock()
			c.ep.release(m)
			return true
		}
		if !d.running {
			break
		}
		// A handler runs off the reader (it waits for a call): m waits its
		// turn in the inbox, and the reader waits while the inbox is full.
		if d.box == nil {
			d.box = &inbox{}
			d.box.space.L = &c.mu
		}
		if len(d.box.msgs) < maxInbox && int64(d.box.bytes) < c.ep.cfg.readLimit {
			d.box.msgs = append(d.box.msgs, m)
			d.box.bytes += len(m.buf)
			c.mu.Unlock()
			return true
		}
		d.box.space.Wait()
	}
	d.running, d.readerBusy = true, true
	c.mu.Unlock()
	c.serve(m)
	return c.served(gen)
}

// deliverDecoded is deliver for the commonest message: a frame of the usual
// shape (see envelope.shell) for a handler registered with On. The frame is
// read once: its fixed parts are compared as bytes, and the message is
// checked by the handler's decoder, which reads it anyway, instead of also
// by the envelope parser. The decoder reads the message at the depth it
// has in the frame, and accepts only one whole JSON value, so a message
// that decodes makes the frame exactly what its shell says.
//
// The handler runs only if the message decodes and it may start (the
// connection is open and no handler runs off the reader); it then takes
// the dispatcher as deliver does. Otherwise done is false and nothing that
// counts has happened: the rate limit is as it was, and deliver reads the
// frame in full and judges it as any other. That covers a message that is
// not valid JSON, a frame that holds more than its shell shows (a second
// "isAmbiorix" or an "id" inside what looked like the message), and a
// payload of the wrong type, whose error the full reading reports.
func (c *Conn) deliverDecoded(m *inMsg, r route, gen uint32, now mono) (done, reader bool) {
	before := c.rd.limit
	if c.rd.limit.take(&c.ep.cfg.rate, now, len(m.buf)) != allowed {
		c.rd.limit = before
		return false, true
	}
	d := &m.dec
	d.depth, d.gate, d.admitted = 1, c, false
	err := c.protect(func() error { return r.typed(c.ctx, c, m.env.message, d) })
	admitted := d.admitted
	d.depth, d.gate, d.admitted = 0, nil, false
	if !admitted {
		// Still the reader: the role moves only while a handler runs.
		c.rd.limit = before
		return false, true
	}
	if err != nil {
		c.handlerFailed(r, err)
	}
	if n := c.ep.cfg.decodedFirst; n != nil {
		n.Add(1)
	}
	c.ep.release(m)
	return true, c.served(gen)
}

// errNotAdmitted is what a typed handler returns when admit refused it.
var errNotAdmitted = errors.New("not admitted")

// admit is asked by a typed handler whose message deliverDecoded had it
// decode: the handler may run if the connection is open and no handler
// runs off the reader, and then this goroutine takes the dispatcher.
func (c *Conn) admit(d *Decoder) bool {
	c.mu.Lock()
	if c.stateNow() != stateOpen || c.disp.running {
		c.mu.Unlock()
		return false
	}
	c.disp.running, c.disp.readerBusy = true, true
	c.mu.Unlock()
	d.admitted = true
	return true
}

// served runs after a handler returned on the goroutine that ran it: it
// runs what the new reader queued meanwhile, if the role moved, and says
// whether this goroutine still is the reader.
func (c *Conn) served(gen uint32) bool {
	c.mu.Lock()
	c.drainLocked()
	c.disp.running = false
	reader := c.disp.gen == gen
	if reader {
		c.disp.readerBusy = false
	}
	c.mu.Unlock()
	if !reader {
		c.disp.detached.Done()
	}
	return reader
}

// drainLocked serves the inbox in order; c.mu is held on entry and exit.
func (c *Conn) drainLocked() {
	b := c.disp.box
	if b == nil {
		return
	}
	for len(b.msgs) > 0 && c.stateNow() == stateOpen {
		m := b.msgs[0]
		b.msgs[0] = nil
		b.msgs = b.msgs[1:]
		b.bytes -= len(m.buf)
		b.space.Signal()
		c.mu.Unlock()
		c.serve(m)
		c.mu.Lock()
	}
	if len(b.msgs) == 0 {
		b.msgs = nil
	}
}

// freeReader moves the reader role to a new goroutine if the reader is
// running a handler, so that a reply this side waits for can be read.
func (c *Conn) freeReader() {
	c.mu.Lock()
	if c.disp.readerBusy && c.stateNow() != stateClosed {
		c.disp.readerBusy = false
		c.disp.gen++
		c.disp.detached.Add(1) // the goroutine left running the handler
		go c.readLoop(c.disp.gen)
	}
	c.mu.Unlock()
}

// serve runs the handler for m and recycles m.
func (c *Conn) serve(m *inMsg) {
	env := &m.env
	r, ok := c.ep.lookup(env.name)
	switch {
	case ok && r.call != nil && env.hasID:
		c.serveCall(r, env, len(m.buf))
	case ok && r.handle != nil:
		c.serveMessage(r, env.message, len(m.buf), &m.dec)
	case ok && r.call != nil:
		// A call sent without an id cannot be answered.
		c.reject(KindPayload, r.name, &PayloadError{Err: errors.New(`call without an "id"`)})
	case !env.hasID && string(env.name) == HandshakeMessage:
		// No handler can be registered for a reserved name, so the verdict
		// never reaches one.
		c.verdict(env.message)
	case env.hasID:
		c.ep.stats.calls.Add(1)
		c.ep.stats.callErrors.Add(1)
		c.unhandled(env.name, true)
		c.sendError(string(env.name), string(env.id), &CallError{Code: CodeUnimplemented, Message: "no handler for " + clip(quote(env.name), maxWireText)})
	default:
		c.ep.stats.ignored.Add(1)
		c.unhandled(env.name, false)
	}
	c.ep.release(m)
}

// unhandled counts and logs (rate-limited) a message or call that no
// handler takes, so that a handler missing from a program shows.
func (c *Conn) unhandled(name []byte, call bool) {
	c.ep.stats.unhandled.Add(1)
	if isReserved(name) {
		return // ambigen's own names, from a peer of another version
	}
	c.ep.log.Warn("ambigen: no handler for a message; it was dropped", "conn", c.id, "name", name, "call", call)
}

func (c *Conn) serveMessage(r route, payload []byte, size int, d *Decoder) {
	err := c.protect(func() error {
		switch {
		case r.wrapped != nil:
			_, err := r.wrapped(c.ctx, Message{Conn: c, Name: r.name, Payload: payload, Size: size, Recipients: 1})
			return err
		case r.typed != nil:
			return r.typed(c.ctx, c, payload, d)
		}
		return r.handle(c.ctx, c, payload)
	})
	if err != nil {
		c.handlerFailed(r, err)
	}
}

// handlerFailed reports the error of a message handler.
func (c *Conn) handlerFailed(r route, err error) {
	var me *MessageError
	switch {
	case errors.As(err, &me):
		if me.Name == "" {
			me.Name = r.name
		}
		c.report(me)
		if c.ep.cfg.strict {
			_ = c.closeWith(me.Kind.CloseCode(), me.Kind.String(), me, false)
		}
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

// refuse turns away a message over the rate limit: a call is answered
// resource_exhausted, anything else is dropped and reported.
func (c *Conn) refuse(m *inMsg) {
	c.ep.stats.rateLimited.Add(1)
	env := &m.env
	r, ok := c.ep.lookup(env.name)
	if env.hasID && (!ok || r.call != nil) {
		c.ep.stats.calls.Add(1)
		c.ep.stats.callErrors.Add(1)
		c.sendError(string(env.name), string(env.id), &CallError{Code: CodeResourceExhausted, Message: "rate limit exceeded"})
	} else {
		c.report(&MessageError{Kind: KindRateLimited, Name: clip(string(env.name), maxWireText), Err: errRateLimited})
	}
	c.ep.release(m)
}

var errRateLimited = errors.New("rate limit exceeded; message dropped")

// rateLimitClose closes a connection that kept sending over its limit.
func (c *Conn) rateLimitClose() {
	if c.closeWith(websocket.ClosePolicyViolation, "rate limit exceeded", ErrRateLimited, false) == nil {
		c.ep.stats.rateLimitCloses.Add(1)
		c.ep.log.Warn("ambigen: connection closed for exceeding its rate limit", "conn", c.id)
	}
}

// reject reports bad input or a failed handler, and in strict mode closes
// with the kind's code.
func (c *Conn) reject(kind ErrorKind, name string, err error) {
	me := &MessageError{Kind: kind, Name: name, Err: err}
	c.report(me)
	if c.ep.cfg.strict {
		_ = c.closeWith(kind.CloseCode(), kind.String(), me, false)
	}
}

// report counts, hands to OnError and logs (rate-limited) one bad input or
// failure.
func (c *Conn) report(me *MessageError) {
	c.ep.stats.reject(me.Kind)
	if fn := c.ep.cfg.onError; fn != nil {
		c.ep.hook("OnError", func() { fn(c, me) })
	}
	c.ep.log.Warn("ambigen: bad input", "conn", c.id, "kind", me.Kind.String(), "name", me.Name, "err", me.Err)
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
