package runtime

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// rLikeServer behaves as the R reference does on the wire (PROTOCOL.md part
// A): it writes R's shapes (whole doubles as 100.0, one-element vectors
// unboxed, big integers as strings), ignores unflagged frames, and drops
// the TCP connection on a close frame without answering it.
func rLikeServer(t *testing.T) string {
	up := websocket.Upgrader{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		ws.SetCloseHandler(func(int, string) error { return nil })
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if strings.Contains(string(b), `"name":"hello"`) {
				for _, f := range []string{
					`{"name":"n","message":100.0,"isAmbiorix":true}`,
					`{"name":"big","message":"3000000000","isAmbiorix":true}`,
					`{"name":"tags","message":"only","isAmbiorix":true}`,
				} {
					ws.WriteMessage(websocket.TextMessage, []byte(f))
				}
			}
		}
	}))
	t.Cleanup(hs.Close)
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/"
}

func TestClientAgainstRLikeServer(t *testing.T) {
	got := make(chan any, 3)
	c := NewClient(ClientOptions{})
	On(c, "n", Int, func(_ context.Context, _ *Conn, v int64) { got <- v })
	On(c, "big", Int, func(_ context.Context, _ *Conn, v int64) { got <- v })
	On(c, "tags", List(String), func(_ context.Context, _ *Conn, v []string) { got <- v })
	if err := c.Dial(context.Background(), rLikeServer(t)); err != nil {
		t.Fatal(err)
	}
	if err := c.Conn().Send("hello", nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"100", "3000000000", "[only]"}
	for i, w := range want {
		select {
		case v := <-got:
			if s := fmtAny(v); s != w {
				t.Fatalf("value %d: got %s, want %s", i, s, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("value %d never arrived", i)
		}
	}
	// The peer never answers our close frame but drops the socket, so
	// Close returns at once rather than after the write timeout.
	begin := time.Now()
	c.Close()
	if d := time.Since(begin); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
}

func fmtAny(v any) string {
	switch v := v.(type) {
	case int64:
		return itoa(v)
	case []string:
		return "[" + strings.Join(v, ",") + "]"
	}
	return "?"
}
