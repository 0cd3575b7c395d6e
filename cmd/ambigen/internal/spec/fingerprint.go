package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// fingerprintHeader starts the canonical text. A change to the canonical
// form changes this line, so that fingerprints of different forms can
// never be equal by accident.
const fingerprintHeader = "ambigen-fingerprint-v1\n"

// Fingerprint identifies the wire contract of m: 32 lower-case hex digits,
// the first 16 bytes of the SHA-256 of [Canonical].
//
// Two schemas have the same fingerprint when peers generated from them
// send and accept the same messages: the same wire names, directions,
// calls, payload and reply structures, field names and optionality, enum
// values and constraints. Docs, the order of keys, messages, fields and
// enum values, positions, Go names and the names of types are left out,
// since none of them reaches the wire: renaming a type, turning an inline
// payload into a declared type of the same shape, or writing a type
// through an alias instead of out, keeps the fingerprint.
//
// The one way two wire-equivalent schemas can differ is in how they share
// types: a schema that uses one type in two places and one that declares
// two identical types for them are written differently (a back-reference
// against a second definition). That errs on the safe side, a fingerprint
// that changed when it need not have.
func Fingerprint(m *Model) string {
	sum := sha256.Sum256([]byte(Canonical(m)))
	return hex.EncodeToString(sum[:16])
}

// Canonical is the text that [Fingerprint] hashes: a header line, then one
// line per message in byte order of wire names:
//
//	"add" client #1{"a":int,"b":int} reply int
//	"post" both #1{"mood"?:enum["happy","neutral","sad"],"tags":list<string>,"text":string}
//	"tree" server #1{"children":list<#1>,"name":string}
//
// Strings are JSON strings. Object types are written out in place with
// their fields in byte order of wire names, `?` marking optional ones; the
// first time an object appears in a message's line it is numbered (#1,
// #2...) and later appearances in that line, recursive ones included, are
// the number alone. Each line stands on its own, so [MessageShape] can
// compare messages across schemas. Enum values are sorted. Constraints
// follow the type they constrain in braces, in the order [Rules.List]
// gives, so a `list<string>` of at most 10 strings of at most 20 code
// points is `list<string{maxLength:20}>{maxItems:10}`; aliases are written
// out.
//
// Constraints came after the first fingerprints were in use. The header
// stays "v1" because a schema without constraints writes the same text as
// before, and so keeps its fingerprint; a text with constraints has braces
// right after a type name, where no earlier text had any, so it cannot
// equal an earlier one.
func Canonical(m *Model) string {
	msgs := slices.Clone(m.Messages)
	slices.SortFunc(msgs, func(a, b *Message) int { return strings.Compare(a.Wire, b.Wire) })
	var b strings.Builder
	b.WriteString(fingerprintHeader)
	for _, msg := range msgs {
		b.WriteString(quote(msg.Wire))
		b.WriteByte(' ')
		b.WriteString(MessageShape(msg))
		b.WriteByte('\n')
	}
	return b.String()
}

// MessageShape is the canonical form of what msg carries, without its
// name: direction, payload and, for a call, the reply. Two messages with
// the same shape are interchangeable on the wire but for their names.
func MessageShape(msg *Message) string {
	c := canon{seen: map[*Named]int{}}
	switch msg.From {
	case FromClient:
		c.b.WriteString("client ")
	case FromServer:
		c.b.WriteString("server ")
	default:
		c.b.WriteString("both ")
	}
	c.typ(msg.Payload)
	if msg.Reply != nil {
		c.b.WriteString(" reply ")
		c.typ(msg.Reply)
	}
	return c.b.String()
}

// canon writes type expressions of one line of the canonical form.
type canon struct {
	b    strings.Builder
	seen map[*Named]int // objects already written in this line, by number
}

func (c *canon) typ(t *Type) {
	if t == nil {
		// Only a schema that failed to load has unresolved types.
		c.b.WriteString("?")
		return
	}
	switch t.Kind {
	case List, Map:
		if t.Kind == List {
			c.b.WriteString("list<")
		} else {
			c.b.WriteString("map<")
		}
		c.typ(t.Elem)
		c.b.WriteString(">")
	case Ref:
		c.named(t.Named)
	default:
		c.b.WriteString(t.String())
	}
	if rules := t.Rules.List(); len(rules) > 0 {
		c.b.WriteByte('{')
		for i, r := range rules {
			if i > 0 {
				c.b.WriteByte(',')
			}
			c.b.WriteString(r.Key + ":" + r.Value())
		}
		c.b.WriteByte('}')
	}
}

func (c *canon) named(n *Named) {
	if n == nil {
		c.b.WriteString("?")
		return
	}
	if n.IsEnum() {
		vals := make([]string, len(n.Enum))
		for i, e := range n.Enum {
			vals[i] = quote(e.Value)
		}
		slices.Sort(vals)
		c.b.WriteString("enum[" + strings.Join(vals, ",") + "]")
		return
	}
	if k, ok := c.seen[n]; ok {
		c.b.WriteString("#" + strconv.Itoa(k))
		return
	}
	k := len(c.seen) + 1
	c.seen[n] = k
	c.b.WriteString("#" + strconv.Itoa(k) + "{")
	fields := slices.Clone(n.Fields)
	slices.SortFunc(fields, func(a, b *Field) int { return strings.Compare(a.Wire, b.Wire) })
	for i, f := range fields {
		if i > 0 {
			c.b.WriteByte(',')
		}
		c.b.WriteString(quote(f.Wire))
		if f.Optional {
			c.b.WriteByte('?')
		}
		c.b.WriteByte(':')
		c.typ(f.Type)
	}
	c.b.WriteString("}")
}

// quote is s as a JSON string, without HTML escaping.
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
