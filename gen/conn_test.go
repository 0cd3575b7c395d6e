package gen_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/runtime"
)

// TestConnIsOnePerConnection: every handler call, and every broadcast filter, sees the same
// *gen.Conn for a connection, so a server can keep per-client state in a map keyed by it; two
// connections have two.
func TestConnIsOnePerConnection(t *testing.T) {
	srv := runtime.NewServer(runtime.Options{})
	api := gen.Serve(srv)
	seen := make(chan *gen.Conn, 16)
	api.OnChat(func(ctx context.Context, c *gen.Conn, msg string) { seen <- c })
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(context.Background())
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/"

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var clients []*gen.Client
	for range 2 {
		c, err := gen.Dial(ctx, url, runtime.ClientOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	next := func() *gen.Conn {
		select {
		case c := <-seen:
			return c
		case <-ctx.Done():
			t.Fatal("a chat message was not handled")
			return nil
		}
	}
	var first [2]*gen.Conn
	for i, c := range clients {
		if err := c.SendChat("one"); err != nil {
			t.Fatal(err)
		}
		first[i] = next()
	}
	if first[0] == first[1] {
		t.Fatal("two connections were handed the same *gen.Conn")
	}
	for i, c := range clients {
		if err := c.SendChat("two"); err != nil {
			t.Fatal(err)
		}
		if got := next(); got != first[i] {
			t.Errorf("client %d: the second message came with another *gen.Conn", i)
		}
	}
	var filtered []*gen.Conn
	api.BroadcastChatFunc("to all", func(c *gen.Conn) bool { filtered = append(filtered, c); return true })
	for _, c := range filtered {
		if c != first[0] && c != first[1] {
			t.Error("a broadcast filter was handed a *gen.Conn the handlers never saw")
		}
	}
	if len(filtered) != 2 {
		t.Errorf("the filter saw %d connections, want 2", len(filtered))
	}
}
