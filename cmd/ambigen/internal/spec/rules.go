package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Rules are the value constraints on one value, as a field, an alias or an
// `items:` or `values:` mapping declares them. A nil pointer is a
// constraint that is not there. Generated code checks them in this order:
// lengths, then the pattern (so that a long string is refused before a
// regular expression runs over it), then bounds, item and entry counts.
type Rules struct {
	// MinLength and MaxLength bound a string's length in Unicode code
	// points, as JSON Schema counts it.
	MinLength, MaxLength *Count
	// Pattern is a regular expression a string must match somewhere
	// (anchor it with ^ and $ to match the whole string).
	Pattern *Pattern
	// Min and Max bound an int or a float; Exclusive makes a bound strict.
	Min, Max *Bound
	// MinItems and MaxItems bound the length of a list.
	MinItems, MaxItems *Count
	// MinEntries and MaxEntries bound the number of keys of a map.
	MinEntries, MaxEntries *Count
}

// Count is a bound on a length or a number of items or entries.
type Count struct {
	N   int64
	Pos Pos // of the value in the schema
}

// Bound is a bound on a number. The value of an int's bound is a whole
// number that a float64 (and so a JavaScript number) holds exactly.
type Bound struct {
	Value     float64
	Exclusive bool
	Pos       Pos
}

// String spells the value as the generated code and the JSON Schema write
// it: whole numbers without a fraction or exponent, others in the shortest
// form that reads back as the same float64.
func (b *Bound) String() string { return formatNumber(b.Value) }

func formatNumber(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e21 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Pattern is a regular expression in the subset both runtimes read alike
// (see pattern.go).
type Pattern struct {
	Source string // as written in the schema; what TypeScript and JSON Schema use
	Go     string // the same language for Go's regexp
	Pos    Pos
}

// maxSafe is the largest integer a JavaScript number holds exactly; bounds
// beyond it would be compared differently on the two sides.
const maxSafe = 1<<53 - 1

// The keys of a constraint mapping: the constraints, in the order Rules
// checks them, and items and values, which hold the constraints of elements.
var ruleKeys = []string{
	"minLength", "maxLength", "pattern",
	"min", "exclusiveMin", "max", "exclusiveMax",
	"minItems", "maxItems", "items",
	"minEntries", "maxEntries", "values",
}

func isRuleKey(key string) bool {
	for _, k := range ruleKeys {
		if k == key {
			return true
		}
	}
	return false
}

// foreignRuleKeys are spellings of constraints from JSON Schema, zod and
// the like, mapped to the schema's own.
var foreignRuleKeys = map[string]string{
	"minimum": "min", "maximum": "max", "exclusiveMinimum": "exclusiveMin", "exclusiveMaximum": "exclusiveMax",
	"gte": "min", "lte": "max", "gt": "exclusiveMin", "lt": "exclusiveMax",
	"minProperties": "minEntries", "maxProperties": "maxEntries",
	"regex": "pattern", "regexp": "pattern",
	"minLen": "minLength", "maxLen": "maxLength", "length": "maxLength",
	"minSize": "minItems", "maxSize": "maxItems",
	"additionalProperties": "values",
}

// ruleSuggestion is the hint for an unknown key where a constraint may
// have been meant.
func ruleSuggestion(key string, allowed []string) string {
	if k, ok := foreignRuleKeys[key]; ok {
		return fmt.Sprintf(" (did you mean %q?)", k)
	}
	if key == "format" {
		return " (ambigen checks no formats; a pattern can say what a string looks like)"
	}
	return suggest(key, allowed)
}

// ruleNodes are the constraint keys of one mapping, collected while its
// other keys are read, to be applied once its type is known.
type ruleNodes struct {
	keys []ruleNode
}

type ruleNode struct {
	key  string
	k, v *yaml.Node
}

// take records key if it is a constraint key.
func (rn *ruleNodes) take(key string, k, v *yaml.Node) bool {
	if !isRuleKey(key) {
		return false
	}
	rn.keys = append(rn.keys, ruleNode{key, k, v})
	return true
}

// ruleMapping reads an `items:` or `values:` mapping, which holds only
// constraints.
func (l *loader) ruleMapping(what string, v *yaml.Node) *ruleNodes {
	rn := &ruleNodes{}
	if v.Kind != yaml.MappingNode {
		l.d.add(pos(v), "%s: expected a mapping of constraints, such as {maxLength: 20}", what)
		return rn
	}
	l.fields(v, what, func(key string, k, val *yaml.Node) {
		if !rn.take(key, k, val) {
			l.d.add(pos(k), "%s: unknown key %q%s", what, key, ruleSuggestion(key, ruleKeys))
		}
	})
	return rn
}

// applies says which kinds a constraint key is for.
func applies(key string, k Kind) bool {
	switch key {
	case "minLength", "maxLength", "pattern":
		return k == String
	case "min", "max", "exclusiveMin", "exclusiveMax":
		return k == Int || k == Float
	case "minItems", "maxItems", "items":
		return k == List
	case "minEntries", "maxEntries", "values":
		return k == Map
	}
	return false
}

// takes says what constraints a type accepts, for a diagnostic.
func takes(t *Type) string {
	switch t.Kind {
	case String:
		return "a string takes minLength, maxLength and pattern"
	case Int:
		return "an int takes min, max, exclusiveMin and exclusiveMax"
	case Float:
		return "a float takes min, max, exclusiveMin and exclusiveMax"
	case List:
		return "a list takes minItems, maxItems and items"
	case Map:
		return "a map takes minEntries, maxEntries and values"
	case Ref:
		if t.Named.IsEnum() {
			return "an enum takes no constraints: its values are the only ones allowed"
		}
		return "an object takes no constraints; put them on its fields"
	}
	return t.String() + " takes no constraints"
}

// applyRules returns t with the constraints of rn added, or t itself when
// rn has none. Constraints that do not fit t are reported. t is never
// changed: it may be an alias's type, shared by every use of the alias.
func (l *loader) applyRules(what string, t *Type, rn *ruleNodes) *Type {
	if t == nil || rn == nil || len(rn.keys) == 0 {
		return t
	}
	r := &Rules{}
	out := *t
	ok := true
	for _, n := range rn.keys {
		if !applies(n.key, t.Kind) {
			hint := ""
			if t.Kind == List && t.Elem != nil && applies(n.key, t.Elem.Kind) {
				hint = fmt.Sprintf("; for its elements, write items: {%s: %s}", n.key, flowText(n.v))
			}
			if t.Kind == Map && t.Elem != nil && applies(n.key, t.Elem.Kind) {
				hint = fmt.Sprintf("; for its values, write values: {%s: %s}", n.key, flowText(n.v))
			}
			l.d.add(pos(n.k), "%s: %s does not apply to %s (%s%s)", what, n.key, t, takes(t), hint)
			ok = false
			continue
		}
		switch n.key {
		case "items", "values":
			out.Elem = l.applyRules(what+": "+n.key, t.Elem, l.ruleMapping(what+": "+n.key, n.v))
		case "pattern":
			src, isString := n.v.Value, n.v.Kind == yaml.ScalarNode && n.v.Tag == "!!str"
			if !isString {
				l.d.add(pos(n.v), "%s: pattern must be a string (a regular expression; quote it if YAML reads it as something else)", what)
				ok = false
				continue
			}
			goRE, err := goPattern(src)
			if err != nil {
				l.d.add(pos(n.v), "%s: pattern %q: %v", what, src, err)
				ok = false
				continue
			}
			r.Pattern = &Pattern{Source: src, Go: goRE, Pos: pos(n.v)}
		case "min", "max", "exclusiveMin", "exclusiveMax":
			b := l.bound(what, n, t.Kind)
			if b == nil {
				ok = false
				continue
			}
			lower := n.key == "min" || n.key == "exclusiveMin"
			other := map[string]string{"min": "exclusiveMin", "exclusiveMin": "min", "max": "exclusiveMax", "exclusiveMax": "max"}[n.key]
			if (lower && r.Min != nil) || (!lower && r.Max != nil) {
				l.d.add(pos(n.k), "%s: %s and %s are both %s bounds; keep one", what, other, n.key, map[bool]string{true: "lower", false: "upper"}[lower])
				ok = false
				continue
			}
			if lower {
				r.Min = b
			} else {
				r.Max = b
			}
		default:
			c := l.count(what, n)
			if c == nil {
				ok = false
				continue
			}
			*map[string]**Count{
				"minLength": &r.MinLength, "maxLength": &r.MaxLength,
				"minItems": &r.MinItems, "maxItems": &r.MaxItems,
				"minEntries": &r.MinEntries, "maxEntries": &r.MaxEntries,
			}[n.key] = c
		}
	}
	if !ok {
		return t
	}
	if *r != (Rules{}) {
		merged, ok := mergeRules(t.Rules, r)
		if !ok {
			owner := "the type"
			if t.Alias != nil {
				owner = fmt.Sprintf("type %q", t.Alias.Name)
			}
			l.d.add(r.Pattern.Pos, "%s: %s has the pattern %q already, and a value is checked against one pattern", what, owner, t.Rules.Pattern.Source)
			return t
		}
		if bad, at := contradiction(merged, t.Kind); bad != "" {
			l.d.add(at, "%s: %s", what, bad)
			return t
		}
		out.Rules = merged
	}
	return &out
}

// count reads a length or a number of items or entries.
func (l *loader) count(what string, n ruleNode) *Count {
	f, ok := number(n.v)
	if !ok || f != math.Trunc(f) || f < 0 || f > maxSafe {
		l.d.add(pos(n.v), "%s: %s must be a whole number from 0, not %s", what, n.key, flowText(n.v))
		return nil
	}
	return &Count{N: int64(f), Pos: pos(n.v)}
}

// bound reads a bound of a number of kind k.
func (l *loader) bound(what string, n ruleNode, k Kind) *Bound {
	f, ok := number(n.v)
	switch {
	case !ok:
		l.d.add(pos(n.v), "%s: %s must be a number, not %s", what, n.key, flowText(n.v))
		return nil
	case k == Int && f != math.Trunc(f):
		l.d.add(pos(n.v), "%s: %s of an int must be a whole number, not %s", what, n.key, flowText(n.v))
		return nil
	case k == Int && math.Abs(f) > maxSafe:
		l.d.add(pos(n.v), "%s: %s %s is beyond ±(2^53-1), the integers a JavaScript number holds exactly", what, n.key, flowText(n.v))
		return nil
	}
	return &Bound{Value: f, Exclusive: strings.HasPrefix(n.key, "exclusive"), Pos: pos(n.v)}
}

// number reads a YAML number; quoted strings, infinities and NaN are not.
func number(n *yaml.Node) (float64, bool) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		return 0, false
	}
	var f float64
	if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// mergeRules combines the constraints of an alias (a, possibly nil) with
// those a use of it adds (b): a value must meet both, so the tighter bound
// of each pair stands. Two patterns cannot be combined into one, and make
// it fail.
func mergeRules(a, b *Rules) (*Rules, bool) {
	if a == nil {
		return b, true
	}
	out := *a
	lower := func(x, y *Count) *Count {
		if x == nil || (y != nil && y.N >= x.N) {
			return y
		}
		return x
	}
	upper := func(x, y *Count) *Count {
		if x == nil || (y != nil && y.N <= x.N) {
			return y
		}
		return x
	}
	out.MinLength, out.MaxLength = lower(a.MinLength, b.MinLength), upper(a.MaxLength, b.MaxLength)
	out.MinItems, out.MaxItems = lower(a.MinItems, b.MinItems), upper(a.MaxItems, b.MaxItems)
	out.MinEntries, out.MaxEntries = lower(a.MinEntries, b.MinEntries), upper(a.MaxEntries, b.MaxEntries)
	if b.Min != nil && (a.Min == nil || b.Min.Value > a.Min.Value || (b.Min.Value == a.Min.Value && b.Min.Exclusive)) {
		out.Min = b.Min
	}
	if b.Max != nil && (a.Max == nil || b.Max.Value < a.Max.Value || (b.Max.Value == a.Max.Value && b.Max.Exclusive)) {
		out.Max = b.Max
	}
	if b.Pattern != nil {
		if a.Pattern != nil {
			return nil, false
		}
		out.Pattern = b.Pattern
	}
	return &out, true
}

// contradiction says why no value of kind k meets r, and where; "" when
// some value does.
func contradiction(r *Rules, k Kind) (string, Pos) {
	for _, c := range []struct {
		lo, hi *Count
		what   string
	}{
		{r.MinLength, r.MaxLength, "Length"},
		{r.MinItems, r.MaxItems, "Items"},
		{r.MinEntries, r.MaxEntries, "Entries"},
	} {
		if c.lo != nil && c.hi != nil && c.lo.N > c.hi.N {
			return fmt.Sprintf("min%s %d is more than max%s %d", c.what, c.lo.N, c.what, c.hi.N), later(c.lo.Pos, c.hi.Pos)
		}
	}
	if r.Min == nil || r.Max == nil {
		return "", Pos{}
	}
	lo, hi := r.Min.Value, r.Max.Value
	empty := lo > hi || (lo == hi && (r.Min.Exclusive || r.Max.Exclusive))
	word := "number"
	if k == Int {
		word = "int"
		if r.Min.Exclusive {
			lo++
		}
		if r.Max.Exclusive {
			hi--
		}
		empty = lo > hi
	}
	if !empty {
		return "", Pos{}
	}
	return fmt.Sprintf("%s %s and %s %s leave no %s between them", boundKey(r.Min, true), r.Min, boundKey(r.Max, false), r.Max, word), later(r.Min.Pos, r.Max.Pos)
}

// boundKey is the schema key of a bound.
func boundKey(b *Bound, lower bool) string {
	switch {
	case lower && b.Exclusive:
		return "exclusiveMin"
	case lower:
		return "min"
	case b.Exclusive:
		return "exclusiveMax"
	}
	return "max"
}

func later(a, b Pos) Pos {
	if a.Line > b.Line || (a.Line == b.Line && a.Col > b.Col) {
		return a
	}
	return b
}

// Rule is one constraint of a Rules, for code that handles them all alike:
// exactly one of Count, Bound and Pattern is set.
type Rule struct {
	Key     string // as the schema spells it: minLength, exclusiveMax...
	Count   *Count
	Bound   *Bound
	Pattern *Pattern
}

// Value spells the rule's value: a number, or the pattern as a JSON string.
func (r Rule) Value() string {
	switch {
	case r.Count != nil:
		return strconv.FormatInt(r.Count.N, 10)
	case r.Bound != nil:
		return r.Bound.String()
	}
	return quote(r.Pattern.Source)
}

func (r Rule) String() string { return r.Key + " " + r.Value() }

// List returns the constraints of r in the order they are checked; none
// for a nil r.
func (r *Rules) List() []Rule {
	if r == nil {
		return nil
	}
	var out []Rule
	count := func(key string, c *Count) {
		if c != nil {
			out = append(out, Rule{Key: key, Count: c})
		}
	}
	count("minLength", r.MinLength)
	count("maxLength", r.MaxLength)
	if r.Pattern != nil {
		out = append(out, Rule{Key: "pattern", Pattern: r.Pattern})
	}
	if r.Min != nil {
		out = append(out, Rule{Key: boundKey(r.Min, true), Bound: r.Min})
	}
	if r.Max != nil {
		out = append(out, Rule{Key: boundKey(r.Max, false), Bound: r.Max})
	}
	count("minItems", r.MinItems)
	count("maxItems", r.MaxItems)
	count("minEntries", r.MinEntries)
	count("maxEntries", r.MaxEntries)
	return out
}

// Describe says in words what constraints a value of t is checked
// against, for documentation in generated code: "maxItems 10; items:
// pattern "^[a-z]+$"". It is "" when there are none (named objects check
// their own fields and are not described here).
func (t *Type) Describe() string {
	var parts []string
	prefix := ""
	for ; t != nil; t = t.Elem {
		if rules := t.Rules.List(); len(rules) > 0 {
			words := make([]string, len(rules))
			for i, r := range rules {
				words[i] = r.String()
			}
			parts = append(parts, prefix+strings.Join(words, ", "))
		}
		switch t.Kind {
		case List:
			prefix += "items: "
		case Map:
			prefix += "values: "
		}
	}
	return strings.Join(parts, "; ")
}
