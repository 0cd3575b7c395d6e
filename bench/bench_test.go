package bench

import (
	"os"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	// The scenarios re-run this test binary as their client process.
	RunChildIfRequested()
	os.Exit(m.Run())
}

// The smoke tests run every scenario at tiny sizes, so that CI proves the
// harness still works end to end; they check that the numbers are sane,
// never how fast anything is.

func TestEchoSmoke(t *testing.T) {
	for _, kind := range []Kind{Gorilla, Ambigen} {
		r, err := Echo(kind, 4, 150*time.Millisecond)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		t.Logf("%+v", r)
		if r.RoundTrips < 4 || r.PerSecond <= 0 {
			t.Errorf("%s: %d round trips, %.0f/s", kind, r.RoundTrips, r.PerSecond)
		}
		if r.P50 <= 0 || r.P99 < r.P50 {
			t.Errorf("%s: p50 %v p99 %v", kind, r.P50, r.P99)
		}
		if r.CPUPerMsg <= 0 || r.AllocsPerMsg <= 0 {
			t.Errorf("%s: cpu %v allocs %.1f per message", kind, r.CPUPerMsg, r.AllocsPerMsg)
		}
	}
}

// With ChildCPUs the clients run under taskset on the CPUs named; the echo
// must still complete (every reply checked byte for byte by the child).
func TestEchoChildCPUsSmoke(t *testing.T) {
	ChildCPUs = "0"
	defer func() { ChildCPUs = "" }()
	r, err := Echo(Ambigen, 1, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r.RoundTrips < 1 {
		t.Errorf("%d round trips with the clients on CPU 0", r.RoundTrips)
	}
}

func TestBroadcastSmoke(t *testing.T) {
	const clients, rounds = 20, 3
	for _, kind := range []Kind{Gorilla, Ambigen} {
		r, err := Broadcast(kind, clients, rounds)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		t.Logf("%+v", r)
		if r.Min <= 0 || r.Median < r.Min || r.Max < r.Median {
			t.Errorf("%s: times %v %v %v", kind, r.Min, r.Median, r.Max)
		}
		// Every recipient got its frame in about one write system call;
		// fewer would mean frames were lost, many more that a frame was
		// split (the Go runtime's own wake-ups add a few).
		if r.SyscwPerClient < 1 || r.SyscwPerClient > 1.5 {
			t.Errorf("%s: %.2f write system calls per recipient, want 1", kind, r.SyscwPerClient)
		}
	}
}

func TestIdleSmoke(t *testing.T) {
	for _, kind := range []Kind{Gorilla, Ambigen} {
		r, err := Idle(kind, 400)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		t.Logf("%+v", r)
		// A connection costs at least its read buffer and a goroutine, and
		// far less than a megabyte. 400 connections, because with 50 the
		// heap's own drift between the two readings (tens of KB) could
		// outweigh what the connections hold and fail this at random.
		for _, v := range []float64{r.FreshPerConn, r.AfterPerConn} {
			if v < 1024 || v > 1<<20 {
				t.Errorf("%s: %.0f bytes per connection", kind, v)
			}
		}
	}
}

func TestSlowConsumerSmoke(t *testing.T) {
	// Small buffers and queue, so that the client that never reads is cut
	// off within the run: 80 frames of 4 KB against a few KB of socket
	// buffers and a queue of 32, so it is closed after about 40. The readers
	// may fall as many frames behind (160 ms at this rate) before they count
	// as slow too, which a loaded CI machine under -race needs: with a queue
	// of 4 a reader that was descheduled for 15 ms was cut off as well.
	r, err := SlowConsumer(SlowOptions{Clients: 10, Rounds: 80, Interval: 4 * time.Millisecond, TextSize: 4096, SendBuffer: 32 * 4096, SocketBuffer: 4096})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	if r.Median <= 0 || r.SlowMedian <= 0 || r.P99 < r.Median || r.SlowP99 < r.SlowMedian {
		t.Errorf("times %+v", r)
	}
	if !r.SlowClosed {
		t.Error("the client that never reads was not closed as a slow consumer")
	}
}

func TestBurstSmoke(t *testing.T) {
	const readers, lines = 20, 200
	for _, kind := range []Kind{Gorilla, Ambigen} {
		r, err := Burst(kind, readers, lines)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		t.Logf("%+v", r)
		if r.Complete != readers+1 || r.Closed != 0 {
			t.Errorf("%s: %d of %d clients got every line, %d closed", kind, r.Complete, readers+1, r.Closed)
		}
		if r.RateLimited != 0 {
			t.Errorf("%s: %d lines refused", kind, r.RateLimited)
		}
	}
}

func TestHoldSmoke(t *testing.T) {
	r, err := Hold(Ambigen, 20, 256<<10)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	// 20 x 256 KiB is within the default budget: every connection stays,
	// and what the server holds is about what was sent, not twice that.
	if r.Open != 20 || r.TryLater != 0 || r.OtherClosed != 0 {
		t.Errorf("open %d, 1013 %d, other %d; want all 20 open", r.Open, r.TryLater, r.OtherClosed)
	}
	if sent := int64(20 * 256 << 10); r.Heap > 2*sent {
		t.Errorf("the server holds %d bytes for %d sent", r.Heap, sent)
	}
}

func TestStormSmoke(t *testing.T) {
	bin, err := BuildChat(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, err := Storm(bin, 200, 50, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	if r.Connected != 200 || r.DialErrors != 0 || r.Closed != 0 {
		t.Errorf("connected %d, dial errors %d, closed %d (%v)", r.Connected, r.DialErrors, r.Closed, r.CloseCodes)
	}
	if r.Updates == 0 {
		t.Error("no client got a count update")
	}
}

func TestClusterSmoke(t *testing.T) {
	for _, nodes := range []int{1, 3} {
		r, err := Cluster(nodes, 30, 3)
		if err != nil {
			t.Fatalf("%d nodes: %v", nodes, err)
		}
		t.Logf("%+v", r)
		if r.Min <= 0 || r.Median < r.Min || r.CPUPerRound <= 0 {
			t.Errorf("%d nodes: %+v", nodes, r)
		}
		// One PUBLISH per broadcast, whatever it reaches; none on one node.
		if want := map[int]float64{1: 0, 3: 1}[nodes]; r.PublishesPerRound != want {
			t.Errorf("%d nodes: %.2f publishes per broadcast, want %v", nodes, r.PublishesPerRound, want)
		}
	}
}

func TestRoomSmoke(t *testing.T) {
	for _, filter := range []bool{false, true} {
		r, err := Room(10, 40, 3, filter)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v", r)
		// Exactly the members get each broadcast.
		if r.SentPerRound != 10 || r.Median <= 0 || r.CPUPerRound <= 0 {
			t.Errorf("filter %v: %+v", filter, r)
		}
	}
}
