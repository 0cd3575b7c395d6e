package gen_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/runtime"
)

// chatHandlers handles every message a client sends; the compiler checks that through
// gen.ServerHandlers.
type chatHandlers struct {
	api   *gen.Server
	users *runtime.Auth[string]
}

var _ gen.ServerHandlers = (*chatHandlers)(nil)

func (h *chatHandlers) OnGreeting(ctx context.Context, from *gen.Conn, msg string) {
	from.SendGreeting("hello, " + h.users.Of(from))
}
func (h *chatHandlers) OnChat(ctx context.Context, from *gen.Conn, msg string) {
	h.api.BroadcastChat(msg)
}
func (h *chatHandlers) OnPost(ctx context.Context, from *gen.Conn, msg gen.ChatMessage) {
	h.api.BroadcastPost(msg)
}
func (h *chatHandlers) HandleAdd(ctx context.Context, from *gen.Conn, req gen.AddRequest) (int64, error) {
	return req.A + req.B, nil
}
func (h *chatHandlers) OnJoin(ctx context.Context, from *gen.Conn, req gen.Join) {
	_ = h.api.Join(from, req.Room)
}
func (h *chatHandlers) OnLeave(ctx context.Context, from *gen.Conn, req gen.Leave) {
	h.api.Leave(from, req.Room)
}
func (h *chatHandlers) OnSay(ctx context.Context, from *gen.Conn, line gen.Say) {
	h.api.Room(line.Room).BroadcastSay(line)
}

// Register installs every handler; the typed hooks get the *gen.Conn the handlers get, and the
// identity comes back with its own type.
func TestRegisterAndTypedHooks(t *testing.T) {
	users := runtime.NewAuth(func(r *http.Request) (string, error) { return r.URL.Query().Get("user"), nil })
	srv := runtime.NewServer(runtime.Options{Authenticate: users.Authenticate})
	api := gen.Serve(srv)
	api.Register(&chatHandlers{api: api, users: users})
	connected := make(chan *gen.Conn, 1)
	gone := make(chan *gen.Conn, 1)
	api.OnConnect(func(ctx context.Context, c *gen.Conn) { connected <- c })
	api.OnDisconnect(func(c *gen.Conn, err error) { gone <- c })
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := gen.NewClient(runtime.ClientOptions{})
	got := make(chan string, 1)
	c.OnGreeting(func(ctx context.Context, msg string) { got <- msg })
	clientUp := make(chan struct{}, 1)
	c.OnConnect(func(context.Context) { clientUp <- struct{}{} })
	if err := c.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/?user=ann"); err != nil {
		t.Fatal(err)
	}
	<-clientUp
	conn := <-connected
	if users.Of(conn) != "ann" || conn.Runtime().Identity() != "ann" {
		t.Fatalf("identity %q", users.Of(conn))
	}
	c.SendGreeting("hi")
	if msg := <-got; msg != "hello, ann" {
		t.Fatalf("greeting %q", msg)
	}
	if sum, err := c.Add(ctx, gen.AddRequest{A: 2, B: 3}); err != nil || sum != 5 {
		t.Fatalf("add: %d, %v", sum, err)
	}
	if c.Status() != runtime.StatusOpen {
		t.Fatalf("status %s", c.Status())
	}
	c.Close()
	if g := <-gone; g != conn {
		t.Fatal("OnDisconnect got another *gen.Conn than OnConnect")
	}
}

// A handler type that leaves a client message without a handler does not compile.
func TestRegisterRefusesAMissingHandler(t *testing.T) {
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("testdata", "build-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	src := `package missing

import (
	"context"

	"github.com/ambigen/ambigen/gen"
)

type handlers struct{}

func (handlers) OnGreeting(context.Context, *gen.Conn, string)          {}
func (handlers) OnChat(context.Context, *gen.Conn, string)              {}
func (handlers) OnPost(context.Context, *gen.Conn, gen.ChatMessage)     {}
func (handlers) OnJoin(context.Context, *gen.Conn, gen.Join)            {}
func (handlers) OnLeave(context.Context, *gen.Conn, gen.Leave)          {}
func (handlers) OnSay(context.Context, *gen.Conn, gen.Say)              {}

func register(api *gen.Server) { api.Register(handlers{}) }
`
	if err := os.WriteFile(filepath.Join(dir, "missing.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "build", "./"+filepath.ToSlash(dir)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "missing method HandleAdd") {
		t.Fatalf("go build of handlers without HandleAdd: %v\n%s", err, out)
	}
}
