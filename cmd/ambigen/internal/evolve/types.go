package evolve

import (
	"fmt"

	"github.com/ambigen/ambigen/cmd/ambigen/internal/spec"
)

// flow is a set of ways values cross a deploy: which version writes, in
// which pairing of peers. The version that writes is the one whose values
// must read on the other side.
type flow uint8

const (
	oldToNewOC flow = 1 << iota // an old client writes to a new server
	oldToNewOS                  // an old server writes to a new client
	newToOldOC                  // a new server writes to an old client
	newToOldOS                  // a new client writes to an old server

	oldWrites = oldToNewOC | oldToNewOS
	newWrites = newToOldOC | newToOldOS
)

// breaks is the pairings whose values travel in f.
func (f flow) breaks() Breaks {
	var b Breaks
	if f&(oldToNewOC|newToOldOC) != 0 {
		b |= OldClients
	}
	if f&(oldToNewOS|newToOldOS) != 0 {
		b |= OldServers
	}
	return b
}

type pairKey struct{ old, new *spec.Named }

// pair is an old and a new named type whose values meet, in the flows
// that carry them.
type pair struct {
	key   pairKey
	flows flow
}

// site is a place where an old and a new type expression meet.
type site struct {
	kind     string   // payload-type-changed, reply-type-changed, field-type-changed
	pos      spec.Pos // of the new type expression
	subject  string   // `message "chat": payload`
	old, new *spec.Type
	owner    *pair // the object pair a field site belongs to; nil for payloads and replies
	failed   flow  // flows whose values do not read at this site
	// constraints are the constraint changes found at this site, in the
	// order they were found.
	constraints []*constraintChange
}

// pair records that values of o and n meet in flows f, and queues the
// pair when that adds flows (or when it is new, so that source-level
// comparisons see it even without flows).
func (c *compare) pair(o, n *spec.Named, f flow) {
	k := pairKey{o, n}
	p, ok := c.pairs[k]
	if !ok {
		p = &pair{key: k}
		c.pairs[k] = p
		c.pairList = append(c.pairList, p)
	} else if p.flows|f == p.flows {
		return
	}
	p.flows |= f
	c.work = append(c.work, p)
}

// site compares the type expressions of s in flows f, both ways.
func (c *compare) site(s *site, f flow) {
	c.siteList = append(c.siteList, s)
	c.read(s, s.old, s.new, f&oldWrites, true)
	c.read(s, s.new, s.old, f&newWrites, false)
}

// propagate walks the fields of every queued object pair until no pair
// gains flows: a type's flows are those of every place it is used.
func (c *compare) propagate() {
	type fieldKey struct {
		p *pair
		f *spec.Field
	}
	done := map[fieldKey]*site{} // one site per field of a pair
	for len(c.work) > 0 {
		p := c.work[len(c.work)-1]
		c.work = c.work[:len(c.work)-1]
		o, n := p.key.old, p.key.new
		if o.IsEnum() {
			continue
		}
		for _, nf := range n.Fields {
			of := fieldNamed(o, nf.Wire)
			if of == nil {
				continue
			}
			s := done[fieldKey{p, nf}]
			if s == nil {
				s = &site{kind: "field-type-changed", pos: nf.TypePos, owner: p,
					subject: fmt.Sprintf("%s: field %q", typeSubject(n), nf.Wire), old: of.Type, new: nf.Type}
				done[fieldKey{p, nf}] = s
				c.siteList = append(c.siteList, s)
			}
			c.read(s, of.Type, nf.Type, p.flows&oldWrites, true)
			c.read(s, nf.Type, of.Type, p.flows&newWrites, false)
		}
	}
}

func fieldNamed(n *spec.Named, wire string) *spec.Field {
	for _, f := range n.Fields {
		if f.Wire == wire {
			return f
		}
	}
	return nil
}

// typeSubject names a type in a change: `type "Post"`, or for an inline
// type where it comes from.
func typeSubject(n *spec.Named) string {
	if n.Inline {
		return n.Origin
	}
	return fmt.Sprintf("type %q", n.Name)
}

// read checks that a reader of type r accepts every value a writer of type
// w writes, in the flows f (all of one way: wOld says whether w is the old
// type). Object and enum pairs are recorded to be compared member by
// member; constraints of the reader that refuse values the writer's allow
// are recorded as constraint changes; anything else that does not read
// marks the site failed.
func (c *compare) read(s *site, w, r *spec.Type, f flow, wOld bool) {
	c.readAt(s, w, r, f, wOld, "")
}

// readAt is read for the part of the site's value that where names
// ("items: " for a list's elements, "" for the value itself).
func (c *compare) readAt(s *site, w, r *spec.Type, f flow, wOld bool, where string) {
	if w == nil || r == nil {
		return
	}
	switch {
	case w.Kind == r.Kind && (w.Kind == spec.List || w.Kind == spec.Map):
		c.rules(s, w, r, f, wOld, where)
		c.readAt(s, w.Elem, r.Elem, f, wOld, where+elemWord(r))
	case w.Kind == spec.Ref && r.Kind == spec.Ref:
		if w.Named.IsEnum() != r.Named.IsEnum() {
			s.failed |= f
			return
		}
		if wOld {
			c.pair(w.Named, r.Named, f)
		} else {
			c.pair(r.Named, w.Named, f)
		}
	case w.Kind == r.Kind, w.Kind == spec.Int && r.Kind == spec.Float:
		// The same scalar, or an int read as a float: the values read,
		// within the reader's constraints.
		c.rules(s, w, r, f, wOld, where)
	case r.Kind == spec.Any:
		// Read as the wider type.
	case (w.Kind == spec.Timestamp || w.Kind == spec.Bytes) && r.Kind == spec.String,
		w.Kind == spec.Ref && w.Named.IsEnum() && r.Kind == spec.String:
		// Read as the wider type, unless the string has constraints,
		// which nothing says these values meet.
		if r.Rules != nil {
			s.failed |= f
		}
	case r.Kind == spec.List:
		// A single value reads as a one-element list, if the list may
		// have one element.
		if r.Rules != nil && ((r.Rules.MinItems != nil && r.Rules.MinItems.N > 1) || (r.Rules.MaxItems != nil && r.Rules.MaxItems.N < 1)) {
			s.failed |= f
		}
		c.readAt(s, w, r.Elem, f, wOld, where+elemWord(r))
	case w.Kind == spec.Ref && !w.Named.IsEnum() && r.Kind == spec.Map:
		// An object reads as a map when every field fits its values, and
		// its number of keys the map's bounds (which are not worked out:
		// any bound counts as a failure).
		if r.Rules != nil {
			s.failed |= f
		}
		for _, wf := range w.Named.Fields {
			c.readAt(s, wf.Type, r.Elem, f, wOld, where+elemWord(r))
		}
	default:
		s.failed |= f
	}
}

// fields reports the changes inside a pair of types, once its flows are
// known: members removed, added, made optional or required, renamed in Go.
func (c *compare) fields(p *pair) {
	o, n := p.key.old, p.key.new
	same := c.sameType[o] == n
	var source Breaks
	if same {
		source = Source
	}
	subject := typeSubject(n)
	if o.IsEnum() {
		for _, ov := range o.Enum {
			if enumValue(n, ov.Value) == nil {
				c.add(c.old.Source, ov.Pos, "enum-value-removed", (p.flows&oldWrites).breaks()|source,
					"%s: enum value %q was removed", subject, ov.Value)
			}
		}
		for _, nv := range n.Enum {
			if enumValue(o, nv.Value) == nil {
				c.add(c.new.Source, nv.Pos, "enum-value-added", (p.flows & newWrites).breaks(),
					"%s: enum value %q was added", subject, nv.Value)
			}
		}
		return
	}
	for _, of := range o.Fields {
		if fieldNamed(n, of.Wire) != nil {
			continue
		}
		var wire Breaks
		if !of.Optional {
			wire = (p.flows & newWrites).breaks()
		}
		req := "optional"
		if !of.Optional {
			req = "required"
		}
		c.add(c.old.Source, of.Pos, "field-removed", wire|source, "%s: %s field %q was removed", subject, req, of.Wire)
	}
	for _, nf := range n.Fields {
		of := fieldNamed(o, nf.Wire)
		switch {
		case of == nil && !nf.Optional:
			c.add(c.new.Source, nf.Pos, "required-field-added", (p.flows&oldWrites).breaks()|source,
				"%s: required field %q was added", subject, nf.Wire)
		case of == nil:
		case of.Optional && !nf.Optional:
			c.add(c.new.Source, nf.Pos, "field-made-required", (p.flows&oldWrites).breaks()|source,
				"%s: field %q was optional and is now required", subject, nf.Wire)
		case !of.Optional && nf.Optional:
			c.add(c.new.Source, nf.Pos, "field-made-optional", (p.flows&newWrites).breaks()|source,
				"%s: field %q was required and is now optional", subject, nf.Wire)
		}
		if of != nil && of.GoName != nf.GoName {
			c.add(c.new.Source, nf.Pos, "field-go-name-changed", source,
				"%s: field %q: Go name %s became %s", subject, nf.Wire, of.GoName, nf.GoName)
		}
		// Constraints, once the schema has them, are compared here: see
		// the package documentation.
	}
}

func enumValue(n *spec.Named, v string) *spec.EnumValue {
	for _, e := range n.Enum {
		if e.Value == v {
			return e
		}
	}
	return nil
}

// reportSite reports a type expression that changed: on the wire when a
// flow's values no longer read, in source when the generated type is
// another one.
func (c *compare) reportSite(s *site) {
	c.reportConstraints(s)
	breaks := s.failed.breaks()
	if (s.owner == nil || c.sameType[s.owner.key.old] == s.owner.key.new) && c.goType(s.old, true) != c.goType(s.new, false) {
		breaks |= Source
	}
	if breaks == 0 || s.old == nil || s.new == nil {
		return
	}
	from, to := s.old.String(), s.new.String()
	if from == to {
		// The same spelling: a named type inside is now another kind.
		o, n := innermost(s.old), innermost(s.new)
		if o.Kind == spec.Ref && n.Kind == spec.Ref && o.Named.IsEnum() != n.Named.IsEnum() {
			c.add(c.new.Source, s.pos, s.kind, breaks, "%s: type %s, but %s was %s and is now %s", s.subject, to, n.Named.Name, kindWord(o), kindWord(n))
			return
		}
		to += " (another type of that name)"
	}
	c.add(c.new.Source, s.pos, s.kind, breaks, "%s: type %s became %s", s.subject, from, to)
}

// innermost is the element type inside lists and maps.
func innermost(t *spec.Type) *spec.Type {
	for t.Kind == spec.List || t.Kind == spec.Map {
		t = t.Elem
	}
	return t
}

func kindWord(t *spec.Type) string {
	if t.Named.IsEnum() {
		return "an enum"
	}
	return "an object"
}

// goType spells a type expression as the generated API sees it: names of
// old types are those of the new types they are the same as, and named
// types say whether they are enums.
func (c *compare) goType(t *spec.Type, old bool) string {
	if t == nil {
		return "?"
	}
	switch t.Kind {
	case spec.List:
		return "list<" + c.goType(t.Elem, old) + ">"
	case spec.Map:
		return "map<" + c.goType(t.Elem, old) + ">"
	case spec.Ref:
		n := t.Named
		if same, ok := c.sameType[n]; ok && old {
			n = same
		}
		if n.IsEnum() {
			return "enum " + n.Name
		}
		return "object " + n.Name
	}
	return t.String() // a builtin: its schema spelling
}
