package runtime

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// restartable is a server that can be stopped and started again on the
// same address, as a deploy does.
type restartable struct {
	t     *testing.T
	addr  string
	setup func(*Server)
	opts  Options

	mu  sync.Mutex
	rt  *Server
	srv *http.Server
}

func newRestartable(t *testing.T, opts Options, setup func(*Server)) *restartable {
	r := &restartable{t: t, opts: opts, setup: setup}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *restartable) url() string { return "ws://" + r.addr + "/" }

func (r *restartable) start() {
	r.t.Helper()
	addr := r.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	// The port was just freed; another process could take it, but on a
	// test machine it is ours again at once.
	for range 50 {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	rt := NewServer(r.opts)
	if r.setup != nil {
		r.setup(rt)
	}
	srv := &http.Server{Handler: rt}
	go srv.Serve(ln)
	r.mu.Lock()
	r.addr, r.rt, r.srv = ln.Addr().String(), rt, srv
	r.mu.Unlock()
}

func (r *restartable) stop() {
	r.mu.Lock()
	rt, srv := r.rt, r.srv
	r.rt, r.srv = nil, nil
	r.mu.Unlock()
	if rt == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rt.Shutdown(ctx)
	srv.Shutdown(ctx)
}

// A Go client reconnects across a server restart by itself: what it sends
// and calls while the server is down waits in its queue and goes out, in
// order, once it is back; its hooks say what happened.
func TestClientReconnectsAcrossRestart(t *testing.T) {
	got := make(chan string, 16)
	srv := newRestartable(t, Options{}, func(s *Server) {
		On(s, "line", String, func(ctx context.Context, c *Conn, v string) { got <- v })
		OnCall(s, "echo", String, String, func(ctx context.Context, c *Conn, v string) (string, error) { return "echo " + v, nil })
	})
	connects := make(chan struct{}, 4)
	var mu sync.Mutex
	var attempts []int
	c := NewClient(ClientOptions{
		Reconnect: Reconnect{InitialDelay: 20 * time.Millisecond, MaxDelay: 100 * time.Millisecond},
		OnConnect: func(*Conn) { connects <- struct{}{} },
		OnReconnect: func(attempt int, delay time.Duration, err error) {
			mu.Lock()
			attempts = append(attempts, attempt)
			mu.Unlock()
			if delay > 100*time.Millisecond {
				t.Errorf("attempt %d waits %v, more than MaxDelay", attempt, delay)
			}
		},
	})
	if err := c.Dial(context.Background(), srv.url()); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-connects
	if err := Send(c, "line", String, "before"); err != nil {
		t.Fatal(err)
	}
	if v := <-got; v != "before" {
		t.Fatalf("got %q", v)
	}

	srv.stop()
	waitFor(t, func() bool { return c.Status() == StatusConnecting })
	// While the server is down: sends are queued, a call waits.
	for _, line := range []string{"one", "two", "three"} {
		if err := Send(c, "line", String, line); err != nil {
			t.Fatalf("send while away: %v", err)
		}
	}
	reply := make(chan error, 1)
	go func() {
		v, err := Call(context.Background(), c, "echo", String, String, "four")
		if err == nil && v != "echo four" {
			err = errors.New("reply " + v)
		}
		reply <- err
	}()
	// Let a few attempts fail against the closed port first.
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(attempts) >= 3 })

	srv.start()
	select {
	case <-connects:
	case <-time.After(5 * time.Second):
		t.Fatal("the client did not reconnect")
	}
	for _, want := range []string{"one", "two", "three"} {
		select {
		case v := <-got:
			if v != want {
				t.Fatalf("after reconnecting got %q, want %q", v, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q never arrived", want)
		}
	}
	if err := <-reply; err != nil {
		t.Fatalf("call made while away: %v", err)
	}
	if c.Status() != StatusOpen {
		t.Fatalf("status %s", c.Status())
	}
	mu.Lock()
	for i, a := range attempts {
		if a != i+1 {
			t.Errorf("attempts counted %v", attempts)
			break
		}
	}
	mu.Unlock()
}

// The queue is bounded: past QueueLimit a send fails with ErrQueueFull and
// a call with CodeQueueFull; a client that gives up (MaxAttempts) fails the
// calls still queued with CodeClosed, and is closed.
func TestClientQueueLimitAndGivingUp(t *testing.T) {
	srv := newRestartable(t, Options{}, nil)
	c := NewClient(ClientOptions{
		QueueLimit: 2,
		Reconnect:  Reconnect{InitialDelay: 50 * time.Millisecond, MaxDelay: 50 * time.Millisecond, MaxAttempts: 3},
	})
	if err := c.Dial(context.Background(), srv.url()); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv.stop()
	waitFor(t, func() bool { return c.Status() == StatusConnecting })
	if err := Send(c, "x", String, "1"); err != nil {
		t.Fatal(err)
	}
	queued := make(chan error, 1)
	go func() {
		_, err := Call(context.Background(), c, "y", String, String, "2")
		queued <- err
	}()
	waitFor(t, func() bool { c.mu.Lock(); defer c.mu.Unlock(); return len(c.away.queue) == 2 })
	if err := Send(c, "x", String, "3"); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third send: %v, want ErrQueueFull", err)
	}
	_, err := Call(context.Background(), c, "y", String, String, "4")
	var ce *CallError
	if !errors.As(err, &ce) || ce.Code != CodeQueueFull {
		t.Fatalf("call on a full queue: %v", err)
	}
	select {
	case err := <-queued:
		if !errors.As(err, &ce) || ce.Code != CodeClosed {
			t.Fatalf("queued call after giving up: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the client never gave up")
	}
	if s := c.Status(); s != StatusClosed {
		t.Fatalf("status after giving up: %s", s)
	}
	if err := Send(c, "x", String, "5"); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after giving up: %v", err)
	}
}

// A call timing out while queued leaves the queue.
func TestQueuedCallTimesOut(t *testing.T) {
	srv := newRestartable(t, Options{}, nil)
	c := NewClient(ClientOptions{Reconnect: Reconnect{InitialDelay: time.Hour}})
	if err := c.Dial(context.Background(), srv.url()); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv.stop()
	waitFor(t, func() bool { return c.Status() == StatusConnecting })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := Call(ctx, c, "y", String, String, "2")
	var ce *CallError
	if !errors.As(err, &ce) || ce.Code != CodeTimeout {
		t.Fatalf("queued call: %v", err)
	}
	c.mu.Lock()
	n := len(c.away.queue)
	c.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d left in the queue", n)
	}
}

// The waits grow by Factor up to MaxDelay, and jitter takes at most its
// share off.
func TestBackoffDelays(t *testing.T) {
	p := newReconnectPolicy(Reconnect{})
	for attempt, want := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second} {
		if got := p.delay(attempt, func() float64 { return 0 }); got != want {
			t.Errorf("attempt %d: %v, want %v", attempt, got, want)
		}
		if got := p.delay(attempt, func() float64 { return 0.999999 }); got < want/2 || got > want {
			t.Errorf("attempt %d with full jitter: %v, want within [%v, %v]", attempt, got, want/2, want)
		}
	}
	if got := p.delay(30, func() float64 { return 0 }); got != 30*time.Second {
		t.Errorf("attempt 30: %v, want the 30 s cap", got)
	}
	if got := newReconnectPolicy(Reconnect{Jitter: -1}).delay(0, func() float64 { return 0.9 }); got != 500*time.Millisecond {
		t.Errorf("no jitter: %v", got)
	}
}
