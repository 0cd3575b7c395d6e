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

// A ChatMessage whose mood is not one of the schema's is refused by the
// generated API, with the field's path, on every way out: nothing is sent,
// so no client rejects a whole message over it. The next good message is the
// first a client receives.
func TestGeneratedAPIRefusesBadEnum(t *testing.T) {
	srv := runtime.NewServer(runtime.Options{})
	api := gen.Serve(srv)
	conns := make(chan *gen.Conn, 1)
	api.OnConnect(func(_ context.Context, c *gen.Conn) { conns <- c })
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := make(chan gen.ChatMessage, 4)
	c := gen.NewClient(runtime.ClientOptions{})
	c.OnPost(func(ctx context.Context, m gen.ChatMessage) { got <- m })
	if err := c.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/"); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var conn *gen.Conn
	select {
	case conn = <-conns:
	case <-ctx.Done():
		t.Fatal("the server never saw the client")
	}

	blank := gen.Mood("")
	bad := gen.ChatMessage{User: "ann", Text: "hi", Tags: []string{}, Mood: &blank}
	const want = `mood: "" is not one of "happy", "sad", "neutral"`
	if err := c.SendPost(bad); err == nil || err.Error() != want {
		t.Errorf("Client.SendPost: %v, want %s", err, want)
	}
	if n, err := api.BroadcastPost(bad); n != 0 || err == nil || err.Error() != want {
		t.Errorf("BroadcastPost: %d, %v, want 0 and %s", n, err, want)
	}
	if n, err := api.BroadcastPostFunc(bad, func(*gen.Conn) bool { return true }); n != 0 || err == nil {
		t.Errorf("BroadcastPostFunc: %d, %v", n, err)
	}
	if err := conn.SendPost(bad); err == nil || err.Error() != want {
		t.Errorf("Conn.SendPost: %v, want %s", err, want)
	}
	happy := gen.MoodHappy
	good := gen.ChatMessage{User: "ann", Text: "hi", Tags: []string{}, Mood: &happy}
	if n, err := api.BroadcastPost(good); n != 1 || err != nil {
		t.Fatalf("BroadcastPost: %d, %v", n, err)
	}
	select {
	case m := <-got:
		if m.Mood == nil || *m.Mood != gen.MoodHappy {
			t.Errorf("the first message the client got has mood %v", m.Mood)
		}
	case <-ctx.Done():
		t.Fatal("the good message never came")
	}
}
