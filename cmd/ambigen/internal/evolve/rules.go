package evolve

import (
	"math"
	"strings"

	"github.com/ambigen/ambigen/cmd/ambigen/internal/spec"
)

// constraintChange is a constraint of a site that changed in a way that
// refuses some values: tightened (the new reader refuses what old writers
// may send) or loosened (new writers may send what old readers refuse).
type constraintChange struct {
	kind  string // constraint-tightened or constraint-loosened
	text  string // "maxLength 500 became 200", prefixed with where it is
	flows flow
}

func elemWord(t *spec.Type) string {
	if t.Kind == spec.Map {
		return "values: "
	}
	return "items: "
}

// rules records every constraint of the reader r that refuses a value the
// writer w's constraints allow, in flows f. When the writer is the old
// side, the new reader is stricter: the constraint was tightened; when the
// writer is the new side, it was loosened.
func (c *compare) rules(s *site, w, r *spec.Type, f flow, wOld bool, where string) {
	if f == 0 || r.Rules == nil {
		return
	}
	kind, old, new := "constraint-tightened", w.Rules, r.Rules
	if !wOld {
		kind, old, new = "constraint-loosened", r.Rules, w.Rules
	}
	for _, key := range refused(w.Rules, r.Rules, w.Kind == spec.Int) {
		s.constraint(kind, where+describe(key, old, new), f)
	}
}

func (s *site) constraint(kind, text string, f flow) {
	for _, ch := range s.constraints {
		if ch.kind == kind && ch.text == text {
			ch.flows |= f
			return
		}
	}
	s.constraints = append(s.constraints, &constraintChange{kind: kind, text: text, flows: f})
}

// The constraints compared, as pairs of a key and its rule in a Rules;
// "lower" and "upper" stand for min or exclusiveMin, max or exclusiveMax.
var ruleKeys = []string{"minLength", "maxLength", "pattern", "lower", "upper", "minItems", "maxItems", "minEntries", "maxEntries"}

func countOf(r *spec.Rules, key string) *spec.Count {
	if r == nil {
		return nil
	}
	switch key {
	case "minLength":
		return r.MinLength
	case "maxLength":
		return r.MaxLength
	case "minItems":
		return r.MinItems
	case "maxItems":
		return r.MaxItems
	case "minEntries":
		return r.MinEntries
	case "maxEntries":
		return r.MaxEntries
	}
	return nil
}

// refused returns the keys of the reader's rules r that refuse some value
// the writer's rules w allow. ints says the values are whole numbers,
// which makes bounds that differ only in exclusivity equal (min 1 and
// exclusiveMin 0). A pattern is compared by its text: a new text may
// refuse values the old one allowed.
func refused(w, r *spec.Rules, ints bool) []string {
	var out []string
	for _, key := range ruleKeys {
		bad := false
		switch key {
		case "pattern":
			bad = r.Pattern != nil && (w == nil || w.Pattern == nil || w.Pattern.Source != r.Pattern.Source)
		case "lower":
			var wb *spec.Bound
			if w != nil {
				wb = w.Min
			}
			bad = r.Min != nil && (wb == nil || lowerRefuses(wb, r.Min, ints))
		case "upper":
			var wb *spec.Bound
			if w != nil {
				wb = w.Max
			}
			bad = r.Max != nil && (wb == nil || upperRefuses(wb, r.Max, ints))
		default:
			rc, wc := countOf(r, key), countOf(w, key)
			if strings.HasPrefix(key, "min") {
				bad = rc != nil && (wc == nil || wc.N < rc.N)
			} else {
				bad = rc != nil && (wc == nil || wc.N > rc.N)
			}
		}
		if bad {
			out = append(out, key)
		}
	}
	return out
}

// lowerRefuses says whether the lower bound r refuses a value that the
// lower bound w allows.
func lowerRefuses(w, r *spec.Bound, ints bool) bool {
	wv, wOpen := least(w, ints)
	rv, rOpen := least(r, ints)
	return !(rv < wv || (rv == wv && (!rOpen || wOpen)))
}

// upperRefuses is lowerRefuses for upper bounds.
func upperRefuses(w, r *spec.Bound, ints bool) bool {
	wv, wOpen := greatest(w, ints)
	rv, rOpen := greatest(r, ints)
	return !(rv > wv || (rv == wv && (!rOpen || wOpen)))
}

// least is the edge of the values a lower bound allows, and whether the
// edge itself is excluded; over whole numbers, the least one allowed.
func least(b *spec.Bound, ints bool) (float64, bool) {
	switch {
	case !ints:
		return b.Value, b.Exclusive
	case b.Exclusive:
		return math.Floor(b.Value) + 1, false
	}
	return math.Ceil(b.Value), false
}

func greatest(b *spec.Bound, ints bool) (float64, bool) {
	switch {
	case !ints:
		return b.Value, b.Exclusive
	case b.Exclusive:
		return math.Ceil(b.Value) - 1, false
	}
	return math.Floor(b.Value), false
}

// describe says how the constraint key went from old to new.
func describe(key string, old, new *spec.Rules) string {
	o, n := ruleOf(key, old), ruleOf(key, new)
	switch {
	case o == nil:
		return n.String() + " was added"
	case n == nil:
		return o.String() + " was removed"
	case o.Key == n.Key:
		return o.Key + " " + o.Value() + " became " + n.Value()
	}
	return o.String() + " became " + n.String()
}

// ruleOf is the rule of r for key, nil when r has none.
func ruleOf(key string, r *spec.Rules) *spec.Rule {
	want := func(k string) bool { return k == key }
	switch key {
	case "lower":
		want = func(k string) bool { return k == "min" || k == "exclusiveMin" }
	case "upper":
		want = func(k string) bool { return k == "max" || k == "exclusiveMax" }
	}
	for _, rule := range r.List() {
		if want(rule.Key) {
			return &rule
		}
	}
	return nil
}

// reportConstraints reports the constraint changes of a site, one line per
// kind, naming every constraint that changed that way.
func (c *compare) reportConstraints(s *site) {
	for _, kind := range []string{"constraint-tightened", "constraint-loosened"} {
		var texts []string
		var flows flow
		for _, ch := range s.constraints {
			if ch.kind == kind {
				texts = append(texts, ch.text)
				flows |= ch.flows
			}
		}
		if len(texts) > 0 {
			c.add(c.new.Source, s.pos, kind, flows.breaks(), "%s: %s", s.subject, strings.Join(texts, ", "))
		}
	}
}
