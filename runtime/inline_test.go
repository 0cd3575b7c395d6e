package runtime

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// A handler that sends and then keeps running must not hold its frames
// back until it returns.
func TestSendFromLongHandlerIsWritten(t *testing.T) {
	release := make(chan struct{})
	returned := make(chan struct{})
	ts := startServer(t, Options{}, func(s *Server) {
		s.Handle("tick", func(ctx context.Context, c *Conn, _ json.RawMessage) error {
			defer close(returned)
			if err := Send(c, "tock", String, "first"); err != nil {
				return err
			}
			select {
			case <-release:
			case <-time.After(10 * time.Second):
			}
			return nil
		})
	})
	ws := dialRaw(t, ts.url)
	send(t, ws, `{"name":"tick","message":null,"isAmbiorix":true}`)
	got := readText(t, ws, 5*time.Second)
	select {
	case <-returned:
		t.Fatal("the frame arrived only after the handler returned")
	default:
	}
	close(release)
	if want := `{"name":"tock","message":"first","isAmbiorix":true}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	<-returned
}

// Replies a handler queues, the reader writes in order after it returns,
// interleaved correctly with the frames of the next message.
func TestInlineRepliesKeepOrder(t *testing.T) {
	ts := startServer(t, Options{}, func(s *Server) {
		s.Handle("n", func(ctx context.Context, c *Conn, p json.RawMessage) error {
			for range 3 {
				if err := c.Send("n", p); err != nil {
					return err
				}
			}
			return nil
		})
	})
	ws := dialRaw(t, ts.url)
	for i := range 50 {
		send(t, ws, `{"name":"n","message":`+itoa(int64(i))+`,"isAmbiorix":true}`)
	}
	for i := range 50 {
		want := `{"name":"n","message":` + itoa(int64(i)) + `,"isAmbiorix":true}`
		for range 3 {
			if got := readText(t, ws, 5*time.Second); got != want {
				t.Fatalf("got %s, want %s", got, want)
			}
		}
	}
}
