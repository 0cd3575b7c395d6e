package redis_test

import (
	"errors"
	"fmt"
	goruntime "runtime"
	"sync"
	"testing"
	"time"

	"github.com/ambigen/ambigen/internal/redistest"
	"github.com/ambigen/ambigen/runtime"
)

// seqReader records the sequence numbers a client reads, and whether they
// ever went backwards.
type seqReader struct {
	mu        sync.Mutex
	seqs      []int
	backwards bool
}

func (r *seqReader) run(p peer) {
	for {
		_, b, err := p.ws.ReadMessage()
		if err != nil {
			return
		}
		var n int
		if _, err := fmt.Sscanf(string(b), `{"name":"chat","message":"seq %d","isAmbiorix":true}`, &n); err != nil {
			continue
		}
		r.mu.Lock()
		if len(r.seqs) > 0 && n <= r.seqs[len(r.seqs)-1] {
			r.backwards = true
		}
		r.seqs = append(r.seqs, n)
		r.mu.Unlock()
	}
}

func (r *seqReader) last() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seqs) == 0 {
		return -1
	}
	return r.seqs[len(r.seqs)-1]
}

// Redis stops in the middle of traffic and comes back: the sending node's
// own clients get every message throughout, broadcasts fail with
// ErrBrokerUnavailable and are counted while Redis is gone, nothing piles
// up, and delivery to the other node resumes by itself, in order, once
// Redis is back, presence included.
func TestRedisStopsAndComesBack(t *testing.T) {
	r := redistest.Start(t)
	const ttl = time.Second
	nodes := cluster(t, r, 2, runtime.Options{PresenceTTL: ttl, PresenceInterval: 20 * time.Millisecond})
	a, b := nodes[0], nodes[1]
	local, remote := a.dial(t, "ada"), b.dial(t, "bob")
	b.rt.Join(remote.conn, "lobby")
	var got, gotRemote seqReader
	go got.run(local)
	go gotRemote.run(remote)
	eventually(t, 5*time.Second, func() bool { return a.rt.Presence("lobby").Conns == 1 }, "bob's presence never reached node a")

	seq := 0
	send := func() error {
		_, err := a.rt.Broadcast("chat", fmt.Sprintf("seq %d", seq))
		seq++
		time.Sleep(2 * time.Millisecond)
		return err
	}
	for gotRemote.last() < 20 {
		if err := send(); err != nil {
			t.Fatalf("before the fault: %v", err)
		}
	}

	r.Stop()
	stopped := seq
	var refused int
	for refused < 50 {
		if err := send(); err != nil {
			if !errors.Is(err, runtime.ErrBrokerUnavailable) {
				t.Fatalf("a broadcast failed with %v, want ErrBrokerUnavailable", err)
			}
			refused++
		}
		if seq-stopped > 5000 {
			t.Fatal("broadcasts never failed after Redis stopped")
		}
	}
	// Keep sending for longer than the TTL: nothing may pile up meanwhile.
	goroutines := goruntime.NumGoroutine()
	outage := time.Now()
	for time.Since(outage) < 2*ttl {
		_ = send()
	}
	if grown := goruntime.NumGoroutine() - goroutines; grown > 10 {
		t.Errorf("%d more goroutines after %d broadcasts without Redis", grown, seq-stopped)
	}
	st := a.rt.BrokerStats()
	if st.Down == nil || st.PublishErrors < uint64(refused) {
		t.Errorf("while Redis is down: %+v", st)
	}
	t.Logf("while down: %d broadcasts, %d publish errors, cause %v", seq-stopped, st.PublishErrors, st.Down)
	// The local client had every message, before and during the outage.
	eventually(t, 5*time.Second, func() bool { return got.last() == seq-1 }, "the local client stopped at %d of %d", got.last(), seq-1)
	got.mu.Lock()
	if len(got.seqs) != seq {
		t.Errorf("the local client got %d of %d messages", len(got.seqs), seq)
	}
	got.mu.Unlock()
	// Node a forgot node b, whose heartbeats stopped reaching it.
	eventually(t, 3*ttl, func() bool { return a.rt.Presence("lobby").Conns == 0 }, "node b's presence never expired during the outage")

	if err := r.Restart(); err != nil {
		t.Fatal(err)
	}
	restarted := seq
	eventually(t, 10*time.Second, func() bool {
		_ = send()
		return gotRemote.last() >= restarted
	}, "the other node never got messages again after Redis came back (last %d)", gotRemote.last())
	eventually(t, 5*time.Second, func() bool { return a.rt.Presence("lobby").Conns == 1 }, "bob's presence never came back to node a")
	for _, n := range nodes {
		eventually(t, 5*time.Second, func() bool {
			st := n.rt.BrokerStats()
			return st.Down == nil && st.Nodes == 1
		}, "%s did not recover: %+v", n.name, n.rt.BrokerStats())
	}
	gotRemote.mu.Lock()
	defer gotRemote.mu.Unlock()
	if gotRemote.backwards {
		t.Errorf("the other node's client got messages out of order: %v", gotRemote.seqs)
	}
	t.Logf("the other node's client got %d of %d messages", len(gotRemote.seqs), seq)
}
