package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// decodedFirstFrames are frames for the "point" handler: some of the usual
// shape that decode, and every way a frame of that shape can be something
// else than it looks (see Conn.deliverDecoded).
var decodedFirstFrames = []string{
	`{"name":"point","message":{"x":1,"y":2},"isAmbiorix":true}`,
	`{"name":"point","message": {"x":2,"y":3,"tags":["a"]} ,"isAmbiorix":true}`,
	`{"name":"point","message":{"y":3,"x":4,"x":5,"z":{"q":[1,null]}},"isAmbiorix":true}`,
	// Payloads of the wrong type.
	`{"name":"point","message":{"x":1},"isAmbiorix":true}`,
	`{"name":"point","message":null,"isAmbiorix":true}`,
	`{"name":"point","message":"\u0000","isAmbiorix":true}`,
	`{"name":"point","message":{"x":1.5,"y":2},"isAmbiorix":true}`,
	// Not JSON.
	`{"name":"point","message":{"x":1,"y":2,},"isAmbiorix":true}`,
	`{"name":"point","message":{"x":1,"y":2}},"isAmbiorix":true}`,
	`{"name":"point","message":{"x":1,"y":2} x,"isAmbiorix":true}`,
	`{"name":"point","message": ,"isAmbiorix":true}`,
	`{"name":"point","message":{"x":1,"y":"\x"},"isAmbiorix":true}`,
	// More than the shell shows.
	`{"name":"point","message":{"x":6,"y":1},"isAmbiorix":false,"isAmbiorix":true}`,
	`{"name":"point","message":{"x":7,"y":1},"name":"other","isAmbiorix":true}`,
	`{"name":"point","message":{"x":8,"y":1},"message":{"x":9,"y":1},"isAmbiorix":true}`,
	`{"name":"point","message":{"x":10,"y":1},"id":"7","isAmbiorix":true}`,
	`{"name":"point","message":{"x":11,"y":1},"replyTo":"7","isAmbiorix":true}`,
	`{"name":"point","message":{"x":12,"y":1},"error":{"code":"x"},"isAmbiorix":true}`,
	// As deep as a frame may be, and one level deeper.
	`{"name":"point","message":{"x":13,"y":1,"z":` + strings.Repeat("[", maxDepth-2) + strings.Repeat("]", maxDepth-2) + `},"isAmbiorix":true}`,
	`{"name":"point","message":{"x":14,"y":1,"z":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `},"isAmbiorix":true}`,
	// Other names of the same shape.
	`{"name":"nobody","message":{"x":1,"y":2},"isAmbiorix":true}`,
	`{"name":"nobody","message":{"x":1,"y":2,},"isAmbiorix":true}`,
	`{"name":"raw","message":[1,2],"isAmbiorix":true}`,
	`{"name":"raw","message":[1,2,],"isAmbiorix":true}`,
	`{"name":"point","message":{"x":99,"y":1},"isAmbiorix":true}`,
	`{"name":"point","message":{"x":15,"y":1},"isAmbiorix":true}`,
}

// decodedFirstRun sends frames and a close to a server with a typed
// "point" handler and a raw "raw" one, reading every frame in full first or
// not, and returns what the server saw, in order (handlers run and errors
// reported), what the client was sent, and how many messages took the
// decoded-first way.
func decodedFirstRun(t *testing.T, opts Options, parseFirst bool, frames []string) (seen, sent []string, decodedFirst int64) {
	t.Helper()
	var mu sync.Mutex
	note := func(s string) {
		mu.Lock()
		seen = append(seen, s)
		mu.Unlock()
	}
	// The reader ends after every frame before the close was dispatched.
	done := make(chan struct{})
	var counter atomic.Int64
	opts.OnError = func(c *Conn, err error) { note("error: " + err.Error()) }
	opts.OnDisconnect = func(*Conn, error) { close(done) }
	srv := startServer(t, opts, func(s *Server) {
		s.ep.cfg.parseFirst, s.ep.cfg.decodedFirst = parseFirst, &counter
		if err := On(s, "point", pointCodec, func(ctx context.Context, c *Conn, p point) {
			if p.X == 99 {
				panic("point 99")
			}
			note(fmt.Sprintf("point %+v", p))
			_ = Send(c, "point", pointCodec, p)
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.Handle("raw", func(ctx context.Context, c *Conn, msg json.RawMessage) error {
			note("raw " + string(msg))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
	ws := dialRaw(t, srv.url)
	for _, f := range frames {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			break
		}
		sent = append(sent, string(b))
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the server did not end the connection; seen %q", seen)
	}
	mu.Lock()
	defer mu.Unlock()
	return seen, sent, counter.Load()
}

// TestDecodedFirst checks that serving the usual frames by decoding their
// message first changes nothing a peer or the program can see, whatever
// the frame: the same handlers run with the same values, the same errors
// are reported, the same frames are sent, in the same order, as when every
// frame is read in full first. It also checks that the usual frames do take
// that way.
func TestDecodedFirst(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   Options
		frames []string
		want   int64 // frames decoded first
	}{
		// The first three frames, the one as deep as a frame may be and
		// the last two (one handler panics).
		{"defaults", Options{}, decodedFirstFrames, 6},
		// A burst of three, and then hardly any: three messages are
		// served, the rest refused. A frame that turns out not to be a
		// message (not JSON, not flagged, a reply) must not use up the
		// limit as if it were one, so those come early.
		{"rate limited", Options{RateLimit: RateLimit{Messages: 0.001, Burst: 3, Bytes: -1}},
			append(append([]string{decodedFirstFrames[0]}, decodedFirstFrames[7:]...), decodedFirstFrames[1:7]...), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fullSeen, fullSent, n := decodedFirstRun(t, tc.opts, true, tc.frames)
			if n != 0 {
				t.Fatalf("%d messages decoded first with that turned off", n)
			}
			seen, sent, n := decodedFirstRun(t, tc.opts, false, tc.frames)
			if strings.Join(seen, "\n") != strings.Join(fullSeen, "\n") {
				t.Errorf("the server saw\n%s\nwhen read in full first:\n%s", strings.Join(seen, "\n"), strings.Join(fullSeen, "\n"))
			}
			if strings.Join(sent, "\n") != strings.Join(fullSent, "\n") {
				t.Errorf("the server sent\n%s\nwhen read in full first:\n%s", strings.Join(sent, "\n"), strings.Join(fullSent, "\n"))
			}
			if n != tc.want {
				t.Errorf("%d frames decoded first, want %d", n, tc.want)
			}
		})
	}
}

// FuzzDecodedFirst is TestDecodedFirst on arbitrary frames: each is sent
// to a server that decodes the usual frames first and to one that reads
// every frame in full, and both must see and send the same. The two servers
// and their connections last for the whole run (a connection per input
// would use up the loopback's ports), without a rate limit.
func FuzzDecodedFirst(f *testing.F) {
	for _, s := range decodedFirstFrames {
		f.Add(s)
	}
	fast, full := newDecodedFirstPeer(f, false), newDecodedFirstPeer(f, true)
	f.Fuzz(func(t *testing.T, frame string) {
		if !utf8.ValidString(frame) {
			return // the reader fails the connection before dispatch
		}
		seen, sent := fast.exchange(t, frame)
		fullSeen, fullSent := full.exchange(t, frame)
		if strings.Join(seen, "\n") != strings.Join(fullSeen, "\n") || strings.Join(sent, "\n") != strings.Join(fullSent, "\n") {
			t.Fatalf("%q: seen %q sent %q; read in full first: seen %q sent %q", frame, seen, sent, fullSeen, fullSent)
		}
	})
}

// decodedFirstPeer is a connection to a server with the handlers of
// decodedFirstRun, for one frame after another.
type decodedFirstPeer struct {
	ws   *websocket.Conn
	mu   sync.Mutex
	seen []string
}

func newDecodedFirstPeer(tb testing.TB, parseFirst bool) *decodedFirstPeer {
	p := &decodedFirstPeer{}
	opts := Options{RateLimit: RateLimit{Messages: -1, Bytes: -1}, OnError: func(c *Conn, err error) { p.note("error: " + err.Error()) }}
	srv := startServer(tb, opts, func(s *Server) {
		s.ep.cfg.parseFirst = parseFirst
		if err := On(s, "point", pointCodec, func(ctx context.Context, c *Conn, pt point) {
			p.note(fmt.Sprintf("point %+v", pt))
			_ = Send(c, "point", pointCodec, pt)
		}); err != nil {
			tb.Fatal(err)
		}
		if err := s.Handle("raw", func(ctx context.Context, c *Conn, msg json.RawMessage) error {
			p.note("raw " + string(msg))
			return nil
		}); err != nil {
			tb.Fatal(err)
		}
	})
	p.ws = dialRaw(tb, srv.url)
	return p
}

func (p *decodedFirstPeer) note(s string) {
	p.mu.Lock()
	p.seen = append(p.seen, s)
	p.mu.Unlock()
}

// exchange sends frame and then a point with x -7, and returns what the
// server saw and sent up to the answer to that point.
func (p *decodedFirstPeer) exchange(t *testing.T, frame string) (seen, sent []string) {
	t.Helper()
	for _, f := range []string{frame, `{"name":"point","message":{"x":-7,"y":0},"isAmbiorix":true}`} {
		if err := p.ws.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
			t.Fatal(err)
		}
	}
	p.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, b, err := p.ws.ReadMessage()
		if err != nil {
			t.Fatalf("after %q: %v", frame, err)
		}
		sent = append(sent, string(b))
		if strings.Contains(string(b), `"x":-7`) {
			break
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	seen, p.seen = p.seen, nil
	return seen, sent
}
