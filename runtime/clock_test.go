package runtime

import (
	"testing"
	"time"
)

// A process that reads the clock less often than coarseStart times a tick
// reads the real clock and starts no goroutine, even just under the
// threshold.
func TestCoarseClockQuiet(t *testing.T) {
	var k coarseClock
	for range 3 {
		for range coarseStart - 1 {
			before := monoNow()
			got := k.read()
			if got < before || got > monoNow() {
				t.Fatalf("read %d outside the real clock's [%d, now]", got, before)
			}
		}
		time.Sleep(coarseTick + time.Millisecond) // the next reads count in a new tick
	}
	if k.running.Load() || k.now.Load() != 0 {
		t.Fatalf("a ticker started for %d reads per tick", coarseStart-1)
	}
}

// A busy process reads the ticker's time, which is never ahead of the real
// clock and at most a few ticks behind it; once the reads stop, the ticker
// stops too.
func TestCoarseClockBusy(t *testing.T) {
	var k coarseClock
	for range coarseStart + 1 {
		k.read()
	}
	if !k.running.Load() || k.now.Load() == 0 {
		t.Fatalf("no ticker after %d reads in a tick", coarseStart+1)
	}
	// A busy machine (-race, CI) can delay the ticker's goroutine, so the
	// bound on how far behind it is is loose; the point is that it moves.
	first := k.read()
	deadline := time.Now().Add(5 * time.Second)
	for k.read() == first {
		if time.Now().After(deadline) {
			t.Fatal("the coarse clock did not move in 5s")
		}
		time.Sleep(time.Millisecond)
	}
	for range 100 {
		got := k.read()
		now := monoNow()
		if got > now {
			t.Fatalf("coarse time %d is ahead of the real clock %d", got, now)
		}
		if behind := time.Duration(now - got); behind > time.Second {
			t.Fatalf("coarse time is %v behind", behind)
		}
		time.Sleep(100 * time.Microsecond)
	}
	// Without readers the ticker stops after coarseIdleTicks.
	deadline = time.Now().Add(5 * time.Second)
	for k.running.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the ticker still runs 5s after the last read")
		}
		time.Sleep(coarseTick)
	}
	if k.now.Load() != 0 {
		t.Fatal("the ticker stopped and left its time behind")
	}
	// The next reads see the real clock again.
	before := monoNow()
	if got := k.read(); got < before {
		t.Fatalf("read %d after the ticker stopped, before the real clock's %d", got, before)
	}
}

// A time that goes back (the coarse clock may lie a tick behind an earlier
// real read) refills nothing and is not remembered, so that no time is
// credited twice.
func TestLimiterTimeGoingBack(t *testing.T) {
	cfg := rateConfig{on: true, messages: 1, burst: 1, bytes: 0, maxRefused: 100}
	var l limiter
	at := func(s float64) mono { return mono(s * float64(time.Second)) }
	if v := l.take(&cfg, at(10), 1); v != allowed {
		t.Fatalf("first message: %v, want allowed", v)
	}
	if v := l.take(&cfg, at(9.5), 1); v != refused {
		t.Fatalf("message at 9.5s with an empty bucket: %v, want refused", v)
	}
	// 0.6s after the first message: 0.6 tokens, not 1.1.
	if v := l.take(&cfg, at(10.6), 1); v != refused {
		t.Fatalf("message at 10.6s: %v, want refused (the step back credited time)", v)
	}
	if v := l.take(&cfg, at(11.1), 1); v != allowed {
		t.Fatalf("message at 11.1s: %v, want allowed", v)
	}
}
