package runtime

import (
	"context"
	"errors"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"
)

// The TypeScript client spells the codes as this runtime does: the list in
// ts/src/codes.ts is the list here, in the same order.
func TestCodesMatchTypeScript(t *testing.T) {
	src, err := os.ReadFile("../ts/src/codes.ts")
	if err != nil {
		t.Fatal(err)
	}
	body := regexp.MustCompile(`(?s)export const codes = \[(.*?)\] as const`).FindSubmatch(src)
	if body == nil {
		t.Fatal("ts/src/codes.ts has no `export const codes = [...] as const`")
	}
	var ts []string
	for _, m := range regexp.MustCompile(`"([a-z_]+)"`).FindAllSubmatch(body[1], -1) {
		ts = append(ts, string(m[1]))
	}
	if !slices.Equal(ts, codes) {
		t.Errorf("ts/src/codes.ts lists\n%q\nruntime/codes.go\n%q", ts, codes)
	}
	for _, c := range codes {
		if !IsKnownCode(c) {
			t.Errorf("IsKnownCode(%q) = false", c)
		}
	}
	if IsKnownCode("teapot") {
		t.Error("IsKnownCode(teapot) = true")
	}
}

// A call that gets no reply fails with a *CallError whose code says why,
// as in the TypeScript client, and which still matches its cause.
func TestCallFailuresHaveCodes(t *testing.T) {
	release := make(chan struct{})
	ts := startServer(t, Options{}, func(s *Server) {
		OnCall(s, "slow", String, String, func(ctx context.Context, c *Conn, v string) (string, error) {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return v, nil
		})
		OnCall(s, "wrong", String, Int, func(ctx context.Context, c *Conn, v string) (int64, error) { return 1, nil })
	})
	defer close(release)
	c, err := Dial(context.Background(), ts.url, ClientOptions{Reconnect: Reconnect{Off: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	code := func(err error) string {
		var ce *CallError
		if !errors.As(err, &ce) {
			t.Fatalf("%v (%T) is not a *CallError", err, err)
		}
		return ce.Code
	}

	// A reply of the wrong type: the server answers an int where a string
	// is expected.
	_, err = Call(context.Background(), c, "wrong", String, String, "x")
	var pe *PayloadError
	if code(err) != CodeInvalidReply || !errors.As(err, &pe) {
		t.Errorf("invalid reply: %v", err)
	}

	// The server's handler of "slow" holds the connection from here on.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = Call(ctx, c, "slow", String, String, "x")
	if code(err) != CodeTimeout || !errors.Is(err, context.DeadlineExceeded) || err.Error() != `timeout: call "slow" timed out` {
		t.Errorf("timeout: %v", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err = Call(ctx, c.Conn(), "slow", String, String, "x")
	if code(err) != CodeCanceled || !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := Call(context.Background(), c, "slow", String, String, "x")
		done <- err
	}()
	waitFor(t, func() bool {
		conn := c.Conn()
		conn.mu.Lock()
		defer conn.mu.Unlock()
		return len(conn.pending) == 1
	})
	ts.Clients()[0].Close(1000, "")
	err = <-done
	if code(err) != CodeClosed || !errors.Is(err, ErrClosed) {
		t.Errorf("closed: %v", err)
	}
	_, err = Call(context.Background(), NewClient(ClientOptions{}), "slow", String, String, "x")
	if code(err) != CodeClosed || !errors.Is(err, ErrClosed) {
		t.Errorf("not dialled: %v", err)
	}
}
