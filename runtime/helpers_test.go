package runtime

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-faster/jx"
	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// Every test shuts its servers down; nothing may be left running.
	goleak.VerifyTestMain(m)
}

// testServer is a Server on a real loopback listener.
type testServer struct {
	*Server
	http *httptest.Server
	url  string // ws://127.0.0.1:port/
}

func startServer(t testing.TB, opts Options, setup func(s *Server)) *testServer {
	t.Helper()
	return startServerOn(t, opts, setup, nil)
}

// startServerOn is startServer with the listener wrapped by wrap, when set.
func startServerOn(t testing.TB, opts Options, setup func(s *Server), wrap func(net.Listener) net.Listener) *testServer {
	t.Helper()
	s := NewServer(opts)
	if setup != nil {
		setup(s)
	}
	hs := httptest.NewUnstartedServer(s)
	if wrap != nil {
		hs.Listener = wrap(hs.Listener)
	}
	hs.Start()
	ts := &testServer{Server: s, http: hs, url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/"}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		hs.Close()
	})
	return ts
}

// dialRaw opens a plain gorilla connection, to see exactly what the server
// writes.
func dialRaw(t testing.TB, url string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// readText reads one frame within d; it fails the test on anything but a
// text frame.
func readText(t testing.TB, ws *websocket.Conn, d time.Duration) string {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(d))
	mt, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if mt != websocket.TextMessage {
		t.Fatalf("got frame type %d, want text", mt)
	}
	return string(b)
}

// send writes one text frame.
func send(t testing.TB, ws *websocket.Conn, frame string) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// closeCode reads until the connection ends and returns the close code
// received (1006 when the socket died without a close frame).
func closeCode(t testing.TB, ws *websocket.Conn, d time.Duration) (int, string) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(d))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Text
		}
		t.Fatalf("connection ended without a close frame: %v", err)
	}
}

// errorLog collects what the error hook receives.
type errorLog struct {
	mu   sync.Mutex
	errs []*MessageError
	ch   chan *MessageError
}

func newErrorLog() *errorLog { return &errorLog{ch: make(chan *MessageError, 1024)} }

func (l *errorLog) hook(c *Conn, err error) {
	var me *MessageError
	if !errors.As(err, &me) {
		panic("error hook got a non-MessageError: " + err.Error())
	}
	l.mu.Lock()
	l.errs = append(l.errs, me)
	l.mu.Unlock()
	l.ch <- me
}

func (l *errorLog) next(t testing.TB) *MessageError {
	t.Helper()
	select {
	case me := <-l.ch:
		return me
	case <-time.After(5 * time.Second):
		t.Fatal("error hook did not fire")
		return nil
	}
}

func (l *errorLog) none(t testing.TB) {
	t.Helper()
	select {
	case me := <-l.ch:
		t.Fatalf("unexpected error hook call: %v", me)
	default:
	}
}

// reencode copies one JSON value, re-encoding strings (so escapes come out
// in the runtime's canonical form) and keeping number literals as written.
func reencode(d *jx.Decoder, w *jx.Writer) error {
	switch d.Next() {
	case jx.String:
		s, err := d.Str()
		if err != nil {
			return err
		}
		w.Str(s)
	case jx.Number:
		n, err := d.Num()
		if err != nil {
			return err
		}
		w.Raw(n)
	case jx.Array:
		w.ArrStart()
		first := true
		err := d.Arr(func(d *jx.Decoder) error {
			if !first {
				w.Comma()
			}
			first = false
			return reencode(d, w)
		})
		if err != nil {
			return err
		}
		w.ArrEnd()
	case jx.Object:
		w.ObjStart()
		first := true
		err := d.Obj(func(d *jx.Decoder, key string) error {
			if !first {
				w.Comma()
			}
			first = false
			w.Str(key)
			w.RawStr(":")
			return reencode(d, w)
		})
		if err != nil {
			return err
		}
		w.ObjEnd()
	default:
		raw, err := d.Raw()
		if err != nil {
			return err
		}
		w.Raw(raw)
	}
	return nil
}

func canonical(raw []byte) []byte {
	if len(raw) == 0 {
		return []byte("null")
	}
	var w jx.Writer
	if err := reencode(jx.DecodeBytes(raw), &w); err != nil {
		panic(err)
	}
	return w.Buf
}

// inParallel runs fn for runs runs, width at a time.
func inParallel(runs, width int, fn func(run int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, width)
	for run := range runs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(run)
		}()
	}
	wg.Wait()
}
