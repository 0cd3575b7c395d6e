package runtime

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A refused upgrade reaches a Go client as a *HandshakeError with the
// status and the reason the server chose: Authenticate's Refuse, a plain
// Authenticate error (401, its text kept on the server), and a foreign
// Origin (403, before Authenticate runs).
func TestRefusedHandshakes(t *testing.T) {
	var authRuns atomic.Int64
	ts := startServer(t, Options{Authenticate: func(r *http.Request) (any, error) {
		authRuns.Add(1)
		switch r.URL.Query().Get("user") {
		case "":
			return nil, errors.New("no session cookie; token table at 10.0.0.7")
		case "mallory":
			return nil, Refuse(http.StatusForbidden, "banned until Friday")
		}
		return r.URL.Query().Get("user"), nil
	}}, nil)
	ctx := context.Background()
	cases := []struct {
		query, origin string
		status        int
		reason        string
	}{
		{"", "", 401, ""},
		{"?user=mallory", "", 403, "banned until Friday"},
		{"?user=ann", "http://evil.example", 403, "origin not allowed"},
	}
	for _, tc := range cases {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		before := authRuns.Load()
		c := NewClient(ClientOptions{Header: h})
		err := c.Dial(ctx, ts.url+tc.query)
		var he *HandshakeError
		if !errors.As(err, &he) || he.Status != tc.status || he.Reason != tc.reason || !he.Refused() {
			t.Errorf("%s %s: %v, want %d %q", tc.query, tc.origin, err, tc.status, tc.reason)
			continue
		}
		if c.Status() != StatusRefused || c.Refusal() != he {
			t.Errorf("%s: status %s, refusal %v", tc.query, c.Status(), c.Refusal())
		}
		if tc.origin != "" && authRuns.Load() != before {
			t.Errorf("Authenticate ran for a foreign origin")
		}
		if strings.Contains(err.Error(), "10.0.0.7") {
			t.Errorf("Authenticate's own text reached the client: %v", err)
		}
	}
	if got := ts.Stats().Refused; got != 3 {
		t.Errorf("Stats().Refused = %d, want 3", got)
	}
	c, err := Dial(ctx, ts.url+"?user=ann", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// The probe answers a plain request with what an upgrade would get: 204,
// or the refusal with its reason, readable by the requesting origin.
func TestProbe(t *testing.T) {
	ts := startServer(t, Options{
		Fallback: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "the page") }),
		Authenticate: func(r *http.Request) (any, error) {
			if c, err := r.Cookie("session"); err == nil && c.Value == "ok" {
				return "ann", nil
			}
			return nil, Refuse(http.StatusUnauthorized, "log in first")
		},
		CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == "http://friend.example" },
	}, nil)
	base := "http" + strings.TrimPrefix(ts.url, "ws")
	get := func(url, origin, cookie string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", url, nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := get(base+"?x=1", "", ""); resp.StatusCode != 200 || body != "the page" {
		t.Errorf("without the probe: %d %q", resp.StatusCode, body)
	}
	resp, body := get(base+"?x=1&"+ProbeQuery+"=1", "", "")
	if resp.StatusCode != 401 || body != "log in first" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("probe without a session: %d %q", resp.StatusCode, body)
	}
	resp, body = get(base+"?"+ProbeQuery, "http://friend.example", "session=ok")
	if resp.StatusCode != 204 || body != "" {
		t.Errorf("probe with a session: %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://friend.example" || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("probe CORS headers: %v", resp.Header)
	}
	resp, body = get(base+"?"+ProbeQuery, "http://evil.example", "session=ok")
	if resp.StatusCode != 403 || body != "origin not allowed" || resp.Header.Get("Access-Control-Allow-Origin") != "http://evil.example" {
		t.Errorf("probe from a foreign origin: %d %q %v", resp.StatusCode, body, resp.Header)
	}
}

// A reconnecting client that the server starts refusing stops at the first
// refusal instead of retrying in a loop, says so through OnRefused and its
// status, and fails what was queued.
func TestReconnectStopsAtRefusal(t *testing.T) {
	var open atomic.Bool
	open.Store(true)
	var upgrades atomic.Int64
	srv := newRestartable(t, Options{Authenticate: func(r *http.Request) (any, error) {
		upgrades.Add(1)
		if !open.Load() {
			return nil, Refuse(http.StatusForbidden, "closed for maintenance")
		}
		return nil, nil
	}}, nil)
	refused := make(chan *HandshakeError, 2)
	c := NewClient(ClientOptions{
		Reconnect: Reconnect{InitialDelay: 10 * time.Millisecond, MaxDelay: 10 * time.Millisecond},
		OnRefused: func(err *HandshakeError) { refused <- err },
	})
	if err := c.Dial(context.Background(), srv.url()); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	open.Store(false)
	srv.stop()
	srv.start()
	var he *HandshakeError
	select {
	case he = <-refused:
	case <-time.After(5 * time.Second):
		t.Fatal("OnRefused never ran")
	}
	if he.Status != 403 || he.Reason != "closed for maintenance" {
		t.Fatalf("refusal %v", he)
	}
	if c.Status() != StatusRefused {
		t.Fatalf("status %s", c.Status())
	}
	n := upgrades.Load()
	// At 10 ms between attempts, a loop would have made dozens by now.
	time.Sleep(300 * time.Millisecond)
	if m := upgrades.Load(); m != n || n != 2 {
		t.Fatalf("upgrades: %d at the refusal, %d later; want 2 (the first dial, one refused attempt)", n, m)
	}
	if err := Send(c, "x", String, "y"); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after refusal: %v", err)
	}
	// A new Dial tries again.
	open.Store(true)
	if err := c.Dial(context.Background(), srv.url()); err != nil || c.Status() != StatusOpen {
		t.Fatalf("Dial after refusal: %v, %s", err, c.Status())
	}
}

// A message or call that no handler takes is counted and logged, not
// silently lost.
func TestUnhandledIsVisible(t *testing.T) {
	logged := &syncWriter{}
	logger := slog.New(slog.NewTextHandler(logged, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ts := startServer(t, Options{Logger: logger}, func(s *Server) {
		On(s, "known", String, func(ctx context.Context, c *Conn, v string) {})
	})
	ws := dialRaw(t, ts.url)
	send(t, ws, `{"name":"typo","message":1,"isAmbiorix":true}`)
	send(t, ws, `{"name":"nocall","message":1,"isAmbiorix":true,"id":"7"}`)
	if got := readText(t, ws, 5*time.Second); !strings.Contains(got, `"code":"unimplemented"`) {
		t.Fatalf("call answered %s", got)
	}
	waitFor(t, func() bool { return ts.Stats().Unhandled == 2 })
	out := logged.String()
	for _, want := range []string{`msg="ambigen: no handler for a message; it was dropped"`, "name=typo", "name=nocall call=true"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// Hooks added by method run after the option's, in order, each with the
// connection; a panicking one does not keep the next from running.
func TestHooksAddedByMethod(t *testing.T) {
	events := make(chan string, 16)
	users := NewAuth(func(r *http.Request) (string, error) { return "ann", nil })
	ts := startServer(t, Options{
		Authenticate: users.Authenticate,
		OnConnect:    func(c *Conn) { events <- "option connect" },
		OnDisconnect: func(c *Conn, err error) { events <- "option disconnect" },
	}, func(s *Server) {
		s.OnConnect(func(c *Conn) { events <- "first connect" })
		s.OnConnect(func(c *Conn) { panic("hook") })
		s.OnConnect(func(c *Conn) { events <- "third connect " + users.Of(c) })
		s.OnDisconnect(func(c *Conn, err error) { events <- "first disconnect" })
	})
	ws := dialRaw(t, ts.url)
	for _, want := range []string{"option connect", "first connect", "third connect ann"} {
		if got := <-events; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	ws.Close()
	for _, want := range []string{"option disconnect", "first disconnect"} {
		if got := <-events; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	waitFor(t, func() bool { return ts.Stats().HookPanics == 1 })
}

// Auth gives the identity back with its type.
func TestAuthKeepsTheType(t *testing.T) {
	type user struct{ Name string }
	users := NewAuth(func(r *http.Request) (*user, error) { return &user{r.URL.Query().Get("u")}, nil })
	others := NewAuth(func(r *http.Request) (int, error) { return 7, nil })
	got := make(chan *Conn, 1)
	ts := startServer(t, Options{Authenticate: users.Authenticate, OnConnect: func(c *Conn) { got <- c }}, nil)
	dialRaw(t, ts.url+"?u=ann")
	c := <-got
	if u := users.Of(c); u == nil || u.Name != "ann" {
		t.Fatalf("users.Of = %v", u)
	}
	if n, ok := others.Lookup(c); ok || n != 0 {
		t.Fatalf("others.Lookup = %d, %v", n, ok)
	}
	if u, ok := users.Lookup(nil); ok || u != nil {
		t.Fatalf("users.Lookup(nil) = %v, %v", u, ok)
	}
}

// syncWriter is a log buffer that the test reads while connections write.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
