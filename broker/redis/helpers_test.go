package redis_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/ambigen/ambigen/broker/redis"
	"github.com/ambigen/ambigen/internal/redistest"
	"github.com/ambigen/ambigen/runtime"
)

func TestMain(m *testing.M) {
	// A node that the death test runs as a process of its own, to kill it.
	if os.Getenv(nodeEnv) != "" {
		runNodeProcess()
		return
	}
	goleak.VerifyTestMain(m)
}

// node is one runtime server of a test cluster, on a loopback listener,
// joined to the others through its own Broker (its own Redis connections,
// as a separate process would have).
type node struct {
	name     string
	rt       *runtime.Server
	broker   *redis.Broker
	url      string // ws://127.0.0.1:port/
	conns    chan *runtime.Conn
	presence *presenceLog
}

// startNode starts a node on redis r; opts may set presence options.
func startNode(t *testing.T, r *redistest.Server, name string, opts runtime.Options) *node {
	t.Helper()
	b, err := redis.New(r.URL, redis.Options{Channel: "test-" + t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	n := &node{name: name, broker: b, conns: make(chan *runtime.Conn, 64), presence: &presenceLog{}}
	opts.Broker = b
	opts.Authenticate = func(r *http.Request) (any, error) { return r.URL.Query().Get("user"), nil }
	opts.OnConnect = func(c *runtime.Conn) { n.conns <- c }
	if opts.OnPresence == nil {
		opts.OnPresence = n.presence.hook
	}
	opts.Logger = nil
	n.rt = runtime.NewServer(opts)
	hs := httptest.NewServer(n.rt)
	n.url = "ws" + strings.TrimPrefix(hs.URL, "http") + "/"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.rt.Shutdown(ctx); err != nil {
			t.Errorf("%s: Shutdown: %v", name, err)
		}
		b.Close()
		hs.Close()
	})
	return n
}

// cluster starts count nodes on r and waits until each hears from all the
// others.
func cluster(t *testing.T, r *redistest.Server, count int, opts runtime.Options) []*node {
	t.Helper()
	nodes := make([]*node, count)
	for i := range nodes {
		nodes[i] = startNode(t, r, fmt.Sprintf("node %d", i), opts)
	}
	eventually(t, 10*time.Second, func() bool {
		for _, n := range nodes {
			if n.rt.BrokerStats().Nodes != count-1 {
				return false
			}
		}
		return true
	}, "the nodes never all heard from each other")
	return nodes
}

// peer is one client of a node: the socket it reads and the server's *Conn.
type peer struct {
	ws   *websocket.Conn
	conn *runtime.Conn
	who  string
}

// dial connects a client as user (none when empty).
func (n *node) dial(t *testing.T, user string) peer {
	t.Helper()
	url := n.url
	if user != "" {
		url += "?user=" + user
	}
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", n.name, err)
	}
	t.Cleanup(func() { ws.Close() })
	select {
	case c := <-n.conns:
		return peer{ws: ws, conn: c, who: fmt.Sprintf("%s's client %d (%s)", n.name, c.ID(), user)}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: OnConnect did not run", n.name)
		return peer{}
	}
}

// next reads the peer's next chat message.
func (p peer) next(t *testing.T) string {
	t.Helper()
	_ = p.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := p.ws.ReadMessage()
	if err != nil {
		t.Fatalf("%s: read: %v", p.who, err)
	}
	return string(b)
}

func chat(text string) string {
	return fmt.Sprintf(`{"name":"chat","message":%q,"isAmbiorix":true}`, text)
}

// expect checks that the peer's next messages are exactly texts.
func (p peer) expect(t *testing.T, texts ...string) {
	t.Helper()
	for _, text := range texts {
		if got := p.next(t); got != chat(text) {
			t.Fatalf("%s read %s, want %s", p.who, got, chat(text))
		}
	}
}

func eventually(t *testing.T, d time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: "+format, append([]any{d}, args...)...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// presenceLog records what OnPresence reports.
type presenceLog struct {
	mu  sync.Mutex
	got []runtime.Presence
}

func (l *presenceLog) hook(p runtime.Presence) {
	l.mu.Lock()
	l.got = append(l.got, p)
	l.mu.Unlock()
}

func (l *presenceLog) reports(room string) []runtime.Presence {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []runtime.Presence
	for _, p := range l.got {
		if p.Room == room {
			out = append(out, p)
		}
	}
	return out
}

// latest is the last report of room, or the zero Presence.
func (l *presenceLog) latest(room string) runtime.Presence {
	r := l.reports(room)
	if len(r) == 0 {
		return runtime.Presence{Room: room}
	}
	return r[len(r)-1]
}
