package runtime

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// A Broker joins the servers (nodes) of a cluster: with Options.Broker set,
// broadcasts to everyone, to a room or to a user reach the connections of
// every node, and presence counts the members of a room on every node.
// Package broker/redis implements it on Redis; nil (the default) keeps a
// server on its own.
//
// The runtime calls Publish from one goroutine per server, one call at a
// time, so that what one node publishes arrives everywhere in the order it
// was published; a broadcast is one message, however many it reaches.
// Subscribe runs on a goroutine of its own for the server's life.
//
// # Delivery
//
// A message is delivered at most once to each node and each connection, in
// the order its node published it; messages of different nodes have no
// order between them. Nothing is stored or retried: what is published
// while the broker is unreachable, or while a node's subscription is down,
// is lost for the other nodes (the node that sent it still delivers it to
// its own connections). The publishing node counts what it could not hand
// over (BrokerStats.PublishErrors) and returns ErrBrokerUnavailable from
// the broadcast.
type Broker interface {
	// Publish hands msgs, in this order, to the broker for every subscribed
	// node, this one included. It may block until ctx ends. With no msgs it
	// only checks that the broker can be reached, which is how a server
	// finds out that a broker that failed is back.
	Publish(ctx context.Context, msgs ...[]byte) error
	// Subscribe calls deliver with every message any node publishes, from
	// one goroutine, in the order each node published them, until ctx ends;
	// it then returns. It keeps its subscription up by itself, reconnecting
	// after failures, and calls ready each time the subscription is in
	// place, the first time included. deliver must not keep msg after it
	// returns. A Subscribe that returns early is called again after a pause.
	Subscribe(ctx context.Context, ready func(), deliver func(msg []byte)) error
}

// ErrBrokerUnavailable is wrapped by the error of a broadcast that reached
// this node's connections but could not be handed to the broker: it was
// failing (the error says why), or the queue of messages waiting for it was
// full. The other nodes do not get that message.
var ErrBrokerUnavailable = errors.New("ambigen: broker unavailable; the other nodes did not get the message")

// Defaults of the cluster.
const (
	// DefaultPresenceTTL is how long a node's presence counts after its
	// last message: a node that stops without a goodbye is forgotten then.
	DefaultPresenceTTL = 15 * time.Second
	// publishTimeout bounds one Publish call; a broker that takes longer is
	// failing.
	publishTimeout = 2 * time.Second
	// probeInterval is how often a failing broker is checked.
	probeInterval = 250 * time.Millisecond
	// The messages waiting for the broker are bounded so that a broker that
	// is slow or gone cannot make a server buffer without end: past either
	// bound a broadcast is refused with ErrBrokerUnavailable.
	maxPublishQueue      = 4096
	maxPublishQueueBytes = 16 << 20
	// maxPublishBatch is the most messages handed to one Publish call.
	maxPublishBatch = 256
	// resubscribePause is the wait before calling a Subscribe that
	// returned early again.
	resubscribePause = time.Second
)

// BrokerStats are a server's counters of its broker. All but Nodes and
// Down only grow.
type BrokerStats struct {
	Published uint64 // messages handed to the broker
	// PublishErrors counts messages the other nodes did not get because
	// they could not be handed to the broker: refused while it was failing
	// or while the queue was full, or part of a Publish that failed.
	PublishErrors uint64
	Received      uint64 // messages from other nodes
	// Invalid counts messages from the broker that were not a node's, or
	// not well formed, and were dropped.
	Invalid uint64
	// Nodes is how many other nodes this one hears from now.
	Nodes int
	// Down is why the broker is failing now, or nil.
	Down error
}

// BrokerStats returns the broker's counters; the zero value without one.
func (s *Server) BrokerStats() BrokerStats {
	c := s.hub.cluster
	if c == nil {
		return BrokerStats{}
	}
	st := BrokerStats{
		Published:     c.published.Load(),
		PublishErrors: c.failed.Load(),
		Received:      c.received.Load(),
		Invalid:       c.invalid.Load(),
	}
	c.mu.Lock()
	st.Down = c.down
	c.mu.Unlock()
	c.pmu.Lock()
	st.Nodes = len(c.nodes)
	c.pmu.Unlock()
	return st
}

// cluster is a server's side of the broker: one goroutine publishes what
// the server queues, in order; one runs the subscription and delivers what
// the other nodes publish; one sends this node's presence as a heartbeat
// and forgets nodes that went quiet.
type cluster struct {
	h   *hub
	b   Broker
	id  nodeID
	ttl time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	queue   [][]byte
	bytes   int
	wake    chan struct{} // capacity 1
	down    error         // the broker is failing: publishing is refused until a probe succeeds
	closing bool
	stopped chan struct{} // closed when the publisher has said goodbye

	pmu   sync.Mutex
	nodes map[nodeID]*remoteNode

	published, failed, received, invalid atomic.Uint64
}

type nodeID [8]byte

type remoteNode struct {
	seen  time.Time
	rooms map[string]roomState
}

// roomState is one node's presence in one room.
type roomState struct {
	name  string
	conns int
	users map[string]int // connections per user key
}

func newCluster(h *hub, b Broker, ttl time.Duration) *cluster {
	if ttl <= 0 {
		ttl = DefaultPresenceTTL
	}
	c := &cluster{h: h, b: b, ttl: ttl, wake: make(chan struct{}, 1), stopped: make(chan struct{}), nodes: map[nodeID]*remoteNode{}}
	_, _ = rand.Read(c.id[:]) // crypto/rand does not fail on supported platforms
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// start runs the cluster's goroutines, once the hub holds it.
func (c *cluster) start() {
	c.wg.Add(3)
	go c.publisher()
	go c.subscriber()
	go c.heartbeat()
}

// The messages between nodes are binary: a version byte, the kind, the
// sending node's id, then what the kind carries. A frame is the complete
// WebSocket frame that the sending node queued to its own connections, so
// the receiving nodes queue the same bytes without encoding anything.
const msgVersion = 1

type msgKind byte

const (
	msgEveryone msgKind = iota + 1 // frame
	msgRoom                        // room name, frame
	msgUser                        // user key, frame
	msgPresence                    // full flag, rooms (see appendPresence)
	msgHello                       // a node (re)subscribed: everyone sends their whole presence
	msgBye                         // a node is shutting down: forget it now
)

const msgHeader = 2 + len(nodeID{})

func (c *cluster) newMsg(kind msgKind, size int) []byte {
	b := make([]byte, 0, msgHeader+size)
	b = append(b, msgVersion, byte(kind))
	return append(b, c.id[:]...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// publish queues one frame for the other nodes' members of the audience.
func (c *cluster) publish(kind audienceKind, name string, frame []byte) error {
	var m []byte
	switch kind {
	case toEveryone:
		m = c.newMsg(msgEveryone, len(frame))
	case toRoom:
		m = appendString(c.newMsg(msgRoom, len(frame)+len(name)+2), name)
	default:
		m = appendString(c.newMsg(msgUser, len(frame)+len(name)+2), name)
	}
	return c.enqueue(append(m, frame...))
}

// enqueue hands m to the publisher without waiting, or refuses it.
func (c *cluster) enqueue(m []byte) error {
	c.mu.Lock()
	switch {
	case c.closing:
		c.mu.Unlock()
		c.failed.Add(1)
		return fmt.Errorf("%w: %w", ErrBrokerUnavailable, ErrShutdown)
	case c.down != nil:
		err := c.down
		c.mu.Unlock()
		c.failed.Add(1)
		return fmt.Errorf("%w: %v", ErrBrokerUnavailable, err)
	case len(c.queue) >= maxPublishQueue || c.bytes+len(m) > maxPublishQueueBytes:
		c.mu.Unlock()
		c.failed.Add(1)
		return fmt.Errorf("%w: %d messages wait for it already", ErrBrokerUnavailable, maxPublishQueue)
	}
	c.queue = append(c.queue, m)
	c.bytes += len(m)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// publisher hands the queue to the broker, in order, a batch per call. While
// the broker fails it refuses new messages (see enqueue) and probes it; when
// a probe succeeds, this node publishes its whole presence again, since the
// other nodes may have missed some of it.
func (c *cluster) publisher() {
	defer c.wg.Done()
	defer close(c.stopped)
	probe := time.NewTicker(probeInterval)
	defer probe.Stop()
	for {
		c.mu.Lock()
		batch := c.queue[:min(len(c.queue), maxPublishBatch)]
		closing, down := c.closing, c.down
		c.mu.Unlock()
		switch {
		case len(batch) > 0:
			err := c.call(batch...)
			c.mu.Lock()
			for _, m := range batch {
				c.bytes -= len(m)
			}
			c.queue = c.queue[len(batch):]
			if len(c.queue) == 0 {
				c.queue = nil // let a large burst's array go
			}
			if err != nil && c.down == nil {
				c.down = err
			}
			c.mu.Unlock()
			if err != nil {
				c.failed.Add(uint64(len(batch)))
				c.h.s.ep.log.Warn("ambigen: publishing to the broker failed", "messages", len(batch), "err", err)
			} else {
				c.published.Add(uint64(len(batch)))
			}
			continue
		case closing:
			if down == nil {
				_ = c.call(c.newMsg(msgBye, 0))
			}
			return
		}
		select {
		case <-c.wake:
		case <-probe.C:
			if down == nil {
				continue
			}
			err := c.call()
			c.mu.Lock()
			c.down = err // the latest reason, or nil: back
			c.mu.Unlock()
			if err == nil {
				c.h.s.ep.log.Warn("ambigen: the broker is back")
				c.h.presence.sendAll()
			}
		case <-c.ctx.Done():
			return
		}
	}
}

func (c *cluster) call(msgs ...[]byte) error {
	ctx, cancel := context.WithTimeout(c.ctx, publishTimeout)
	defer cancel()
	return c.b.Publish(ctx, msgs...)
}

// subscriber keeps the broker's subscription running.
func (c *cluster) subscriber() {
	defer c.wg.Done()
	for {
		err := c.b.Subscribe(c.ctx, c.ready, c.deliver)
		if c.ctx.Err() != nil {
			return
		}
		c.h.s.ep.log.Warn("ambigen: the broker's subscription ended", "err", err)
		select {
		case <-time.After(resubscribePause):
		case <-c.ctx.Done():
			return
		}
	}
}

// ready runs when the subscription is in place: the node says hello, which
// makes every node (this one too) publish its whole presence, so that a
// node that starts or comes back learns the cluster's at once.
func (c *cluster) ready() {
	_ = c.enqueue(c.newMsg(msgHello, 0))
}

// deliver handles one message from the broker.
func (c *cluster) deliver(m []byte) {
	if len(m) < msgHeader || m[0] != msgVersion {
		c.invalid.Add(1)
		return
	}
	kind := msgKind(m[1])
	from := nodeID(m[2:msgHeader])
	body := m[msgHeader:]
	if kind == msgHello {
		// Every node answers, this one included: a node that was cut off
		// from the broker may have missed what the others said meanwhile.
		c.h.presence.sendAll()
	}
	if from == c.id {
		return // this node delivered its own messages when it sent them
	}
	c.received.Add(1)
	switch kind {
	case msgEveryone:
		if !validFrame(body) {
			c.invalid.Add(1)
			return
		}
		c.seen(from)
		c.h.s.broadcastFrame(clone(body), nil)
	case msgRoom, msgUser:
		name, frame, ok := readString(body)
		if !ok || !validFrame(frame) {
			c.invalid.Add(1)
			return
		}
		c.seen(from)
		kind := toRoom
		if m[1] == byte(msgUser) {
			kind = toUser
		}
		if conns := c.h.members(kind, name); len(conns) > 0 {
			fanOut(conns, clone(frame))
		}
	case msgPresence:
		if !c.presenceFrom(from, body) {
			c.invalid.Add(1)
		}
	case msgHello:
		c.seen(from)
	case msgBye:
		c.forget(from)
	default:
		c.invalid.Add(1)
	}
}

// clone copies what deliver must not keep: the outbox owns the frames it is
// given.
func clone(b []byte) []byte { return append([]byte(nil), b...) }

func readString(b []byte) (s string, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return "", nil, false
	}
	return string(b[k : k+int(n)]), b[k+int(n):], true
}

// validFrame checks that f is one complete unmasked text frame, as a node
// queues to its connections: anything else would break the stream of
// every connection it was queued to.
func validFrame(f []byte) bool {
	if len(f) < 2 || f[0] != 0x81 || f[1]&0x80 != 0 {
		return false
	}
	switch n := f[1]; {
	case n < 126:
		return len(f) == 2+int(n)
	case n == 126:
		return len(f) >= 4 && len(f) == 4+int(binary.BigEndian.Uint16(f[2:]))
	default:
		return len(f) >= 10 && uint64(len(f)-10) == binary.BigEndian.Uint64(f[2:])
	}
}

// seen notes that node from is alive.
func (c *cluster) seen(from nodeID) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	n := c.nodes[from]
	if n == nil {
		n = &remoteNode{rooms: map[string]roomState{}}
		c.nodes[from] = n
	}
	n.seen = time.Now()
}

// publishPresence sends this node's presence in rooms, or in every room
// (full), which also replaces what the other nodes knew of it.
func (c *cluster) publishPresence(full bool, rooms []string) {
	if full {
		rooms = nil
	}
	states := c.h.localRooms(rooms)
	m := c.newMsg(msgPresence, 64*len(states))
	if full {
		m = append(m, 1)
	} else {
		m = append(m, 0)
	}
	m = binary.AppendUvarint(m, uint64(len(states)))
	for _, st := range states {
		m = appendString(m, st.name)
		m = binary.AppendUvarint(m, uint64(st.conns))
		m = binary.AppendUvarint(m, uint64(len(st.users)))
		for u, n := range st.users {
			m = appendString(m, u)
			m = binary.AppendUvarint(m, uint64(n))
		}
	}
	// A refused presence message is counted like any other; the next
	// heartbeat repairs what the other nodes missed.
	_ = c.enqueue(m)
}

// presenceFrom takes in a node's presence and notes the rooms whose
// presence changed.
func (c *cluster) presenceFrom(from nodeID, b []byte) bool {
	if len(b) < 1 {
		return false
	}
	full := b[0] == 1
	b = b[1:]
	count, k := binary.Uvarint(b)
	if k <= 0 || count > uint64(len(b)) {
		return false
	}
	b = b[k:]
	states := make([]roomState, 0, count)
	for range count {
		var st roomState
		var ok bool
		if st.name, b, ok = readString(b); !ok {
			return false
		}
		conns, k := binary.Uvarint(b)
		if k <= 0 {
			return false
		}
		b = b[k:]
		nusers, k := binary.Uvarint(b)
		if k <= 0 || nusers > uint64(len(b)) {
			return false
		}
		b = b[k:]
		st.conns = int(conns)
		if nusers > 0 {
			st.users = make(map[string]int, nusers)
		}
		for range nusers {
			var u string
			if u, b, ok = readString(b); !ok {
				return false
			}
			n, k := binary.Uvarint(b)
			if k <= 0 {
				return false
			}
			b = b[k:]
			st.users[u] = int(n)
		}
		states = append(states, st)
	}
	if len(b) != 0 {
		return false
	}

	var changed []string
	c.pmu.Lock()
	n := c.nodes[from]
	if n == nil {
		n = &remoteNode{rooms: map[string]roomState{}}
		c.nodes[from] = n
	}
	n.seen = time.Now()
	if full {
		named := make(map[string]bool, len(states))
		for _, st := range states {
			named[st.name] = true
		}
		for name := range n.rooms {
			if !named[name] {
				delete(n.rooms, name)
				changed = append(changed, name)
			}
		}
	}
	for _, st := range states {
		old, had := n.rooms[st.name]
		if st.conns == 0 {
			if had {
				delete(n.rooms, st.name)
				changed = append(changed, st.name)
			}
			continue
		}
		if !had || old.conns != st.conns || !maps.Equal(old.users, st.users) {
			n.rooms[st.name] = st
			changed = append(changed, st.name)
		}
	}
	c.pmu.Unlock()
	for _, room := range changed {
		c.h.changed(room, false)
	}
	return true
}

// remotePresence adds the other nodes' user keys in room to users and
// returns their connections in it.
func (c *cluster) remotePresence(room string, users map[string]struct{}) int {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	conns := 0
	for _, n := range c.nodes {
		st, ok := n.rooms[room]
		if !ok {
			continue
		}
		conns += st.conns
		for u := range st.users {
			users[u] = struct{}{}
		}
	}
	return conns
}

// forget drops a node and its presence.
func (c *cluster) forget(from nodeID) {
	c.pmu.Lock()
	n := c.nodes[from]
	delete(c.nodes, from)
	c.pmu.Unlock()
	if n == nil {
		return
	}
	for room := range n.rooms {
		c.h.changed(room, false)
	}
}

// heartbeat publishes this node's whole presence every third of the TTL,
// which keeps it alive in the other nodes' eyes and repairs what they
// missed, and forgets the nodes not heard from for a TTL.
func (c *cluster) heartbeat() {
	defer c.wg.Done()
	t := time.NewTicker(c.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-c.ctx.Done():
			return
		}
		c.h.presence.sendAll()
		var gone []nodeID
		c.pmu.Lock()
		for id, n := range c.nodes {
			if time.Since(n.seen) > c.ttl {
				gone = append(gone, id)
			}
		}
		c.pmu.Unlock()
		for _, id := range gone {
			c.forget(id)
		}
	}
}

// stop says goodbye to the other nodes, after what is queued, and stops
// the goroutines; it waits at most a publish timeout for the goodbye.
func (c *cluster) stop() {
	c.mu.Lock()
	already := c.closing
	c.closing = true
	c.mu.Unlock()
	if already {
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	select {
	case <-c.stopped:
	case <-time.After(publishTimeout):
	}
	c.cancel()
	c.wg.Wait()
}
