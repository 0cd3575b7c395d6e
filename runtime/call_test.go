package runtime

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-faster/jx"
)

type addReq struct{ A, B int64 }

var addFields = NewFields(Field{Name: "a"}, Field{Name: "b"})

var addCodec = Codec[addReq]{
	Encode: func(w *jx.Writer, v addReq) error {
		w.RawStr(`{"a":`)
		w.Int64(v.A)
		w.RawStr(`,"b":`)
		w.Int64(v.B)
		w.RawStr(`}`)
		return nil
	},
	Decode: func(d *Decoder) (addReq, error) {
		var v addReq
		err := d.Object(addFields, func(d *Decoder, i int) (err error) {
			if i == 0 {
				v.A, err = Int.Decode(d)
			} else {
				v.B, err = Int.Decode(d)
			}
			return err
		})
		return v, err
	},
}

// callHandlers registers the same calls on a server or a client, so both
// directions run through identical cases.
func callHandlers(t testing.TB, r Registrar, release <-chan struct{}) {
	t.Helper()
	check := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	check(OnCall(r, "add", addCodec, Int, func(ctx context.Context, c *Conn, req addReq) (int64, error) {
		return req.A + req.B, nil
	}))
	check(OnCall(r, "find", String, String, func(ctx context.Context, c *Conn, key string) (string, error) {
		return "", Errorf("not_found", "no %s here", key)
	}))
	check(OnCall(r, "fail", Any, Any, func(ctx context.Context, c *Conn, _ any) (any, error) {
		return nil, errors.New("database password is hunter2")
	}))
	check(OnCall(r, "crash", Any, Any, func(ctx context.Context, c *Conn, _ any) (any, error) {
		panic("crash")
	}))
	check(OnCall(r, "slow", Any, String, func(ctx context.Context, c *Conn, _ any) (string, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return "late", nil
	}))
}

// runCallCases exercises every call outcome on conn, whose peer has
// callHandlers registered.
func runCallCases(t *testing.T, conn *Conn, release chan<- struct{}) {
	ctx := context.Background()
	sum, err := Call(ctx, conn, "add", addCodec, Int, addReq{A: 2, B: 40})
	if err != nil || sum != 42 {
		t.Fatalf("add = %d, %v; want 42", sum, err)
	}

	var ce *CallError
	_, err = Call(ctx, conn, "find", String, String, "key")
	if !errors.As(err, &ce) || ce.Code != "not_found" || ce.Message != "no key here" {
		t.Fatalf("find: %v, want not_found", err)
	}
	_, err = Call(ctx, conn, "fail", Any, Any, nil)
	if !errors.As(err, &ce) || ce.Code != CodeInternal || ce.Message != "internal error" {
		t.Fatalf("fail: %v, want an internal error that hides the cause", err)
	}
	_, err = Call(ctx, conn, "crash", Any, Any, nil)
	if !errors.As(err, &ce) || ce.Code != CodeInternal {
		t.Fatalf("crash: %v, want internal", err)
	}
	_, err = Call(ctx, conn, "add", String, Int, "not an object")
	if !errors.As(err, &ce) || ce.Code != CodeInvalidArgument {
		t.Fatalf("bad request: %v, want invalid_argument", err)
	}
	_, err = Call(ctx, conn, "nosuch", Any, Any, nil)
	if !errors.As(err, &ce) || ce.Code != CodeUnimplemented {
		t.Fatalf("unknown call: %v, want unimplemented", err)
	}
	// A reply of the wrong type is the caller's decoding error.
	_, err = Call(ctx, conn, "add", addCodec, String, addReq{})
	var pe *PayloadError
	if !errors.As(err, &pe) {
		t.Fatalf("reply of the wrong type: %v, want a *PayloadError", err)
	}

	// Timeout: the context's deadline ends the call; the late reply is
	// dropped and the connection keeps working.
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = Call(tctx, conn, "slow", Any, String, nil)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow: %v, want DeadlineExceeded", err)
	}
	release <- struct{}{}
	if sum, err := Call(ctx, conn, "add", addCodec, Int, addReq{A: 1, B: 1}); err != nil || sum != 2 {
		t.Fatalf("after a timeout: %d, %v", sum, err)
	}

	// Pending calls fail at once when the connection closes.
	errc := make(chan error, 1)
	go func() {
		_, err := Call(ctx, conn, "slow", Any, String, nil)
		errc <- err
	}()
	waitFor(t, func() bool {
		conn.mu.Lock()
		defer conn.mu.Unlock()
		return len(conn.pending) == 1
	})
	conn.abort()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("pending call on close: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("pending call did not fail on close")
	}
	if _, err := Call(ctx, conn, "add", addCodec, Int, addReq{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("call on a closed conn: %v", err)
	}
	close(release)
}

func TestCallClientToServer(t *testing.T) {
	release := make(chan struct{}, 1)
	ts := startServer(t, Options{}, func(s *Server) { callHandlers(t, s, release) })
	c, err := Dial(context.Background(), ts.url, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	runCallCases(t, c.Conn(), release)
	st := c.Stats()
	if st.Calls < 10 || st.CallErrors < 8 {
		t.Errorf("client stats %+v", st)
	}
}

func TestCallServerToClient(t *testing.T) {
	release := make(chan struct{}, 1)
	connected := make(chan *Conn, 1)
	ts := startServer(t, Options{OnConnect: func(c *Conn) { connected <- c }}, nil)
	c := NewClient(ClientOptions{})
	callHandlers(t, c, release)
	if err := c.Dial(context.Background(), ts.url); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	runCallCases(t, <-connected, release)
}
