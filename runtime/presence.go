package runtime

import (
	"maps"
	"slices"
	"sync"
	"time"
)

// Presence is who is in a room: on every node of the cluster when the server
// has a Broker (as far as the other nodes' last reports go), else on this
// server.
type Presence struct {
	Room string
	// Conns counts the room's connections.
	Conns int
	// Users lists the distinct user keys of those connections, sorted.
	// Connections without a user key are counted in Conns only.
	Users []string
}

// DefaultPresenceInterval is how often, at most, OnPresence hears about one
// room, and how often a node tells the others what changed.
const DefaultPresenceInterval = 100 * time.Millisecond

// Presence returns who is in room now.
func (s *Server) Presence(room string) Presence {
	p := Presence{Room: room}
	users := map[string]struct{}{}
	h := s.hub
	h.mu.Lock()
	if g := h.rooms[room]; g != nil {
		p.Conns = len(g.conns)
		for u := range g.byUser {
			users[u] = struct{}{}
		}
	}
	h.mu.Unlock()
	if c := h.cluster; c != nil {
		p.Conns += c.remotePresence(room, users)
	}
	p.Users = slices.Sorted(maps.Keys(users))
	return p
}

// presenceNotifier coalesces changes of presence: a room that changes many
// times within an interval is reported once, at the end of it, with what
// it is then. A crowd joining at once therefore costs one report per
// interval rather than one per join, and a hook that tells every member
// costs O(members) per interval instead of O(members) per join.
type presenceNotifier struct {
	h     *hub
	every time.Duration // < 0: at once, on the goroutine that made the change
	fn    func(Presence)

	mu      sync.Mutex
	changed map[string]struct{} // rooms to report to fn
	local   map[string]struct{} // rooms whose local presence changed, to tell the other nodes
	full    bool                // tell the other nodes everything
	timer   *time.Timer
	stopped bool
}

func (p *presenceNotifier) init(h *hub, every time.Duration, fn func(Presence)) {
	p.h, p.fn, p.every = h, fn, every
	if every == 0 {
		p.every = DefaultPresenceInterval
	}
}

// changed notes that room's presence changed, here (local) or on another
// node.
func (h *hub) changed(room string, local bool) {
	p := &h.presence
	tell := local && h.cluster != nil
	if p.fn == nil && !tell {
		return
	}
	if p.every < 0 && p.fn != nil {
		h.s.ep.hook("OnPresence", func() { p.fn(h.s.Presence(room)) })
		if !tell {
			return
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	if p.fn != nil && p.every > 0 {
		if p.changed == nil {
			p.changed = make(map[string]struct{})
		}
		p.changed[room] = struct{}{}
	}
	if tell {
		if p.local == nil {
			p.local = make(map[string]struct{})
		}
		p.local[room] = struct{}{}
	}
	p.armLocked()
}

// sendAll asks for this node's whole presence to be published at the next
// tick (a node asked for it, or the broker came back).
func (p *presenceNotifier) sendAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.full = true
	p.armLocked()
}

func (p *presenceNotifier) armLocked() {
	if p.timer == nil {
		every := p.every
		if every < 0 {
			every = DefaultPresenceInterval
		}
		p.timer = time.AfterFunc(every, p.tick)
	}
}

// tick reports what changed during the interval that just ended.
func (p *presenceNotifier) tick() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	changed, local, full := p.changed, p.local, p.full
	p.changed, p.local, p.full, p.timer = nil, nil, false, nil
	p.mu.Unlock()

	h := p.h
	if c := h.cluster; c != nil && (full || len(local) > 0) {
		c.publishPresence(full, slices.Sorted(maps.Keys(local)))
	}
	if p.fn != nil {
		for _, room := range slices.Sorted(maps.Keys(changed)) {
			pr := h.s.Presence(room)
			h.s.ep.hook("OnPresence", func() { p.fn(pr) })
		}
	}
}

// stop drops what is pending and ignores later changes.
func (p *presenceNotifier) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
}

// localRooms returns this node's presence in rooms, or in every room when
// rooms is nil: the count and connections per user key of each. A room with
// no connection left is reported with a zero count, so that the other
// nodes forget it.
func (h *hub) localRooms(rooms []string) []roomState {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rooms == nil {
		rooms = slices.Sorted(maps.Keys(h.rooms))
	}
	out := make([]roomState, 0, len(rooms))
	for _, name := range rooms {
		st := roomState{name: name}
		if g := h.rooms[name]; g != nil {
			st.conns = len(g.conns)
			st.users = maps.Clone(g.byUser)
		}
		out = append(out, st)
	}
	return out
}

// shutdown stops presence reports and the broker's goroutines.
func (h *hub) shutdown() {
	h.presence.stop()
	if h.cluster != nil {
		h.cluster.stop()
	}
}
