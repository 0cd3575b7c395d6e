package main

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"
)

// testChat is one chat server started by a test, on a loopback address it can be restarted on.
type testChat struct {
	t          *testing.T
	addr       string   // host:port, stable across restarts
	compatible []string // the server's -compatible list

	mu  sync.Mutex
	srv *server // nil while stopped
}

// startChat serves the chat on a free loopback port and stops it when the test ends.
func startChat(t *testing.T) *testChat {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return chatOn(t, ln, nil)
}

// chatOn serves the chat on ln, listing compatible as -compatible does, and stops it when the
// test ends.
func chatOn(t *testing.T, ln net.Listener, compatible []string) *testChat {
	t.Helper()
	c := &testChat{t: t, addr: ln.Addr().String(), compatible: compatible, srv: serve(ln, quietLogger(), config{presenceEvery: defaultPresenceInterval, compatible: compatible, metrics: true})}
	t.Cleanup(c.stop)
	return c
}

// quietLogger keeps the runtime's warnings (which may come after a test has finished, when
// t.Log would panic) out of the test output.
func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func (c *testChat) httpURL() string { return "http://" + c.addr + "/" }
func (c *testChat) wsURL() string   { return "ws://" + c.addr + "/" }

// stop shuts the server down the way Ctrl-C does; stopping twice is harmless.
func (c *testChat) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.srv.shutdown(ctx); err != nil {
		c.t.Errorf("shutdown: %v", err)
	}
	c.srv = nil
}

// restart stops the server and starts a fresh one on the same address, as a redeploy does.
func (c *testChat) restart() {
	c.t.Helper()
	c.stop()
	ln := listenAgain(c.t, c.addr)
	c.mu.Lock()
	c.srv = serve(ln, quietLogger(), config{presenceEvery: defaultPresenceInterval, compatible: c.compatible, metrics: true})
	c.mu.Unlock()
}

// listenAgain listens on an address a server just released. That succeeds on Linux because Go
// sets SO_REUSEADDR, but allow a moment in case the kernel is still tearing the socket down.
func listenAgain(t *testing.T, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln
		}
	}
	t.Fatalf("listen again on %s: %v", addr, err)
	return nil
}

// clients is how many WebSocket connections the running server holds.
func (c *testChat) clients() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.srv == nil {
		return 0
	}
	return c.srv.rt.Len()
}
