// Package evolve compares two versions of a checked schema and reports the
// changes that break someone, for `ambigen breaking`.
//
// # Who a change can break
//
// A browser tab stays open for days and a server is redeployed several
// times a day, so for a while peers generated from two versions of the
// schema talk to each other. There are two such pairings, and code
// compiled against the generated API is a third party:
//
//   - old clients: a client generated from the old schema (a tab loaded
//     before the deploy, a Go bot built before it) talking to a new server;
//   - old servers: a new client talking to a server that still runs the old
//     schema (a rolling deploy, a load balancer that mixes versions, a
//     rollback);
//   - generated source: code written against the old generated Go or
//     TypeScript API, which has to compile against the new one.
//
// # How a peer reads what it receives
//
// The rules follow from what the runtimes and the generated decoders do
// with a frame. A message name with no handler is ignored, and a call with
// no handler is answered "unimplemented". A call that reaches a plain
// message handler is never answered (the Go runtime runs the handler) or is
// answered "unimplemented" (the TypeScript client); a plain message that
// reaches a call handler is rejected (Go) or dropped (TypeScript), since
// it has no id to answer. Inside a payload, unknown object keys are
// skipped; a missing required field, a JSON value of the wrong kind and an
// enum value outside the declared list are rejected; an absent or null
// optional field is absent. Some forms are read although another type was
// declared: an integer where a float is expected, a timestamp, base64 bytes
// or an enum value where a plain string is expected, a single value where a
// list is expected (R unboxes one-element vectors, so both
// runtimes accept it), an object where a map is expected when every field
// fits the map's values, and anything where `any` is expected.
//
// # The rule
//
// A change breaks a pairing when something that worked between two old
// peers fails between an old and a new one: a message that was handled is
// now dropped or rejected, or a call fails or never gets its answer. What
// is new does not count: a new message that an old server ignores, or a new
// optional field an old client skips, never worked with old peers, and
// adding things is how a schema grows.
//
// Across a deploy, the values of a message that both versions send in one
// direction flow two ways: the old sender writes and the new receiver reads
// (old -> new), and the new sender writes and the old receiver reads
// (new -> old). For a client -> server message the first flow is an old
// client talking to a new server, so it breaks old clients, and the second
// a new client talking to an old server, so it breaks old servers; for a
// server -> client message it is the other way round. A call's reply flows
// against its request. Each rule below says which flow it breaks; where the
// type is used turns that into whom. A type used by several messages
// collects the flows of all of them, and a change inside it is reported
// once, where it is.
//
// Messages, matched by wire name:
//
//   - message-removed: old senders still send it and the new receiver drops
//     it (or answers "unimplemented"): old clients if clients sent it, old
//     servers if the server did. A rename is a removal plus an addition on
//     the wire; when the removed and the added message have the same shape
//     the line says so.
//   - message-direction-changed: a side that sent it no longer may (both ->
//     client, client -> server...). Old peers on that side still send it and
//     new receivers drop it: old clients when clients lost it, old servers
//     when the server did. Widening (client -> both) breaks no one.
//   - message-became-call, call-became-message: a call and a plain message
//     cannot answer each other (the call is never answered, or the message
//     is rejected as a call without an id), so both pairings break.
//   - payload-type-changed, reply-type-changed: the new type does not read
//     every value of the old one (old -> new), or the other way round
//     (new -> old). Types are compared by structure, not by name.
//
// Objects, matched by field name:
//
//   - field-removed: new writers leave it out, so a required field breaks
//     new -> old; an optional one breaks nobody on the wire.
//   - required-field-added: old writers never send it, so new readers
//     reject them: old -> new. An added optional field breaks no one.
//   - field-made-required: old writers may leave it out: old -> new.
//   - field-made-optional: new writers may leave it out, and old readers
//     require it: new -> old.
//   - field-type-changed: as for payloads, per flow.
//
// Enums:
//
//   - enum-value-removed: old writers may send it and new readers reject it:
//     old -> new.
//   - enum-value-added: new writers may send it and old readers reject it:
//     new -> old. Enum decoders are strict on purpose, so adding a value to
//     a type that flows new -> old needs the old peers gone first.
//
// # Generated source
//
// A change breaks generated source when the old generated API no longer
// fits: a message, method, type, field or enum constant disappears or is
// renamed (message-removed, message-go-name-changed, type-removed,
// type-renamed, field-go-name-changed...), a direction loses a side, or a
// Go or TypeScript type changes (pointer for optional, a payload or field
// type, a renamed type). A required field added to an existing type breaks
// TypeScript code that builds the value. Adding things (a message, a
// direction, an optional field, an enum value) breaks no source. Type
// renames are found through where the types are used: a type that only the
// old schema declares, used where only the new one declares another, was
// renamed when that pairing is the only one for both; the shapes are
// compared as usual, so a rename with the same shape is a source change
// only.
//
// # Constraints
//
// Value constraints (lengths, bounds, patterns, item and entry counts) are
// checked by every decoder, so they are part of what reads. They are
// compared wherever two type expressions meet (a payload, a reply, a
// field, and the elements and values inside them), as the reader's rules
// against the writer's:
//
//   - constraint-tightened: the new rules refuse values the old ones
//     allowed (a maximum lowered, a minimum raised, a constraint or a
//     pattern added), so old writers may send what new readers reject:
//     old -> new.
//   - constraint-loosened: the new rules allow values the old ones refused
//     (a maximum raised, a constraint removed), so new writers may send
//     what old readers reject: new -> old.
//
// A pattern is compared by its text, so a changed pattern is reported both
// ways. Over ints, bounds that allow the same whole numbers are equal
// (min 1 and exclusiveMin 0). Aliases are written out: moving constraints
// into an alias, or out of one, changes nothing on the wire. A type that
// widens (a timestamp read as a string) into a type with constraints, a
// single value read as a list that must have another length, and an object
// read as a map with a bound on its keys are reported as type changes.
// Constraints never change the generated API, so they break no source.
package evolve

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ambigen/ambigen/cmd/ambigen/internal/spec"
)

// Breaks says whom a change breaks.
type Breaks uint8

// Whom a change can break.
const (
	OldClients Breaks = 1 << iota // old clients talking to a new server
	OldServers                    // new clients talking to an old server
	Source                        // code compiled against the old generated API
)

// Wire is every pairing of peers.
const Wire = OldClients | OldServers

func (b Breaks) String() string {
	var who []string
	if b&OldClients != 0 {
		who = append(who, "old clients")
	}
	if b&OldServers != 0 {
		who = append(who, "old servers")
	}
	if b&Source != 0 {
		who = append(who, "generated source")
	}
	switch len(who) {
	case 0:
		return "nobody"
	case 1:
		return who[0]
	}
	return strings.Join(who[:len(who)-1], ", ") + " and " + who[len(who)-1]
}

// Change is one breaking change.
type Change struct {
	File   string   // the new schema, or the old one for what was removed
	Pos    spec.Pos // in File
	Kind   string   // message-removed, field-type-changed...
	Text   string   // what changed, starting with its subject
	Breaks Breaks
}

func (c Change) String() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s; breaks %s", c.File, c.Pos.Line, c.Pos.Col, c.Kind, c.Text, c.Breaks)
}

// Compare returns every change from old to new that breaks someone,
// sorted: first those in new's file by position, then the removals, in
// old's file by position. Both models must have loaded without errors;
// their Source names the files.
func Compare(old, new *spec.Model) []Change {
	c := &compare{
		old: old, new: new,
		found:    map[changeKey]*Change{},
		pairs:    map[pairKey]*pair{},
		sameType: map[*spec.Named]*spec.Named{},
	}
	c.messages()
	c.declaredTypes()
	c.propagate()
	c.renames()
	for _, p := range c.pairList {
		c.fields(p)
	}
	for _, s := range c.siteList {
		c.reportSite(s)
	}
	return c.sorted()
}

type changeKey struct {
	file string
	pos  spec.Pos
	kind string
}

// compare holds one comparison.
type compare struct {
	old, new *spec.Model
	found    map[changeKey]*Change
	order    []changeKey

	// Pairs of an old and a new named type that meet where a value of one
	// is read as the other, with the flows that pass through them.
	pairs    map[pairKey]*pair
	pairList []*pair
	work     []*pair

	// Places where an old and a new type expression meet (a payload, a
	// reply, a field), with the flows whose values do not read.
	siteList []*site

	// sameType maps an old named type to the new one that is the same Go
	// and TypeScript type: the same name, a rename, or the inline payload
	// of the same message.
	sameType map[*spec.Named]*spec.Named
}

// add records a change; the same change reached twice (a type used by two
// messages) is merged.
func (c *compare) add(file string, pos spec.Pos, kind string, breaks Breaks, format string, args ...any) {
	if breaks == 0 {
		return
	}
	k := changeKey{file, pos, kind}
	if ch, ok := c.found[k]; ok {
		ch.Breaks |= breaks
		return
	}
	c.found[k] = &Change{File: file, Pos: pos, Kind: kind, Text: fmt.Sprintf(format, args...), Breaks: breaks}
	c.order = append(c.order, k)
}

func (c *compare) sorted() []Change {
	out := make([]Change, 0, len(c.order))
	for _, k := range c.order {
		out = append(out, *c.found[k])
	}
	newFile := c.new.Source
	slices.SortStableFunc(out, func(a, b Change) int {
		if (a.File == newFile) != (b.File == newFile) {
			if a.File == newFile {
				return -1
			}
			return 1
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col - b.Pos.Col
		}
		if a.Kind != b.Kind {
			return strings.Compare(a.Kind, b.Kind)
		}
		return strings.Compare(a.Text, b.Text)
	})
	return out
}

// directions are the ways a message travels.
type directions uint8

const (
	toServer directions = 1 << iota // sent by clients
	toClient                        // sent by the server
)

func dirsOf(m *spec.Message) directions {
	switch m.From {
	case spec.FromClient:
		return toServer
	case spec.FromServer:
		return toClient
	}
	return toServer | toClient
}

func fromWord(d spec.Direction) string {
	switch d {
	case spec.FromClient:
		return "client"
	case spec.FromServer:
		return "server"
	}
	return "both"
}

// sendersBroken is whom it breaks when the senders of dirs, on the old
// side, send something the new receiver drops.
func sendersBroken(dirs directions) Breaks {
	var b Breaks
	if dirs&toServer != 0 {
		b |= OldClients
	}
	if dirs&toClient != 0 {
		b |= OldServers
	}
	return b
}

// flowsOf are the flows of values sent in dirs by both versions.
func flowsOf(dirs directions) flow {
	var f flow
	if dirs&toServer != 0 {
		f |= oldToNewOC | newToOldOS // an old client writes to a new server; a new client to an old server
	}
	if dirs&toClient != 0 {
		f |= newToOldOC | oldToNewOS // a new server writes to an old client; an old server to a new client
	}
	return f
}

// opposite is the direction of a call's reply.
func opposite(dirs directions) directions {
	var o directions
	if dirs&toServer != 0 {
		o |= toClient
	}
	if dirs&toClient != 0 {
		o |= toServer
	}
	return o
}

func (c *compare) messages() {
	newByWire := map[string]*spec.Message{}
	for _, m := range c.new.Messages {
		newByWire[m.Wire] = m
	}
	oldByWire := map[string]*spec.Message{}
	for _, m := range c.old.Messages {
		oldByWire[m.Wire] = m
	}
	// Added messages by shape, to recognise renames.
	added := map[string][]*spec.Message{}
	for _, m := range c.new.Messages {
		if oldByWire[m.Wire] == nil {
			added[spec.MessageShape(m)] = append(added[spec.MessageShape(m)], m)
		}
	}
	removed := map[string][]*spec.Message{}
	for _, m := range c.old.Messages {
		if newByWire[m.Wire] == nil {
			removed[spec.MessageShape(m)] = append(removed[spec.MessageShape(m)], m)
		}
	}

	for _, om := range c.old.Messages {
		nm := newByWire[om.Wire]
		what := messageWord(om)
		if nm == nil {
			hint := ""
			shape := spec.MessageShape(om)
			if a := added[shape]; len(a) == 1 && len(removed[shape]) == 1 {
				hint = fmt.Sprintf(" (%q at line %d has the same shape, but a renamed message is another message on the wire)", a[0].Wire, a[0].Pos.Line)
			}
			c.add(c.old.Source, om.Pos, "message-removed", sendersBroken(dirsOf(om))|Source,
				"%s %q (from %s) was removed%s", what, om.Wire, fromWord(om.From), hint)
			continue
		}
		lost := dirsOf(om) &^ dirsOf(nm)
		common := dirsOf(om) & dirsOf(nm)
		if lost != 0 {
			c.add(c.new.Source, nm.FromPos, "message-direction-changed", sendersBroken(lost)|Source,
				"%s %q: from %s became from %s; %s", what, om.Wire, fromWord(om.From), fromWord(nm.From), lostWords(lost))
		}
		if common == 0 {
			continue // nothing is exchanged by both versions; the line above says why
		}
		switch {
		case !om.IsCall() && nm.IsCall():
			c.add(c.new.Source, nm.ReplyPos, "message-became-call", Wire|Source,
				"message %q became a call; an old peer neither answers a call nor makes one", om.Wire)
			continue
		case om.IsCall() && !nm.IsCall():
			c.add(c.new.Source, nm.Pos, "call-became-message", Wire|Source,
				"call %q became a message without reply; an old peer still calls it or waits for calls", om.Wire)
			continue
		}
		if om.GoName != nm.GoName {
			c.add(c.new.Source, nm.Pos, "message-go-name-changed", Source,
				"%s %q: Go name %s became %s", what, om.Wire, om.GoName, nm.GoName)
		}
		c.sameInline(om.Payload, nm.Payload)
		c.site(&site{kind: "payload-type-changed", pos: nm.PayloadPos,
			subject: fmt.Sprintf("%s %q: payload", what, om.Wire), old: om.Payload, new: nm.Payload}, flowsOf(common))
		if om.IsCall() {
			c.sameInline(om.Reply, nm.Reply)
			c.site(&site{kind: "reply-type-changed", pos: nm.ReplyPos,
				subject: fmt.Sprintf("call %q: reply", om.Wire), old: om.Reply, new: nm.Reply}, flowsOf(opposite(common)))
		}
	}
}

func messageWord(m *spec.Message) string {
	if m.IsCall() {
		return "call"
	}
	return "message"
}

func lostWords(lost directions) string {
	switch lost {
	case toServer:
		return "the new server drops it when an old client sends it"
	case toClient:
		return "new clients drop it when an old server sends it"
	}
	return "new peers drop it when old ones send it"
}

// sameInline records that the inline types of one message's payload (or
// reply) in both versions are the same generated type, whatever the
// message's Go name makes of their names.
func (c *compare) sameInline(o, n *spec.Type) {
	if o != nil && n != nil && o.Kind == spec.Ref && n.Kind == spec.Ref && o.Named.Inline && n.Named.Inline {
		c.sameType[o.Named] = n.Named
	}
}

// declaredTypes pairs the declared types that keep their name, so that
// their changes are compared even where no message uses them (generated
// source still declares them), and reports the ones that are gone.
func (c *compare) declaredTypes() {
	newByName := map[string]*spec.Named{}
	for _, n := range c.new.Types {
		if !n.Inline {
			newByName[n.Name] = n
		}
	}
	for _, o := range c.old.Types {
		if n := newByName[o.Name]; !o.Inline && n != nil && o.IsEnum() == n.IsEnum() {
			c.sameType[o] = n
			c.pair(o, n, 0)
		}
	}
}

// renames finds declared types that were renamed, and reports them and the
// declared types that are gone.
func (c *compare) renames() {
	oldNames := map[string]bool{}
	for _, o := range c.old.Types {
		if !o.Inline {
			oldNames[o.Name] = true
		}
	}
	newNames := map[string]bool{}
	for _, n := range c.new.Types {
		if !n.Inline {
			newNames[n.Name] = true
		}
	}
	partners := map[*spec.Named][]*spec.Named{}
	for _, p := range c.pairList {
		o, n := p.key.old, p.key.new
		if o.Inline || n.Inline || newNames[o.Name] || oldNames[n.Name] {
			continue
		}
		partners[o] = append(partners[o], n)
		partners[n] = append(partners[n], o)
	}
	for _, o := range c.old.Types {
		if o.Inline || newNames[o.Name] {
			continue
		}
		if ps := partners[o]; len(ps) == 1 && len(partners[ps[0]]) == 1 {
			n := ps[0]
			c.sameType[o] = n
			c.add(c.new.Source, n.Pos, "type-renamed", Source, "type %q was renamed to %q", o.Name, n.Name)
			continue
		}
		c.add(c.old.Source, o.Pos, "type-removed", Source, "type %q was removed", o.Name)
	}
	// An alias is a Go and TypeScript name too; what it stands for is
	// compared where it is used.
	for _, n := range c.new.Aliases {
		newNames[n.Name] = true
	}
	for _, a := range c.old.Aliases {
		if !newNames[a.Name] {
			c.add(c.old.Source, a.Pos, "type-removed", Source, "type %q was removed", a.Name)
		}
	}
}
