package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeWire is a socket for the outbox's unit tests: it records what was
// written, takes at most room bytes without waiting (room < 0: all), and
// makes blocking writes wait until released.
type fakeWire struct {
	mu      sync.Mutex
	got     bytes.Buffer
	room    int
	tries   int // tryWrite calls
	writes  int // write calls
	failTry error
	failW   error
	gate    chan struct{} // blocking writes wait for a receive on it, when set
	shutDn  bool
	shutCh  chan struct{}
}

func newFakeWire(room int) *fakeWire { return &fakeWire{room: room, shutCh: make(chan struct{})} }

func (f *fakeWire) tryWrite(bufs *net.Buffers) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tries++
	if f.failTry != nil {
		return f.failTry
	}
	for len(*bufs) > 0 {
		b := (*bufs)[0]
		n := len(b)
		if f.room >= 0 {
			n = min(n, f.room)
			f.room -= n
		}
		f.got.Write(b[:n])
		consume(bufs, n)
		if n < len(b) {
			return errWouldBlock
		}
	}
	return nil
}

func (f *fakeWire) write(bufs *net.Buffers) error {
	f.mu.Lock()
	gate, fail := f.gate, f.failW
	f.writes++
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-f.shutCh:
			return net.ErrClosed
		}
	}
	if fail != nil {
		return fail
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range *bufs {
		f.got.Write(b)
	}
	*bufs = (*bufs)[:0]
	return nil
}

func (f *fakeWire) shut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.shutDn {
		f.shutDn = true
		close(f.shutCh)
	}
}

func (f *fakeWire) bytes() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Clone(f.got.Bytes())
}

// frames splits a written stream into opcode:payload strings, failing on
// a partial frame.
func frames(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for len(b) > 0 {
		if len(b) < 2 {
			t.Fatalf("partial frame header %x", b)
		}
		n, hdr := int(b[1]&0x7f), 2
		switch n {
		case 126:
			n, hdr = int(b[2])<<8|int(b[3]), 4
		case 127:
			t.Fatal("unexpected 64-bit length")
		}
		if len(b) < hdr+n {
			t.Fatalf("partial frame: want %d bytes, have %d", hdr+n, len(b))
		}
		out = append(out, fmt.Sprintf("%d:%s", b[0]&0x0f, b[hdr:hdr+n]))
		b = b[hdr+n:]
	}
	return out
}

func textFrame(s string) []byte { return appendTextHeader(nil, len(s)) }

func dataFrame(s string) []byte { return append(textFrame(s), s...) }

func newTestOutbox(w *fakeWire, limit int) (*outbox, *outboxEvents) {
	ev := &outboxEvents{closeSent: make(chan struct{}, 1), failed: make(chan error, 1)}
	o := &outbox{}
	o.init(w, true, limit, func() { ev.closeSent <- struct{}{} }, func(err error) { ev.failed <- err })
	return o, ev
}

type outboxEvents struct {
	closeSent chan struct{}
	failed    chan error
}

func (o *outbox) roleNow() writerRole {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.role
}

func waitRole(t *testing.T, o *outbox, want writerRole) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for o.roleNow() != want {
		if time.Now().After(deadline) {
			t.Fatalf("role stays %d, want %d", o.roleNow(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// An idle outbox whose socket has room writes each send at once, on the
// sender's goroutine, and goes back to idle.
func TestOutboxWritesInlineWhenIdle(t *testing.T) {
	w := newFakeWire(-1)
	o, _ := newTestOutbox(w, 1<<20)
	for _, s := range []string{"a", "b", "c"} {
		if err := o.send(dataFrame(s)); err != nil {
			t.Fatal(err)
		}
		if o.roleNow() != roleIdle {
			t.Fatal("the sender did not give the role back")
		}
	}
	if got := frames(t, w.bytes()); fmt.Sprint(got) != "[1:a 1:b 1:c]" {
		t.Fatalf("wrote %v", got)
	}
	if w.tries != 3 || w.writes != 0 {
		t.Fatalf("%d tries and %d blocking writes, want 3 and 0", w.tries, w.writes)
	}
	if o.pending() != 0 {
		t.Fatalf("%d bytes still counted as queued", o.pending())
	}
}

// When the socket is full the rest goes to the writer goroutine, and what
// is sent meanwhile is queued behind it and written with it as one batch,
// in order, with no frame cut.
func TestOutboxHandsOverWhenFullAndBatches(t *testing.T) {
	w := newFakeWire(5) // part of the first frame fits
	w.gate = make(chan struct{})
	o, _ := newTestOutbox(w, 1<<20)
	if err := o.send(dataFrame("first")); err != nil {
		t.Fatal(err)
	}
	waitRole(t, o, roleRunning)
	for i := range 10 {
		if err := o.send(dataFrame(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	w.gate <- struct{}{} // the rest of "first"
	w.gate <- struct{}{} // everything queued meanwhile, in one write
	waitRole(t, o, roleIdle)
	got := frames(t, w.bytes())
	if fmt.Sprint(got) != "[1:first 1:0 1:1 1:2 1:3 1:4 1:5 1:6 1:7 1:8 1:9]" {
		t.Fatalf("wrote %v", got)
	}
	if w.writes != 2 {
		t.Fatalf("%d blocking writes, want 2 (the rest, then one batch)", w.writes)
	}
	if o.pending() != 0 {
		t.Fatalf("%d bytes still counted as queued", o.pending())
	}
}

// The queued bytes, including the batch being written, are bounded: the
// send that would pass the limit gets ErrSlowConsumer, later sends
// ErrClosed, the waiting frames are dropped, and the close frame (1008)
// follows what was already being written.
func TestOutboxSlowConsumerByBytes(t *testing.T) {
	w := newFakeWire(0)
	w.gate = make(chan struct{})
	o, ev := newTestOutbox(w, 100)
	if err := o.send(dataFrame(string(make([]byte, 60)))); err != nil {
		t.Fatal(err)
	}
	waitRole(t, o, roleRunning)
	if err := o.send(dataFrame("x")); err != nil {
		t.Fatalf("a small frame within the limit: %v", err)
	}
	if err := o.send(dataFrame(string(make([]byte, 60)))); err != ErrSlowConsumer {
		t.Fatalf("over the limit: %v, want ErrSlowConsumer", err)
	}
	if err := o.send(dataFrame("late")); err != ErrClosed {
		t.Fatalf("after: %v, want ErrClosed", err)
	}
	close(w.gate)
	<-ev.closeSent
	got := frames(t, w.bytes())
	if len(got) != 2 || got[1] != "8:"+string(websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "slow consumer")) {
		t.Fatalf("wrote %q, want the first frame then the 1008 close", got)
	}
}

// A single frame larger than the limit is accepted when nothing waits.
func TestOutboxLargeFrameWhenEmpty(t *testing.T) {
	w := newFakeWire(-1)
	o, _ := newTestOutbox(w, 10)
	if err := o.send(dataFrame(string(make([]byte, 100)))); err != nil {
		t.Fatal(err)
	}
}

// Nothing is written after the close frame: frames queued before the close
// go first, frames sent after it are refused, pings and pongs after it are
// dropped.
func TestOutboxNothingAfterClose(t *testing.T) {
	w := newFakeWire(0)
	w.gate = make(chan struct{})
	o, ev := newTestOutbox(w, 1<<20)
	_ = o.send(dataFrame("a"))
	waitRole(t, o, roleRunning)
	_ = o.send(dataFrame("b"))
	if err := o.close(websocket.FormatCloseMessage(1000, "bye"), false); err != nil {
		t.Fatal(err)
	}
	if err := o.close(websocket.FormatCloseMessage(1001, ""), false); err != ErrClosed {
		t.Fatalf("second close: %v", err)
	}
	if err := o.send(dataFrame("c")); err != ErrClosed {
		t.Fatalf("send after close: %v", err)
	}
	close(w.gate)
	<-ev.closeSent
	o.pongTo("p")
	o.ping()
	o.foreign(controlFrame(websocket.CloseMessage, websocket.FormatCloseMessage(1002, "x")))
	waitRole(t, o, roleIdle)
	got := frames(t, w.bytes())
	if fmt.Sprint(got) != "[1:a 1:b 8:"+string(websocket.FormatCloseMessage(1000, "bye"))+"]" {
		t.Fatalf("wrote %q", got)
	}
	select {
	case <-o.done():
	default:
		t.Fatal("outbox not stopped after its close frame")
	}
}

// Pongs jump the queue of data frames (control frames may go between
// messages), and a burst of pings is answered once, for the latest.
func TestOutboxPongCoalesced(t *testing.T) {
	w := newFakeWire(0)
	w.gate = make(chan struct{})
	o, _ := newTestOutbox(w, 1<<20)
	_ = o.send(dataFrame("a"))
	waitRole(t, o, roleRunning)
	_ = o.send(dataFrame("b"))
	for i := range 100 {
		o.pongTo(fmt.Sprint("p", i))
	}
	close(w.gate)
	waitRole(t, o, roleIdle)
	got := frames(t, w.bytes())
	if fmt.Sprint(got) != "[1:a 10:p99 1:b]" {
		t.Fatalf("wrote %q", got)
	}
}

// A frame gorilla writes on its own (its 1002 close on a protocol error)
// takes its place as the close frame: queued data is dropped, nothing
// follows it.
func TestOutboxForeignClose(t *testing.T) {
	w := newFakeWire(-1)
	o, ev := newTestOutbox(w, 1<<20)
	_ = o.send(dataFrame("a"))
	o.foreign(controlFrame(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseProtocolError, "bad")))
	<-ev.closeSent
	if err := o.send(dataFrame("b")); err != ErrClosed {
		t.Fatalf("send after gorilla's close: %v", err)
	}
	got := frames(t, w.bytes())
	if len(got) != 2 || got[1][:2] != "8:" {
		t.Fatalf("wrote %q", got)
	}
}

// A failed write ends writing for good: nothing more reaches the wire (so
// a frame cut off half-way is never followed by another), the connection
// is told, and the outbox reports it stopped.
func TestOutboxFailureStopsEverything(t *testing.T) {
	w := newFakeWire(3)
	boom := errors.New("boom")
	w.failW = boom
	o, ev := newTestOutbox(w, 1<<20)
	_ = o.send(dataFrame("abcdef")) // 3 bytes fit, then the blocking write fails
	if err := <-ev.failed; err != boom {
		t.Fatalf("failed with %v", err)
	}
	before := len(w.bytes())
	if err := o.send(dataFrame("x")); err != ErrClosed {
		t.Fatalf("send after failure: %v", err)
	}
	o.pongTo("p")
	if len(w.bytes()) != before {
		t.Fatal("bytes were written after the failure")
	}
	<-o.done()
}

// end writes a decided close frame before shutting the socket, but gives
// up after the grace period on a socket that does not take it.
func TestOutboxEnd(t *testing.T) {
	w := newFakeWire(-1)
	o, _ := newTestOutbox(w, 1<<20)
	_ = o.close(websocket.FormatCloseMessage(1000, ""), false)
	o.end(time.Second)
	if got := frames(t, w.bytes()); len(got) != 1 || got[0][:2] != "8:" {
		t.Fatalf("wrote %q", got)
	}

	stuck := newFakeWire(0)
	stuck.gate = make(chan struct{}) // never opened: only shut ends the write
	o2, _ := newTestOutbox(stuck, 1<<20)
	_ = o2.close(websocket.FormatCloseMessage(1000, ""), false)
	start := time.Now()
	o2.end(50 * time.Millisecond)
	if time.Since(start) > 5*time.Second {
		t.Fatal("end waited past its grace period")
	}
	if !stuck.shutDn {
		t.Fatal("the socket was not shut")
	}
}

// sendNow writes from the caller's buffer only when the socket takes the
// whole frame at once; otherwise it copies what is left, so the caller may
// reuse its buffer at once.
func TestOutboxSendNow(t *testing.T) {
	w := newFakeWire(4)
	w.gate = make(chan struct{})
	o, _ := newTestOutbox(w, 1<<20)
	buf := dataFrame("hello")
	if taken, err := o.sendNow(buf); !taken || err != nil {
		t.Fatalf("sendNow: %v %v", taken, err)
	}
	for i := range buf {
		buf[i] = 'X' // the caller reuses its buffer
	}
	waitRole(t, o, roleRunning)
	if taken, _ := o.sendNow(dataFrame("busy")); taken {
		t.Fatal("sendNow took a frame while a writer runs")
	}
	close(w.gate)
	waitRole(t, o, roleIdle)
	if got := frames(t, w.bytes()); fmt.Sprint(got) != "[1:hello]" {
		t.Fatalf("wrote %q", got)
	}
}

// A wire that cannot write without waiting (a client's) always uses the
// writer goroutine.
func TestOutboxBlockingOnlyWire(t *testing.T) {
	w := newFakeWire(-1)
	ev := &outboxEvents{closeSent: make(chan struct{}, 1), failed: make(chan error, 1)}
	o := &outbox{}
	o.init(w, false, 1<<20, func() { ev.closeSent <- struct{}{} }, func(err error) { ev.failed <- err })
	if taken, _ := o.sendNow(dataFrame("x")); taken {
		t.Fatal("sendNow on a blocking-only wire")
	}
	_ = o.send(dataFrame("a"))
	_ = o.send(dataFrame("b"))
	waitRole(t, o, roleIdle)
	if w.tries != 0 {
		t.Fatalf("%d tryWrite calls on a blocking-only wire", w.tries)
	}
	if got := frames(t, w.bytes()); fmt.Sprint(got) != "[1:a 1:b]" {
		t.Fatalf("wrote %q", got)
	}
}
