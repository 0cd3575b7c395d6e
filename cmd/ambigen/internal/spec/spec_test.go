package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestGoIdent(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"onearg-ran", "OneargRan", ""},
		{"chat", "Chat", ""},
		{"sentAt", "SentAt", ""},
		{"user_id", "UserID", ""},
		{"TRUE", "TRUE", ""},
		{"a.b c", "ABC", ""},
		{"--", "", "no ASCII letters"},
		{"1", "1", "start with a digit"},
	}
	for _, tt := range tests {
		got, err := goIdent(tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("goIdent(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"string", "int", "ChatMessage", "Mood"}
	tests := []struct{ got, want string }{
		{"ChatMsg", ` (did you mean "ChatMessage"?)`},
		{"strng", ` (did you mean "string"?)`},
		{"mood", ` (did you mean "Mood"?)`},
		{"Completely", ""},
	}
	for _, tt := range tests {
		if s := suggest(tt.got, names); s != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.got, s, tt.want)
		}
	}
}

func TestModel(t *testing.T) {
	src := `messages:
  add: {from: client, payload: {a: int, b: int}, reply: int, doc: Adds.}
  post: {from: both, payload: list<Msg>}
types:
  Msg: {fields: {text: string, when: {type: timestamp, optional: true, doc: Sent.}}}
`
	m, err := Load("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	add := m.Messages[0]
	if add.GoName != "Add" || !add.IsCall() || add.Payload.Named.Name != "AddRequest" || add.Reply.Kind != Int || add.Doc != "Adds." {
		t.Errorf("add resolved as %+v", add)
	}
	if want := (MessageAPI{Const: "NameAdd", ServerHandle: "HandleAdd", ClientCall: "Add"}); add.API != want {
		t.Errorf("add's API: %+v, want %+v", add.API, want)
	}
	post := m.Messages[1]
	if post.Payload.String() != "list<Msg>" || post.Payload.GoCodec != "codec_list_Msg" || !post.ClientSends() || !post.ServerSends() {
		t.Errorf("post resolved as %+v", post)
	}
	if want := (MessageAPI{Const: "NamePost", ServerOn: "OnPost", ServerBroadcast: "BroadcastPost", ServerBroadcastFunc: "BroadcastPostFunc",
		ConnSend: "SendPost", ClientOn: "OnPost", ClientSend: "SendPost"}); post.API != want {
		t.Errorf("post's API: %+v, want %+v", post.API, want)
	}
	if len(m.Types) != 2 || m.Types[0].Name != "Msg" || m.Types[1].Name != "AddRequest" || !m.Types[1].Inline {
		t.Errorf("types: %+v", m.Types)
	}
	when := m.Types[0].Fields[1]
	if !when.Optional || when.Type.Kind != Timestamp || when.Doc != "Sent." || when.Pos != (Pos{5, 32}) {
		t.Errorf("field when: %+v", when)
	}
}

// The model names every Go helper; two different ones never share a name,
// whatever the schema calls its types.
func TestGoHelperNamesAreDistinct(t *testing.T) {
	var leaves []*Type
	for _, b := range builtinKinds {
		leaves = append(leaves, &Type{Kind: b.kind})
	}
	for _, name := range []string{"ListString", "List", "Map", "MapInt", "Listlist", "OptionalString", "Codec", "String2"} {
		n := &Named{Name: name}
		leaves = append(leaves, &Type{Kind: Ref, Named: n})
	}
	types := leaves
	for range 3 {
		var next []*Type
		for _, e := range types {
			next = append(next, &Type{Kind: List, Elem: e}, &Type{Kind: Map, Elem: e})
		}
		types = slices.Concat(leaves, next)
	}
	names := map[string]string{}
	add := func(name, what string) {
		if prev, dup := names[name]; dup && prev != what {
			t.Errorf("%s is the helper of both %s and %s", name, prev, what)
		}
		names[name] = what
	}
	for _, ty := range types {
		switch ty.Kind {
		case List, Map:
			add("codec_"+goKey(ty), ty.String())
		case Ref:
			for _, prefix := range []string{"codec", "encode", "decode", "fields"} {
				add(prefix+ty.Named.Name, prefix+" of "+ty.String())
			}
		}
		add("codec_optional_"+goKey(ty), "optional "+ty.String())
	}
	if len(names) < 400 {
		t.Fatalf("only %d names checked", len(names))
	}

	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "cases", "names", "schema.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load("names.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, n := range m.Types {
		got[n.GoCodec] = true
	}
	for _, c := range m.Composites {
		got[c.GoName] = true
	}
	for _, want := range []string{"codecListString", "codec_list_string", "codecMapInt", "codec_map_int", "codecOptionalString", "codec_optional_string", "codecListListString", "codec_list_list_string"} {
		if !got[want] {
			t.Errorf("no codec %s in %v", want, got)
		}
	}
}

func TestErrorsAreSorted(t *testing.T) {
	_, err := Load("s.yaml", []byte("types:\n  B: {fields: {x: Nope}}\nmessages:\n  a: {from: x, payload: Nada}\n"))
	var list Errors
	if !errors.As(err, &list) || len(list) != 3 {
		t.Fatalf("got %v", err)
	}
	for i := 1; i < len(list); i++ {
		if list[i].Pos.Line < list[i-1].Pos.Line {
			t.Errorf("not sorted: %v", list)
		}
	}
}

// FuzzLoad: no input makes the loader panic, and every failure is a
// non-empty list of positioned diagnostics.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "cases", "*", "schema.yaml"))
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("messages:\n  a: &x {from: both, payload: *x}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		m, err := Load("f.yaml", src)
		if err == nil {
			if m == nil {
				t.Fatal("nil model without error")
			}
			return
		}
		var list Errors
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error %v is not a non-empty Errors", err)
		}
		for _, d := range list {
			if d.Pos.Line < 1 || d.Pos.Col < 1 {
				t.Fatalf("diagnostic without position: %v", d)
			}
		}
	})
}

// TestAliasBudget: alias expansions are bounded and reported, however the
// file uses them.
func TestAliasBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("x: &d {from: both, payload: string}\nmessages:\n")
	for i := 0; i < maxAliases+10; i++ {
		fmt.Fprintf(&b, "  m%d: *d\n", i)
	}
	_, err := Load("many.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "too many alias expansions") {
		t.Fatalf("got %.300v", err)
	}
}

// TestSyntaxErrorPosition: a YAML syntax error points at the character where the file goes wrong,
// not at the line where yaml.v3 says the enclosing block began.
func TestSyntaxErrorPosition(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"field indented less than its siblings", "messages:\n  a: {from: both, payload: T}\ntypes:\n  T:\n    fields:\n      x: int\n     y: int\n",
			"s.yaml:7:6: YAML syntax error: did not find expected key"},
		{"field indented more than its siblings", "messages:\n  chat:\n    from: both\n     payload: string\n",
			"s.yaml:4:13: YAML syntax error: mapping values are not allowed in this context"},
		{"a second colon on a line", "messages:\n  a: b: c\n",
			"s.yaml:2:7: YAML syntax error: mapping values are not allowed in this context"},
		{"an unclosed brace (reported at its first key)", "messages:\n  chat: {from: both, payload: string\n  x: 1\n",
			"s.yaml:2:10: YAML syntax error: did not find expected ',' or '}'"},
		{"a stray closing brace", "messages:\n  chat: {from: both, payload: string}}\n",
			"s.yaml:2:38: YAML syntax error: did not find expected key"},
		{"a tab for indentation", "messages:\n  chat:\n    from: both\n\tpayload: string\n",
			"s.yaml:4:1: YAML syntax error: found a tab character that violates indentation"},
		{"an unterminated string", "messages:\n  a: {from: both, payload: string}\n  b: \"abc\n",
			"s.yaml:3:6: YAML syntax error: found unexpected end of stream"},
		{"a list item among keys", "types:\n  A:\n    fields:\n      a: int\n    - b\n",
			"s.yaml:5:5: YAML syntax error: did not find expected key"},
	}
	for _, tt := range tests {
		_, err := Load("s.yaml", []byte(tt.src))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s:\n got %v\nwant %s", tt.name, err, tt.want)
		}
	}
}

func TestForeignType(t *testing.T) {
	tests := map[string]string{
		"boolean": "bool", "logical": "bool", "integer": "int", "number": "float", "numeric": "float",
		"character": "string", "datetime": "timestamp", "Date": "timestamp", "string[]": "list<string>",
		"Array<string>": "list<string>", "[]int64": "list<int>", "boolean[][]": "list<list<bool>>",
		"map[string]bool": "map<bool>", "Record<string, number>": "map<float>", "map<string,int>": "map<int>",
		"Todo[]": "list<Todo>", "Map<int, string>": "", "Todo": "", "string": "",
	}
	for in, want := range tests {
		if got := foreignType(in); got != want {
			t.Errorf("foreignType(%q) = %q, want %q", in, got, want)
		}
	}
}
