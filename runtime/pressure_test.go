package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// chatServer broadcasts every "chat" to everyone, the sender included, as
// the Ambiorix documentation's chat does.
func chatServer(t testing.TB, opts Options) *testServer {
	return startServer(t, opts, func(s *Server) {
		if err := On(s, "chat", String, func(ctx context.Context, c *Conn, msg string) {
			Broadcast(s, "chat", String, msg, nil)
		}); err != nil {
			t.Fatal(err)
		}
	})
}

// One client pipelines 1,000 chat lines while 50 clients read: every reader
// stays connected and gets every line, in order. The burst is within the
// default rate limit, so the sender is not refused anything.
func TestBurstFanOut(t *testing.T) {
	const readers, lines = 50, 1000
	ts := chatServer(t, Options{})
	var conns []*websocket.Conn
	for range readers {
		conns = append(conns, dialRaw(t, ts.url))
	}
	sender := dialRaw(t, ts.url)
	waitFor(t, func() bool { return ts.Len() == readers+1 })

	errc := make(chan error, readers+1)
	var wg sync.WaitGroup
	read := func(ws *websocket.Conn) {
		defer wg.Done()
		ws.SetReadDeadline(time.Now().Add(60 * time.Second))
		for i := range lines {
			_, b, err := ws.ReadMessage()
			if err != nil {
				errc <- fmt.Errorf("line %d: %w", i, err)
				return
			}
			if want := fmt.Sprintf(`{"name":"chat","message":"line %d","isAmbiorix":true}`, i); string(b) != want {
				errc <- fmt.Errorf("got %s, want %s", b, want)
				return
			}
		}
	}
	for _, ws := range append(conns, sender) {
		wg.Add(1)
		go read(ws)
	}
	// All lines in one go, without waiting for anything.
	var batch []byte
	for i := range lines {
		batch = append(batch, fmt.Sprintf(`{"name":"chat","message":"line %d","isAmbiorix":true}`, i)...)
		batch = append(batch, 0)
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(batch), "\x00"), "\x00") {
		if err := sender.WriteMessage(websocket.TextMessage, []byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	st := ts.Stats()
	if st.SlowConsumers != 0 || st.RateLimited != 0 {
		t.Fatalf("slow consumers %d, rate limited %d; want none", st.SlowConsumers, st.RateLimited)
	}
	if ts.Len() != readers+1 {
		t.Fatalf("%d connections left, want %d", ts.Len(), readers+1)
	}
}

// Over the rate limit: a call is answered resource_exhausted, a plain
// message is dropped and reported as KindRateLimited, and MaxRefused
// refusals in a row close the connection with 1008. Other connections are
// not affected.
func TestRateLimitPolicy(t *testing.T) {
	errs := newErrorLog()
	var handled atomic.Int64
	ts := startServer(t, Options{
		RateLimit: RateLimit{Messages: 1, Burst: 5, MaxRefused: 4},
		OnError:   errs.hook,
	}, func(s *Server) {
		s.Handle("note", func(ctx context.Context, c *Conn, _ json.RawMessage) error { handled.Add(1); return nil })
		s.HandleCall("add", func(ctx context.Context, c *Conn, _ json.RawMessage) ([]byte, error) { return []byte("3"), nil })
	})
	ws := dialRaw(t, ts.url)
	for range 5 {
		send(t, ws, `{"name":"note","message":1,"isAmbiorix":true}`)
	}
	// The bucket is empty now.
	send(t, ws, `{"name":"add","message":{},"isAmbiorix":true,"id":"c1"}`)
	want := `{"name":"add","message":null,"isAmbiorix":true,"replyTo":"c1","error":{"code":"resource_exhausted","message":"rate limit exceeded"}}`
	if got := readText(t, ws, 5*time.Second); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	send(t, ws, `{"name":"note","message":1,"isAmbiorix":true}`)
	if me := errs.next(t); me.Kind != KindRateLimited || me.Name != "note" {
		t.Fatalf("error hook got %v", me)
	}
	// Two more refusals make four in a row: the connection is closed.
	send(t, ws, `{"name":"note","message":1,"isAmbiorix":true}`)
	send(t, ws, `{"name":"note","message":1,"isAmbiorix":true}`)
	if code, reason := closeCode(t, ws, 5*time.Second); code != websocket.ClosePolicyViolation || reason != "rate limit exceeded" {
		t.Fatalf("closed with %d %q, want 1008", code, reason)
	}
	if n := handled.Load(); n != 5 {
		t.Fatalf("%d notes handled, want the 5 within the burst", n)
	}
	waitFor(t, func() bool { return ts.Stats().RateLimitCloses == 1 })
	if st := ts.Stats(); st.RateLimited != 4 {
		t.Fatalf("RateLimited %d, want 4", st.RateLimited)
	}
	// Someone else is served as usual.
	other := dialRaw(t, ts.url)
	send(t, other, `{"name":"add","message":{},"isAmbiorix":true,"id":"x"}`)
	if got := readText(t, other, 5*time.Second); got != `{"name":"add","message":3,"isAmbiorix":true,"replyTo":"x"}` {
		t.Fatalf("other connection got %s", got)
	}
}

// A call whose id is the empty string is still a call: its reply, and its
// error reply, carry "replyTo":"".
func TestEmptyCallID(t *testing.T) {
	ts := startServer(t, Options{}, func(s *Server) {
		OnCall(s, "add", JSON[map[string]int64](), Int, func(ctx context.Context, c *Conn, m map[string]int64) (int64, error) {
			if m["a"] < 0 {
				return 0, Errorf("out_of_range", "negative")
			}
			return m["a"] + m["b"], nil
		})
	})
	ws := dialRaw(t, ts.url)
	for _, tc := range []struct{ req, want string }{
		{`{"name":"add","message":{"a":1,"b":2},"isAmbiorix":true,"id":""}`, `{"name":"add","message":3,"isAmbiorix":true,"replyTo":""}`},
		{`{"name":"add","message":{"a":-1,"b":2},"isAmbiorix":true,"id":""}`, `{"name":"add","message":null,"isAmbiorix":true,"replyTo":"","error":{"code":"out_of_range","message":"negative"}}`},
		{`{"name":"nope","message":1,"isAmbiorix":true,"id":""}`, `{"name":"nope","message":null,"isAmbiorix":true,"replyTo":"","error":{"code":"unimplemented","message":"no handler for \"nope\""}}`},
	} {
		send(t, ws, tc.req)
		if got := readText(t, ws, 5*time.Second); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

// A handler may call its own peer and gets the reply while it waits: on the
// server (a handler calling the client that sent the message) and in the Go
// client (a handler calling the server). Messages the peer sends meanwhile
// wait their turn, in order.
func TestHandlerCallsItsOwnPeer(t *testing.T) {
	var order []string
	var mu sync.Mutex
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	ts := startServer(t, Options{}, func(s *Server) {
		On(s, "ask", String, func(ctx context.Context, c *Conn, q string) {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			ok, err := Call(ctx, c, "confirm", String, Bool, q)
			note(fmt.Sprint("server got ", ok, err))
			_ = Send(c, "answer", Bool, ok)
		})
		On(s, "after", String, func(ctx context.Context, c *Conn, m string) { note("server handled " + m) })
		OnCall(s, "double", Int, Int, func(ctx context.Context, c *Conn, n int64) (int64, error) { return 2 * n, nil })
	})
	cl := NewClient(ClientOptions{})
	OnCall(cl, "confirm", String, Bool, func(ctx context.Context, c *Conn, q string) (bool, error) {
		// Sent while the server's handler waits: handled after it.
		if err := Send(c, "after", String, "confirm"); err != nil {
			return false, err
		}
		return q == "sure?", nil
	})
	answers := make(chan bool, 1)
	On(cl, "answer", Bool, func(ctx context.Context, c *Conn, ok bool) { answers <- ok })
	doubled := make(chan string, 1)
	On(cl, "tick", Int, func(ctx context.Context, c *Conn, n int64) {
		// The client's handler calls the server while it runs.
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		v, err := Call(ctx, c, "double", Int, Int, n)
		doubled <- fmt.Sprint(v, err)
	})
	if err := cl.Dial(context.Background(), ts.url); err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	start := time.Now()
	if err := Send(cl.Conn(), "ask", String, "sure?"); err != nil {
		t.Fatal(err)
	}
	select {
	case ok := <-answers:
		if !ok {
			t.Fatal("the server's call got the wrong answer")
		}
	case <-time.After(4 * time.Second):
		t.Fatal("the server's handler hangs waiting for its own client")
	}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(order) == 2 })
	if fmt.Sprint(order) != "[server got true <nil> server handled confirm]" {
		t.Fatalf("order %q", order)
	}

	waitFor(t, func() bool { return ts.Len() == 1 })
	ts.Broadcast("tick", 21)
	select {
	case got := <-doubled:
		if got != "42 <nil>" {
			t.Fatalf("client handler's call: %s", got)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("the client's handler hangs waiting for the server")
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("took %v", d)
	}
}

// Close accepts only codes that may be sent and cuts a long reason to the
// 123 bytes a close frame holds, on a character boundary.
func TestCloseCodeAndReason(t *testing.T) {
	conns := make(chan *Conn, 1)
	ts := startServer(t, Options{OnConnect: func(c *Conn) { conns <- c }}, nil)
	ws := dialRaw(t, ts.url)
	c := <-conns
	for _, code := range []int{0, 999, 1004, 1005, 1006, 1015, 2999, 5000} {
		if err := c.Close(code, "x"); err == nil {
			t.Errorf("Close(%d) accepted", code)
		}
	}
	reason := strings.Repeat("é", 100) // 200 bytes
	if err := c.Close(4000, reason); err != nil {
		t.Fatal(err)
	}
	code, text := closeCode(t, ws, 5*time.Second)
	if code != 4000 || len(text) > 123 || !strings.HasPrefix(reason, text) || len(text) < 120 {
		t.Fatalf("closed with %d and a %d-byte reason %q", code, len(text), text)
	}
}

// A hook that panics costs neither the process nor the connection.
func TestHookPanics(t *testing.T) {
	disconnected := make(chan struct{}, 1)
	ts := startServer(t, Options{
		OnConnect:    func(c *Conn) { panic("in OnConnect") },
		OnError:      func(c *Conn, err error) { panic("in OnError") },
		OnDisconnect: func(c *Conn, err error) { disconnected <- struct{}{}; panic("in OnDisconnect") },
	}, referenceHandlers)
	ws := dialRaw(t, ts.url)
	send(t, ws, "{bad")
	send(t, ws, probe)
	if got := readText(t, ws, 5*time.Second); got != greetingReply {
		t.Fatalf("got %s", got)
	}
	ws.Close()
	<-disconnected
	waitFor(t, func() bool { return ts.Stats().HookPanics == 3 })
}

// An Origin without a host ("null", a file) is never the same origin, even
// when the request has no Host either.
func TestOriginWithoutHost(t *testing.T) {
	check := NewServer(Options{}).allowOrigin
	for _, origin := range []string{"null", "file://", "file:///x.html"} {
		for _, host := range []string{"", "example.com"} {
			r := &http.Request{Header: http.Header{"Origin": {origin}}, Host: host}
			if check(r) {
				t.Errorf("Origin %q with Host %q allowed", origin, host)
			}
		}
	}
	r := &http.Request{Header: http.Header{"Origin": {"http://example.com"}}, Host: "example.com"}
	if !check(r) {
		t.Error("same origin refused")
	}
}

// An error reply says only what the runtime itself says: a handler error
// that wraps a *PayloadError sends the payload error's text, not the
// wrapper's; any other error is "internal error".
func TestErrorRepliesKeepInternalsInside(t *testing.T) {
	errs := newErrorLog()
	ts := startServer(t, Options{OnError: errs.hook}, func(s *Server) {
		s.HandleCall("load", func(ctx context.Context, c *Conn, p json.RawMessage) ([]byte, error) {
			pe := &PayloadError{Path: "id", Err: errors.New("expected integer")}
			return nil, fmt.Errorf("loading row from /var/db/secret.db for token s3cr3t: %w", pe)
		})
		s.HandleCall("crash", func(ctx context.Context, c *Conn, p json.RawMessage) ([]byte, error) {
			return nil, errors.New("dial tcp 10.0.0.7:5432: connection refused")
		})
	})
	ws := dialRaw(t, ts.url)
	send(t, ws, `{"name":"load","message":1,"isAmbiorix":true,"id":"1"}`)
	got := readText(t, ws, 5*time.Second)
	if want := `{"name":"load","message":null,"isAmbiorix":true,"replyTo":"1","error":{"code":"invalid_argument","message":"id: expected integer"}}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// The full text stays on this side, for the hook and the log.
	if me := errs.next(t); !strings.Contains(me.Error(), "/var/db/secret.db") {
		t.Errorf("the error hook lost the detail: %v", me)
	}
	send(t, ws, `{"name":"crash","message":1,"isAmbiorix":true,"id":"2"}`)
	if got := readText(t, ws, 5*time.Second); strings.Contains(got, "10.0.0.7") || !strings.Contains(got, `"code":"internal"`) {
		t.Errorf("got %s", got)
	}
}

// Log lines are one line each, carry no more than a couple of hundred bytes
// of what a peer sent, and every level is rate-limited.
func TestLogLinesAreShortAndLimited(t *testing.T) {
	var buf syncBuffer
	ts := startServer(t, Options{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}, referenceHandlers)
	ws := dialRaw(t, ts.url)
	start := time.Now()
	huge := strings.Repeat("n\n", 100<<10)
	for range 50 {
		// Unknown names (logged at Debug) and bad JSON (Warn), both long.
		send(t, ws, `{"name":`+strconvQuote(huge)+`,"message":1,"isAmbiorix":true}`)
		send(t, ws, `{"name":"x","message":`+strings.Repeat("[", 10000)+`,"isAmbiorix":true}`)
	}
	send(t, ws, probe)
	readText(t, ws, 5*time.Second)
	out := buf.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	// Per level: the burst, and one a second after it.
	if limit := 2 * (logBurst + int(time.Since(start)/logInterval) + 1); len(lines) > limit {
		t.Fatalf("%d log lines for 100 bad frames, want at most %d", len(lines), limit)
	}
	for _, l := range lines {
		if len(l) > 1000 {
			t.Fatalf("a log line of %d bytes: %.200s", len(l), l)
		}
		if strings.Contains(l, ".go:") || strings.Contains(l, "github.com/") {
			t.Fatalf("a log line with source paths: %s", l)
		}
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Frames the server writes have whole frames only, and nothing after the
// close frame, when the peer breaks the protocol while the server streams
// (gorilla then writes its 1002 close itself, which goes through the same
// queue): 300 runs.
func TestProtocolErrorCloseIsLast(t *testing.T) {
	runs := 300
	if testing.Short() {
		runs = 30
	}
	ts := streamingServer(t)
	inParallel(runs, 8, func(run int) {
		stream, err := breakProtocolWhileStreaming(ts.url)
		if err != nil {
			t.Errorf("run %d: %v", run, err)
			return
		}
		if err := checkServerStream(stream, true, false); err != nil {
			t.Errorf("run %d: %v", run, err)
		}
	})
}

// streamingServer answers "go" by sending frames until the connection ends.
func streamingServer(t testing.TB, opts ...Options) *testServer {
	o := Options{SendBuffer: 64 << 20}
	if len(opts) > 0 {
		o = opts[0]
	}
	return startServer(t, o, func(s *Server) {
		s.Handle("go", func(ctx context.Context, c *Conn, _ json.RawMessage) error {
			go func() {
				for i := 0; c.Send("n", i) == nil; i++ {
					if i%16 == 0 {
						time.Sleep(20 * time.Microsecond)
					}
				}
			}()
			return nil
		})
	})
}

// breakProtocolWhileStreaming starts the stream, reads a little of it,
// sends an unmasked frame (which a server must treat as a protocol error),
// and returns every byte the server sent after its handshake.
func breakProtocolWhileStreaming(url string) ([]byte, error) {
	nc, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/"))
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		return nil, err
	}
	rec := &recordingConn{Conn: nc}
	buf := make([]byte, 4096)
	// The handshake response, then a masked "go".
	for !strings.Contains(rec.got.String(), "\r\n\r\n") {
		if _, err := rec.Read(buf); err != nil {
			return nil, err
		}
	}
	if _, err := nc.Write(maskedText(`{"name":"go","message":null,"isAmbiorix":true}`)); err != nil {
		return nil, err
	}
	for rec.got.Len() < 2000 {
		if _, err := rec.Read(buf); err != nil {
			return nil, err
		}
	}
	// An unmasked text frame from a client is a protocol error.
	if _, err := nc.Write([]byte{0x81, 0x02, 'h', 'i'}); err != nil {
		return nil, err
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, err := rec.Read(buf); err != nil {
			break
		}
	}
	s := rec.got.Bytes()
	i := strings.Index(string(s), "\r\n\r\n")
	return s[i+4:], nil
}

func maskedText(s string) []byte {
	key := [4]byte{1, 2, 3, 4}
	f := []byte{0x81, 0x80 | byte(len(s))}
	f = append(f, key[:]...)
	for i := range len(s) {
		f = append(f, s[i]^key[i%4])
	}
	return f
}

// checkServerStream checks a stream of server frames: every frame whole,
// except that the very last may be cut off when the socket was torn down
// mid-write (cutOK), and nothing after a close frame.
func checkServerStream(b []byte, wantClose, cutOK bool) error {
	closed := false
	for len(b) > 0 {
		if closed {
			return fmt.Errorf("%d bytes after the close frame", len(b))
		}
		if len(b) < 2 {
			if cutOK {
				return nil
			}
			return fmt.Errorf("stream ends inside a frame header")
		}
		op, n, hdr := b[0]&0x0f, uint64(b[1]&0x7f), 2
		if b[1]&0x80 != 0 {
			return errors.New("a masked server frame")
		}
		switch n {
		case 126:
			if len(b) < 4 {
				if cutOK {
					return nil
				}
				return errors.New("stream ends inside a frame header")
			}
			n, hdr = uint64(b[2])<<8|uint64(b[3]), 4
		case 127:
			return errors.New("unexpected 64-bit length")
		}
		if uint64(len(b)-hdr) < n {
			if cutOK {
				return nil
			}
			return fmt.Errorf("the stream ends inside a frame (opcode %d, %d of %d bytes)", op, len(b)-hdr, n)
		}
		if op == websocket.CloseMessage {
			closed = true
		} else if op != websocket.TextMessage && op != websocket.PongMessage && op != websocket.PingMessage {
			return fmt.Errorf("unexpected opcode %d", op)
		}
		b = b[hdr+int(n):]
	}
	if wantClose && !closed {
		return errors.New("no close frame")
	}
	return nil
}

// Raw JSON from user code is checked before it reaches the wire: a send of
// bytes that are not one JSON value in UTF-8 is refused, and a raw call
// handler's bad reply is answered "internal" instead.
func TestRawJSONIsChecked(t *testing.T) {
	conns := make(chan *Conn, 1)
	ts := startServer(t, Options{OnConnect: func(c *Conn) { conns <- c }}, func(s *Server) {
		s.HandleCall("raw", func(ctx context.Context, c *Conn, p json.RawMessage) ([]byte, error) {
			return []byte("{\"a\":"), nil
		})
	})
	ws := dialRaw(t, ts.url)
	c := <-conns
	for _, bad := range []string{"{bad", "1 2", "\"\xff\""} {
		var ee *EncodeError
		if err := c.Send("x", json.RawMessage(bad)); !errors.As(err, &ee) {
			t.Errorf("Send(%q) = %v, want an *EncodeError", bad, err)
		}
		if n, err := ts.Broadcast("x", json.RawMessage(bad)); n != 0 || err == nil {
			t.Errorf("Broadcast(%q) = %d, %v", bad, n, err)
		}
	}
	send(t, ws, `{"name":"raw","message":1,"isAmbiorix":true,"id":"9"}`)
	want := `{"name":"raw","message":null,"isAmbiorix":true,"replyTo":"9","error":{"code":"internal","message":"internal error"}}`
	if got := readText(t, ws, 5*time.Second); got != want {
		t.Fatalf("got %s", got)
	}
}
