package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/runtime"
)

// After some traffic, GET /metrics on the chat's own port shows per-name message counters and
// handler latency histograms, as `curl <chat>/metrics` would.
func TestMetricsAfterTraffic(t *testing.T) {
	chat := startChat(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan string, 16)
	c := gen.NewClient(runtime.ClientOptions{Logger: quietLogger()})
	c.OnChat(func(_ context.Context, msg string) { got <- msg })
	if err := c.Dial(ctx, chat.wsURL()); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, line := range []string{"one", "two", "three"} {
		if err := c.SendChat(line); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
		case <-ctx.Done():
			t.Fatal("a chat line never came back")
		}
	}
	if sum, err := c.Add(ctx, gen.AddRequest{A: 1, B: 2}); err != nil || sum != 3 {
		t.Fatalf("add: %d, %v", sum, err)
	}

	text := get(t, chat.httpURL()+"metrics", http.StatusOK)
	for _, want := range []string{
		`ambigen_messages_received_total{name="chat"} 3`,
		`ambigen_messages_sent_total{name="chat"} 3`,
		`ambigen_handler_duration_seconds_count{name="chat"} 3`,
		`ambigen_handler_duration_seconds_bucket{name="chat",le="+Inf"} 3`,
		`ambigen_handler_duration_seconds_count{name="add"} 1`,
		`ambigen_calls_total{code="ok",name="add",side="handled"} 1`,
		`ambigen_connections_active 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", text)
	}
}

// -metrics=false serves no /metrics.
func TestMetricsOff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(ln, quietLogger(), config{presenceEvery: defaultPresenceInterval})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.shutdown(ctx)
	}()
	get(t, "http://"+ln.Addr().String()+"/metrics", http.StatusNotFound)
}

func get(t *testing.T, url string, status int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("GET %s: %s, want %d", url, resp.Status, status)
	}
	return string(body)
}
