package runtime

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// roomPeer is one dialled client of a rooms test: the socket it reads and
// the server's *Conn for it.
type roomPeer struct {
	ws   *websocket.Conn
	conn *Conn
}

// roomsServer starts a server whose connections are users named by the
// query parameter "user" of the upgrade URL (none without it).
func roomsServer(t *testing.T, opts Options) (*testServer, func(user string) roomPeer) {
	t.Helper()
	conns := make(chan *Conn, 16)
	opts.Authenticate = func(r *http.Request) (any, error) { return r.URL.Query().Get("user"), nil }
	opts.OnConnect = func(c *Conn) { conns <- c }
	ts := startServer(t, opts, nil)
	dial := func(user string) roomPeer {
		t.Helper()
		url := ts.url
		if user != "" {
			url += "?user=" + user
		}
		ws := dialRaw(t, url)
		select {
		case c := <-conns:
			return roomPeer{ws: ws, conn: c}
		case <-time.After(5 * time.Second):
			t.Fatal("OnConnect did not run")
			return roomPeer{}
		}
	}
	return ts, dial
}

// nextIs reads the peer's next frame and checks that it is the chat message
// text: with a marker broadcast to everyone after what is under test, a peer
// that was not meant to get the message reads the marker first.
func nextIs(t *testing.T, p roomPeer, who, text string) {
	t.Helper()
	want := fmt.Sprintf(`{"name":"chat","message":%q,"isAmbiorix":true}`, text)
	if got := readText(t, p.ws, 5*time.Second); got != want {
		t.Fatalf("%s read %s, want %s", who, got, want)
	}
}

func TestRoomMembershipAndCleanup(t *testing.T) {
	ts, dial := roomsServer(t, Options{})
	a, b := dial(""), dial("")

	for _, room := range []string{"lobby", "game", "lobby"} {
		if err := ts.Join(a.conn, room); err != nil {
			t.Fatalf("Join(a, %s): %v", room, err)
		}
	}
	if err := ts.Join(b.conn, "lobby"); err != nil {
		t.Fatal(err)
	}
	if got := ts.RoomsOf(a.conn); !slices.Equal(got, []string{"lobby", "game"}) {
		t.Errorf("a is in %v, want [lobby game] (joining twice is once)", got)
	}
	if n := ts.Room("lobby").Len(); n != 2 {
		t.Errorf("lobby has %d members, want 2", n)
	}
	if !ts.Leave(a.conn, "game") || ts.Leave(a.conn, "game") {
		t.Error("Leave should report true once, then false")
	}
	if n := ts.Room("game").Len(); n != 0 {
		t.Errorf("game has %d members after a left", n)
	}

	// Closing a connection takes it out of every room.
	a.ws.Close()
	<-a.conn.Done()
	if got := ts.Room("lobby").Conns(); len(got) != 1 || got[0] != b.conn {
		t.Errorf("lobby after a closed: %v, want only b", got)
	}
	if rooms := ts.RoomsOf(a.conn); rooms != nil {
		t.Errorf("a closed connection is still in %v", rooms)
	}
	if err := ts.Join(a.conn, "lobby"); !errors.Is(err, ErrClosed) {
		t.Errorf("Join of a closed connection: %v, want ErrClosed", err)
	}
	b.ws.Close()
	<-b.conn.Done()
	ts.hub.mu.Lock()
	left := len(ts.hub.rooms) + len(ts.hub.of) + len(ts.hub.users)
	ts.hub.mu.Unlock()
	if left != 0 {
		t.Errorf("the hub still holds %d entries after every connection closed", left)
	}

	// A connection of another server cannot join.
	other := startServer(t, Options{}, nil)
	if err := other.Join(b.conn, "lobby"); err == nil {
		t.Error("another server's Join took this server's connection")
	}
}

func TestRoomBroadcastReachesExactlyItsMembers(t *testing.T) {
	ts, dial := roomsServer(t, Options{})
	peers := make([]roomPeer, 6)
	for i := range peers {
		peers[i] = dial("")
	}
	for _, i := range []int{0, 1, 2} {
		ts.Join(peers[i].conn, "a")
	}
	for _, i := range []int{2, 3} {
		ts.Join(peers[i].conn, "b")
	}
	if n, err := ts.Room("a").Broadcast("chat", "to a"); n != 3 || err != nil {
		t.Fatalf("broadcast to a: %d, %v; want 3", n, err)
	}
	if n, err := BroadcastTo(ts.Room("b"), "chat", String, "to b"); n != 2 || err != nil {
		t.Fatalf("broadcast to b: %d, %v; want 2", n, err)
	}
	if n, err := ts.Room("nobody").Broadcast("chat", "to nobody"); n != 0 || err != nil {
		t.Fatalf("broadcast to an empty room: %d, %v", n, err)
	}
	ts.Broadcast("chat", "marker")
	want := map[int][]string{0: {"to a"}, 1: {"to a"}, 2: {"to a", "to b"}, 3: {"to b"}, 4: nil, 5: nil}
	for i, p := range peers {
		for _, text := range append(want[i], "marker") {
			nextIs(t, p, fmt.Sprintf("peer %d", i), text)
		}
	}
}

func TestUserSendReachesEveryTab(t *testing.T) {
	ts, dial := roomsServer(t, Options{})
	ada1, ada2, bob, anon := dial("ada"), dial("ada"), dial("bob"), dial("")
	if got := ts.UserOf(ada2.conn); got != "ada" {
		t.Fatalf("UserOf = %q, want ada", got)
	}
	if n, err := BroadcastTo(ts.User("ada"), "chat", String, "for ada"); n != 2 || err != nil {
		t.Fatalf("send to ada: %d, %v; want 2", n, err)
	}
	ts.Broadcast("chat", "marker")
	for who, p := range map[string]roomPeer{"ada's first tab": ada1, "ada's second tab": ada2} {
		nextIs(t, p, who, "for ada")
		nextIs(t, p, who, "marker")
	}
	nextIs(t, bob, "bob", "marker")
	nextIs(t, anon, "a connection without a user", "marker")

	ada1.ws.Close()
	<-ada1.conn.Done()
	if n := ts.User("ada").Len(); n != 1 {
		t.Errorf("ada has %d tabs after one closed, want 1", n)
	}
	if n, _ := ts.User("").Broadcast("chat", "x"); n != 0 {
		t.Errorf("the empty user key reached %d connections", n)
	}
}

// presenceLog records what OnPresence reports.
type presenceLog struct {
	mu  sync.Mutex
	got []Presence
}

func (l *presenceLog) hook(p Presence) {
	l.mu.Lock()
	l.got = append(l.got, p)
	l.mu.Unlock()
}

func (l *presenceLog) reports(room string) []Presence {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Presence
	for _, p := range l.got {
		if p.Room == room {
			out = append(out, p)
		}
	}
	return out
}

// last waits until the latest report of room satisfies ok.
func (l *presenceLog) last(t *testing.T, room string, ok func(Presence) bool) Presence {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if r := l.reports(room); len(r) > 0 && ok(r[len(r)-1]) {
			return r[len(r)-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no report of %s as wanted; reports: %+v", room, l.reports(room))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPresenceCountsAndCoalesces(t *testing.T) {
	var log presenceLog
	const interval = 50 * time.Millisecond
	ts, dial := roomsServer(t, Options{OnPresence: log.hook, PresenceInterval: interval})
	const crowd = 40
	peers := make([]roomPeer, crowd)
	for i := range peers {
		peers[i] = dial([]string{"ada", "bob", "cy", ""}[i%4])
	}
	start := time.Now()
	for _, p := range peers {
		if err := ts.Join(p.conn, "lobby"); err != nil {
			t.Fatal(err)
		}
	}
	joined := time.Since(start)
	p := log.last(t, "lobby", func(p Presence) bool { return p.Conns == crowd })
	if !slices.Equal(p.Users, []string{"ada", "bob", "cy"}) {
		t.Errorf("users %v, want [ada bob cy]", p.Users)
	}
	// The joins took a few intervals at most: one report per interval, not
	// one per join.
	reports := len(log.reports("lobby"))
	if most := int(joined/interval) + 2; reports > most {
		t.Errorf("%d reports for %d joins in %v, want at most %d", reports, crowd, joined, most)
	}
	if got := ts.Presence("lobby"); got.Conns != crowd || len(got.Users) != 3 {
		t.Errorf("Presence = %+v", got)
	}

	// Leaving by closing is reported too; bob's last tab takes bob out.
	for i, p := range peers {
		if i%4 == 1 {
			p.ws.Close()
			<-p.conn.Done()
		}
	}
	p = log.last(t, "lobby", func(p Presence) bool { return p.Conns == crowd-crowd/4 })
	if !slices.Equal(p.Users, []string{"ada", "cy"}) {
		t.Errorf("users after bob left: %v, want [ada cy]", p.Users)
	}
}

// With a negative interval every change is reported, as the Ambiorix
// documentation's chat announces every join.
func TestPresenceEveryChange(t *testing.T) {
	var log presenceLog
	ts, dial := roomsServer(t, Options{OnPresence: log.hook, PresenceInterval: -1})
	for range 5 {
		ts.Join(dial("").conn, "lobby")
	}
	counts := []int{}
	for _, p := range log.reports("lobby") {
		counts = append(counts, p.Conns)
	}
	if !slices.Equal(counts, []int{1, 2, 3, 4, 5}) {
		t.Errorf("reports %v, want one per join", counts)
	}
}

func TestZeroAudience(t *testing.T) {
	var a Audience
	if _, err := a.Broadcast("chat", "x"); err == nil {
		t.Error("the zero Audience broadcast without an error")
	}
	if a.Len() != 0 || a.Conns() != nil {
		t.Error("the zero Audience has members")
	}
}
