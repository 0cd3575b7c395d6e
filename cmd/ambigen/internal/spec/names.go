package spec

import "fmt"

// Identifiers the generated Go package and TypeScript module declare or
// import on their own. A schema type with one of these names would shadow
// or collide with them, so it is reported as reserved.
var reservedTop = []string{
	// Go: the typed API, and the schema's fingerprint.
	"Server", "Serve", "Conn", "Client", "NewClient", "Dial", "Fingerprint",
	// TypeScript: the schema map, and the runtime and globals it uses.
	"Messages", "Descriptor", "ClientOptions", "TypedClient", "Validator",
	"Record", "Array", "Promise", "Object", "String", "Number", "Boolean",
	"Date", "Error", "Map", "Set", "JSON", "Math", "RegExp", "Symbol",
}

// Methods the runtime types embedded in or wrapped by the generated types
// already have; a generated method of the same name would hide them.
var (
	reservedServer = []string{"Runtime"}
	reservedConn   = []string{"Conn", "Send", "Close", "Context", "Identity", "ID", "Done"}
	reservedClient = []string{"Dial", "Runtime", "Close"}
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

func (s *scope) declare(name, desc string, p Pos) {
	if name == "" {
		return
	}
	if prev, dup := s.names[name]; dup {
		if prev.pos.Line == 0 {
			s.d.add(p, "%s: %s%s is reserved by %s", desc, s.what, name, prev.desc)
		} else {
			s.d.add(p, "%s: %s%s is also generated for %s (line %d)", desc, s.what, name, prev.desc, prev.pos.Line)
		}
		return
	}
	s.names[name] = owner{desc: desc, pos: p}
}

// checkNames reports every pair of schema items that would generate the same
// Go or TypeScript identifier, and every use of a reserved one.
func checkNames(m *Model, d *diags) {
	pkg := newScope("the identifier ", d, reservedTop, "the generated API")
	server := newScope("the method Server.", d, reservedServer, "the generated API")
	conn := newScope("the method Conn.", d, reservedConn, "runtime.Conn")
	client := newScope("the method Client.", d, reservedClient, "the generated API")
	for _, n := range m.Types {
		desc := fmt.Sprintf("type %q", n.Name)
		if n.Inline {
			desc = fmt.Sprintf("the inline type %s", n.Name)
		}
		pkg.declare(n.Name, desc, n.Pos)
		for _, e := range n.Enum {
			pkg.declare(e.GoName, fmt.Sprintf("enum value %q of type %s", e.Value, n.Name), n.Pos)
		}
	}
	for _, msg := range m.Messages {
		if isReservedWire(msg.Wire) {
			d.add(msg.Pos, "message %q: names starting with %q are reserved for ambigen's own messages, such as the version handshake %q", msg.Wire, ReservedWirePrefix, HandshakeMessage)
		}
		if msg.GoName == "" {
			continue
		}
		desc := fmt.Sprintf("message %q", msg.Wire)
		g := msg.GoName
		pkg.declare("Name"+g, desc, msg.Pos)
		switch {
		case msg.IsCall() && msg.From == FromClient:
			server.declare("Handle"+g, desc, msg.Pos)
			client.declare(g, desc, msg.Pos)
		case msg.IsCall() && msg.From == FromServer:
			conn.declare(g, desc, msg.Pos)
			client.declare("Handle"+g, desc, msg.Pos)
		default:
			if msg.ClientSends() {
				server.declare("On"+g, desc, msg.Pos)
				client.declare("Send"+g, desc, msg.Pos)
			}
			if msg.ServerSends() {
				server.declare("Broadcast"+g, desc, msg.Pos)
				server.declare("Broadcast"+g+"Func", desc, msg.Pos)
				conn.declare("Send"+g, desc, msg.Pos)
				client.declare("On"+g, desc, msg.Pos)
			}
		}
	}
}
