package runtime

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Rooms and users are named groups of a server's connections. A room is
// whatever the application says it is (a channel, a document, a game): the
// server joins connections to it and takes them out (Server.Join and
// Server.Leave); clients have no say, so a room is a server-side notion and
// nothing about it travels on the wire. A user is every connection whose
// identity (what Options.Authenticate attached) has the same user key
// (Options.UserKey): all the tabs of one person.
//
// Both live in a side structure of the server, the hub, rather than in Conn,
// so that a connection that joins no room and has no user key costs nothing
// more than before. A connection leaves every room and its user when it
// closes.

// hub holds a server's rooms, users, presence and broker.
type hub struct {
	s       *Server
	userKey func(identity any) string

	mu    sync.Mutex
	rooms map[string]*group
	users map[string]*group
	of    map[*Conn]*belongs // only connections in a room or with a user key

	presence presenceNotifier
	cluster  *cluster // nil without a Broker
}

// group is the connections of one room or one user on this node, kept as
// the registry is (a slice and each one's position), so that a broadcast
// copies out exactly its members.
type group struct {
	connSet
	// byUser counts a room's connections per user key, for presence; nil
	// for a user's group.
	byUser map[string]int
}

// belongs is what one connection belongs to.
type belongs struct {
	user  string
	rooms []string // few, so a slice beats a map
}

func newHub(s *Server, opts Options) *hub {
	h := &hub{s: s, userKey: opts.UserKey}
	if h.userKey == nil {
		h.userKey = defaultUserKey
	}
	h.presence.init(h, opts.PresenceInterval, opts.OnPresence)
	if opts.Broker != nil {
		h.cluster = newCluster(h, opts.Broker, opts.PresenceTTL)
		h.cluster.start()
	}
	return h
}

// defaultUserKey is the user key of an identity when Options.UserKey is
// nil: a string is its own key, a fmt.Stringer its String, anything else
// (nil included) has none.
func defaultUserKey(identity any) string {
	switch id := identity.(type) {
	case string:
		return id
	case fmt.Stringer:
		return id.String()
	}
	return ""
}

// connSet is a set of connections kept as a slice, so that a broadcast
// copies its members out in one go, with each member's position, so that
// one leaves in constant time. The registry and every room and user are
// one; their owner's lock guards it.
type connSet struct {
	conns []*Conn
	index map[*Conn]int
}

func (s *connSet) add(c *Conn) {
	if s.index == nil {
		s.index = make(map[*Conn]int)
	}
	s.index[c] = len(s.conns)
	s.conns = append(s.conns, c)
}

// remove takes c out, moving the last member into its place; it reports
// whether c was there.
func (s *connSet) remove(c *Conn) bool {
	i, ok := s.index[c]
	if !ok {
		return false
	}
	last := len(s.conns) - 1
	moved := s.conns[last]
	s.conns[i] = moved
	s.index[moved] = i
	s.conns[last] = nil
	s.conns = s.conns[:last]
	delete(s.index, c)
	return true
}

// connected files a connection that just joined the registry under its
// user key.
func (h *hub) connected(c *Conn) {
	key := h.userKey(c.identity)
	if key == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.stateNow() == stateClosed {
		return
	}
	if h.of == nil {
		h.of = make(map[*Conn]*belongs)
		h.users = make(map[string]*group)
	}
	h.of[c] = &belongs{user: key}
	g := h.users[key]
	if g == nil {
		g = new(group)
		h.users[key] = g
	}
	g.add(c)
}

// drop takes a closed connection out of its rooms and its user.
func (h *hub) drop(c *Conn) {
	h.mu.Lock()
	b := h.of[c]
	if b == nil {
		h.mu.Unlock()
		return
	}
	delete(h.of, c)
	if g := h.users[b.user]; g != nil && g.remove(c) && len(g.conns) == 0 {
		delete(h.users, b.user)
	}
	for _, room := range b.rooms {
		h.leaveLocked(c, b, room)
	}
	h.mu.Unlock()
	for _, room := range b.rooms {
		h.changed(room, true)
	}
}

// errForeignConn is returned for a connection of another server or of a
// client.
var errForeignConn = errors.New("ambigen: the connection does not belong to this server")

// Join adds c to room. Joining a room c is already in does nothing. A
// connection may be in any number of rooms, and leaves all of them when it
// closes; joining a closed connection returns ErrClosed. Clients cannot
// join rooms themselves: an application that lets them exposes a message
// for it and decides in its handler. Safe from any goroutine.
func (s *Server) Join(c *Conn, room string) error {
	if c == nil || c.ep != s.ep {
		return errForeignConn
	}
	h := s.hub
	h.mu.Lock()
	// A connection that finished has already been dropped (finish marks it
	// closed before it leaves), so it must not be filed again.
	if c.stateNow() == stateClosed {
		h.mu.Unlock()
		return ErrClosed
	}
	if h.of == nil {
		h.of = make(map[*Conn]*belongs)
		h.users = make(map[string]*group)
	}
	b := h.of[c]
	if b == nil {
		b = new(belongs)
		h.of[c] = b
	}
	if slices.Contains(b.rooms, room) {
		h.mu.Unlock()
		return nil
	}
	b.rooms = append(b.rooms, room)
	if h.rooms == nil {
		h.rooms = make(map[string]*group)
	}
	g := h.rooms[room]
	if g == nil {
		g = &group{byUser: make(map[string]int)}
		h.rooms[room] = g
	}
	g.add(c)
	if b.user != "" {
		g.byUser[b.user]++
	}
	h.mu.Unlock()
	h.changed(room, true)
	return nil
}

// Leave takes c out of room and reports whether it was in it.
func (s *Server) Leave(c *Conn, room string) bool {
	h := s.hub
	h.mu.Lock()
	b := h.of[c]
	if b == nil || !slices.Contains(b.rooms, room) {
		h.mu.Unlock()
		return false
	}
	h.leaveLocked(c, b, room)
	b.rooms = slices.DeleteFunc(b.rooms, func(r string) bool { return r == room })
	if b.user == "" && len(b.rooms) == 0 {
		delete(h.of, c)
	}
	h.mu.Unlock()
	h.changed(room, true)
	return true
}

// leaveLocked takes c out of room's group; the caller updates b.
func (h *hub) leaveLocked(c *Conn, b *belongs, room string) {
	g := h.rooms[room]
	if g == nil || !g.remove(c) {
		return
	}
	if b.user != "" {
		if g.byUser[b.user]--; g.byUser[b.user] <= 0 {
			delete(g.byUser, b.user)
		}
	}
	if len(g.conns) == 0 {
		delete(h.rooms, room)
	}
}

// RoomsOf returns the rooms c is in, in the order it joined them.
func (s *Server) RoomsOf(c *Conn) []string {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if b := h.of[c]; b != nil {
		return slices.Clone(b.rooms)
	}
	return nil
}

// UserOf returns c's user key: what Options.UserKey made of its identity,
// or "" when it has none.
func (s *Server) UserOf(c *Conn) string {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if b := h.of[c]; b != nil {
		return b.user
	}
	return ""
}

// An Audience is whom a message is addressed to: everyone, the members of
// a room, or the connections of a user, on every node of the cluster when
// the server has a Broker, or on this node alone (Local). It is a small
// value, cheap to make for each message; making one for a room or user
// that does not exist is fine and reaches nobody.
//
// A broadcast to an audience encodes the message once, queues the same
// bytes to its members on this node (costing O(members), not O(all
// connections)) and, with a Broker, publishes it once for the other nodes,
// which deliver it to their own members. It returns how many connections
// of this node it was queued to.
type Audience struct {
	s     *Server
	kind  audienceKind
	name  string
	local bool
}

type audienceKind uint8

const (
	toEveryone audienceKind = iota
	toRoom
	toUser
)

// Everyone is every connection: Server.Broadcast's audience.
func (s *Server) Everyone() Audience { return Audience{s: s, kind: toEveryone} }

// Room is the members of the room named name.
func (s *Server) Room(name string) Audience { return Audience{s: s, kind: toRoom, name: name} }

// User is every connection whose user key is key (see Options.UserKey).
func (s *Server) User(key string) Audience { return Audience{s: s, kind: toUser, name: key} }

// Local is the same audience on this node only: nothing is published to
// the broker. It is what a hook that runs on every node (OnPresence, say)
// uses, so that each node tells its own connections once.
func (a Audience) Local() Audience {
	a.local = true
	return a
}

// Name is the room's name or the user's key; "" for Everyone.
func (a Audience) Name() string { return a.name }

// Conns returns the audience's connections on this node.
func (a Audience) Conns() []*Conn {
	if a.s == nil {
		return nil
	}
	if a.kind == toEveryone {
		return a.s.snapshot()
	}
	return a.s.hub.members(a.kind, a.name)
}

// Len is how many connections of this node the audience has.
func (a Audience) Len() int {
	if a.s == nil {
		return 0
	}
	if a.kind == toEveryone {
		return a.s.Len()
	}
	h := a.s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if g := h.groupLocked(a.kind, a.name); g != nil {
		return len(g.conns)
	}
	return 0
}

// Broadcast is the untyped broadcast to the audience: v is encoded once as
// Conn.Send would. It returns how many connections of this node it was
// queued to. A value that does not encode is sent to nobody (an
// *EncodeError). With a Broker, an error wrapping ErrBrokerUnavailable
// means this node's members have it and the other nodes do not.
func (a Audience) Broadcast(name string, v any) (int, error) {
	if a.s != nil {
		if chain := a.s.ep.sendChain(); chain != nil {
			o, err := encodeUntypedOut(name, v)
			if err != nil {
				return 0, err
			}
			return a.sendOut(chain, name, o)
		}
	}
	w, err := encodeUntyped(name, v)
	if err != nil {
		return 0, err
	}
	return a.send(ownFrame(w))
}

// BroadcastTo encodes the envelope once with codec and sends it to the
// audience a, as Audience.Broadcast does.
func BroadcastTo[T any](a Audience, name string, codec Codec[T], v T) (int, error) {
	if a.s != nil {
		if chain := a.s.ep.sendChain(); chain != nil {
			o, err := encodeOut(name, codec, v, meta{})
			if err != nil {
				return 0, err
			}
			return a.sendOut(chain, name, o)
		}
	}
	w, err := encodeEnvelope(name, codec, v, meta{})
	if err != nil {
		return 0, err
	}
	return a.send(ownFrame(w))
}

var errZeroAudience = errors.New("ambigen: the zero Audience reaches nobody; make one with Server.Room, User or Everyone")

// send delivers a frame to the audience's members here and publishes it for
// the other nodes.
func (a Audience) send(frame []byte) (int, error) {
	if a.s == nil {
		return 0, errZeroAudience
	}
	n := a.deliver(frame)
	c := a.s.hub.cluster
	if a.local || c == nil {
		return n, nil
	}
	return n, c.publish(a.kind, a.name, frame)
}

// deliver queues frame to the audience's members on this node.
func (a Audience) deliver(frame []byte) int {
	if a.kind == toEveryone {
		return a.s.broadcastFrame(frame, nil)
	}
	return fanOut(a.s.hub.members(a.kind, a.name), frame)
}

// members copies out a room's or a user's connections on this node.
func (h *hub) members(kind audienceKind, name string) []*Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	if g := h.groupLocked(kind, name); g != nil {
		return slices.Clone(g.conns)
	}
	return nil
}

func (h *hub) groupLocked(kind audienceKind, name string) *group {
	if kind == toUser {
		return h.users[name]
	}
	return h.rooms[name]
}
