// Command server is the Go peer of the TypeScript integration tests: a real
// runtime.Server on loopback with a handler for each behaviour the tests
// exercise. It prints "listening <addr>" once it accepts connections and
// shuts down (closing every socket with 1001) on SIGTERM or SIGINT.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/runtime"
)

type addRequest struct {
	A int64 `json:"a"`
	B int64 `json:"b"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	flag.Parse()

	srv := runtime.NewServer(runtime.Options{
		// ?deny=401 or ?deny=403 makes the server refuse the upgrade, with a reason.
		Authenticate: func(r *http.Request) (any, error) {
			switch r.URL.Query().Get("deny") {
			case "401":
				return nil, runtime.Refuse(http.StatusUnauthorized, "log in first")
			case "403":
				return nil, runtime.Refuse(http.StatusForbidden, "not today")
			}
			return nil, nil
		},
	})
	// The server speaks the generated schema (ts/src/gen), so that clients
	// announcing its fingerprint are told "compatible" and others "reload".
	srv.SetFingerprint(gen.Fingerprint)
	must(runtime.On(srv, "greeting", runtime.String, func(ctx context.Context, c *runtime.Conn, msg string) {
		_ = runtime.Send(c, "greeting", runtime.String, "Hello from the server!")
	}))
	// chat goes to every client, like the chat example of the Ambiorix documentation.
	must(runtime.On(srv, "chat", runtime.RawJSON, func(ctx context.Context, c *runtime.Conn, msg json.RawMessage) {
		runtime.Broadcast(srv, "chat", runtime.RawJSON, msg, nil)
	}))
	must(runtime.On(srv, "count", runtime.Any, func(ctx context.Context, c *runtime.Conn, _ any) {
		_ = runtime.Send(c, "count", runtime.Int, int64(srv.Len()))
	}))
	must(runtime.OnCall(srv, "add", runtime.JSON[addRequest](), runtime.Int, func(ctx context.Context, c *runtime.Conn, req addRequest) (int64, error) {
		return req.A + req.B, nil
	}))
	must(runtime.OnCall(srv, "fail", runtime.Any, runtime.Any, func(ctx context.Context, c *runtime.Conn, _ any) (any, error) {
		return nil, runtime.Errorf("not_found", "no such thing")
	}))
	// slow answers after the tests' call timeout, to show a late reply is dropped.
	must(runtime.OnCall(srv, "slow", runtime.Int, runtime.Int, func(ctx context.Context, c *runtime.Conn, ms int64) (int64, error) {
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
			return ms, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}))
	// ask makes the server call the client's "double" handler and report the outcome as "answer".
	must(runtime.On(srv, "ask", runtime.Int, func(ctx context.Context, c *runtime.Conn, n int64) {
		// The reply arrives on this connection's reader, so wait for it off that goroutine.
		go func() {
			ctx, cancel := context.WithTimeout(c.Context(), 5*time.Second)
			defer cancel()
			got, err := runtime.Call(ctx, c, "double", runtime.Int, runtime.Int, n)
			var ce *runtime.CallError
			switch {
			case err == nil:
				_ = c.Send("answer", map[string]any{"value": got})
			case errors.As(err, &ce):
				_ = c.Send("answer", map[string]any{"code": ce.Code, "message": ce.Message})
			default:
				_ = c.Send("answer", map[string]any{"code": "transport", "message": err.Error()})
			}
		}()
	}))

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()
	fmt.Printf("listening %s\n", ln.Addr())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = hs.Shutdown(ctx) // stop accepting; hijacked WebSockets are the runtime's to close
	_ = srv.Shutdown(ctx)
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
