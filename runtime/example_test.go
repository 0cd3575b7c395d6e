package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/ambigen/ambigen/runtime"
)

// A server with a message handler and a call, and a Go client talking to
// it over a real socket.
func Example() {
	ctx := context.Background()
	srv := runtime.NewServer(runtime.Options{})
	runtime.On(srv, "greeting", runtime.String, func(ctx context.Context, c *runtime.Conn, msg string) {
		runtime.Send(c, "greeting", runtime.String, "Hello from the server!")
	})
	runtime.OnCall(srv, "sum", runtime.List(runtime.Int), runtime.Int, func(ctx context.Context, c *runtime.Conn, xs []int64) (int64, error) {
		var s int64
		for _, x := range xs {
			s += x
		}
		return s, nil
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(ctx)

	greetings := make(chan string, 1)
	client := runtime.NewClient(runtime.ClientOptions{})
	runtime.On(client, "greeting", runtime.String, func(ctx context.Context, c *runtime.Conn, msg string) {
		greetings <- msg
	})
	if err := client.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/"); err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	runtime.Send(client.Conn(), "greeting", runtime.String, "hi")
	fmt.Println(<-greetings)
	sum, err := runtime.Call(ctx, client.Conn(), "sum", runtime.List(runtime.Int), runtime.Int, []int64{1, 2, 3})
	fmt.Println(sum, err)
	// Output:
	// Hello from the server!
	// 6 <nil>
}

// A call handler chooses the error code with Errorf; the caller gets it
// back as a *CallError.
func ExampleErrorf() {
	ctx := context.Background()
	srv := runtime.NewServer(runtime.Options{})
	runtime.OnCall(srv, "user", runtime.String, runtime.String, func(ctx context.Context, c *runtime.Conn, id string) (string, error) {
		return "", runtime.Errorf("not_found", "no user %q", id)
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(ctx)

	client, err := runtime.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/", runtime.ClientOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	_, err = runtime.Call(ctx, client.Conn(), "user", runtime.String, runtime.String, "bob")
	var ce *runtime.CallError
	if errors.As(err, &ce) {
		fmt.Println(ce.Code, "-", ce.Message)
	}
	// Output: not_found - no user "bob"
}
