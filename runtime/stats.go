package runtime

import "sync/atomic"

// Stats are a snapshot of an endpoint's counters (a Server's, or a
// Client's across its dials). All but Active only grow.
type Stats struct {
	Connections uint64 // connections accepted (or dialled) so far
	Active      uint64 // connections open now
	MessagesIn  uint64 // frames read, bad ones included
	MessagesOut uint64 // frames written, replies and broadcasts included
	Ignored     uint64 // messages dropped on purpose: not flagged, unknown name, late reply
	Rejected    uint64 // bad input and failed handlers (every error hook call)
	// SlowConsumers counts connections closed with 1008 because their send
	// queue was full.
	SlowConsumers uint64
	Calls         uint64 // calls handled plus calls made
	CallErrors    uint64 // error replies sent, plus calls made that failed
}

type counters struct {
	connections, active, in, out, ignored, rejected, slow, calls, callErrors atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Connections:   c.connections.Load(),
		Active:        c.active.Load(),
		MessagesIn:    c.in.Load(),
		MessagesOut:   c.out.Load(),
		Ignored:       c.ignored.Load(),
		Rejected:      c.rejected.Load(),
		SlowConsumers: c.slow.Load(),
		Calls:         c.calls.Load(),
		CallErrors:    c.callErrors.Load(),
	}
}
