package runtime

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// The reader takes each message off the socket and checks it as its bytes
// arrive, so that no input costs more than it must:
//   - text is checked for UTF-8 chunk by chunk, and invalid UTF-8 fails
//     the connection with 1007 at once (RFC 6455, section 8.1), fragments
//     included;
//   - a message's buffer grows to at most ReadLimit; what is beyond is
//     discarded as it arrives and the message reported as too big;
//   - bytes beyond the first freeMessageBytes of each message are charged
//     to the endpoint's MessageMemory; a message that finds it exhausted
//     closes its connection with 1013 (try again later);
//   - a message must be complete within MessageTimeout of its first frame,
//     or the connection is closed with 1008.

// freeMessageBytes is how much of each message is not charged to the
// memory budget: small messages never touch the budget, so a crowd of
// large unfinished messages cannot starve them. Pooled buffers are this
// size at most.
const freeMessageBytes = 4 << 10

// inMsg is one complete message off the socket, and its envelope once
// parsed (whose slices point into buf).
type inMsg struct {
	mt       int
	buf      []byte
	reserved int64 // bytes charged to the memory budget
	env      envelope
	dec      Decoder // reads the payload for a typed handler
}

var msgPool = sync.Pool{New: func() any { return &inMsg{buf: make([]byte, 0, 512)} }}

// budget is an endpoint's MessageMemory.
type budget struct {
	limit int64
	used  atomic.Int64
}

func (b *budget) reserve(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *budget) release(n int64) { b.used.Add(-n) }

// release gives a message's memory back.
func (ep *endpoint) release(m *inMsg) {
	if m.reserved > 0 {
		ep.memory.release(m.reserved)
		m.reserved = 0
	}
	m.env = envelope{}
	if cap(m.buf) > freeMessageBytes {
		return // large buffers are not pooled: an idle server keeps little
	}
	m.buf = m.buf[:0]
	msgPool.Put(m)
}

// reader is the reader role's state; whoever holds the role (see
// dispatch.go) is the only one to touch it.
type reader struct {
	armed    mono // when the keepalive deadline was last moved
	deadline mono // the read deadline in force; zero for none
	msgStart mono // when the message being read began
	inMsg    bool
	limit    limiter
}

// mono is a point on the process's monotonic clock, in nanoseconds since
// the runtime package started. It is a third of a time.Time's size, which
// counts in what an idle connection costs.
type mono int64

var epoch = time.Now()

func monoNow() mono { return mono(time.Since(epoch)) }

func (m mono) add(d time.Duration) mono { return m + mono(d) }

// deadlineSlack bounds how far behind the keepalive deadline may fall
// before it is moved again, as a fraction of its timeout. Moving a deadline
// updates a timer in Go's network poller, which showed in the profile of
// every message; moving it only once 1/16 of the timeout has passed keeps
// every read under at least 15/16 of its timeout and at most all of it.
const deadlineSlack = 16

func (r *reader) init(c *Conn, now mono) {
	if c.ep.cfg.pongTimeout > 0 {
		r.set(c, now.add(c.ep.cfg.pongTimeout))
		r.armed = now
	}
}

// now is the time of what the reader just read. The coarse clock may lie a
// little before the last keepalive was armed; nothing is read before that.
func (r *reader) now() mono { return max(clock.read(), r.armed) }

func (r *reader) set(c *Conn, t mono) {
	var at time.Time
	if t != 0 {
		at = epoch.Add(time.Duration(t))
	}
	_ = c.ws.SetReadDeadline(at)
	r.deadline = t
}

// keepalive is the deadline that any traffic from the peer earns.
func (r *reader) keepalive(c *Conn, now mono) mono {
	if p := c.ep.cfg.pongTimeout; p > 0 {
		return now.add(p)
	}
	return 0
}

// alive notes traffic from the peer at now: the keepalive deadline moves
// (lazily), but never past the end of a message still arriving.
func (r *reader) alive(c *Conn, now mono) {
	cfg := &c.ep.cfg
	if cfg.pongTimeout <= 0 || time.Duration(now-r.armed) <= cfg.pongTimeout/deadlineSlack {
		return
	}
	t := r.keepalive(c, now)
	if end := r.msgStart.add(cfg.messageTimeout); r.inMsg && t > end {
		t = end
	}
	r.set(c, t)
	r.armed = now
}

// begin starts a message: the read deadline is pulled in to its end when
// it lies later. With the defaults (MessageTimeout = PongTimeout) it never
// does, and a message costs no deadline update.
func (r *reader) begin(c *Conn, now mono) {
	r.msgStart, r.inMsg = now, true
	end := now.add(c.ep.cfg.messageTimeout)
	if r.deadline == 0 || r.deadline > end {
		r.set(c, end)
	}
}

// end finishes a message: a deadline pulled in for it goes back to the
// keepalive.
func (r *reader) end(c *Conn, now mono) {
	r.inMsg = false
	if r.deadline == r.msgStart.add(c.ep.cfg.messageTimeout) {
		r.set(c, r.keepalive(c, now))
		r.armed = now
		return
	}
	r.alive(c, now)
}

// errFailed ends the reader after it failed the connection itself (with a
// close frame that says why); the cause is already recorded.
var errFailed = errors.New("ambigen: connection failed")

// readLoop reads and delivers messages until the connection fails or
// closes, then finishes it. gen is the reader role's generation: when a
// handler on this goroutine waits for a call, the role moves to a new
// goroutine and this one returns once its handler is done.
func (c *Conn) readLoop(gen uint32) {
	var err error
	for {
		var mt int
		var r io.Reader
		mt, r, err = c.ws.NextReader()
		if err != nil {
			break
		}
		c.nIn.Add(1)
		now := c.rd.now()
		var m *inMsg
		m, err = c.readMessage(mt, r, now)
		if err != nil {
			break
		}
		if m != nil && !c.deliver(m, gen, now) {
			return
		}
	}
	c.finish(err)
}

// readMessage reads the rest of one message. It returns nil without error
// for a message it discarded (too big, or after our close), and an error
// when the connection is over.
func (c *Conn) readMessage(mt int, r io.Reader, now mono) (*inMsg, error) {
	cfg := &c.ep.cfg
	c.rd.begin(c, now)
	if c.closing() {
		// After our close frame nothing more is handled; what arrives is
		// skipped until the peer's close.
		err := c.discard(r, false, nil)
		c.rd.end(c, now)
		return nil, err
	}
	text := mt == websocket.TextMessage
	m := msgPool.Get().(*inMsg)
	m.mt = mt
	checked := 0 // m.buf[:checked] is known to be complete, valid UTF-8
	for {
		if len(m.buf) == cap(m.buf) {
			if int64(len(m.buf)) >= cfg.readLimit {
				tail := m.buf[checked:]
				c.ep.release(m)
				if err := c.discard(r, text, tail); err != nil {
					return nil, err
				}
				c.rd.end(c, now)
				c.reject(KindTooBig, "", errTooBig(cfg.readLimit))
				return nil, nil
			}
			if !c.grow(m) {
				c.ep.release(m)
				return nil, c.overloaded()
			}
		}
		n, err := r.Read(m.buf[len(m.buf):cap(m.buf)])
		m.buf = m.buf[:len(m.buf)+n]
		if text && n > 0 {
			var ok bool
			if checked, ok = validUTF8(m.buf, checked); !ok {
				c.ep.release(m)
				return nil, c.invalidUTF8()
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			c.ep.release(m)
			return nil, c.readFailed(err)
		}
	}
	if text && checked != len(m.buf) {
		c.ep.release(m)
		return nil, c.invalidUTF8()
	}
	// The time the message began stands for its end: a long message only
	// makes the keepalive deadline move a little early.
	c.rd.end(c, now)
	return m, nil
}

// grow enlarges m's buffer, doubling up to the read limit, and charges the
// memory budget for what lies beyond freeMessageBytes.
func (c *Conn) grow(m *inMsg) bool {
	old := cap(m.buf)
	next := int64(max(2*old, 1024))
	next = min(next, c.ep.cfg.readLimit)
	charge := next - max(int64(old), freeMessageBytes)
	if charge > 0 {
		if !c.ep.memory.reserve(charge) {
			return false
		}
		m.reserved += charge
	}
	buf := make([]byte, len(m.buf), next)
	copy(buf, m.buf)
	m.buf = buf
	return true
}

// discard reads the rest of a message without keeping it. Text is still
// checked for UTF-8; tail is an incomplete character left over from what
// was read before.
func (c *Conn) discard(r io.Reader, text bool, tail []byte) error {
	var scratch [1024]byte
	have := copy(scratch[:], tail)
	for {
		n, err := r.Read(scratch[have:])
		if text && n > 0 {
			checked, ok := validUTF8(scratch[:have+n], 0)
			if !ok {
				return c.invalidUTF8()
			}
			have = copy(scratch[:], scratch[checked:have+n])
		}
		if err == io.EOF {
			if text && have > 0 {
				return c.invalidUTF8()
			}
			return nil
		}
		if err != nil {
			return c.readFailed(err)
		}
	}
}

// validUTF8 checks p[from:], where p[:from] is known to be valid and to end
// on a character boundary. It returns how much of p is now known to be
// valid: all of it, unless p ends inside a character that the next bytes
// may complete. ok is false when p holds bytes that no continuation can
// make valid.
func validUTF8(p []byte, from int) (checked int, ok bool) {
	q := p[from:]
	if utf8.Valid(q) {
		return len(p), true
	}
	// Either the last character is incomplete, or there is an error.
	cut := len(q)
	for i := len(q) - 1; i >= 0 && i >= len(q)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(q[i]) {
			if !utf8.FullRune(q[i:]) {
				cut = i
			}
			break
		}
	}
	if cut == len(q) || !utf8.Valid(q[:cut]) {
		return from, false
	}
	return from + cut, true
}

// invalidUTF8 fails the connection with 1007 (RFC 6455, section 8.1),
// whatever the mode: browsers never send invalid UTF-8, so closing costs
// honest clients nothing.
func (c *Conn) invalidUTF8() error {
	me := &MessageError{Kind: KindInvalidUTF8, Err: errors.New("text message is not valid UTF-8")}
	_ = c.closeWith(websocket.CloseInvalidFramePayloadData, "invalid UTF-8", me, true)
	c.report(me)
	return errFailed
}

// overloaded fails the connection whose message could not get memory from
// the budget with 1013, try again later.
func (c *Conn) overloaded() error {
	c.ep.stats.overloaded.Add(1)
	c.ep.log.Warn("ambigen: message memory exhausted; connection closed", "conn", c.id, "budget", c.ep.memory.limit)
	_ = c.closeWith(websocket.CloseTryAgainLater, "server busy, try again later", ErrOverloaded, true)
	return errFailed
}

// readFailed turns a read error into the connection's end; a timeout in
// the middle of a message is the message timeout, which says so with 1008.
func (c *Conn) readFailed(err error) error {
	var ne net.Error
	if c.rd.inMsg && errors.As(err, &ne) && ne.Timeout() && monoNow() >= c.rd.msgStart.add(c.ep.cfg.messageTimeout) {
		c.ep.stats.timedOut.Add(1)
		_ = c.closeWith(websocket.ClosePolicyViolation, "message timeout", ErrMessageTimeout, true)
		return errFailed
	}
	return err
}

type tooBigError struct{ limit int64 }

func (e tooBigError) Error() string {
	return "message exceeds the read limit of " + itoa(e.limit) + " bytes"
}

func errTooBig(limit int64) error { return tooBigError{limit} }

func (c *Conn) closing() bool { return c.stateNow() != stateOpen }
