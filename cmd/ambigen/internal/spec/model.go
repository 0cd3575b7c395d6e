// Package spec turns an ambigen schema (YAML) into a checked model: every
// name resolved for Go, TypeScript and the wire, every type linked, and every
// problem reported at once with its line and column. Emitters only print
// what this package computed, so that all naming decisions live in one place.
package spec

// Pos is a 1-based line and column in the schema file.
type Pos struct{ Line, Col int }

// Kind is what a type expression denotes.
type Kind int

// The kinds of type expressions. The order is the order of the builtins in
// diagnostics and documentation.
const (
	String Kind = iota
	Bool
	Int
	Float
	Timestamp
	Bytes
	Any
	List
	Map
	Ref // a named object or enum
)

// builtinKinds maps the schema spelling of each scalar to its kind.
var builtinKinds = []struct {
	name string
	kind Kind
}{
	{"string", String}, {"bool", Bool}, {"int", Int}, {"float", Float},
	{"timestamp", Timestamp}, {"bytes", Bytes}, {"any", Any},
}

// Type is a resolved type expression.
type Type struct {
	Kind  Kind
	Elem  *Type  // element of List and Map
	Named *Named // target of Ref
	// Rules are the value constraints on this value (not on its elements,
	// which carry their own); nil when there are none.
	Rules *Rules
	// Alias is the declared alias this type was written as, for the name
	// the Go and TypeScript output give it; nil when it was written out.
	// The alias's own Type is Alias.Type; a use that adds constraints to
	// an alias is a copy with the same Alias.
	Alias *Alias
	// GoCodec is the Go variable holding the codec of a list, map, named
	// type or checked type (see Checked); empty for a builtin, whose codec
	// the runtime exports, and for a checked type inside another, whose
	// codec is built in place.
	GoCodec string
	// TSRead is the TypeScript constant holding the decoder of a checked
	// field, payload or reply; empty elsewhere.
	TSRead string
}

// Checked reports whether the codec of t checks constraints of its own:
// t or its elements (through lists and maps, not into named objects,
// whose codecs check their fields) carry rules.
func (t *Type) Checked() bool {
	for ; t != nil; t = t.Elem {
		if t.Rules != nil {
			return true
		}
	}
	return false
}

// Constrained reports whether a value of t is checked against any
// constraint, here or in the fields of the objects it holds.
func (t *Type) Constrained() bool {
	for ; t != nil; t = t.Elem {
		if t.Rules != nil || (t.Kind == Ref && t.Named.Constrained) {
			return true
		}
	}
	return false
}

// IsAlias reports whether t is the type a declared alias stands for, as
// opposed to a type written out or an alias with constraints added.
func (t *Type) IsAlias() bool { return t.Alias != nil && t.Alias.Type == t }

// Alias is a type declared with `type:` under `types:`: another name for a
// type expression, usually with constraints. It is no new type: Go declares
// it as an alias (type Title = string) and TypeScript as a type alias.
type Alias struct {
	Name string
	Doc  string
	Pos  Pos
	Type *Type // what it stands for, with its constraints
}

// String is the schema spelling of the type, for diagnostics.
func (t *Type) String() string {
	switch t.Kind {
	case List:
		return "list<" + t.Elem.String() + ">"
	case Map:
		return "map<" + t.Elem.String() + ">"
	case Ref:
		return t.Named.Name
	}
	for _, b := range builtinKinds {
		if b.kind == t.Kind {
			return b.name
		}
	}
	return "?"
}

// Named is an object or enum type: declared under `types:` or made from an
// inline payload or reply. Its Name is its Go and TypeScript identifier.
type Named struct {
	Name   string
	Doc    string
	Pos    Pos
	Inline bool   // made from a message's inline payload or reply
	Origin string // for inline types: `the payload of message "update"`, `the reply of call "add"`
	Fields []*Field
	Enum   []*EnumValue // non-nil for enums

	// Constrained says whether a value of the type is checked against a
	// constraint somewhere in its fields, directly or through the objects
	// it holds.
	Constrained bool

	// The Go identifiers of the type's codec variable and, for objects,
	// of its encode and decode functions and its field list.
	GoCodec, GoEncode, GoDecode, GoFields string
}

// IsEnum reports whether n is an enumeration of strings.
func (n *Named) IsEnum() bool { return n.Enum != nil }

// Field is one field of an object type.
type Field struct {
	Wire     string // the JSON key
	GoName   string
	Doc      string
	Type     *Type
	Optional bool
	Pos      Pos
	TypePos  Pos // of the type expression (the value, or the `type:` value)
	// GoOptionalCodec is the Go variable holding the codec that reads an
	// optional field (null as absent); empty for required fields.
	GoOptionalCodec string
}

// EnumValue is one value of an enum.
type EnumValue struct {
	Value  string // on the wire
	GoName string // the Go constant: type name + value
	Pos    Pos
}

// Direction says which peer sends a message.
type Direction int

// The three directions of `from:`.
const (
	FromClient Direction = iota
	FromServer
	FromBoth
)

// Message is one Ambiorix message name and what it carries.
type Message struct {
	Wire    string // the Ambiorix name
	GoName  string // OneargRan for "onearg-ran"
	Doc     string
	From    Direction
	Payload *Type
	Reply   *Type // nil unless the message is a call
	Pos     Pos

	// Positions of the values of `from:`, `payload:` and `reply:`, for
	// tools that point at them (ambigen breaking).
	FromPos, PayloadPos, ReplyPos Pos
	// API names what the Go output declares for the message.
	API MessageAPI
}

// MessageAPI holds the Go identifiers generated for one message: the
// constant of its wire name and the methods of the typed API. A method the
// message's direction does not have is "".
type MessageAPI struct {
	Const string // NameChat

	ServerOn, ServerHandle, ServerBroadcast, ServerBroadcastFunc string // methods of Server
	ConnSend, ConnCall                                           string // methods of Conn
	ClientOn, ClientHandle, ClientSend, ClientCall               string // methods of Client
}

// IsCall reports whether the message expects a reply.
func (m *Message) IsCall() bool { return m.Reply != nil }

// ClientSends reports whether the client may send m.
func (m *Message) ClientSends() bool { return m.From != FromServer }

// ServerSends reports whether the server may send m.
func (m *Message) ServerSends() bool { return m.From != FromClient }

// Model is a checked schema.
type Model struct {
	// Source is the schema path as given to the generator; it appears in
	// generated headers, so it must not depend on the machine.
	Source   string
	Messages []*Message // in file order
	Types    []*Named   // declared types in file order, then inline types in message order
	// Aliases are the types declared with `type:`, each after the aliases
	// it is written with.
	Aliases []*Alias

	// Fingerprint identifies the wire contract of the schema; see
	// [Fingerprint] for what it covers.
	Fingerprint string
	// Composites are the list, map and optional codecs the Go output
	// declares, each once however often it is used, elements before the
	// codecs built on them.
	Composites []*Composite
	// Checks are the codecs of checked types (see Type.Checked) that the
	// Go output declares: one per alias with constraints, then one per
	// field, payload or reply whose type has constraints (and one for the
	// optional form of such a field), each after those it is built from.
	// Composites come before all of them.
	Checks []*Check
}

// Check is one codec of a checked type in the Go output; the TypeScript
// output declares a decoder for each that is not Optional.
type Check struct {
	GoName   string
	TSName   string // the decoder's constant; for an alias, its exported decode function
	Type     *Type
	Optional bool // the codec of an optional field: Optional(codec of Type)
	Alias    *Alias
	Pos      Pos
}

// CompositeKind says what a composite codec wraps its element in.
type CompositeKind int

// The composite codecs, named after the runtime functions that build them.
const (
	CompositeList CompositeKind = iota
	CompositeMap
	CompositeOptional
)

// Composite is one list, map or optional codec of the Go output.
type Composite struct {
	GoName string
	Kind   CompositeKind
	Elem   *Type
	Pos    Pos // of its first use
}
