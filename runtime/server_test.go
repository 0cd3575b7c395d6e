package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestFallbackServesNonWebSocketRequests(t *testing.T) {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>chat</html>") })
	ts := startServer(t, Options{Fallback: page}, referenceHandlers)
	resp, err := http.Get(ts.http.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "<html>chat</html>" {
		t.Fatalf("GET / = %q", body)
	}
	// The socket lives on the same path.
	ws := dialRaw(t, ts.url)
	send(t, ws, probe)
	if got := readText(t, ws, 5*time.Second); got != greetingReply {
		t.Fatalf("got %s", got)
	}

	bare := startServer(t, Options{}, nil)
	resp, err = http.Get(bare.http.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("no fallback: %d, want 404", resp.StatusCode)
	}
}

func TestAuthenticateAndOrigin(t *testing.T) {
	type user struct{ Name string }
	ts := startServer(t, Options{
		Authenticate: func(r *http.Request) (any, error) {
			if tok := r.Header.Get("Authorization"); tok == "Bearer alice" {
				return user{"alice"}, nil
			}
			return nil, errors.New("no token")
		},
		CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == "https://trusted.example" },
	}, func(s *Server) {
		s.Handle("whoami", func(ctx context.Context, c *Conn, _ json.RawMessage) error {
			return c.Send("whoami", c.Identity().(user).Name)
		})
	})
	_, resp, err := websocket.DefaultDialer.Dial(ts.url, nil)
	if err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a token: %v %v, want 401", err, resp)
	}
	hdr := http.Header{"Authorization": {"Bearer alice"}}
	ws, _, err := websocket.DefaultDialer.Dial(ts.url, hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	send(t, ws, `{"name":"whoami","isAmbiorix":true}`)
	if got, want := readText(t, ws, 5*time.Second), `{"name":"whoami","message":"alice","isAmbiorix":true}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	hdr.Set("Origin", "https://trusted.example")
	ws2, _, err := websocket.DefaultDialer.Dial(ts.url, hdr)
	if err != nil {
		t.Fatalf("allowed origin refused: %v", err)
	}
	ws2.Close()
	hdr.Set("Origin", "https://other.example")
	if _, resp, err := websocket.DefaultDialer.Dial(ts.url, hdr); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("other origin: %v, want 403", err)
	}
}

func TestRawMode(t *testing.T) {
	ts := startServer(t, Options{Raw: func(ctx context.Context, ws *websocket.Conn) {
		for {
			mt, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if err := ws.WriteMessage(mt, append([]byte("raw:"), b...)); err != nil {
				return
			}
		}
	}}, referenceHandlers)
	ws := dialRaw(t, ts.url)
	send(t, ws, probe)
	if got := readText(t, ws, 5*time.Second); got != "raw:"+probe {
		t.Fatalf("got %s: the protocol handled a raw connection", got)
	}
	if n := ts.Len(); n != 0 {
		t.Fatalf("raw connection in the registry (%d)", n)
	}
	// Shutdown closes raw connections too.
	go ts.Shutdown(context.Background())
	if code, _ := closeCode(t, ws, 5*time.Second); code != websocket.CloseGoingAway {
		t.Fatalf("raw close code %d, want 1001", code)
	}
}

func TestShutdown(t *testing.T) {
	started := make(chan struct{})
	finished := make(chan struct{})
	disconnected := make(chan error, 4)
	ts := startServer(t, Options{OnDisconnect: func(c *Conn, err error) { disconnected <- err }}, func(s *Server) {
		s.Handle("work", func(ctx context.Context, c *Conn, _ json.RawMessage) error {
			close(started)
			<-ctx.Done() // shutdown cancels handlers' contexts
			time.Sleep(50 * time.Millisecond)
			close(finished)
			return nil
		})
	})
	idle := dialRaw(t, ts.url)
	busy := dialRaw(t, ts.url)
	send(t, busy, `{"name":"work","isAmbiorix":true}`)
	<-started

	// The peers read, as browsers do, so they answer the close frame.
	codes := make(chan int, 2)
	for _, ws := range []*websocket.Conn{idle, busy} {
		go func() {
			code, _ := closeCode(t, ws, 5*time.Second)
			codes <- code
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-finished:
	default:
		t.Fatal("Shutdown returned before the handler finished")
	}
	for range 2 {
		if code := <-codes; code != websocket.CloseGoingAway {
			t.Fatalf("close code %d, want 1001", code)
		}
	}
	for range 2 {
		if err := <-disconnected; !errors.Is(err, ErrShutdown) {
			t.Fatalf("disconnect cause %v, want ErrShutdown", err)
		}
	}
	if ts.Len() != 0 || ts.Stats().Active != 0 {
		t.Fatalf("after Shutdown: %d registered, stats %+v", ts.Len(), ts.Stats())
	}
	if _, resp, err := websocket.DefaultDialer.Dial(ts.url, nil); err == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after Shutdown: %v, want 503", err)
	}
}

// A peer that stops answering pings is dropped after the pong timeout.
func TestPongTimeoutFreesDeadPeers(t *testing.T) {
	gone := make(chan error, 1)
	ts := startServer(t, Options{
		PingInterval: 30 * time.Millisecond,
		PongTimeout:  100 * time.Millisecond,
		OnDisconnect: func(c *Conn, err error) { gone <- err },
	}, nil)
	// A gorilla connection answers pings only while something reads it;
	// this one never reads, like a peer that vanished.
	ws := dialRaw(t, ts.url)
	_ = ws
	select {
	case err := <-gone:
		var ne interface{ Timeout() bool }
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("cause %v, want a read timeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("dead peer not dropped")
	}

	// A live client (ours answers pings on its reader) stays connected.
	c, err := Dial(context.Background(), ts.url, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(400 * time.Millisecond)
	select {
	case err := <-gone:
		t.Fatalf("live client dropped: %v", err)
	default:
	}
	if ts.Len() != 1 {
		t.Fatalf("registry %d, want 1", ts.Len())
	}
}

func TestRegistryAndFilteredBroadcast(t *testing.T) {
	connected := make(chan *Conn, 3)
	ts := startServer(t, Options{OnConnect: func(c *Conn) { connected <- c }}, nil)
	var clients []*Client
	var conns []*Conn
	got := make(chan string, 16)
	for i := range 3 {
		c := NewClient(ClientOptions{})
		name := string(rune('a' + i))
		On(c, "news", String, func(ctx context.Context, _ *Conn, msg string) { got <- name + ":" + msg })
		if err := c.Dial(context.Background(), ts.url); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		conns = append(conns, <-connected)
	}
	list := ts.Clients()
	if len(list) != 3 {
		t.Fatalf("Clients() = %d", len(list))
	}
	for i := range list {
		if list[i] != conns[i] {
			t.Fatal("Clients() not in connection order")
		}
	}
	sender := conns[0]
	if n, err := Broadcast(ts.Server, "news", String, "hi", func(c *Conn) bool { return c != sender }); n != 2 || err != nil {
		t.Fatalf("filtered broadcast reached %d (%v), want 2", n, err)
	}
	recv := map[string]bool{<-got: true, <-got: true}
	if !recv["b:hi"] || !recv["c:hi"] {
		t.Fatalf("received %v", recv)
	}
	select {
	case m := <-got:
		t.Fatalf("the excluded sender got %s", m)
	case <-time.After(50 * time.Millisecond):
	}

	clients[1].Close()
	waitFor(t, func() bool { return ts.Len() == 2 })
	if err := conns[1].Send("news", "late"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send on a closed conn: %v, want ErrClosed", err)
	}
	if n, err := ts.Broadcast("news", "all"); n != 2 || err != nil {
		t.Fatalf("broadcast after a close reached %d (%v), want 2", n, err)
	}
	<-got
	<-got
	clients[0].Close()
	clients[2].Close()
	if st := ts.Stats(); st.Connections != 3 {
		t.Fatalf("Stats.Connections = %d", st.Connections)
	}
}

func TestRegistration(t *testing.T) {
	c := NewClient(ClientOptions{})
	if err := On(c, "x", String, func(context.Context, *Conn, string) {}); err != nil {
		t.Fatal(err)
	}
	if err := OnCall(c, "x", String, String, func(context.Context, *Conn, string) (string, error) { return "", nil }); !errors.Is(err, ErrDuplicateHandler) || !strings.Contains(err.Error(), `"x"`) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := c.Handle("", func(context.Context, *Conn, json.RawMessage) error { return nil }); err == nil {
		t.Fatal("empty name accepted")
	}
	// Before Dial there is no connection; sends fail without panicking.
	if err := Send(c.Conn(), "x", String, "v"); !errors.Is(err, ErrClosed) {
		t.Fatalf("send before Dial: %v", err)
	}
	if _, err := Call(context.Background(), c.Conn(), "x", String, String, "v"); !errors.Is(err, ErrClosed) {
		t.Fatalf("call before Dial: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// The Go client handles what the server sends, including bad input, like
// the server does.
func TestClientBadInputAndRedial(t *testing.T) {
	connected := make(chan *Conn, 2)
	ts := startServer(t, Options{OnConnect: func(c *Conn) { connected <- c }}, nil)
	errs := newErrorLog()
	got := make(chan int64, 1)
	// Without reconnection, a dropped client is dialled again by hand.
	c := NewClient(ClientOptions{OnError: errs.hook, Reconnect: Reconnect{Off: true}})
	On(c, "n", Int, func(ctx context.Context, _ *Conn, v int64) { got <- v })
	if err := c.Dial(context.Background(), ts.url); err != nil {
		t.Fatal(err)
	}
	if err := c.Dial(context.Background(), ts.url); err == nil {
		t.Fatal("second Dial while connected succeeded")
	}
	sc := <-connected
	sc.Send("n", "not a number")
	if me := errs.next(t); me.Kind != KindPayload || me.Name != "n" {
		t.Fatalf("client hook: %v", me)
	}
	sc.Send("n", 7)
	if v := <-got; v != 7 {
		t.Fatalf("got %d", v)
	}
	sc.Close(websocket.CloseNormalClosure, "")
	<-c.Conn().Done()
	if err := c.Dial(context.Background(), ts.url); err != nil {
		t.Fatalf("redial: %v", err)
	}
	(<-connected).Send("n", 8)
	if v := <-got; v != 8 {
		t.Fatalf("after redial got %d", v)
	}
	c.Close()
}
