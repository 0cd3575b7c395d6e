package metrics_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ambigen/ambigen/metrics"
	"github.com/ambigen/ambigen/runtime"
)

// A server instrumented with the collector, scraped over HTTP by
// Prometheus's own handler after real traffic, shows per-name counters,
// latency histograms, call outcomes, errors by kind and the runtime's
// totals.
func TestScrapeAfterTraffic(t *testing.T) {
	rt := runtime.NewServer(runtime.Options{})
	m := metrics.New(metrics.Options{})
	m.Instrument(rt)
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", rt)
	hs := httptest.NewServer(mux)
	defer hs.Close()
	defer rt.Shutdown(context.Background())
	wsURL := "ws" + strings.TrimPrefix(hs.URL, "http") + "/"

	runtime.On(rt, "chat", runtime.String, func(ctx context.Context, c *runtime.Conn, v string) {
		time.Sleep(2 * time.Millisecond)
		runtime.Broadcast(rt, "news", runtime.String, v, nil)
	})
	runtime.OnCall(rt, "add", runtime.List(runtime.Int), runtime.Int, func(ctx context.Context, c *runtime.Conn, v []int64) (int64, error) {
		if len(v) == 0 {
			return 0, runtime.Errorf(runtime.CodeFailedPrecondition, "nothing to add")
		}
		// The server asks the client before answering: a call made.
		return runtime.Call(ctx, c, "double", runtime.Int, runtime.Int, v[0]+v[1])
	})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	news := make(chan string, 16)
	var clients []*runtime.Client
	for range 2 {
		c := runtime.NewClient(runtime.ClientOptions{})
		runtime.On(c, "news", runtime.String, func(ctx context.Context, _ *runtime.Conn, v string) { news <- v })
		runtime.OnCall(c, "double", runtime.Int, runtime.Int, func(ctx context.Context, _ *runtime.Conn, v int64) (int64, error) { return 2 * v, nil })
		if err := c.Dial(ctx, wsURL); err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	for _, line := range []string{"one", "two", "three"} {
		if err := runtime.Send(clients[0], "chat", runtime.String, line); err != nil {
			t.Fatal(err)
		}
	}
	for range 6 {
		select {
		case <-news:
		case <-ctx.Done():
			t.Fatal("the news never came")
		}
	}
	if n, err := runtime.Call(ctx, clients[1], "add", runtime.List(runtime.Int), runtime.Int, []int64{2, 3}); err != nil || n != 10 {
		t.Fatalf("add: %d, %v", n, err)
	}
	var ce *runtime.CallError
	if _, err := runtime.Call(ctx, clients[1], "add", runtime.List(runtime.Int), runtime.Int, nil); !errors.As(err, &ce) {
		t.Fatalf("empty add: %v", err)
	}
	if _, err := runtime.Call(ctx, clients[1], "add", runtime.String, runtime.Int, "two"); !errors.As(err, &ce) {
		t.Fatalf("bad add: %v", err)
	}
	// Bad input and a name nobody handles, from a raw socket.
	ws, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.WriteMessage(websocket.TextMessage, []byte(`{oops`))
	ws.WriteMessage(websocket.TextMessage, []byte(`{"name":"nobody","message":1,"isAmbiorix":true}`))
	ws.Close()
	for rt.Stats().Unhandled < 1 || rt.Stats().Rejected < 2 {
		if ctx.Err() != nil {
			t.Fatalf("the raw socket's messages were not counted: %+v", rt.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}

	resp, err := http.Get(hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	chatFrame := len(`{"name":"chat","message":"three","isAmbiorix":true}`) + len(`{"name":"chat","message":"one","isAmbiorix":true}`) + len(`{"name":"chat","message":"two","isAmbiorix":true}`)
	newsBytes := 2 * (len(`{"name":"news","message":"three","isAmbiorix":true}`) + len(`{"name":"news","message":"one","isAmbiorix":true}`) + len(`{"name":"news","message":"two","isAmbiorix":true}`))
	for _, want := range []string{
		`ambigen_messages_received_total{name="chat"} 3`,
		`ambigen_received_bytes_total{name="chat"} ` + itoa(chatFrame),
		`ambigen_messages_sent_total{name="news"} 6`,
		`ambigen_sent_bytes_total{name="news"} ` + itoa(newsBytes),
		`ambigen_handler_duration_seconds_count{name="chat"} 3`,
		`ambigen_handler_duration_seconds_bucket{name="chat",le="+Inf"} 3`,
		`ambigen_handler_duration_seconds_bucket{name="chat",le="5e-05"} 0`,
		`ambigen_messages_received_total{name="add"} 3`,
		`ambigen_calls_total{code="ok",name="add",side="handled"} 1`,
		`ambigen_calls_total{code="failed_precondition",name="add",side="handled"} 1`,
		`ambigen_calls_total{code="invalid_argument",name="add",side="handled"} 1`,
		`ambigen_calls_total{code="ok",name="double",side="made"} 1`,
		`ambigen_call_duration_seconds_count{name="double"} 1`,
		`ambigen_messages_sent_total{name="double"} 1`,
		`ambigen_connections_total 3`,
		`ambigen_unhandled_messages_total 1`,
		`ambigen_errors_total{kind="malformed"} 1`,
		`ambigen_errors_total{kind="payload"} 1`,
		`ambigen_refused_upgrades_total 0`,
		`ambigen_rate_limit_closes_total 0`,
		`ambigen_slow_consumer_closes_total 0`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if regexp.MustCompile(`name="nobody"`).MatchString(text) {
		t.Error("a name nobody handles got series of its own")
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", text)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// Counting a message whose name has been seen allocates nothing, in and out.
func TestCountingAllocatesNothing(t *testing.T) {
	m := metrics.New(metrics.Options{})
	next := func(ctx context.Context, msg runtime.Message) (json.RawMessage, error) { return nil, nil }
	recv, send := m.WrapReceive(next), m.WrapSend(next)
	msg := runtime.Message{Name: "chat", Payload: json.RawMessage(`"hi"`), Size: 48, Recipients: 1}
	call := msg
	call.Call = true
	ctx := context.Background()
	recv(ctx, msg)
	send(ctx, call)
	if n := testing.AllocsPerRun(100, func() {
		recv(ctx, msg)
		recv(ctx, call)
		send(ctx, msg)
		send(ctx, call)
	}); n != 0 {
		t.Errorf("%.1f allocations per round of four messages", n)
	}
}

// Past MaxNames, names share the series "other".
func TestNamesAreBounded(t *testing.T) {
	m := metrics.New(metrics.Options{MaxNames: 2})
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	send := m.WrapSend(func(ctx context.Context, msg runtime.Message) (json.RawMessage, error) { return nil, nil })
	for _, name := range []string{"a", "b", "c", "d", "a"} {
		send(context.Background(), runtime.Message{Name: name, Recipients: 1})
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "ambigen_messages_sent_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			got[s.GetLabel()[0].GetValue()] = s.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"a": 2, "b": 1, metrics.OtherName: 2}
	if len(got) != len(want) {
		t.Fatalf("series %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v, want %v", k, got[k], v)
		}
	}
}

// The runtime does not depend on Prometheus: only this package does.
func TestRuntimeDoesNotImportPrometheus(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/ambigen/ambigen/runtime", "github.com/ambigen/ambigen/gen").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "prometheus") {
		t.Errorf("runtime or gen depends on Prometheus:\n%s", out)
	}
}
