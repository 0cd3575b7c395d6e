package compat

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/gorilla/websocket"

	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/runtime"
)

// waitTimeout bounds each wait for a message from R; never reached when things work.
const waitTimeout = 10 * time.Second

// goPeer is a generated Go client whose received messages arrive on channels.
type goPeer struct {
	c        *gen.Client
	greeting chan string
	chat     chan string
	update   chan gen.Update
	post     chan gen.ChatMessage
	errs     chan error           // bad input the runtime reported (an R value the decoder refused)
	verdicts chan runtime.Version // what OnVersion was told; R never tells it anything
}

// dialGo connects a generated client to the R server, handlers registered before the dial so
// that the update R sends on open is not lost.
func dialGo(t *testing.T, r *rServer) *goPeer {
	t.Helper()
	p := &goPeer{
		greeting: make(chan string, 16),
		chat:     make(chan string, 16),
		update:   make(chan gen.Update, 16),
		post:     make(chan gen.ChatMessage, 16),
		errs:     make(chan error, 16),
		verdicts: make(chan runtime.Version, 1),
	}
	// The generated client announces gen.Fingerprint in the URL, as against our own server.
	p.c = gen.NewClient(runtime.ClientOptions{
		OnVersion: func(_ *runtime.Conn, v runtime.Version) { p.verdicts <- v },
		OnError: func(_ *runtime.Conn, err error) {
			select {
			case p.errs <- err:
			default:
			}
		},
	})
	p.c.OnGreeting(func(_ context.Context, msg string) { p.greeting <- msg })
	p.c.OnChat(func(_ context.Context, msg string) { p.chat <- msg })
	p.c.OnUpdate(func(_ context.Context, msg gen.Update) { p.update <- msg })
	p.c.OnPost(func(_ context.Context, msg gen.ChatMessage) { p.post <- msg })
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := p.c.Dial(ctx, r.wsURL()); err != nil {
		t.Fatalf("dial the R server: %v", err)
	}
	t.Cleanup(func() { _ = p.c.Close() })
	return p
}

// receive waits for the next value on ch, failing the test if the runtime reported an error
// first or nothing came.
func receive[T any](t *testing.T, p *goPeer, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case err := <-p.errs:
		t.Fatalf("waiting for %s, the client reported: %v", what, err)
	case <-time.After(waitTimeout):
		t.Fatalf("no %s from the R server within %v", what, waitTimeout)
	}
	var zero T
	return zero
}

// noErrors fails the test if the runtime reported bad input from R.
func (p *goPeer) noErrors(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.errs:
		t.Errorf("the client reported: %v", err)
	default:
	}
}

func TestGoClientAgainstR(t *testing.T) {
	r := startR(t)

	t.Run("greeting round trip", func(t *testing.T) {
		p := dialGo(t, r)
		if err := p.c.SendGreeting("Hello from Go!"); err != nil {
			t.Fatal(err)
		}
		if got, want := receive(t, p, p.greeting, "greeting"), "Hello from the server!"; got != want {
			t.Errorf("greeting = %q, want %q", got, want)
		}
		p.noErrors(t)
	})

	t.Run("chat reaches two clients, and update counts the never-pruned list", func(t *testing.T) {
		a := dialGo(t, r)
		// R announces the list's length to everyone on each open: a sees its own arrival, then b's.
		first := receive(t, a, a.update, "update for a's own connection")
		b := dialGo(t, r)
		second := receive(t, a, a.update, "update for b's connection")
		if second.Count != first.Count+1 {
			t.Errorf("update counts %d then %d, want one more after b connected", first.Count, second.Count)
		}
		if got := receive(t, b, b.update, "update on b's connection"); got != second {
			t.Errorf("b got update %+v, a got %+v; want the same broadcast", got, second)
		}

		const line = "hello from a Go client, via R — ünïcödé & <tags>"
		if err := a.c.SendChat(line); err != nil {
			t.Fatal(err)
		}
		for name, p := range map[string]*goPeer{"sender": a, "other": b} {
			if got := receive(t, p, p.chat, "chat on the "+name); got != line {
				t.Errorf("%s got chat %q, want %q", name, got, line)
			}
		}

		// The list is never pruned: a closed client still counts, as in the reference.
		if err := b.c.Close(); err != nil {
			t.Fatal(err)
		}
		c := dialGo(t, r)
		if got := receive(t, c, c.update, "update for c's connection"); got.Count != second.Count+1 {
			t.Errorf("after b closed and c connected, count = %d, want %d (closed clients stay in R's list)", got.Count, second.Count+1)
		}
		a.noErrors(t)
	})

	t.Run("post round trip with R's unboxing", func(t *testing.T) {
		sender, other := dialGo(t, r), dialGo(t, r)
		// A raw socket shows what R actually wrote, so the test knows the decoder met the scalar.
		raw := dialRaw(t, r)
		sentAt := time.Date(2026, 11, 27, 15, 4, 5, 0, time.UTC)
		mood := gen.MoodHappy
		cases := []struct {
			name    string
			msg     gen.ChatMessage
			rawTags string // how R writes the tags
		}{
			{"one tag, unboxed to a scalar", gen.ChatMessage{User: "ann", Text: "one tag", Tags: []string{"r"}, SentAt: &sentAt, Mood: &mood}, `"tags":"r"`},
			{"two tags stay a list", gen.ChatMessage{User: "bob", Text: "two tags", Tags: []string{"r", "go"}}, `"tags":["r","go"]`},
			{"no tags", gen.ChatMessage{User: "cy", Text: "none", Tags: []string{}}, `"tags":[]`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if err := sender.c.SendPost(tc.msg); err != nil {
					t.Fatal(err)
				}
				wire := rawNext(t, raw, "post")
				if !strings.Contains(wire, tc.rawTags) {
					t.Errorf("R wrote %s, want it to contain %s", wire, tc.rawTags)
				}
				for name, p := range map[string]*goPeer{"sender": sender, "other": other} {
					got := receive(t, p, p.post, "post on the "+name)
					if diff := cmp.Diff(tc.msg, got, cmpopts.EquateEmpty()); diff != "" {
						t.Errorf("%s got a different post (-sent +got):\n%s", name, diff)
					}
				}
			})
		}
		sender.noErrors(t)
		other.noErrors(t)
	})

	t.Run("the announced fingerprint changes nothing for R", func(t *testing.T) {
		// R upgrades whatever the query, answers no verdict, and the client stays unknown and
		// works as before.
		p := dialGo(t, r)
		if err := p.c.SendGreeting("Hello from Go!"); err != nil {
			t.Fatal(err)
		}
		receive(t, p, p.greeting, "greeting")
		if v := p.c.Runtime().Version(); v != (runtime.Version{Status: runtime.VersionUnknown}) {
			t.Errorf("Version after R answered = %+v, want unknown", v)
		}
		select {
		case v := <-p.verdicts:
			t.Errorf("R sent a verdict: %+v", v)
		default:
		}
		p.noErrors(t)

		// On the wire: a socket that announces and one that does not get the same bytes from R,
		// and the first frame on the announcing one is R's own update, not a verdict.
		announcing := dialRawURL(t, r.wsURL()+"?"+runtime.HandshakeQuery+"="+gen.Fingerprint)
		if first := rawNextAny(t, announcing); !strings.HasPrefix(first, `{"name":"update",`) {
			t.Errorf("R's first frame to an announcing client: %s, want its update", first)
		}
		plain := dialRaw(t, r)
		var answers []string
		for _, ws := range []*websocket.Conn{announcing, plain} {
			if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"name":"greeting","message":"hi","isAmbiorix":true}`)); err != nil {
				t.Fatal(err)
			}
			answers = append(answers, rawNext(t, ws, "greeting"))
		}
		if answers[0] != answers[1] {
			t.Errorf("R answered the announcing socket %s and the plain one %s", answers[0], answers[1])
		}
	})

	t.Run("a call gets no answer from an R peer", func(t *testing.T) {
		// Ambiorix has no calls and ignores names it has no receiver for, so the caller's own
		// deadline is what ends the call.
		p := dialGo(t, r)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		sum, err := p.c.Add(ctx, gen.AddRequest{A: 1, B: 2})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Add = %d, %v; want the context's deadline", sum, err)
		}
		// The ignored call did not cost the connection.
		if err := p.c.SendGreeting("still there?"); err != nil {
			t.Fatal(err)
		}
		receive(t, p, p.greeting, "greeting after the unanswered call")
	})
}

// dialRaw opens a plain gorilla/websocket connection to the R server.
func dialRaw(t *testing.T, r *rServer) *websocket.Conn {
	t.Helper()
	return dialRawURL(t, r.wsURL())
}

func dialRawURL(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial the R server at %s: %v", url, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// rawNextAny returns the next text frame, whatever its name.
func rawNextAny(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	for {
		kind, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for a frame: %v", err)
		}
		if kind == websocket.TextMessage {
			return string(data)
		}
	}
}

// rawNext returns the next text frame whose envelope is named name, skipping others (updates).
func rawNext(t *testing.T, c *websocket.Conn, name string) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	prefix := `{"name":"` + name + `",`
	for {
		kind, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %q: %v", name, err)
		}
		if kind == websocket.TextMessage && strings.HasPrefix(string(data), prefix) {
			return string(data)
		}
	}
}
