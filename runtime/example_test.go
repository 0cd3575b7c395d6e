package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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

// The server puts a connection in a room when it asks (clients cannot join
// by themselves); a broadcast to the room reaches its members only, and
// presence lists who is there by user key.
func ExampleServer_Room() {
	ctx := context.Background()
	srv := runtime.NewServer(runtime.Options{
		// The identity is the user key: here the name in the upgrade URL.
		Authenticate: func(r *http.Request) (any, error) { return r.URL.Query().Get("name"), nil },
	})
	runtime.OnCall(srv, "join", runtime.String, runtime.Bool, func(ctx context.Context, c *runtime.Conn, room string) (bool, error) {
		return true, srv.Join(c, room)
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(ctx)

	got := make(chan string, 2)
	dial := func(name string) *runtime.Client {
		c := runtime.NewClient(runtime.ClientOptions{})
		runtime.On(c, "news", runtime.String, func(ctx context.Context, _ *runtime.Conn, msg string) {
			got <- name + " got " + msg
		})
		if err := c.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/?name="+name); err != nil {
			panic(err)
		}
		return c
	}
	ada, bob := dial("ada"), dial("bob")
	defer ada.Close()
	defer bob.Close()

	if _, err := runtime.Call(ctx, ada.Conn(), "join", runtime.String, runtime.Bool, "lobby"); err != nil {
		fmt.Println(err)
		return
	}
	n, err := runtime.BroadcastTo(srv.Room("lobby"), "news", runtime.String, "for the lobby")
	fmt.Println(n, err, "-", <-got)
	p := srv.Presence("lobby")
	fmt.Println(p.Conns, p.Users)
	// Output:
	// 1 <nil> - ada got for the lobby
	// 1 [ada]
}

// Interceptors: one that logs every message received, and one that keeps
// calls named "admin.*" from anyone whose identity is not "root". The first
// given is the outermost, so the log sees the refusal too.
func ExampleInterceptor() {
	ctx := context.Background()
	users := runtime.NewAuth(func(r *http.Request) (string, error) { return r.URL.Query().Get("user"), nil })
	logging := runtime.ReceiveInterceptor(func(next runtime.MessageFunc) runtime.MessageFunc {
		return func(ctx context.Context, m runtime.Message) (json.RawMessage, error) {
			reply, err := next(ctx, m)
			fmt.Printf("%s called %s: %v\n", users.Of(m.Conn), m.Name, err)
			return reply, err
		}
	})
	adminOnly := runtime.ReceiveInterceptor(func(next runtime.MessageFunc) runtime.MessageFunc {
		return func(ctx context.Context, m runtime.Message) (json.RawMessage, error) {
			if strings.HasPrefix(m.Name, "admin.") && users.Of(m.Conn) != "root" {
				return nil, runtime.Errorf(runtime.CodePermissionDenied, "%s is for admins", m.Name)
			}
			return next(ctx, m)
		}
	})
	srv := runtime.NewServer(runtime.Options{
		Authenticate: users.Authenticate,
		Interceptors: []runtime.Interceptor{logging, adminOnly},
	})
	runtime.OnCall(srv, "admin.wipe", runtime.String, runtime.String, func(ctx context.Context, c *runtime.Conn, what string) (string, error) {
		return "wiped " + what, nil
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(ctx)

	for _, user := range []string{"ann", "root"} {
		client, err := runtime.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/?user="+user, runtime.ClientOptions{})
		if err != nil {
			fmt.Println(err)
			return
		}
		reply, err := runtime.Call(ctx, client, "admin.wipe", runtime.String, runtime.String, "all")
		fmt.Printf("%s got %q, %v\n", user, reply, err)
		client.Close()
	}
	// Output:
	// ann called admin.wipe: permission_denied: admin.wipe is for admins
	// ann got "", permission_denied: admin.wipe is for admins
	// root called admin.wipe: <nil>
	// root got "wiped all", <nil>
}

// A Go client that the server refuses learns the status and the reason.
func ExampleHandshakeError() {
	ctx := context.Background()
	srv := runtime.NewServer(runtime.Options{Authenticate: func(r *http.Request) (any, error) {
		return nil, runtime.Refuse(http.StatusForbidden, "closed for maintenance")
	}})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(ctx)

	client := runtime.NewClient(runtime.ClientOptions{})
	err := client.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/")
	var he *runtime.HandshakeError
	if errors.As(err, &he) {
		fmt.Println(he.Status, he.Reason, client.Status())
	}
	// Output: 403 closed for maintenance refused
}
