//go:build unix

package runtime

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// A client that floods pings while never reading, as the server streams
// frames to it: once the socket stops taking bytes for the write timeout,
// the server ends the connection. Whatever reached the client is whole
// frames, except at most the very end, cut where the socket died: a frame
// cut off is never followed by another. 300 runs.
func TestPingFloodWithoutReading(t *testing.T) {
	runs := 300
	if testing.Short() {
		runs = 30
	}
	ts := startServerBuffers(t, Options{
		SendBuffer:   256 << 10,
		WriteTimeout: 50 * time.Millisecond,
		RateLimit:    RateLimit{Messages: -1, Bytes: -1}, // the flood must reach the writer
	}, func(s *Server) {
		s.Handle("go", func(ctx context.Context, c *Conn, _ json.RawMessage) error {
			go func() {
				for i := 0; c.Send("n", strings.Repeat("x", i%300)) == nil; i++ {
					if i%64 == 0 {
						time.Sleep(100 * time.Microsecond)
					}
				}
			}()
			return nil
		})
	}, 8<<10)
	ping := []byte(strings.Repeat("p", 125))
	inParallel(runs, 16, func(run int) {
		c := dialRawTCP(t, ts.url, 4<<10)
		if err := c.frame(0x1, true, []byte(`{"name":"go","message":null,"isAmbiorix":true}`)); err != nil {
			t.Errorf("run %d: %v", run, err)
			return
		}
		// Flood for a while, then stop writing but still do not read
		// until the server must have given up: it has read everything
		// by then, so its close is a clean FIN, not a reset, and the
		// client can read all that the server wrote.
		stop := time.Now().Add(20 * time.Millisecond)
		for time.Now().Before(stop) {
			if c.frame(0x9, true, ping) != nil {
				break
			}
		}
		time.Sleep(250 * time.Millisecond)
		stream := c.drain(10 * time.Second)
		if err := checkServerStream(stream, false, true); err != nil {
			t.Errorf("run %d: %v", run, err)
		}
	})
	if st := ts.Stats(); st.SlowConsumers == 0 {
		t.Fatalf("no connection was closed for making no write progress: %+v", st)
	}
}

// Invalid UTF-8 fails the connection with 1007 as soon as the bytes
// arrive, in a fragment of a message that is not finished, in both modes.
// A character split between fragments is fine.
func TestInvalidUTF8AsItArrives(t *testing.T) {
	for _, strict := range []bool{false, true} {
		errs := newErrorLog()
		ts := startServer(t, Options{Strict: strict, OnError: errs.hook}, referenceHandlers)

		c := dialRawTCP(t, ts.url, 0)
		// "é" split over two fragments, then a whole message after it.
		if err := c.frame(0x1, false, []byte("{\"name\":\"greeting\",\"message\":\"\xc3")); err != nil {
			t.Fatal(err)
		}
		if err := c.frame(0x0, true, []byte("\xa9\",\"isAmbiorix\":true}")); err != nil {
			t.Fatal(err)
		}
		if op, p, err := c.next(5 * time.Second); err != nil || op != 0x1 || string(p) != greetingReply {
			t.Fatalf("strict=%v: split character: %d %s %v", strict, op, p, err)
		}

		// The first fragment holds a byte that no continuation can make
		// valid; the message never ends.
		start := time.Now()
		if err := c.frame(0x1, false, []byte("{\"name\":\"\xff")); err != nil {
			t.Fatal(err)
		}
		code, _ := c.closeFrame(t, 5*time.Second, false)
		if code != websocket.CloseInvalidFramePayloadData {
			t.Fatalf("strict=%v: closed with %d, want 1007", strict, code)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("strict=%v: the close took %v", strict, d)
		}
		if me := errs.next(t); me.Kind != KindInvalidUTF8 {
			t.Fatalf("strict=%v: error hook got %v", strict, me)
		}
	}
}

// validUTF8 accepts what can still become valid and refuses the rest.
func TestValidUTF8Incremental(t *testing.T) {
	for _, tc := range []struct {
		in      string
		checked int
		ok      bool
	}{
		{"abc", 3, true},
		{"ab\xc3", 2, true},           // é begun
		{"ab\xe2\x82", 2, true},       // € begun
		{"ab\xf0\x9f\x98", 2, true},   // an emoji begun
		{"ab\xff", 0, false},          // never valid
		{"ab\xc3\x28", 0, false},      // a lead byte then ASCII
		{"\xed\xa0\x80", 0, false},    // a surrogate
		{"\xf0\x80\x80", 0, false},    // overlong
		{"\xe2\x82\xac\xc3", 3, true}, // € then é begun
	} {
		checked, ok := validUTF8([]byte(tc.in), 0)
		if ok != tc.ok || (ok && checked != tc.checked) {
			t.Errorf("%q: %d %v, want %d %v", tc.in, checked, ok, tc.checked, tc.ok)
		}
	}
	// Byte by byte, as the socket might deliver it.
	s := []byte("a€bé😀c")
	checked := 0
	for i := 1; i <= len(s); i++ {
		var ok bool
		if checked, ok = validUTF8(s[:i], checked); !ok {
			t.Fatalf("refused a prefix of valid text at %d", i)
		}
	}
	if checked != len(s) {
		t.Fatalf("checked %d of %d", checked, len(s))
	}
}

// A message that does not finish within MessageTimeout closes its
// connection with 1008, even while the client answers every ping.
func TestMessageTimeout(t *testing.T) {
	disconnected := make(chan error, 1)
	ts := startServer(t, Options{
		MessageTimeout: 300 * time.Millisecond,
		PingInterval:   50 * time.Millisecond,
		PongTimeout:    5 * time.Second,
		OnDisconnect:   func(c *Conn, err error) { disconnected <- err },
	}, referenceHandlers)
	c := dialRawTCP(t, ts.url, 0)
	start := time.Now()
	if err := c.frame(0x1, false, []byte(`{"name":"greeting",`)); err != nil {
		t.Fatal(err)
	}
	code, reason := c.closeFrame(t, 5*time.Second, true)
	if code != websocket.ClosePolicyViolation || reason != "message timeout" {
		t.Fatalf("closed with %d %q", code, reason)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 3*time.Second {
		t.Fatalf("closed after %v, want about 300ms", d)
	}
	if err := <-disconnected; err != ErrMessageTimeout {
		t.Fatalf("cause %v", err)
	}
	if st := ts.Stats(); st.TimedOut != 1 {
		t.Fatalf("TimedOut = %d", st.TimedOut)
	}

	// A message sent slowly but finished in time is handled.
	c2 := dialRawTCP(t, ts.url, 0)
	parts := []string{`{"name":"greeting",`, `"message":"slow",`, `"isAmbiorix":true}`}
	for i, p := range parts {
		op := byte(0x0)
		if i == 0 {
			op = 0x1
		}
		if err := c2.frame(op, i == len(parts)-1, []byte(p)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		op, p, err := c2.next(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if op == 0x1 {
			if string(p) != greetingReply {
				t.Fatalf("got %s", p)
			}
			break
		}
	}
}

// Unfinished messages share MessageMemory: the one that would take the
// total past it closes its connection with 1013; small messages on other
// connections go through all the while; finished messages give their
// memory back.
func TestMessageMemoryBudget(t *testing.T) {
	ts := startServer(t, Options{MessageMemory: 1 << 20, ReadLimit: 600 << 10}, referenceHandlers)
	chunk := []byte(strings.Repeat("a", 100<<10))
	begin := func(c *rawClient) {
		if err := c.frame(0x1, false, []byte(`{"name":"greeting","message":"`)); err != nil {
			t.Fatal(err)
		}
	}
	// Two connections each hold 400 KiB of an unfinished message.
	holders := []*rawClient{dialRawTCP(t, ts.url, 0), dialRawTCP(t, ts.url, 0)}
	for _, c := range holders {
		begin(c)
		for range 4 {
			if err := c.frame(0x0, false, chunk); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, func() bool { return ts.ep.memory.used.Load() >= 2*(400<<10)-2*freeMessageBytes })
	if used := ts.ep.memory.used.Load(); used > ts.ep.memory.limit {
		t.Fatalf("%d bytes reserved, over the %d budget", used, ts.ep.memory.limit)
	}
	// A third cannot get its memory.
	third := dialRawTCP(t, ts.url, 0)
	begin(third)
	for range 4 {
		_ = third.frame(0x0, false, chunk)
	}
	if code, _ := third.closeFrame(t, 5*time.Second, false); code != websocket.CloseTryAgainLater {
		t.Fatalf("third closed with %d, want 1013", code)
	}
	// Small messages do not touch the budget.
	small := dialRawTCP(t, ts.url, 0)
	if err := small.frame(0x1, true, []byte(probe)); err != nil {
		t.Fatal(err)
	}
	if op, p, err := small.next(5 * time.Second); err != nil || op != 0x1 || string(p) != greetingReply {
		t.Fatalf("small message: %d %s %v", op, p, err)
	}
	// The holders finish: they are answered and the memory comes back.
	for _, c := range holders {
		if err := c.frame(0x0, true, []byte(`","isAmbiorix":true}`)); err != nil {
			t.Fatal(err)
		}
		if op, _, err := c.next(5 * time.Second); err != nil || op != 0x1 {
			t.Fatalf("holder: %d %v", op, err)
		}
	}
	waitFor(t, func() bool { return ts.ep.memory.used.Load() == 0 })
	if st := ts.Stats(); st.Overloaded != 1 {
		t.Fatalf("Overloaded = %d", st.Overloaded)
	}
}

// A client that reads slowly but steadily is not a slow consumer, even when
// one write takes far longer than WriteTimeout; a client that stops reading
// is disconnected once no byte has gone out for WriteTimeout.
func TestSlowConsumerByTime(t *testing.T) {
	big := strings.Repeat("z", 1<<20)
	ts := startServerBuffers(t, Options{WriteTimeout: 300 * time.Millisecond}, func(s *Server) {
		On(s, "big", String, func(ctx context.Context, c *Conn, _ string) { _ = Send(c, "big", String, big) })
	}, 16<<10)

	steady := dialRawTCP(t, ts.url, 16<<10)
	if err := steady.frame(0x1, true, []byte(`{"name":"big","message":"","isAmbiorix":true}`)); err != nil {
		t.Fatal(err)
	}
	// About 1 MiB at 32 KiB per 40 ms: over a second, four times the
	// write timeout, with progress all along.
	got := 0
	buf := make([]byte, 32<<10)
	start := time.Now()
	for got < len(big) {
		steady.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := steady.br.Read(buf)
		if err != nil {
			t.Fatalf("after %d bytes: %v", got, err)
		}
		got += n
		time.Sleep(40 * time.Millisecond)
	}
	if d := time.Since(start); d < time.Second {
		t.Logf("read in %v", d)
	}
	if st := ts.Stats(); st.SlowConsumers != 0 {
		t.Fatalf("a steady reader was closed as a slow consumer")
	}

	stalled := dialRawTCP(t, ts.url, 16<<10)
	if err := stalled.frame(0x1, true, []byte(`{"name":"big","message":"","isAmbiorix":true}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return ts.Stats().SlowConsumers == 1 })
	waitFor(t, func() bool { return ts.Len() == 1 })
}
