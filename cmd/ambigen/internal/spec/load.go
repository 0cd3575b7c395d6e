package spec

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load parses and checks a schema. file is the path as the user gave it;
// it prefixes every diagnostic and becomes Model.Source. On failure the
// error is an [Errors] holding every problem found, sorted.
func Load(file string, src []byte) (*Model, error) {
	l := &loader{d: diags{file: file}, named: map[string]*Named{}, aliases: map[string]*aliasDecl{}}
	m := l.load(src)
	if len(l.d.list) > 0 {
		return nil, l.d.sorted()
	}
	m.Source = file
	m.Fingerprint = Fingerprint(m)
	return m, nil
}

type loader struct {
	d          diags
	expansions int                   // YAML alias expansions so far; bounded against alias bombs
	named      map[string]*Named     // declared objects and enums by name
	aliases    map[string]*aliasDecl // types declared with `type:`, by name
	aliasList  []*aliasDecl          // the same in file order
	aliasOrder []*Alias              // aliases as they were resolved, each after those it uses
	order      []string              // declared type names in file order, for suggestions
}

// aliasDecl is a type declared with `type:`, resolved on first use so that
// aliases may be written with each other in any order.
type aliasDecl struct {
	alias *Alias
	typ   *yaml.Node
	rules ruleNodes
	state int // unresolved, resolving, resolved
}

const (
	unresolved = iota
	resolving
	resolved
)

func pos(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

func (l *loader) load(src []byte) *Model {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		line, msg := splitYAMLError(err)
		p, ok := locateSyntaxError(src, msg)
		if !ok {
			p = Pos{Line: max(line, 1), Col: 1}
		}
		l.d.add(p, "YAML syntax error: %s", msg)
		return nil
	}
	m := &Model{}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		l.d.add(Pos{1, 1}, "the schema is empty; it needs a `messages:` mapping")
		return m
	}
	root := l.deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		l.d.add(pos(root), "the schema must be a mapping with `messages:` and `types:`")
		return m
	}
	var messages, types *yaml.Node
	l.fields(root, "schema", func(key string, k, v *yaml.Node) {
		switch key {
		case "messages":
			messages = v
		case "types":
			types = v
		default:
			l.unknownKey(k, "schema", key, "messages", "types")
		}
	})
	// Declared type names first, so that uses may come before declarations
	// and types may refer to each other.
	var typeNodes [][2]*yaml.Node
	if types != nil {
		if types.Kind != yaml.MappingNode {
			l.d.add(pos(types), "`types` must be a mapping from type name to definition")
		} else {
			l.fields(types, "types", func(name string, k, v *yaml.Node) {
				if !typeName.MatchString(name) {
					l.d.add(pos(k), "type %q: a type name starts with an upper-case ASCII letter and continues with letters and digits", name)
					return
				}
				if prev, dup := l.named[name]; dup {
					l.d.add(pos(k), "type %q: declared twice (first at line %d)", name, prev.Pos.Line)
					return
				}
				if prev, dup := l.aliases[name]; dup {
					l.d.add(pos(k), "type %q: declared twice (first at line %d)", name, prev.alias.Pos.Line)
					return
				}
				if isAliasDef(v) {
					l.aliasDef(name, k, v)
					return
				}
				n := &Named{Name: name, Pos: pos(k)}
				if hasKey(v, "enum") {
					// Known before any field refers to it, for diagnostics
					// that depend on it; enum() fills in the values.
					n.Enum = []*EnumValue{}
				}
				l.named[name] = n
				l.order = append(l.order, name)
				m.Types = append(m.Types, n)
				typeNodes = append(typeNodes, [2]*yaml.Node{k, v})
			})
		}
	}
	for _, kv := range typeNodes {
		l.typeDef(l.named[kv[0].Value], kv[1])
	}
	// Every alias is resolved, also those no message uses; one used
	// earlier is resolved already.
	for _, d := range l.aliasList {
		l.resolveAlias(d)
	}
	if messages == nil {
		l.d.add(pos(root), "the schema has no `messages:`")
	} else if messages.Kind != yaml.MappingNode {
		l.d.add(pos(messages), "`messages` must be a mapping from message name to definition")
	} else {
		seen := map[string]*Message{}
		l.fields(messages, "messages", func(name string, k, v *yaml.Node) {
			if name == "" {
				l.d.add(pos(k), "a message name must not be empty")
				return
			}
			if prev, dup := seen[name]; dup {
				l.d.add(pos(k), "message %q: declared twice (first at line %d)", name, prev.Pos.Line)
				return
			}
			msg := l.message(name, k, v, m)
			seen[name] = msg
			m.Messages = append(m.Messages, msg)
		})
	}
	m.Aliases = l.aliasOrder
	l.checkCycles(m)
	markConstrained(m)
	nameGo(m)
	checkNames(m, &l.d)
	return m
}

var typeName = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

// maxAliases bounds alias expansions: a few aliases nested inside each
// other can otherwise make a tiny file expand exponentially.
const maxAliases = 10000

// deref follows YAML aliases (*anchor) to the node they stand for. Past
// the expansion budget an alias reads as an empty scalar, and the schema
// gets one diagnostic.
func (l *loader) deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && i < 100; i++ {
		l.expansions++
		if l.expansions == maxAliases {
			l.d.add(pos(n), "too many alias expansions (more than %d)", maxAliases)
		}
		if n.Alias == nil || l.expansions >= maxAliases {
			return &yaml.Node{Kind: yaml.ScalarNode, Line: n.Line, Column: n.Column}
		}
		n = n.Alias
	}
	return n
}

// fields calls fn for each key of mapping n, in file order. Keys must be
// scalars; duplicates are reported here, once, for every mapping.
func (l *loader) fields(n *yaml.Node, what string, fn func(key string, k, v *yaml.Node)) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := l.deref(n.Content[i]), l.deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			l.d.add(pos(k), "%s: keys must be plain strings", what)
			continue
		}
		if seen[k.Value] {
			l.d.add(pos(k), "%s: duplicate key %q", what, k.Value)
			continue
		}
		seen[k.Value] = true
		fn(k.Value, k, v)
	}
}

func (l *loader) unknownKey(k *yaml.Node, what, key string, allowed ...string) {
	l.d.add(pos(k), "%s: unknown key %q%s", what, key, suggest(key, allowed))
}

func (l *loader) scalar(n *yaml.Node, what, key string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		l.d.add(pos(n), "%s: `%s` must be a string", what, key)
		return "", false
	}
	return n.Value, true
}

func (l *loader) typeDef(n *Named, v *yaml.Node) {
	what := fmt.Sprintf("type %q", n.Name)
	if v.Kind != yaml.MappingNode {
		l.d.add(pos(v), "%s: the definition must be a mapping with `fields:` or `enum:`", what)
		return
	}
	var fields, enum, typ *yaml.Node
	l.fields(v, what, func(key string, k, val *yaml.Node) {
		switch key {
		case "doc":
			n.Doc, _ = l.scalar(val, what, key)
		case "fields":
			fields = val
		case "enum":
			enum = val
		case "type":
			typ = k
		default:
			l.unknownKey(k, what, key, "doc", "fields", "enum", "type")
		}
	})
	switch {
	case typ != nil:
		l.d.add(pos(typ), "%s: has `type:` and also `fields:` or `enum:`; a type is an object, an enum or another name for a type (`type:`), one of them", what)
	case fields != nil && enum != nil:
		l.d.add(pos(v), "%s: has both `fields:` and `enum:`; a type is one or the other", what)
	case enum != nil:
		l.enum(n, what, enum)
	case fields != nil:
		n.Fields = l.objectFields(what, fields)
	default:
		l.d.add(pos(v), "%s: needs `fields:` (an object) or `enum:` (a list of strings)", what)
	}
}

func (l *loader) enum(n *Named, what string, v *yaml.Node) {
	n.Enum = []*EnumValue{}
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		l.d.add(pos(v), "%s: `enum` must be a non-empty list of strings", what)
		return
	}
	seen := map[string]bool{}
	goSeen := map[string]string{}
	for _, e := range v.Content {
		e = l.deref(e)
		if e.Kind != yaml.ScalarNode || e.Value == "" {
			l.d.add(pos(e), "%s: enum values must be non-empty strings", what)
			continue
		}
		if seen[e.Value] {
			l.d.add(pos(e), "%s: enum value %q listed twice", what, e.Value)
			continue
		}
		seen[e.Value] = true
		// The type name comes first, so a value may start with a digit.
		id, err := goIdent(e.Value)
		if err != nil && id != "" {
			err = nil
		}
		if err != nil {
			l.d.add(pos(e), "%s: enum value %q: %v", what, e.Value, err)
			continue
		}
		if prev, dup := goSeen[id]; dup {
			l.d.add(pos(e), "%s: enum values %q and %q both become the Go constant %s", what, prev, e.Value, n.Name+id)
			continue
		}
		goSeen[id] = e.Value
		n.Enum = append(n.Enum, &EnumValue{Value: e.Value, GoName: n.Name + id, Pos: pos(e)})
	}
}

func (l *loader) objectFields(what string, v *yaml.Node) []*Field {
	if v.Kind != yaml.MappingNode {
		l.d.add(pos(v), "%s: `fields` must be a mapping from field name to type", what)
		return nil
	}
	var out []*Field
	goSeen := map[string]string{}
	l.fields(v, what, func(name string, k, fv *yaml.Node) {
		fwhat := fmt.Sprintf("%s: field %q", what, name)
		f := &Field{Wire: name, Pos: pos(k)}
		if name == "" || strings.ContainsAny(name, "\",\\`") || strings.IndexFunc(name, func(r rune) bool { return r < 0x20 }) >= 0 {
			l.d.add(pos(k), "%s: a field name must be non-empty and free of quotes, commas, backslashes and control characters", fwhat)
			return
		}
		var goName string
		switch fv.Kind {
		case yaml.ScalarNode:
			f.Type, f.TypePos = l.typeExpr(fwhat, fv), pos(fv)
		case yaml.MappingNode:
			if inlineObject(fv) {
				l.inlineObjectField(fwhat, name, fv)
				return
			}
			var typ *yaml.Node
			var rules ruleNodes
			l.fields(fv, fwhat, func(key string, k2, v2 *yaml.Node) {
				if rules.take(key, k2, v2) {
					return
				}
				switch key {
				case "type":
					typ = v2
				case "doc":
					f.Doc, _ = l.scalar(v2, fwhat, key)
				case "optional":
					if v2.Kind != yaml.ScalarNode || (v2.Value != "true" && v2.Value != "false") {
						l.d.add(pos(v2), "%s: `optional` must be true or false", fwhat)
						return
					}
					f.Optional = v2.Value == "true"
				case "goName":
					goName, _ = l.scalar(v2, fwhat, key)
				default:
					l.d.add(pos(k2), "%s: unknown key %q%s", fwhat, key, ruleSuggestion(key, append([]string{"type", "doc", "optional", "goName"}, ruleKeys...)))
				}
			})
			if typ == nil {
				l.d.add(pos(fv), "%s: missing `type`", fwhat)
			} else if typ = l.deref(typ); typ.Kind == yaml.MappingNode {
				l.inlineObjectField(fwhat, name, typ)
			} else {
				f.Type, f.TypePos = l.typeExpr(fwhat, typ), pos(typ)
				f.Type = l.applyRules(fwhat, f.Type, &rules)
			}
		default:
			l.d.add(pos(fv), "%s: expected a type name or a mapping with `type:`%s", fwhat, sequenceHint(fv))
		}
		f.GoName = l.goName(fwhat, k, name, goName)
		if f.GoName != "" {
			if prev, dup := goSeen[f.GoName]; dup {
				l.d.add(pos(k), "%s: becomes the Go field %s, like field %q", fwhat, f.GoName, prev)
			} else {
				goSeen[f.GoName] = name
			}
		}
		out = append(out, f)
	})
	return out
}

// sequenceHint explains, for a YAML list given where a type belongs
// (`tags: [string]`), how a list type is written.
func sequenceHint(n *yaml.Node) string {
	if n.Kind != yaml.SequenceNode {
		return ""
	}
	elem := "T"
	if len(n.Content) == 1 && n.Content[0].Kind == yaml.ScalarNode {
		elem = n.Content[0].Value
		if f := foreignType(elem); f != "" {
			elem = f
		}
	}
	return fmt.Sprintf("; a list type is written list<%s>, not as a YAML list", elem)
}

// inlineObject reports whether the mapping given for a field is an object
// written in place (`pos: {x: int, y: int}`) rather than a field with
// `type:`: it has no `type` and some key that a field does not have.
func inlineObject(n *yaml.Node) bool {
	other := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch key := n.Content[i].Value; {
		case key == "type":
			return false
		case key == "doc" || key == "optional" || key == "goName" || isRuleKey(key):
		default:
			other = true
		}
	}
	return other
}

// inlineObjectField reports an object written inside a field. Only payloads
// and replies may be inline objects, since their generated names come from
// the message; a nested object needs a name of its own, which the
// diagnostic proposes from the field's name.
func (l *loader) inlineObjectField(what, field string, obj *yaml.Node) {
	name, err := goIdent(field)
	if err != nil || name == "" || !typeName.MatchString(name) {
		name = "Item"
	}
	l.d.add(pos(obj), "%s: a field cannot hold an object written in place; declare it under `types:` (%s: {fields: %s}) and write `%s: %s`",
		what, name, flowText(obj), field, name)
}

// flowText writes a mapping or sequence node back as short YAML flow text
// for a diagnostic; deep or long values are elided.
func flowText(n *yaml.Node) string {
	var b strings.Builder
	var write func(n *yaml.Node, depth int)
	write = func(n *yaml.Node, depth int) {
		switch {
		case n.Kind == yaml.ScalarNode:
			b.WriteString(n.Value)
		case depth > 1 || len(n.Content) > 8:
			b.WriteString("...")
		case n.Kind == yaml.MappingNode:
			b.WriteString("{")
			for i := 0; i+1 < len(n.Content); i += 2 {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(n.Content[i].Value + ": ")
				write(n.Content[i+1], depth+1)
			}
			b.WriteString("}")
		case n.Kind == yaml.SequenceNode:
			b.WriteString("[")
			for i, c := range n.Content {
				if i > 0 {
					b.WriteString(", ")
				}
				write(c, depth+1)
			}
			b.WriteString("]")
		default:
			b.WriteString("...")
		}
	}
	write(n, 0)
	return b.String()
}

// goName derives the Go identifier of a wire name, or checks an explicit
// override.
func (l *loader) goName(what string, at *yaml.Node, wire, override string) string {
	if override != "" {
		if !goExported.MatchString(override) {
			l.d.add(pos(at), "%s: goName %q is not an exported Go identifier", what, override)
			return ""
		}
		return override
	}
	id, err := goIdent(wire)
	if err != nil {
		l.d.add(pos(at), "%s: %v; set `goName:`", what, err)
		return ""
	}
	return id
}

var goExported = regexp.MustCompile(`^[A-Z][A-Za-z0-9_]*$`)

// initialisms are written all upper case in Go names, as golint taught.
var initialisms = map[string]bool{"id": true, "url": true, "uri": true, "http": true, "json": true, "api": true, "uuid": true, "ip": true, "html": true}

// goIdent turns a wire name into an exported Go identifier: every run of
// ASCII letters and digits is a word, each word starts upper case. When the
// result starts with a digit it is returned with the error, for callers
// that put a prefix in front.
func goIdent(s string) (string, error) {
	var b strings.Builder
	word := func(w string) {
		if initialisms[strings.ToLower(w)] {
			b.WriteString(strings.ToUpper(w))
			return
		}
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	start := -1
	for i := 0; i <= len(s); i++ {
		alnum := i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9')
		if alnum && start < 0 {
			start = i
		}
		if !alnum && start >= 0 {
			word(s[start:i])
			start = -1
		}
	}
	id := b.String()
	switch {
	case id == "":
		return "", errors.New("has no ASCII letters or digits to make a Go name from")
	case id[0] >= '0' && id[0] <= '9':
		return id, fmt.Errorf("its Go name %q would start with a digit", id)
	}
	return id, nil
}

func (l *loader) message(name string, k, v *yaml.Node, m *Model) *Message {
	what := fmt.Sprintf("message %q", name)
	msg := &Message{Wire: name, Pos: pos(k)}
	if v.Kind != yaml.MappingNode {
		l.d.add(pos(v), "%s: the definition must be a mapping with `from:` and `payload:`", what)
		return msg
	}
	var from, payload, reply *yaml.Node
	var goName string
	l.fields(v, what, func(key string, k2, v2 *yaml.Node) {
		switch key {
		case "from":
			from, msg.FromPos = v2, pos(v2)
		case "payload":
			payload, msg.PayloadPos = v2, pos(v2)
		case "reply":
			reply, msg.ReplyPos = v2, pos(v2)
		case "doc":
			msg.Doc, _ = l.scalar(v2, what, key)
		case "goName":
			goName, _ = l.scalar(v2, what, key)
		default:
			l.unknownKey(k2, what, key, "from", "payload", "reply", "doc", "goName")
		}
	})
	msg.GoName = l.goName(what, k, name, goName)
	if from == nil {
		l.d.add(pos(v), "%s: missing `from:` (client, server or both)", what)
	} else if s, ok := l.scalar(from, what, "from"); ok {
		switch s {
		case "client":
			msg.From = FromClient
		case "server":
			msg.From = FromServer
		case "both":
			msg.From = FromBoth
		default:
			l.d.add(pos(from), "%s: `from` is %q; it must be client, server or both%s", what, s, suggest(s, []string{"client", "server", "both"}))
		}
	}
	if reply != nil && from != nil && from.Value == "both" {
		l.d.add(pos(reply), "%s: a call (a message with `reply`) goes one way; `from: both` cannot have a reply", what)
	}
	inlineName := msg.GoName
	if reply != nil {
		inlineName += "Request"
	}
	if payload == nil {
		l.d.add(pos(v), "%s: missing `payload:`", what)
	} else {
		role := fmt.Sprintf("the payload of message %q", name)
		if reply != nil {
			role = fmt.Sprintf("the request of call %q", name)
		}
		msg.Payload = l.payload(what+": payload", payload, inlineName, role, msg, m)
	}
	if reply != nil {
		msg.Reply = l.payload(what+": reply", reply, msg.GoName+"Reply", fmt.Sprintf("the reply of call %q", name), msg, m)
	}
	return msg
}

// payload resolves a payload or reply: a type expression, or a mapping of
// fields that becomes a named object type of its own.
func (l *loader) payload(what string, n *yaml.Node, inlineName, origin string, msg *Message, m *Model) *Type {
	switch n.Kind {
	case yaml.ScalarNode:
		return l.typeExpr(what, n)
	case yaml.MappingNode:
		if typ, ok := constrainedPayload(n); ok {
			role := what[strings.LastIndex(what, " ")+1:] // payload or reply
			l.d.add(pos(n), "%s: a mapping here lists the fields of an object; to give a %s %s constraints, declare it under `types:` (Name: %s) and write `%s: Name`",
				what, typ, role, flowText(n), role)
			return nil
		}
		named := &Named{Name: inlineName, Pos: pos(n), Inline: true, Origin: origin, Doc: msg.Doc}
		named.Fields = l.objectFields(what, n)
		if msg.GoName != "" {
			m.Types = append(m.Types, named)
		}
		return &Type{Kind: Ref, Named: named}
	}
	l.d.add(pos(n), "%s: expected a type (like string or list<ChatMessage>) or a mapping of fields%s", what, sequenceHint(n))
	return nil
}

// constrainedPayload reports whether a mapping given as a payload or reply
// reads as a constrained type rather than an object's fields: a `type` and
// nothing but constraints and a doc beside it. It returns the type.
func constrainedPayload(n *yaml.Node) (string, bool) {
	typ, rules := "", false
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch key := n.Content[i].Value; {
		case key == "type" && n.Content[i+1].Kind == yaml.ScalarNode:
			typ = n.Content[i+1].Value
		case isRuleKey(key):
			rules = true
		case key == "doc":
		default:
			return "", false
		}
	}
	return typ, typ != "" && rules
}

// typeExpr resolves a scalar such as `list<ChatMessage>`.
func (l *loader) typeExpr(what string, n *yaml.Node) *Type {
	if n.Kind != yaml.ScalarNode {
		l.d.add(pos(n), "%s: expected a type name", what)
		return nil
	}
	t, bad := l.parseType(strings.TrimSpace(n.Value), 0)
	if bad != "" {
		l.d.add(pos(n), "%s: %s", what, bad)
		return nil
	}
	return t
}

func (l *loader) parseType(s string, depth int) (*Type, string) {
	if depth > 32 {
		return nil, "type nests too deeply"
	}
	for _, wrap := range []struct {
		prefix string
		kind   Kind
	}{{"list<", List}, {"map<", Map}} {
		if strings.HasPrefix(s, wrap.prefix) {
			if !strings.HasSuffix(s, ">") {
				return nil, fmt.Sprintf("type %q lacks its closing >", s)
			}
			inner := strings.TrimSpace(s[len(wrap.prefix) : len(s)-1])
			if key, val, two := cutTopLevelComma(inner); two {
				if wrap.kind == List {
					return nil, fmt.Sprintf("%s: list<T> takes one type, the type of its elements", s)
				}
				val = strings.TrimSpace(val)
				if f := foreignType(val); f != "" {
					val = f
				}
				if isStringKey(key) {
					return nil, fmt.Sprintf("%s: the keys of a map are always strings, so a map names only its values; write map<%s>", s, val)
				}
				return nil, fmt.Sprintf("%s: the keys of a map are always strings (JSON object keys), so %q cannot be a key type; write map<%s> and spell the keys as strings", s, strings.TrimSpace(key), val)
			}
			elem, bad := l.parseType(inner, depth+1)
			if bad != "" {
				return nil, bad
			}
			return &Type{Kind: wrap.kind, Elem: elem}, ""
		}
	}
	for _, b := range builtinKinds {
		if b.name == s {
			return &Type{Kind: b.kind}, ""
		}
	}
	if n, ok := l.named[s]; ok {
		return &Type{Kind: Ref, Named: n}, ""
	}
	if a, ok := l.aliases[s]; ok {
		if a.state == resolving {
			return nil, fmt.Sprintf("type %q is written in terms of itself; only an object may contain itself (through a list, a map or an optional field)", s)
		}
		return l.resolveAlias(a), ""
	}
	if s == "" {
		return nil, "empty type"
	}
	valid := func(t string) bool {
		_, bad := l.parseType(t, depth+1)
		return bad == ""
	}
	if hint := unknownTypeHint(s, valid); hint != "" {
		return nil, fmt.Sprintf("unknown type %q%s", s, hint)
	}
	candidates := []string{"list<T>", "map<T>"}
	for _, b := range builtinKinds {
		candidates = append(candidates, b.name)
	}
	candidates = append(candidates, l.order...)
	return nil, fmt.Sprintf("unknown type %q%s", s, suggest(s, candidates))
}

// cutTopLevelComma splits s at its first comma outside angle brackets, as
// in the "string,int" of a map<string,int> written the way TypeScript or
// Java would.
func cutTopLevelComma(s string) (before, after string, found bool) {
	depth := 0
	for i, r := range s {
		switch r {
		case '<', '[':
			depth++
		case '>', ']':
			depth--
		case ',':
			if depth == 0 {
				return s[:i], s[i+1:], true
			}
		}
	}
	return s, "", false
}

// checkCycles rejects objects that contain themselves through required
// fields: such a value would be infinitely large (and the Go struct would
// not compile). Optional fields, lists and maps break the chain.
func (l *loader) checkCycles(m *Model) {
	const (
		unvisited = iota
		active
		done
	)
	state := map[*Named]int{}
	var visit func(n *Named) *Field
	visit = func(n *Named) *Field {
		state[n] = active
		defer func() { state[n] = done }()
		for _, f := range n.Fields {
			if f.Optional || f.Type == nil || f.Type.Kind != Ref || f.Type.Named.IsEnum() {
				continue
			}
			switch state[f.Type.Named] {
			case active:
				return f
			case unvisited:
				if bad := visit(f.Type.Named); bad != nil {
					return bad
				}
			}
		}
		return nil
	}
	for _, n := range m.Types {
		if state[n] == unvisited {
			if f := visit(n); f != nil {
				l.d.add(f.Pos, "field %q of type %s contains itself through required fields; make a field in the cycle optional or a list", f.Wire, f.Type.Named.Name)
			}
		}
	}
}
