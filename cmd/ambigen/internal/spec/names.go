package spec

import "fmt"

// Identifiers the generated Go package and TypeScript module declare or
// import on their own. A schema type with one of these names would shadow
// or collide with them, so it is reported as reserved.
var reservedTop = []string{
	// Go: the typed API, and the schema's fingerprint.
	"Server", "Serve", "Conn", "Client", "NewClient", "Dial", "Fingerprint", "Audience",
	"ServerHandlers", "ClientHandlers",
	// TypeScript: the schema map, and the runtime and globals it uses.
	"Messages", "Descriptor", "ClientOptions", "TypedClient", "Validator",
	"Record", "Array", "Promise", "Object", "String", "Number", "Boolean",
	"Date", "Error", "Map", "Set", "JSON", "Math", "RegExp", "Symbol",
}

// Unexported package-level identifiers the Go output always declares.
var reservedGo = []string{"connOf", "mustRegister"}

// Methods the generated types always have, besides those of the messages.
var (
	reservedServer = []string{"Runtime", "OnConnect", "OnDisconnect", "Register", "Room", "User", "Everyone", "Join", "Leave", "Presence"}
	reservedConn   = []string{"Runtime", "ID", "Context", "Done", "Close", "Version"}
	reservedClient = []string{"Dial", "Runtime", "Close", "Status", "OnConnect", "OnDisconnect", "Register"}
)

type owner struct {
	desc string
	pos  Pos
}

// scope is one namespace of generated identifiers (the package, or the
// method set of one type).
type scope struct {
	what  string
	names map[string]owner
	d     *diags
}

func newScope(what string, d *diags, reserved []string, by string) *scope {
	s := &scope{what: what, names: map[string]owner{}, d: d}
	for _, r := range reserved {
		s.names[r] = owner{desc: by}
	}
	return s
}

// declare records name for desc and reports whether it was free.
func (s *scope) declare(name, desc string, p Pos) bool {
	if name == "" {
		return false
	}
	if prev, dup := s.names[name]; dup {
		if prev.pos.Line == 0 {
			s.d.add(p, "%s: %s%s is reserved by %s", desc, s.what, name, prev.desc)
		} else {
			s.d.add(p, "%s: %s%s is also generated for %s (line %d)", desc, s.what, name, prev.desc, prev.pos.Line)
		}
		return false
	}
	s.names[name] = owner{desc: desc, pos: p}
	return true
}

// nameGo decides every identifier the Go output declares, once, into the
// model; emitters print these and derive none of their own.
//
// Exported identifiers come from the schema's names, which start upper
// case: types, enum constants, Name<Message> constants and the methods of
// the typed API. Helpers are unexported and cannot meet them. Those of a
// named type T are codecT, encodeT, decodeT and fieldsT: a fixed lower-case
// word, then T's upper-case initial. Those of lists, maps and optional
// fields spell their type with underscores after "codec_", in lower-case
// words that no type name can start with: codec_list_string,
// codec_map_list_Tree, codec_optional_Mood. Reading such a name back gives
// one type expression only (the container words are prefixes, the element
// comes last), so two different helpers never share a name, whatever the
// schema calls its types (a type ListString has codecListString, a
// list<string> codec_list_string).
//
// A type with constraints is not a type expression alone, so its codec is
// named after where it is used: codecT for an alias T, codec_T_F for field
// F of type T (by the field's Go name, upper case after the underscore),
// codec_M_payload and codec_M_reply for message M, and codec_T_F_optional
// for the optional form of a field. The TypeScript decoders of the same
// places are read_T_F, read_M_payload and read_M_reply, and decodeT for an
// alias, like the decode functions of other named types.
func nameGo(m *Model) {
	for _, n := range m.Types {
		n.GoCodec = "codec" + n.Name
		if !n.IsEnum() {
			n.GoEncode, n.GoDecode, n.GoFields = "encode"+n.Name, "decode"+n.Name, "fields"+n.Name
		}
	}
	seen := map[string]bool{}
	composite := func(kind CompositeKind, elem *Type, name string, p Pos) {
		if !seen[name] {
			seen[name] = true
			m.Composites = append(m.Composites, &Composite{GoName: name, Kind: kind, Elem: elem, Pos: p})
		}
	}
	// visit names the codecs of the parts of t that have no constraints;
	// checked parts are built in place inside the codec of their site.
	var visit func(t *Type, p Pos)
	visit = func(t *Type, p Pos) {
		if t == nil || (t.IsAlias() && t.GoCodec != "") {
			return
		}
		switch t.Kind {
		case List, Map:
			visit(t.Elem, p)
			if t.Checked() {
				return
			}
			t.GoCodec = "codec_" + goKey(t)
			kind := CompositeList
			if t.Kind == Map {
				kind = CompositeMap
			}
			composite(kind, t.Elem, t.GoCodec, p)
		case Ref:
			t.GoCodec = t.Named.GoCodec
		}
	}
	for _, a := range m.Aliases {
		visit(a.Type, a.Pos)
		if a.Type.Checked() {
			a.Type.GoCodec = "codec" + a.Name
			m.Checks = append(m.Checks, &Check{GoName: a.Type.GoCodec, TSName: "decode" + a.Name, Type: a.Type, Alias: a, Pos: a.Pos})
		}
	}
	// site names the codec of a field, payload or reply with constraints.
	site := func(t *Type, name string, p Pos) {
		visit(t, p)
		if t == nil || !t.Checked() || t.IsAlias() {
			return
		}
		t.GoCodec = "codec_" + name
		t.TSRead = "read_" + name
		m.Checks = append(m.Checks, &Check{GoName: t.GoCodec, TSName: t.TSRead, Type: t, Pos: p})
	}
	for _, n := range m.Types {
		for _, f := range n.Fields {
			site(f.Type, n.Name+"_"+f.GoName, f.Pos)
			switch {
			case !f.Optional || f.Type == nil:
			case f.Type.Checked():
				f.GoOptionalCodec = "codec_" + n.Name + "_" + f.GoName + "_optional"
				m.Checks = append(m.Checks, &Check{GoName: f.GoOptionalCodec, Type: f.Type, Optional: true, Pos: f.Pos})
			default:
				f.GoOptionalCodec = "codec_optional_" + goKey(f.Type)
				composite(CompositeOptional, f.Type, f.GoOptionalCodec, f.Pos)
			}
		}
	}
	for _, msg := range m.Messages {
		site(msg.Payload, msg.GoName+"_payload", msg.Pos)
		site(msg.Reply, msg.GoName+"_reply", msg.Pos)
		if msg.GoName == "" {
			continue
		}
		g := msg.GoName
		a := MessageAPI{Const: "Name" + g}
		switch {
		case msg.IsCall() && msg.From == FromClient:
			a.ServerHandle, a.ClientCall = "Handle"+g, g
		case msg.IsCall() && msg.From == FromServer:
			a.ConnCall, a.ClientHandle = g, "Handle"+g
		default:
			if msg.ClientSends() {
				a.ServerOn, a.ClientSend = "On"+g, "Send"+g
			}
			if msg.ServerSends() {
				a.ServerBroadcast, a.ServerBroadcastFunc = "Broadcast"+g, "Broadcast"+g+"Func"
				a.ConnSend, a.ClientOn = "Send"+g, "On"+g
			}
		}
		msg.API = a
	}
}

// goKey spells a type expression for a helper name (see nameGo).
func goKey(t *Type) string {
	switch t.Kind {
	case List:
		return "list_" + goKey(t.Elem)
	case Map:
		return "map_" + goKey(t.Elem)
	case Ref:
		return t.Named.Name
	}
	for _, b := range builtinKinds {
		if b.kind == t.Kind {
			return b.name
		}
	}
	panic(fmt.Sprintf("spec: unknown kind %d", t.Kind))
}

// checkNames reports every pair of schema items that would generate the same
// Go or TypeScript identifier, and every use of a reserved one. It checks
// every identifier nameGo decided, helpers included: the scheme makes those
// distinct, and this is where a mistake in it would show.
func checkNames(m *Model, d *diags) {
	pkg := newScope("the identifier ", d, reservedTop, "the generated API")
	for _, r := range reservedGo {
		pkg.names[r] = owner{desc: "the generated API"}
	}
	server := newScope("the method Server.", d, reservedServer, "the generated API")
	conn := newScope("the method Conn.", d, reservedConn, "the generated API")
	client := newScope("the method Client.", d, reservedClient, "the generated API")
	for _, n := range m.Types {
		desc := fmt.Sprintf("type %q", n.Name)
		if n.Inline {
			desc = fmt.Sprintf("the inline type %s", n.Name)
		}
		if pkg.declare(n.Name, desc, n.Pos) {
			// A type whose name is taken has its error already; its
			// helpers would only repeat it.
			for _, h := range []string{n.GoCodec, n.GoEncode, n.GoDecode, n.GoFields} {
				pkg.declare(h, desc, n.Pos)
			}
		}
		for _, e := range n.Enum {
			pkg.declare(e.GoName, fmt.Sprintf("enum value %q of type %s", e.Value, n.Name), n.Pos)
		}
	}
	for _, a := range m.Aliases {
		pkg.declare(a.Name, fmt.Sprintf("type %q", a.Name), a.Pos)
	}
	for _, c := range m.Composites {
		pkg.declare(c.GoName, "the codec of "+compositeSpelling(c), c.Pos)
	}
	for _, c := range m.Checks {
		desc := "the codec of the constrained " + c.Type.String() + " declared here"
		if c.Alias != nil {
			desc = fmt.Sprintf("type %q", c.Alias.Name)
		}
		pkg.declare(c.GoName, desc, c.Pos)
	}
	for _, msg := range m.Messages {
		if isReservedWire(msg.Wire) {
			d.add(msg.Pos, "message %q: names starting with %q are reserved for ambigen's own messages, such as the version handshake %q", msg.Wire, ReservedWirePrefix, HandshakeMessage)
		}
		if msg.GoName == "" {
			continue
		}
		desc := fmt.Sprintf("message %q", msg.Wire)
		a := msg.API
		pkg.declare(a.Const, desc, msg.Pos)
		for _, name := range []string{a.ServerHandle, a.ServerOn, a.ServerBroadcast, a.ServerBroadcastFunc} {
			server.declare(name, desc, msg.Pos)
		}
		for _, name := range []string{a.ConnCall, a.ConnSend} {
			conn.declare(name, desc, msg.Pos)
		}
		for _, name := range []string{a.ClientCall, a.ClientHandle, a.ClientSend, a.ClientOn} {
			client.declare(name, desc, msg.Pos)
		}
	}
}

func compositeSpelling(c *Composite) string {
	switch c.Kind {
	case CompositeList:
		return "list<" + c.Elem.String() + ">"
	case CompositeMap:
		return "map<" + c.Elem.String() + ">"
	}
	return "optional " + c.Elem.String()
}
