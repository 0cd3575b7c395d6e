package runtime

import "sync/atomic"

// Stats are a snapshot of an endpoint's counters (a Server's, or a
// Client's across its dials). All but Active only grow.
type Stats struct {
	Connections uint64 // connections accepted (or dialled) so far
	Active      uint64 // connections open now
	MessagesIn  uint64 // frames read, bad ones included
	MessagesOut uint64 // frames accepted for writing, replies and broadcasts included
	Ignored     uint64 // messages dropped on purpose: not flagged, unknown name, late reply
	Rejected    uint64 // bad input and failed handlers (every error hook call)
	// SlowConsumers counts connections closed because they did not keep
	// up: their queued bytes passed SendBuffer, or a write made no
	// progress for WriteTimeout.
	SlowConsumers uint64
	Calls         uint64 // calls handled plus calls made
	CallErrors    uint64 // error replies sent, plus calls made that failed
	// RateLimited counts messages (and pings) refused by the rate limit;
	// RateLimitCloses the connections closed for it.
	RateLimited     uint64
	RateLimitCloses uint64
	// Overloaded counts connections closed with 1013 because the message
	// memory budget was exhausted; TimedOut those closed because a message
	// was unfinished after MessageTimeout.
	Overloaded uint64
	TimedOut   uint64
	// HookPanics counts panics recovered from OnConnect, OnDisconnect and
	// OnError.
	HookPanics uint64
	// Unhandled counts messages and calls that no handler took: names
	// nobody registered (a call among them is answered "unimplemented").
	// They are also logged at Warn, rate-limited. Unhandled messages are
	// counted in Ignored too.
	Unhandled uint64
	// Refused counts upgrades refused with 401 or 403 (by Authenticate or
	// the Origin check); always 0 on a Client.
	Refused uint64
	// Errors counts what Rejected counts by its kind; kinds that never
	// happened are left out.
	Errors map[ErrorKind]uint64
}

type counters struct {
	connections, active, in, out, ignored, rejected, slow, calls, callErrors atomic.Uint64
	rateLimited, rateLimitCloses, overloaded, timedOut, hookPanics           atomic.Uint64
	unhandled, refused                                                       atomic.Uint64
	kinds                                                                    [len(kindNames)]atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Connections:     c.connections.Load(),
		Active:          c.active.Load(),
		MessagesIn:      c.in.Load(),
		MessagesOut:     c.out.Load(),
		Ignored:         c.ignored.Load(),
		Rejected:        c.rejected.Load(),
		SlowConsumers:   c.slow.Load(),
		Calls:           c.calls.Load(),
		CallErrors:      c.callErrors.Load(),
		RateLimited:     c.rateLimited.Load(),
		RateLimitCloses: c.rateLimitCloses.Load(),
		Overloaded:      c.overloaded.Load(),
		TimedOut:        c.timedOut.Load(),
		HookPanics:      c.hookPanics.Load(),
		Unhandled:       c.unhandled.Load(),
		Refused:         c.refused.Load(),
		Errors:          c.errorsByKind(),
	}
}

func (c *counters) errorsByKind() map[ErrorKind]uint64 {
	var m map[ErrorKind]uint64
	for k := range c.kinds {
		if n := c.kinds[k].Load(); n > 0 {
			if m == nil {
				m = make(map[ErrorKind]uint64)
			}
			m[ErrorKind(k)] = n
		}
	}
	return m
}

// rejected counts one bad input or failure of kind k.
func (c *counters) reject(k ErrorKind) {
	c.rejected.Add(1)
	if k > 0 && int(k) < len(c.kinds) {
		c.kinds[k].Add(1)
	}
}

// retire adds a closed connection's own counts to the totals.
func (c *counters) retire(conn *Conn) {
	c.in.Add(conn.nIn.Load())
	c.out.Add(conn.nOut.Load())
}

// addLive adds the counts of a connection still open.
func (s *Stats) addLive(conn *Conn) {
	s.MessagesIn += conn.nIn.Load()
	s.MessagesOut += conn.nOut.Load()
}
