package redis_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ambigen/ambigen/broker/redis"
	"github.com/ambigen/ambigen/internal/redistest"
	"github.com/ambigen/ambigen/runtime"
)

// The cluster tests run two and three runtime servers joined by a real
// redis-server, each with its own broker connections, and clients on real
// loopback sockets.

func sizes(t *testing.T, test func(t *testing.T, count int)) {
	for _, count := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d nodes", count), func(t *testing.T) { test(t, count) })
	}
}

// A broadcast to everyone reaches every client of every node once, in the
// order each node sent, and costs one PUBLISH.
func TestClusterBroadcast(t *testing.T) {
	sizes(t, func(t *testing.T, count int) {
		r := redistest.Start(t)
		nodes := cluster(t, r, count, runtime.Options{PresenceTTL: time.Minute})
		var peers []peer
		for _, n := range nodes {
			peers = append(peers, n.dial(t, ""), n.dial(t, ""))
		}
		// What the nodes publish as they meet (their presence) must be over.
		if err := r.Quiet(300*time.Millisecond, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		before, err := r.Publishes()
		if err != nil {
			t.Fatal(err)
		}
		const rounds = 20
		for i := range rounds {
			// Alternate the sending node: each node's messages keep their
			// order, whichever node sends next.
			from := nodes[i%count]
			if n, err := from.rt.Broadcast("chat", fmt.Sprintf("line %d", i)); n != 2 || err != nil {
				t.Fatalf("%s: Broadcast = %d, %v; want its 2 clients", from.name, n, err)
			}
		}
		for _, p := range peers {
			got := map[int][]int{} // sending node -> lines in arrival order
			for range rounds {
				var line int
				if _, err := fmt.Sscanf(p.next(t), `{"name":"chat","message":"line %d","isAmbiorix":true}`, &line); err != nil {
					t.Fatalf("%s: %v", p.who, err)
				}
				got[line%count] = append(got[line%count], line)
			}
			for from, lines := range got {
				if !slices.IsSorted(lines) || len(lines) != rounds/count+boolInt(from < rounds%count) {
					t.Errorf("%s got node %d's lines as %v", p.who, from, lines)
				}
			}
		}
		after, err := r.Publishes()
		if err != nil {
			t.Fatal(err)
		}
		// The heartbeat is a minute away; nothing else publishes meanwhile.
		if after-before != rounds {
			t.Errorf("%d broadcasts took %d PUBLISH commands, want one each", rounds, after-before)
		}
		for _, n := range nodes {
			if st := n.rt.BrokerStats(); st.PublishErrors != 0 || st.Invalid != 0 {
				t.Errorf("%s: %+v", n.name, st)
			}
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A room broadcast reaches exactly the room's members on every node, and a
// user send every tab of that user on every node; nobody else gets either.
func TestClusterRoomsAndUsers(t *testing.T) {
	sizes(t, func(t *testing.T, count int) {
		r := redistest.Start(t)
		nodes := cluster(t, r, count, runtime.Options{PresenceTTL: time.Minute})
		type client struct {
			peer
			rooms []string
			user  string
		}
		var clients []client
		for _, n := range nodes {
			// On every node: ada in lobby, bob in lobby and game, an
			// anonymous client in game, and cy in nothing.
			for _, c := range []client{{user: "ada", rooms: []string{"lobby"}}, {user: "bob", rooms: []string{"lobby", "game"}}, {rooms: []string{"game"}}, {user: "cy"}} {
				c.peer = n.dial(t, c.user)
				for _, room := range c.rooms {
					if err := n.rt.Join(c.conn, room); err != nil {
						t.Fatal(err)
					}
				}
				clients = append(clients, c)
			}
		}
		// Membership is local, so nodes need not know of each other's.
		if n, err := runtime.BroadcastTo(nodes[0].rt.Room("lobby"), "chat", runtime.String, "to lobby"); n != 2 || err != nil {
			t.Fatalf("to lobby: %d, %v", n, err)
		}
		if n, err := nodes[count-1].rt.Room("game").Broadcast("chat", "to game"); n != 2 || err != nil {
			t.Fatalf("to game: %d, %v", n, err)
		}
		if n, err := runtime.BroadcastTo(nodes[1].rt.User("bob"), "chat", runtime.String, "to bob"); n != 1 || err != nil {
			t.Fatalf("to bob: %d, %v", n, err)
		}
		if n, _ := nodes[0].rt.Room("lobby").Local().Broadcast("chat", "lobby of node 0"); n != 2 {
			t.Fatalf("local to lobby: %d", n)
		}
		// Each node that sent something then sends a marker to everyone: a node's messages keep
		// their order, so once a client has every marker it has everything meant for it.
		senders := []*node{nodes[0], nodes[1], nodes[count-1]}
		markers := map[string]bool{}
		for _, n := range senders {
			markers[chat("marker from "+n.name)] = true
			n.rt.Broadcast("chat", "marker from "+n.name)
		}
		for i, c := range clients {
			var want []string
			if i < 4 && slices.Contains(c.rooms, "lobby") {
				want = append(want, chat("lobby of node 0"))
			}
			if slices.Contains(c.rooms, "lobby") {
				want = append(want, chat("to lobby"))
			}
			if slices.Contains(c.rooms, "game") {
				want = append(want, chat("to game"))
			}
			if c.user == "bob" {
				want = append(want, chat("to bob"))
			}
			var got []string
			for seen := map[string]bool{}; len(seen) < len(markers); {
				m := c.next(t)
				if markers[m] {
					seen[m] = true
				} else {
					got = append(got, m)
				}
			}
			// Messages of different nodes have no order between them.
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s got %q, want %q", c.who, got, want)
			}
		}
	})
}

// Presence counts the members of a room on every node, lists their users,
// and a crowd joining on one node is reported to the others a few times,
// not once per join.
func TestClusterPresence(t *testing.T) {
	sizes(t, func(t *testing.T, count int) {
		r := redistest.Start(t)
		const interval = 50 * time.Millisecond
		nodes := cluster(t, r, count, runtime.Options{PresenceTTL: time.Minute, PresenceInterval: interval})
		users := []string{"ada", "bob", "cy", ""}
		want := 0
		var last peer
		start := time.Now()
		for i, n := range nodes {
			crowd := 10 * (i + 1)
			for k := range crowd {
				last = n.dial(t, users[k%len(users)])
				if err := n.rt.Join(last.conn, "lobby"); err != nil {
					t.Fatal(err)
				}
			}
			want += crowd
		}
		joined := time.Since(start)
		for _, n := range nodes {
			eventually(t, 5*time.Second, func() bool { return n.presence.latest("lobby").Conns == want },
				"%s: lobby never reported %d members (last report %+v)", n.name, want, n.presence.latest("lobby"))
			p := n.rt.Presence("lobby")
			if p.Conns != want || !slices.Equal(p.Users, []string{"ada", "bob", "cy"}) {
				t.Errorf("%s: Presence = %+v, want %d members and [ada bob cy]", n.name, p, want)
			}
			// Each node reports at most once per interval: the joins took
			// joined, and each node's news arrives within an interval more.
			if reports, most := len(n.presence.reports("lobby")), int(joined/interval)+2*count+2; reports > most {
				t.Errorf("%s: %d reports for %d joins in %v, want at most %d", n.name, reports, want, joined, most)
			}
		}
		// A client that leaves is seen leaving on every node.
		last.ws.Close()
		<-last.conn.Done()
		for _, n := range nodes {
			eventually(t, 5*time.Second, func() bool { return n.rt.Presence("lobby").Conns == want-1 },
				"%s: the departure never showed (%+v)", n.name, n.rt.Presence("lobby"))
		}
	})
}

// A node that dies without a goodbye is forgotten once its presence
// expires: here it runs as a process of its own and is killed.
func TestClusterNodeDiesWithoutGoodbye(t *testing.T) {
	r := redistest.Start(t)
	const ttl = 900 * time.Millisecond
	opts := runtime.Options{PresenceTTL: ttl, PresenceInterval: 20 * time.Millisecond}
	a := startNode(t, r, "node a", opts)
	local := a.dial(t, "ada")
	a.rt.Join(local.conn, "lobby")

	ghost := startNodeProcess(t, nodeSpec{Redis: r.URL, Channel: "test-" + t.Name(), TTL: ttl, Users: []string{"gus", "gil", "gus"}})
	eventually(t, 10*time.Second, func() bool { return a.presence.latest("lobby").Conns == 4 },
		"the other process's members were never reported (%+v)", a.presence.latest("lobby"))
	if p := a.rt.Presence("lobby"); !slices.Equal(p.Users, []string{"ada", "gil", "gus"}) {
		t.Errorf("users %v", p.Users)
	}

	killed := time.Now()
	if err := ghost.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = ghost.Wait()
	eventually(t, 5*time.Second, func() bool { return a.presence.latest("lobby").Conns == 1 },
		"the dead node's members were never forgotten (%+v)", a.presence.latest("lobby"))
	gone := time.Since(killed)
	if p := a.rt.Presence("lobby"); p.Conns != 1 || !slices.Equal(p.Users, []string{"ada"}) {
		t.Errorf("after the death: %+v", p)
	}
	// Forgotten by expiry (a TTL and up to a heartbeat later), not by a
	// goodbye, which would have come at once.
	if gone < ttl/2 {
		t.Errorf("forgotten %v after the kill, sooner than a TTL of %v could expire", gone, ttl)
	}
	if n := a.rt.BrokerStats().Nodes; n != 0 {
		t.Errorf("still hears from %d nodes", n)
	}
}

// A node that shuts down says goodbye: the others forget it at once.
func TestClusterShutdownSaysGoodbye(t *testing.T) {
	r := redistest.Start(t)
	opts := runtime.Options{PresenceTTL: time.Minute, PresenceInterval: 20 * time.Millisecond}
	nodes := cluster(t, r, 2, opts)
	p := nodes[1].dial(t, "bob")
	nodes[1].rt.Join(p.conn, "lobby")
	// The client reads, so that it answers the server's close at shutdown.
	go func() {
		for {
			if _, _, err := p.ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	eventually(t, 5*time.Second, func() bool { return nodes[0].rt.Presence("lobby").Conns == 1 }, "bob never showed")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := nodes[1].rt.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, func() bool { return nodes[0].rt.Presence("lobby").Conns == 0 }, "bob's node was not forgotten at its goodbye")
}

// nodeSpec is the job of a node run as a process of its own.
type nodeSpec struct {
	Redis, Channel string
	TTL            time.Duration
	Users          []string // clients it connects to itself and joins to "lobby"
}

const nodeEnv = "AMBIGEN_TEST_NODE"

// startNodeProcess runs a node in a child process (this test binary) and
// waits until its clients are in the room.
func startNodeProcess(t *testing.T, spec nodeSpec) *exec.Cmd {
	t.Helper()
	raw, _ := json.Marshal(spec)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), nodeEnv+"="+string(raw))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		if strings.TrimSpace(line) != "ready" {
			t.Fatalf("the node process said %q", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the node process never got ready")
	}
	return cmd
}

// runNodeProcess is the child's side: a node whose own clients sit in a
// room until the process is killed.
func runNodeProcess() {
	var spec nodeSpec
	if err := json.Unmarshal([]byte(os.Getenv(nodeEnv)), &spec); err != nil {
		fmt.Println("bad spec:", err)
		os.Exit(2)
	}
	b, err := redis.New(spec.Redis, redis.Options{Channel: spec.Channel})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	var rt *runtime.Server
	rt = runtime.NewServer(runtime.Options{
		Broker: b, PresenceTTL: spec.TTL, PresenceInterval: 20 * time.Millisecond,
		Authenticate: func(r *http.Request) (any, error) { return r.URL.Query().Get("user"), nil },
		OnConnect:    func(c *runtime.Conn) { _ = rt.Join(c, "lobby") },
	})
	hs := httptest.NewServer(rt)
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/?user="
	var held []*websocket.Conn
	for _, u := range spec.Users {
		ws, _, err := websocket.DefaultDialer.Dial(url+u, nil)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		held = append(held, ws)
	}
	for rt.Room("lobby").Len() < len(spec.Users) {
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Println("ready")
	select {} // until killed
}

// What is published on the channel by something other than a node, or a
// node's message whose frame is broken, is dropped and counted: it would
// corrupt the stream of every client it was queued to.
func TestClusterDropsMalformedMessages(t *testing.T) {
	r := redistest.Start(t)
	nodes := cluster(t, r, 2, runtime.Options{PresenceTTL: time.Minute})
	p := nodes[1].dial(t, "")
	other, err := redis.New(r.URL, redis.Options{Channel: "test-" + t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	id := make([]byte, 8) // a node id no node has
	junk := [][]byte{
		[]byte("not a node's message"),
		append([]byte{1, 1}, append(id, `{"name":"chat"}`...)...),          // everyone, without a frame header
		append([]byte{1, 1}, append(id, 0x81, 10, 'x')...),                 // a frame shorter than it says
		append([]byte{1, 2}, append(id, 200)...),                           // a room name longer than the message
		append([]byte{1, 4}, append(id, 0, 5)...),                          // presence of 5 rooms with none there
		append([]byte{1, 99}, id...),                                       // an unknown kind
		append([]byte{1, 1}, append(id, 0x81|0x00, 0x80|2, 0, 0, 0, 0)...), // a masked frame
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := other.Publish(ctx, junk...); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() bool { return nodes[1].rt.BrokerStats().Invalid == uint64(len(junk)) },
		"node 1 counted %d invalid messages, want %d", nodes[1].rt.BrokerStats().Invalid, len(junk))
	// The client's stream is intact: the next message it reads is a real one.
	nodes[0].rt.Broadcast("chat", "after the junk")
	p.expect(t, "after the junk")
}
