package bench

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	goruntime "runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/ambigen/ambigen/broker/redis"
	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/internal/redistest"
	"github.com/ambigen/ambigen/runtime"
)

// The scenarios in this file measure what rooms and a Redis broker cost: a
// broadcast to clients spread over several nodes joined by Redis, beside
// the same on one node, and a room broadcast among many connections beside
// the same on a server that holds only the room.

// ClusterResult is one run of broadcasts to clients spread over Nodes
// servers. With more than one node they are joined by a redis-server that
// the run starts; the servers all run in this process, so the CPU is the
// cluster's.
type ClusterResult struct {
	Nodes, Clients, Rounds int
	// Time from the call on node 0 until the last client of any node has
	// the frame: median and range over the rounds.
	Median, Min, Max time.Duration
	CPUPerRound      time.Duration // the servers' CPU per broadcast (this process)
	// PublishesPerRound is redis-server's PUBLISH count over the rounds,
	// per broadcast.
	PublishesPerRound float64
}

// Cluster broadcasts rounds posts from node 0 to clients clients spread
// evenly over nodes servers, waiting for every client to have each before
// the next.
func Cluster(nodes, clients, rounds int) (ClusterResult, error) {
	res := ClusterResult{Nodes: nodes, Clients: clients, Rounds: rounds}
	if err := RaiseFileLimit(); err != nil {
		return res, err
	}
	var r *redistest.Server
	if nodes > 1 {
		dir, err := os.MkdirTemp("", "ambibench-redis")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		if r, err = redistest.StartProcess(dir); err != nil {
			return res, err
		}
		defer r.Stop()
	}
	servers := make([]*server, nodes)
	var urls []string
	for i := range servers {
		// Presence heartbeats are minutes apart, so that nothing but the
		// broadcasts is published while they are measured.
		opts := runtime.Options{PresenceTTL: 10 * time.Minute}
		if r != nil {
			b, err := redis.New(r.URL, redis.Options{Channel: "ambibench"})
			if err != nil {
				return res, err
			}
			defer b.Close() // after the server's close below
			opts.Broker = b
		}
		s, err := startServer(Ambigen, opts, 0)
		if err != nil {
			return res, err
		}
		defer s.close()
		servers[i] = s
		urls = append(urls, s.url)
	}
	if err := waitCluster(servers, setupTimeout(0)); err != nil {
		return res, err
	}
	ch, err := startChild(childSpec{Mode: "listen", URLs: urls, N: clients, Rounds: rounds}, setupTimeout(clients))
	if err != nil {
		return res, err
	}
	defer ch.stop()
	for i, s := range servers {
		want := clients / nodes
		if i < clients%nodes {
			want++
		}
		if err := waitConns(s, want, setupTimeout(clients)); err != nil {
			return res, err
		}
	}
	goruntime.GC()
	var pub0 int64
	if r != nil {
		// What the nodes publish as they meet (their presence) must be over.
		if err := r.Quiet(300*time.Millisecond, 10*time.Second); err != nil {
			return res, err
		}
		if pub0, err = r.Publishes(); err != nil {
			return res, err
		}
	}
	lat := make([]time.Duration, 0, rounds)
	before := readUsage()
	for k := range rounds {
		t0 := time.Now()
		if _, err := servers[0].api.BroadcastPost(postMessage); err != nil {
			return res, err
		}
		d, err := ch.roundDone(k, t0)
		if err != nil {
			return res, err
		}
		lat = append(lat, d)
	}
	after := readUsage()
	if r != nil {
		pub1, err := r.Publishes()
		if err != nil {
			return res, err
		}
		res.PublishesPerRound = float64(pub1-pub0) / float64(rounds)
	}
	res.CPUPerRound = (after.cpu - before.cpu) / time.Duration(rounds)
	slices.Sort(lat)
	res.Median, res.Min, res.Max = lat[len(lat)/2], lat[0], lat[len(lat)-1]
	return res, nil
}

// waitCluster waits until every server hears from all the others.
func waitCluster(servers []*server, timeout time.Duration) error {
	if len(servers) < 2 {
		return nil
	}
	deadline := time.Now().Add(timeout)
	for {
		ready := true
		for _, s := range servers {
			if s.rt.BrokerStats().Nodes != len(servers)-1 {
				ready = false
			}
		}
		if ready {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("the nodes never all heard from each other")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// RoomResult is one run of room broadcasts.
type RoomResult struct {
	Members, Others, Rounds int
	// Filter says the broadcast was BroadcastPostFunc with a filter that
	// keeps the members, which looks at every connection, instead of a
	// room broadcast.
	Filter bool
	// Time from the call until the last member has the frame: median over
	// the rounds.
	Median      time.Duration
	CPUPerRound time.Duration // the server's CPU per broadcast
	// SentPerRound is the server's outgoing messages per broadcast: the
	// members, and nobody else.
	SentPerRound float64
}

// memberRoom is the room of the room scenario.
const memberRoom = "bench"

// Room connects members clients that the server joins to a room and others
// clients that it does not, then broadcasts rounds posts to the room.
func Room(members, others, rounds int, filter bool) (RoomResult, error) {
	res := RoomResult{Members: members, Others: others, Rounds: rounds, Filter: filter}
	if err := RaiseFileLimit(); err != nil {
		return res, err
	}
	// Members dial with ?member=1; the server joins them as they connect.
	var rt atomic.Pointer[runtime.Server]
	opts := runtime.Options{
		Authenticate: func(r *http.Request) (any, error) {
			if r.URL.Query().Get("member") != "" {
				return "member", nil
			}
			return nil, nil
		},
		OnConnect: func(c *runtime.Conn) {
			if c.Runtime().Identity() == "member" {
				_ = rt.Load().Join(c, memberRoom)
			}
		},
	}
	s, err := startServer(Ambigen, opts, 0)
	if err != nil {
		return res, err
	}
	rt.Store(s.rt)
	defer s.close()
	if others > 0 {
		idle, err := startChild(childSpec{Mode: "idle", URL: s.url, N: others}, setupTimeout(others))
		if err != nil {
			return res, err
		}
		defer idle.stop()
	}
	listeners, err := startChild(childSpec{Mode: "listen", URL: s.url + "?member=1", N: members, Rounds: rounds}, setupTimeout(members))
	if err != nil {
		return res, err
	}
	defer listeners.stop()
	if err := waitConns(s, members+others, setupTimeout(members+others)); err != nil {
		return res, err
	}
	for deadline := time.Now().Add(setupTimeout(members)); s.rt.Room(memberRoom).Len() < members; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			return res, fmt.Errorf("%d of %d members joined", s.rt.Room(memberRoom).Len(), members)
		}
	}
	room := s.api.Room(memberRoom)
	isMember := func(c *gen.Conn) bool { return c.Runtime().Identity() == "member" }
	goruntime.GC()
	lat := make([]time.Duration, 0, rounds)
	out0 := s.rt.Stats().MessagesOut
	before := readUsage()
	for k := range rounds {
		t0 := time.Now()
		var err error
		if filter {
			_, err = s.api.BroadcastPostFunc(postMessage, isMember)
		} else {
			_, err = room.BroadcastPost(postMessage)
		}
		if err != nil {
			return res, err
		}
		d, err := listeners.roundDone(k, t0)
		if err != nil {
			return res, err
		}
		lat = append(lat, d)
	}
	after := readUsage()
	res.SentPerRound = float64(s.rt.Stats().MessagesOut-out0) / float64(rounds)
	res.CPUPerRound = (after.cpu - before.cpu) / time.Duration(rounds)
	slices.Sort(lat)
	res.Median = lat[len(lat)/2]
	return res, nil
}
