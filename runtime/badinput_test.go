package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-faster/jx"
	"github.com/gorilla/websocket"
)

// point is a payload type with a hand-written codec of the kind ambigen
// generates: jx encoding, a field list and Decoder.Object.
type point struct {
	X, Y int64
	Tags []string
}

var pointFields = NewFields(Field{Name: "x", Required: true}, Field{Name: "y", Required: true}, Field{Name: "tags"})

var pointCodec = Codec[point]{
	Encode: func(w *jx.Writer, p point) error {
		w.RawStr(`{"x":`)
		w.Int64(p.X)
		w.RawStr(`,"y":`)
		w.Int64(p.Y)
		w.RawStr(`,"tags":`)
		if err := List(String).Encode(w, p.Tags); err != nil {
			return EncodeErrorAt("tags", err)
		}
		w.RawStr(`}`)
		return nil
	},
	Decode: func(d *Decoder) (point, error) {
		var p point
		err := d.Object(pointFields, func(d *Decoder, i int) (err error) {
			switch i {
			case 0:
				p.X, err = Int.Decode(d)
			case 1:
				p.Y, err = Int.Decode(d)
			case 2:
				p.Tags, err = List(String).Decode(d)
			}
			return err
		})
		return p, err
	},
}

func badInputServer(t *testing.T, strict bool, errs *errorLog, logger *slog.Logger) *testServer {
	return startServer(t, Options{OnError: errs.hook, Strict: strict, ReadLimit: 1024, Logger: logger}, func(s *Server) {
		referenceHandlers(s)
		if err := On(s, "point", pointCodec, func(ctx context.Context, c *Conn, p point) {
			_ = Send(c, "point", pointCodec, p)
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.Handle("panic", func(context.Context, *Conn, json.RawMessage) error { panic("kaboom") }); err != nil {
			t.Fatal(err)
		}
	})
}

// Bad input beyond the transcripts: payloads that do not decode, handler
// panics and oversize frames. Default: hook, connection open, next message
// handled. Strict: the precise close code.
func TestBadInput(t *testing.T) {
	cases := []struct {
		name  string
		mt    int
		frame string
		kind  ErrorKind
		msg   string // the message name in the error
		where string // substring of the error text
	}{
		{"wrong payload type", websocket.TextMessage, `{"name":"point","message":"no","isAmbiorix":true}`, KindPayload, "point", "expected object, got string"},
		{"missing field", websocket.TextMessage, `{"name":"point","message":{"x":1},"isAmbiorix":true}`, KindPayload, "point", "y: required field is missing"},
		{"nested path", websocket.TextMessage, `{"name":"point","message":{"x":1,"y":2,"tags":["a",3]},"isAmbiorix":true}`, KindPayload, "point", "tags[1]: expected string, got number"},
		{"panic", websocket.TextMessage, `{"name":"panic","message":null,"isAmbiorix":true}`, KindPanic, "panic", "kaboom"},
		{"too big", websocket.TextMessage, `{"name":"echo","message":"` + strings.Repeat("y", 2000) + `","isAmbiorix":true}`, KindTooBig, "", "read limit of 1024"},
		{"binary", websocket.BinaryMessage, probe, KindBinary, "", "binary"},
	}
	var logBuf syncBuffer
	logger := slog.New(slog.NewTextHandler(&logBuf, nil))
	errs := newErrorLog()
	ts := badInputServer(t, false, errs, logger)
	strictErrs := newErrorLog()
	strict := badInputServer(t, true, strictErrs, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := dialRaw(t, ts.url)
			if err := ws.WriteMessage(tc.mt, []byte(tc.frame)); err != nil {
				t.Fatal(err)
			}
			me := errs.next(t)
			if me.Kind != tc.kind || me.Name != tc.msg || !strings.Contains(me.Error(), tc.where) {
				t.Fatalf("got %v (kind %v, name %q), want kind %v, name %q, text with %q", me, me.Kind, me.Name, tc.kind, tc.msg, tc.where)
			}
			if tc.kind == KindPayload {
				var pe *PayloadError
				if !errors.As(me, &pe) {
					t.Fatalf("%v does not wrap a *PayloadError", me)
				}
			}
			send(t, ws, `{"name":"point","message":{"y":2,"x":1,"tags":"t"},"isAmbiorix":true}`)
			if got, want := readText(t, ws, 5*time.Second), `{"name":"point","message":{"x":1,"y":2,"tags":["t"]},"isAmbiorix":true}`; got != want {
				t.Fatalf("good message after bad: got %s, want %s", got, want)
			}

			sws := dialRaw(t, strict.url)
			if err := sws.WriteMessage(tc.mt, []byte(tc.frame)); err != nil {
				t.Fatal(err)
			}
			if code, _ := closeCode(t, sws, 5*time.Second); code != tc.kind.CloseCode() {
				t.Fatalf("strict: close code %d, want %d", code, tc.kind.CloseCode())
			}
			if me := strictErrs.next(t); me.Kind != tc.kind {
				t.Fatalf("strict hook: %v", me)
			}
		})
	}
	if got := ts.Stats().Rejected; got != uint64(len(cases)) {
		t.Errorf("Stats.Rejected = %d, want %d", got, len(cases))
	}
	if !strings.Contains(logBuf.String(), "level=WARN") {
		t.Errorf("bad input was not logged at Warn:\n%s", logBuf.String())
	}
}

// A flood of bad input is logged a burst at a time, not once per message.
func TestBadInputLogIsRateLimited(t *testing.T) {
	var logBuf syncBuffer
	errs := newErrorLog()
	ts := badInputServer(t, false, errs, slog.New(slog.NewTextHandler(&logBuf, nil)))
	ws := dialRaw(t, ts.url)
	const n = 200
	for range n {
		send(t, ws, "{bad")
	}
	send(t, ws, probe)
	readText(t, ws, 5*time.Second)
	if got := ts.Stats().Rejected; got != n {
		t.Fatalf("Rejected = %d, want %d", got, n)
	}
	if lines := strings.Count(logBuf.String(), "level=WARN"); lines < 1 || lines > logBurst+1 {
		t.Fatalf("%d Warn lines for %d bad frames, want 1..%d", lines, n, logBurst+1)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
