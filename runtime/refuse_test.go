package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A value its codec refuses is never sent: Send, Broadcast, Conn.Send,
// Server.Broadcast and Call return the *EncodeError and queue nothing, so
// the next frame the peer reads is the next good one.
func TestRefusedValuesAreNotSent(t *testing.T) {
	type mood string
	moods := Enum[mood]("happy", "sad")
	errs := make(chan error, 8)
	var calls atomic.Int64
	ts := startServer(t, Options{}, func(s *Server) {
		if err := s.Handle("go", func(ctx context.Context, c *Conn, _ json.RawMessage) error {
			errs <- Send(c, "mood", moods, "")
			errs <- c.Send("any", math.NaN())
			return Send(c, "mood", moods, "happy")
		}); err != nil {
			t.Fatal(err)
		}
		if err := OnCall(s, "double", Float, Float, func(ctx context.Context, c *Conn, f float64) (float64, error) {
			calls.Add(1)
			return 2 * f, nil
		}); err != nil {
			t.Fatal(err)
		}
	})
	ws := dialRaw(t, ts.url)
	send(t, ws, `{"name":"go","message":null,"isAmbiorix":true}`)
	if got, want := readText(t, ws, 5*time.Second), `{"name":"mood","message":"happy","isAmbiorix":true}`; got != want {
		t.Fatalf("first frame after refused sends: %s, want %s", got, want)
	}
	for _, want := range []string{`"" is not one of "happy", "sad"`, `NaN is not a JSON number`} {
		if err := <-errs; !isEncodeError(err, want) {
			t.Errorf("send: %v, want an *EncodeError saying %s", err, want)
		}
	}

	n, err := Broadcast(ts.Server, "mood", moods, "bored", nil)
	if n != 0 || !isEncodeError(err, `"bored" is not one of`) {
		t.Errorf("Broadcast of a refused value: %d, %v", n, err)
	}
	n, err = ts.Broadcast("any", map[string]any{"f": func() {}})
	if n != 0 || !isEncodeError(err, `f: a value of type func() has no JSON form`) {
		t.Errorf("Server.Broadcast of a refused value: %d, %v", n, err)
	}
	if n, err := Broadcast(ts.Server, "mood", moods, "sad", nil); n != 1 || err != nil {
		t.Fatalf("Broadcast: %d, %v", n, err)
	}
	if got, want := readText(t, ws, 5*time.Second), `{"name":"mood","message":"sad","isAmbiorix":true}`; got != want {
		t.Fatalf("first frame after refused broadcasts: %s, want %s", got, want)
	}

	cl := NewClient(ClientOptions{})
	if err := cl.Dial(context.Background(), ts.url); err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Call(ctx, cl.Conn(), "double", Float, Float, math.Inf(1)); !isEncodeError(err, "+Inf is not a JSON number") {
		t.Errorf("Call with a refused request: %v", err)
	}
	if got, err := Call(ctx, cl.Conn(), "double", Float, Float, 1.5); err != nil || got != 3 {
		t.Fatalf("Call after a refused one: %v, %v", got, err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("the server handled %d calls, want 1", n)
	}
}

// A reply the handler's codec refuses is the server's fault: the caller
// gets "internal", and the error hook the full *EncodeError.
func TestRefusedReplyIsInternal(t *testing.T) {
	errs := newErrorLog()
	ts := startServer(t, Options{OnError: errs.hook}, func(s *Server) {
		if err := OnCall(s, "nan", Any, Float, func(ctx context.Context, c *Conn, _ any) (float64, error) {
			return math.NaN(), nil
		}); err != nil {
			t.Fatal(err)
		}
	})
	ws := dialRaw(t, ts.url)
	send(t, ws, `{"name":"nan","message":null,"isAmbiorix":true,"id":"1"}`)
	if got, want := readText(t, ws, 5*time.Second), `{"name":"nan","message":null,"isAmbiorix":true,"replyTo":"1","error":{"code":"internal","message":"internal error"}}`; got != want {
		t.Errorf("reply: %s, want %s", got, want)
	}
	if me := errs.next(t); me.Kind != KindHandler || !isEncodeError(me, "NaN is not a JSON number") {
		t.Errorf("hook: %v (kind %v)", me, me.Kind)
	}
}

func isEncodeError(err error, text string) bool {
	var ee *EncodeError
	return errors.As(err, &ee) && strings.Contains(ee.Error(), text)
}
