package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// trace records what interceptors see, in order.
type trace struct {
	mu    sync.Mutex
	lines []string
}

func (tr *trace) add(format string, args ...any) {
	tr.mu.Lock()
	tr.lines = append(tr.lines, fmt.Sprintf(format, args...))
	tr.mu.Unlock()
}

func (tr *trace) take() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := tr.lines
	tr.lines = nil
	return out
}

// tracer is an interceptor that writes its label around next, both ways.
func tracer(tr *trace, label string) Interceptor {
	return interceptorFuncs{
		recv: func(next MessageFunc) MessageFunc {
			return func(ctx context.Context, m Message) (json.RawMessage, error) {
				tr.add("%s recv %s", label, m.Name)
				reply, err := next(ctx, m)
				tr.add("%s recv %s done", label, m.Name)
				return reply, err
			}
		},
		send: func(next MessageFunc) MessageFunc {
			return func(ctx context.Context, m Message) (json.RawMessage, error) {
				tr.add("%s send %s", label, m.Name)
				reply, err := next(ctx, m)
				tr.add("%s send %s done", label, m.Name)
				return reply, err
			}
		},
	}
}

type interceptorFuncs struct{ recv, send func(MessageFunc) MessageFunc }

func (f interceptorFuncs) WrapReceive(next MessageFunc) MessageFunc { return f.recv(next) }
func (f interceptorFuncs) WrapSend(next MessageFunc) MessageFunc    { return f.send(next) }

// The first interceptor given is the outermost, for what is received and
// for what is sent; one added with Use after registration wraps inside the
// options' and applies to handlers registered before it.
func TestInterceptorOrder(t *testing.T) {
	tr := &trace{}
	handled := make(chan struct{}, 1)
	ts := startServer(t, Options{Interceptors: []Interceptor{tracer(tr, "a"), tracer(tr, "b")}}, func(s *Server) {
		s.Handle("ping", func(ctx context.Context, c *Conn, _ json.RawMessage) error {
			tr.add("handler")
			err := c.Send("pong", 1)
			handled <- struct{}{}
			return err
		})
		s.Use(tracer(tr, "c"))
	})
	ws := dialRaw(t, ts.url)
	send(t, ws, `{"name":"ping","message":null,"isAmbiorix":true}`)
	if got := readText(t, ws, 5*time.Second); got != `{"name":"pong","message":1,"isAmbiorix":true}` {
		t.Fatalf("got %s", got)
	}
	<-handled
	want := []string{
		"a recv ping", "b recv ping", "c recv ping",
		"handler",
		"a send pong", "b send pong", "c send pong", "c send pong done", "b send pong done", "a send pong done",
		"c recv ping done", "b recv ping done", "a recv ping done",
	}
	if got := tr.take(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// seen is one Message as an interceptor saw it.
type seen struct {
	dir        string
	name       string
	call       bool
	payload    string
	size       int
	recipients int
	conn       bool
	identity   any
}

func recorder(out chan<- seen) Interceptor {
	rec := func(dir string, next MessageFunc) MessageFunc {
		return func(ctx context.Context, m Message) (json.RawMessage, error) {
			out <- seen{dir, m.Name, m.Call, string(m.Payload), m.Size, m.Recipients, m.Conn != nil, m.Conn.Identity()}
			return next(ctx, m)
		}
	}
	return interceptorFuncs{
		recv: func(next MessageFunc) MessageFunc { return rec("recv", next) },
		send: func(next MessageFunc) MessageFunc { return rec("send", next) },
	}
}

// Interceptors see every way a message goes: a message and a call
// received, a reply not (it is part of the call), a send, a call made by
// the server, and a broadcast (once, without a Conn, with its recipients);
// with the connection's identity, the name, the payload and the frame's size.
func TestInterceptorSeesEverything(t *testing.T) {
	got := make(chan seen, 64)
	ts := startServer(t, Options{
		Interceptors: []Interceptor{recorder(got)},
		Authenticate: func(r *http.Request) (any, error) { return r.URL.Query().Get("user"), nil },
	}, func(s *Server) {
		On(s, "note", String, func(ctx context.Context, c *Conn, v string) {})
		OnCall(s, "add", List(Int), Int, func(ctx context.Context, c *Conn, v []int64) (int64, error) {
			// The server calls its client back before answering.
			n, err := Call(ctx, c, "double", Int, Int, v[0]+v[1])
			if err != nil {
				return 0, err
			}
			_, err = s.Broadcast("total", n)
			return n, err
		})
	})
	cl := NewClient(ClientOptions{})
	OnCall(cl, "double", Int, Int, func(ctx context.Context, _ *Conn, v int64) (int64, error) { return 2 * v, nil })
	On(cl, "total", Int, func(ctx context.Context, _ *Conn, v int64) {})
	if err := cl.Dial(context.Background(), ts.url+"?user=ann"); err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := Send(cl, "note", String, "hi"); err != nil {
		t.Fatal(err)
	}
	if n, err := Call(context.Background(), cl, "add", List(Int), Int, []int64{1, 2}); err != nil || n != 6 {
		t.Fatalf("add: %d, %v", n, err)
	}
	var all []seen
	for len(all) < 4 {
		select {
		case s := <-got:
			all = append(all, s)
		case <-time.After(5 * time.Second):
			t.Fatalf("interceptor saw only %v", all)
		}
	}
	note := `{"name":"note","message":"hi","isAmbiorix":true}`
	want := []seen{
		{"recv", "note", false, `"hi"`, len(note), 1, true, "ann"},
		{"recv", "add", true, `[1,2]`, len(`{"name":"add","message":[1,2],"isAmbiorix":true,"id":"1"}`), 1, true, "ann"},
		{"send", "double", true, `3`, len(`{"name":"double","message":3,"isAmbiorix":true,"id":"1"}`), 1, true, "ann"},
		{"send", "total", false, `6`, len(`{"name":"total","message":6,"isAmbiorix":true}`), 1, false, nil},
	}
	for i, w := range want {
		if all[i] != w {
			t.Errorf("seen %d: %+v, want %+v", i, all[i], w)
		}
	}
	select {
	case s := <-got:
		t.Errorf("seen more: %+v", s)
	case <-time.After(50 * time.Millisecond):
	}
}

// An interceptor authorizes by message name and identity: a call it
// refuses is answered with its code without running the handler, a message
// it refuses is reported and not handled, and a send it refuses is not
// sent.
func TestInterceptorAuthorizes(t *testing.T) {
	type user struct{ name, role string }
	users := NewAuth(func(r *http.Request) (*user, error) {
		name := r.URL.Query().Get("user")
		if name == "" {
			return nil, Refuse(http.StatusUnauthorized, "who are you?")
		}
		return &user{name, r.URL.Query().Get("role")}, nil
	})
	adminOnly := ReceiveInterceptor(func(next MessageFunc) MessageFunc {
		return func(ctx context.Context, m Message) (json.RawMessage, error) {
			if strings.HasPrefix(m.Name, "admin.") && users.Of(m.Conn).role != "admin" {
				return nil, Errorf(CodePermissionDenied, "%s is for admins", m.Name)
			}
			return next(ctx, m)
		}
	})
	noSecrets := SendInterceptor(func(next MessageFunc) MessageFunc {
		return func(ctx context.Context, m Message) (json.RawMessage, error) {
			if m.Name == "secret" {
				return nil, errors.New("secrets stay here")
			}
			return next(ctx, m)
		}
	})
	errs := newErrorLog()
	ran := make(chan string, 8)
	ts := startServer(t, Options{Authenticate: users.Authenticate, Interceptors: []Interceptor{adminOnly, noSecrets}, OnError: errs.hook}, func(s *Server) {
		OnCall(s, "admin.wipe", String, String, func(ctx context.Context, c *Conn, v string) (string, error) {
			ran <- "wipe by " + users.Of(c).name
			return "wiped", nil
		})
		On(s, "admin.note", String, func(ctx context.Context, c *Conn, v string) { ran <- "note" })
		On(s, "hello", String, func(ctx context.Context, c *Conn, v string) {
			if err := Send(c, "secret", String, "x"); err == nil || err.Error() != "secrets stay here" {
				t.Errorf("secret send: %v", err)
			}
			Send(c, "hello", String, "hi "+users.Of(c).name)
		})
	})
	ctx := context.Background()
	ann, err := Dial(ctx, ts.url+"?user=ann", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ann.Close()
	_, err = Call(ctx, ann, "admin.wipe", String, String, "all")
	var ce *CallError
	if !errors.As(err, &ce) || ce.Code != CodePermissionDenied || ce.Message != "admin.wipe is for admins" {
		t.Fatalf("ann's wipe: %v", err)
	}
	Send(ann, "admin.note", String, "x")
	if me := errs.next(t); me.Kind != KindHandler || me.Name != "admin.note" {
		t.Fatalf("refused note reported as %v", me)
	}
	hello := make(chan string, 1)
	On(ann, "hello", String, func(ctx context.Context, _ *Conn, v string) { hello <- v })
	On(ann, "secret", String, func(ctx context.Context, _ *Conn, v string) { t.Errorf("a secret went out: %s", v) })
	Send(ann, "hello", String, "")
	if got := <-hello; got != "hi ann" {
		t.Fatalf("hello: %s", got)
	}

	bob, err := Dial(ctx, ts.url+"?user=bob&role=admin", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	if got, err := Call(ctx, bob, "admin.wipe", String, String, "all"); err != nil || got != "wiped" {
		t.Fatalf("bob's wipe: %q, %v", got, err)
	}
	if got := <-ran; got != "wipe by bob" {
		t.Fatalf("ran %q", got)
	}
	select {
	case r := <-ran:
		t.Fatalf("a refused handler ran: %s", r)
	default:
	}
}

// A sending interceptor may pass on another payload: it is what goes out.
func TestInterceptorRewritesPayload(t *testing.T) {
	redact := SendInterceptor(func(next MessageFunc) MessageFunc {
		return func(ctx context.Context, m Message) (json.RawMessage, error) {
			if m.Name == "card" {
				m.Payload = json.RawMessage(`"****"`)
			}
			return next(ctx, m)
		}
	})
	ts := startServer(t, Options{Interceptors: []Interceptor{redact}}, func(s *Server) {
		s.Handle("go", func(ctx context.Context, c *Conn, _ json.RawMessage) error {
			return Send(c, "card", String, "4111 1111 1111 1111")
		})
	})
	ws := dialRaw(t, ts.url)
	send(t, ws, `{"name":"go","message":null,"isAmbiorix":true}`)
	if got := readText(t, ws, 5*time.Second); got != `{"name":"card","message":"****","isAmbiorix":true}` {
		t.Fatalf("got %s", got)
	}
}

// discardWire takes every write at once and keeps nothing, so that
// allocation counts see only the runtime.
type discardWire struct{}

func (discardWire) tryWrite(bufs *net.Buffers) error {
	*bufs = (*bufs)[:0]
	return nil
}
func (discardWire) write(bufs *net.Buffers) error { *bufs = (*bufs)[:0]; return nil }
func (discardWire) shut()                         {}

// noop is an interceptor that only passes messages on, both ways.
var noop = interceptorFuncs{
	recv: func(next MessageFunc) MessageFunc {
		return func(ctx context.Context, m Message) (json.RawMessage, error) { return next(ctx, m) }
	},
	send: func(next MessageFunc) MessageFunc {
		return func(ctx context.Context, m Message) (json.RawMessage, error) { return next(ctx, m) }
	},
}

// Interceptors cost no allocation per message: dispatching a message to a
// typed handler that answers with a Send allocates as much with two
// interceptors installed as with none.
func TestInterceptorsAllocateNothing(t *testing.T) {
	measure := func(ics ...Interceptor) float64 {
		ep := newEndpoint(newConfig(limits{}), 0, nil)
		ep.use(ics)
		ws := &websocket.Conn{}
		c := &Conn{ep: ep, ws: ws, ctx: context.Background()}
		c.out.init(discardWire{}, true, DefaultSendBuffer, nil, nil)
		if err := On(registrar{ep}, "post", pointCodec, func(ctx context.Context, c *Conn, p point) {
			if err := Send(c, "post", pointCodec, p); err != nil {
				t.Error(err)
			}
		}); err != nil {
			t.Fatal(err)
		}
		now := monoNow()
		return steadyAllocs(func() {
			m := msgPool.Get().(*inMsg)
			m.mt, m.buf = websocket.TextMessage, append(m.buf[:0], benchFrame...)
			c.rd.limit = limiter{}
			c.deliver(m, 0, now)
		})
	}
	bare := measure()
	wrapped := measure(noop, noop)
	if wrapped > bare {
		t.Errorf("a message costs %.1f allocations through two interceptors, %.1f without", wrapped, bare)
	}
	t.Logf("allocations per message: %.1f without interceptors, %.1f with two", bare, wrapped)
}
