package main

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/runtime"
)

// dialChat joins the chat with the generated Go client; handlers are registered before Dial so
// that nothing the server sends on join (the update) is missed.
func dialChat(t *testing.T, c *testChat, register func(*gen.Client)) *gen.Client {
	t.Helper()
	cl := gen.NewClient(runtime.ClientOptions{Logger: quietLogger()})
	if register != nil {
		register(cl)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.Dial(ctx, c.wsURL()); err != nil {
		t.Fatalf("dial %s: %v", c.wsURL(), err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s within 5s", what)
		panic("unreachable")
	}
}

func TestChatWithGoClients(t *testing.T) {
	chat := startChat(t)

	aliceChat := make(chan string, 16)
	aliceGreeting := make(chan string, 4)
	aliceUpdates := make(chan int64, 16)
	alice := dialChat(t, chat, func(cl *gen.Client) {
		cl.OnChat(func(_ context.Context, msg string) { aliceChat <- msg })
		cl.OnGreeting(func(_ context.Context, msg string) { aliceGreeting <- msg })
		cl.OnUpdate(func(_ context.Context, u gen.Update) { aliceUpdates <- u.Count })
	})
	if n := recv(t, aliceUpdates, "update after alice joined"); n != 1 {
		t.Errorf("first update: count = %d, want 1", n)
	}

	bobChat := make(chan string, 16)
	bob := dialChat(t, chat, func(cl *gen.Client) {
		cl.OnChat(func(_ context.Context, msg string) { bobChat <- msg })
	})
	if n := recv(t, aliceUpdates, "update after bob joined"); n != 2 {
		t.Errorf("update after bob joined: count = %d, want 2", n)
	}

	t.Run("chat reaches everyone, the sender included", func(t *testing.T) {
		if err := alice.SendChat("hi from alice"); err != nil {
			t.Fatal(err)
		}
		if got := recv(t, aliceChat, "chat echo to alice"); got != "hi from alice" {
			t.Errorf("alice got %q", got)
		}
		if got := recv(t, bobChat, "chat to bob"); got != "hi from alice" {
			t.Errorf("bob got %q", got)
		}
	})

	t.Run("greeting is answered to the sender only", func(t *testing.T) {
		if err := alice.SendGreeting("Hello from Go!"); err != nil {
			t.Fatal(err)
		}
		if got := recv(t, aliceGreeting, "greeting reply"); got != greetingReply {
			t.Errorf("greeting reply = %q, want %q", got, greetingReply)
		}
	})

	t.Run("add", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, tc := range []struct{ a, b, want int64 }{{2, 3, 5}, {-7, 7, 0}, {math.MaxInt64, math.MinInt64, -1}} {
			got, err := bob.Add(ctx, gen.AddRequest{A: tc.a, B: tc.b})
			if err != nil || got != tc.want {
				t.Errorf("Add(%d, %d) = %d, %v; want %d", tc.a, tc.b, got, err, tc.want)
			}
		}
		_, err := bob.Add(ctx, gen.AddRequest{A: math.MaxInt64, B: 1})
		var ce *runtime.CallError
		if !errors.As(err, &ce) || ce.Code != runtime.CodeInvalidArgument {
			t.Errorf("Add(MaxInt64, 1) error = %v, want a *runtime.CallError with code %q", err, runtime.CodeInvalidArgument)
		}
	})

	t.Run("leaving updates the count", func(t *testing.T) {
		if err := bob.Close(); err != nil {
			t.Fatal(err)
		}
		if n := recv(t, aliceUpdates, "update after bob left"); n != 1 {
			t.Errorf("update after bob left: count = %d, want 1", n)
		}
	})
}

func TestPagesAndStaticFiles(t *testing.T) {
	chat := startChat(t)
	for _, tc := range []struct{ path, contains string }{
		{"/", `src="/static/app.js"`},
		{"/ambiorix", `<script src="/static/ambiorix.js"></script>`},
		{"/static/app.js", "chat"},
		{"/static/ambiorix.js", "Ambiorix"},
	} {
		resp, err := http.Get("http://" + chat.addr + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), tc.contains) {
			t.Errorf("GET %s: status %d, body contains %q: %v", tc.path, resp.StatusCode, tc.contains, strings.Contains(string(body), tc.contains))
		}
	}
	resp, err := http.Get("http://" + chat.addr + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nope: status %d, want 404", resp.StatusCode)
	}
}
