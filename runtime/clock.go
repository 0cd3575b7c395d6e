package runtime

import (
	"sync/atomic"
	"time"
)

// The reader needs the time of every message it reads: the rate limit
// refills by it, and the keepalive and message deadlines are measured from
// it. A clock read costs about 0.1 µs on the virtual machines this was
// measured on, and a few hundred nanoseconds after every read from the
// socket where system calls flush the TLB (page-table isolation without
// PCID): a few percent of a small message's whole cost.
//
// So a busy process reads a coarse clock instead: while messages arrive
// faster than coarseStart per coarseTick, one goroutine stores the time
// every coarseTick and readers load it. A quiet process never starts that
// goroutine, and it stops once coarseIdleTicks pass without a reader, so
// that a server with idle connections wakes no one. A time from the coarse
// clock is at most a tick (plus the goroutine's scheduling delay) behind
// the real one, never ahead: a deadline set from it falls that much early,
// and a rate limit refills that much late.
//
// A tick is not free either: in a process that sleeps between messages, as
// a server of a single client in ping-pong does, each tick wakes it, and
// measured that way (server and client on CPUs of their own) a tick cost
// about 0.2 ms of CPU, 2,000 clock reads' worth. A process that reads
// 50,000 messages a second is busy enough that ticks seldom find it asleep,
// so that is where the ticker starts; a single client's ping-pong (12,000
// to 40,000 a second) never starts it.
const (
	coarseTick      = 10 * time.Millisecond
	coarseStart     = 500 // clock reads per tick that start the ticker (50,000 a second)
	coarseIdleTicks = 8   // ticks without a reader before the ticker stops
)

// coarseClock is the process's coarse clock; see above.
type coarseClock struct {
	now     atomic.Int64 // a mono as of the last tick; 0 while no ticker runs
	used    atomic.Bool  // now was read since the last tick
	running atomic.Bool  // a ticker runs, or is about to
	window  atomic.Int64 // start of the current tick's count of real reads
	reads   atomic.Int64 // real reads since window
}

var clock coarseClock

// read returns the time, from the ticker when one runs. It is a hint for
// rate limits and deadlines: successive reads may go back by up to a tick,
// which their users tolerate (see limiter.take and reader.alive).
func (k *coarseClock) read() mono {
	if t := k.now.Load(); t != 0 {
		// A load first, so that readers on different processors share
		// the line until the ticker clears the flag.
		if !k.used.Load() {
			k.used.Store(true)
		}
		return mono(t)
	}
	t := monoNow()
	// Count the real reads of this tick; the count is a heuristic, so
	// races between readers that start a new window only lose a few.
	if w := mono(k.window.Load()); t-w > mono(coarseTick) {
		k.window.Store(int64(t))
		k.reads.Store(1)
		return t
	}
	if k.reads.Add(1) >= coarseStart && k.running.CompareAndSwap(false, true) {
		k.now.Store(int64(t))
		go k.tick()
	}
	return t
}

// tick keeps now current until no one has read it for coarseIdleTicks.
func (k *coarseClock) tick() {
	t := time.NewTicker(coarseTick)
	defer t.Stop()
	for idle := 0; idle < coarseIdleTicks; {
		<-t.C
		k.now.Store(int64(monoNow()))
		if k.used.Swap(false) {
			idle = 0
		} else {
			idle++
		}
	}
	k.now.Store(0)
	k.window.Store(0)
	k.reads.Store(0)
	k.running.Store(false)
}
