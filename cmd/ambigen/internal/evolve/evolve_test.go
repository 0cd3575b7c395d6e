package evolve

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ambigen/ambigen/cmd/ambigen/internal/spec"
	"github.com/ambigen/ambigen/runtime"
)

// codecCase is a schema type with the runtime codec generated code uses
// for it, and values that stand for everything a writer of it may send.
type codecCase struct {
	name    string
	typ     *spec.Type
	samples [][]byte
	decode  func([]byte) error
}

func caseOf[T any](name string, typ *spec.Type, codec runtime.Codec[T], values ...T) codecCase {
	c := codecCase{name: name, typ: typ, decode: func(b []byte) error {
		_, err := runtime.DecodePayload(codec, b)
		return err
	}}
	for _, v := range values {
		b, err := runtime.AppendPayload(nil, codec, v)
		if err != nil {
			panic(err) // the samples are the test's own values
		}
		c.samples = append(c.samples, b)
	}
	return c
}

// TestReadRulesMatchTheRuntime checks the rules [compare.read] applies to
// a type changing into another against what the Go runtime's codecs do:
// a writer's values read when, and only when, the rules say so.
func TestReadRulesMatchTheRuntime(t *testing.T) {
	scalar := func(k spec.Kind) *spec.Type { return &spec.Type{Kind: k} }
	list := func(e *spec.Type) *spec.Type { return &spec.Type{Kind: spec.List, Elem: e} }
	mapOf := func(e *spec.Type) *spec.Type { return &spec.Type{Kind: spec.Map, Elem: e} }
	mood := &spec.Type{Kind: spec.Ref, Named: &spec.Named{Name: "Mood", Enum: []*spec.EnumValue{{Value: "happy"}, {Value: "sad"}}}}
	type Mood string
	moodCodec := runtime.Enum[Mood]("happy", "sad")
	when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

	cases := []codecCase{
		caseOf("string", scalar(spec.String), runtime.String, "hello", "", "42"),
		caseOf("bool", scalar(spec.Bool), runtime.Bool, true, false),
		caseOf("int", scalar(spec.Int), runtime.Int, 0, 42, -7, 1<<40),
		caseOf("float", scalar(spec.Float), runtime.Float, 1.5, 2, -0.25),
		caseOf("timestamp", scalar(spec.Timestamp), runtime.Timestamp, when),
		caseOf("bytes", scalar(spec.Bytes), runtime.Bytes, []byte("hi"), []byte{0xff}),
		caseOf("any", scalar(spec.Any), runtime.Any, any("text"), any(3.5), any([]any{1.0}), any(map[string]any{"a": 1.0}), any(nil)),
		caseOf("enum", mood, moodCodec, "happy", "sad"),
		caseOf("list<string>", list(scalar(spec.String)), runtime.List(runtime.String), []string{"a", "b"}, nil, []string{"x"}),
		caseOf("list<int>", list(scalar(spec.Int)), runtime.List(runtime.Int), []int64{1, 2}),
		caseOf("list<float>", list(scalar(spec.Float)), runtime.List(runtime.Float), []float64{1.5}),
		caseOf("list<enum>", list(mood), runtime.List(moodCodec), []Mood{"sad"}),
		caseOf("list<list<string>>", list(list(scalar(spec.String))), runtime.List(runtime.List(runtime.String)), [][]string{{"a"}, {"b", "c"}}),
		caseOf("map<string>", mapOf(scalar(spec.String)), runtime.Map(runtime.String), map[string]string{"k": "v"}, map[string]string{}),
		caseOf("map<float>", mapOf(scalar(spec.Float)), runtime.Map(runtime.Float), map[string]float64{"k": 1.5}),
		caseOf("map<any>", mapOf(scalar(spec.Any)), runtime.Map(runtime.Any), map[string]any{"k": "v", "n": 1.0}),
	}
	// An object, as generated encoders write it (absent optional fields
	// left out); only as a writer, since its reader is generated code.
	type abPair struct {
		A int64  `json:"a"`
		B *int64 `json:"b,omitempty"`
	}
	two := int64(2)
	object := &spec.Type{Kind: spec.Ref, Named: &spec.Named{Name: "Pair", Fields: []*spec.Field{
		{Wire: "a", Type: scalar(spec.Int)}, {Wire: "b", Type: scalar(spec.Int), Optional: true},
	}}}
	writers := append(cases, caseOf("object", object, runtime.JSON[abPair](), abPair{A: 1}, abPair{A: 1, B: &two}))

	for _, w := range writers {
		for _, r := range cases {
			reads := true
			for _, b := range w.samples {
				if err := r.decode(b); err != nil {
					reads = false
				}
			}
			c := &compare{pairs: map[pairKey]*pair{}}
			s := &site{}
			c.read(s, w.typ, r.typ, oldToNewOC, true)
			if claimed := s.failed == 0; claimed != reads {
				t.Errorf("%s written, %s read: the rules say reads=%v, the runtime says %v", w.name, r.name, claimed, reads)
			}
		}
	}
}

func TestBreaksString(t *testing.T) {
	tests := map[Breaks]string{
		0:                                "nobody",
		OldClients:                       "old clients",
		OldServers | Source:              "old servers and generated source",
		OldClients | OldServers | Source: "old clients, old servers and generated source",
	}
	for b, want := range tests {
		if got := b.String(); got != want {
			t.Errorf("Breaks(%d) = %q, want %q", b, got, want)
		}
	}
}

func load(t testing.TB, name string, src []byte) *spec.Model {
	t.Helper()
	m, err := spec.Load(name, src)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// TestCompareWithItself: no schema breaks anyone when it does not change.
func TestCompareWithItself(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "*", "*", "*.yaml"))
	files = append(files, filepath.Join("..", "..", "..", "..", "schema", "messages.yaml"))
	n := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := spec.Load(f, src)
		if err != nil {
			continue // the err- cases
		}
		n++
		if got := Compare(m, load(t, f, src)); len(got) != 0 {
			t.Errorf("%s compared with itself: %v", f, got)
		}
	}
	if n < 10 {
		t.Fatalf("only %d schemas loaded", n)
	}
}

// TestSameFingerprintBreaksNoPeer: schemas with one fingerprint are the
// same on the wire, so nothing between them breaks a peer.
func TestSameFingerprintBreaksNoPeer(t *testing.T) {
	old := load(t, "old.yaml", []byte(`messages:
  post: {from: both, payload: ChatMessage, doc: A post.}
  add: {from: client, payload: {a: int, b: int}, reply: int}
types:
  ChatMessage: {fields: {text: string, mood: {type: Mood, optional: true}, replies: list<ChatMessage>}}
  Mood: {enum: [happy, sad]}
`))
	new := load(t, "new.yaml", []byte(`types:
  Feeling: {enum: [sad, happy]}
  Line: {fields: {replies: list<Line>, mood: {optional: true, type: Feeling}, text: {type: string, goName: Body}}}
  Pair: {fields: {b: int, a: int}}
messages:
  add: {from: client, payload: Pair, reply: int, goName: Sum}
  post: {from: both, payload: Line}
`))
	if old.Fingerprint != new.Fingerprint {
		t.Fatalf("fingerprints differ: %s, %s", old.Fingerprint, new.Fingerprint)
	}
	var source int
	for _, ch := range Compare(old, new) {
		if ch.Breaks&Wire != 0 {
			t.Errorf("breaks a peer: %v", ch)
		}
		source++
	}
	if source == 0 {
		t.Error("renames of types, fields and messages in Go break no generated source, says Compare")
	}
}

// FuzzCompare: no pair of schemas makes Compare panic, a schema never
// breaks anything against itself, and schemas with the same fingerprint
// never break a peer.
func FuzzCompare(f *testing.F) {
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "breaking", "*"))
	for _, d := range dirs {
		old, err1 := os.ReadFile(filepath.Join(d, "old.yaml"))
		new, err2 := os.ReadFile(filepath.Join(d, "new.yaml"))
		if err1 != nil || err2 != nil {
			f.Fatal(err1, err2)
		}
		f.Add(old, new)
	}
	f.Fuzz(func(t *testing.T, oldSrc, newSrc []byte) {
		old, err := spec.Load("old.yaml", oldSrc)
		if err != nil {
			return
		}
		new, err := spec.Load("new.yaml", newSrc)
		if err != nil {
			return
		}
		changes := Compare(old, new)
		for _, ch := range changes {
			if ch.Breaks == 0 || ch.Pos.Line < 1 || ch.Kind == "" || strings.Contains(ch.Text, "%!") {
				t.Fatalf("malformed change %+v", ch)
			}
			if old.Fingerprint == new.Fingerprint && ch.Breaks&Wire != 0 {
				t.Fatalf("same fingerprint, yet %v", ch)
			}
		}
		if again := Compare(new, load(t, "new.yaml", newSrc)); len(again) != 0 {
			t.Fatalf("new.yaml against itself: %v", again)
		}
	})
}

// TestConstraintRulesMatchTheRuntime checks the constraint rules of
// [compare.read] against the runtime's checked codecs: a writer's values
// (the extremes its constraints allow) all read when, and only when, the
// comparison reports no constraint change and no failure. Patterns are
// the exception, on the safe side: they are compared by text, so a new
// pattern is reported even when it allows every value the old one did.
func TestConstraintRulesMatchTheRuntime(t *testing.T) {
	count := func(n int64) *spec.Count { return &spec.Count{N: n} }
	bound := func(v float64, exclusive bool) *spec.Bound { return &spec.Bound{Value: v, Exclusive: exclusive} }
	str := func(r *spec.Rules) *spec.Type { return &spec.Type{Kind: spec.String, Rules: r} }
	integer := func(r *spec.Rules) *spec.Type { return &spec.Type{Kind: spec.Int, Rules: r} }
	float := func(r *spec.Rules) *spec.Type { return &spec.Type{Kind: spec.Float, Rules: r} }
	list := func(e *spec.Type, r *spec.Rules) *spec.Type { return &spec.Type{Kind: spec.List, Elem: e, Rules: r} }
	pattern := func(p string) *spec.Pattern { return &spec.Pattern{Source: p, Go: p} }
	short := str(&spec.Rules{MaxLength: count(3)})
	shortCodec := runtime.Checked(runtime.String, runtime.MaxLength(3))

	cases := []codecCase{
		caseOf("string", str(nil), runtime.String, "", "a", "abcdefghijkl"),
		caseOf("string{maxLength:3}", short, shortCodec, "", "abc"),
		caseOf("string{maxLength:5}", str(&spec.Rules{MaxLength: count(5)}), runtime.Checked(runtime.String, runtime.MaxLength(5)), "", "abcde"),
		caseOf("string{minLength:1,maxLength:3}", str(&spec.Rules{MinLength: count(1), MaxLength: count(3)}),
			runtime.Checked(runtime.String, runtime.MinLength(1), runtime.MaxLength(3)), "a", "abc"),
		caseOf("string{pattern:^a}", str(&spec.Rules{Pattern: pattern("^a")}), runtime.Checked(runtime.String, runtime.Pattern("^a", "^a")), "a", "abcdefghijkl"),
		caseOf("string{pattern:^ab}", str(&spec.Rules{Pattern: pattern("^ab")}), runtime.Checked(runtime.String, runtime.Pattern("^ab", "^ab")), "ab", "abcdefghijkl"),
		caseOf("int{min:0,max:10}", integer(&spec.Rules{Min: bound(0, false), Max: bound(10, false)}),
			runtime.Checked(runtime.Int, runtime.Min[int64](0), runtime.Max[int64](10)), 0, 10),
		caseOf("int{exclusiveMin:-1,exclusiveMax:11}", integer(&spec.Rules{Min: bound(-1, true), Max: bound(11, true)}),
			runtime.Checked(runtime.Int, runtime.ExclusiveMin[int64](-1), runtime.ExclusiveMax[int64](11)), 0, 10),
		caseOf("int{min:1}", integer(&spec.Rules{Min: bound(1, false)}), runtime.Checked(runtime.Int, runtime.Min[int64](1)), 1, 1<<40),
		caseOf("float{min:0,max:10}", float(&spec.Rules{Min: bound(0, false), Max: bound(10, false)}),
			runtime.Checked(runtime.Float, runtime.Min[float64](0), runtime.Max[float64](10)), 0, 10),
		caseOf("float{exclusiveMin:0,max:10}", float(&spec.Rules{Min: bound(0, true), Max: bound(10, false)}),
			runtime.Checked(runtime.Float, runtime.ExclusiveMin[float64](0), runtime.Max[float64](10)), math.SmallestNonzeroFloat64, 10),
		caseOf("float{min:0.5}", float(&spec.Rules{Min: bound(0.5, false)}), runtime.Checked(runtime.Float, runtime.Min[float64](0.5)), 0.5, 1e300),
		caseOf("list<string>{maxItems:2}", list(str(nil), &spec.Rules{MaxItems: count(2)}),
			runtime.Checked(runtime.List(runtime.String), runtime.MaxItems[string](2)), []string{}, []string{"abcd", ""}),
		caseOf("list<string{maxLength:3}>", list(short, nil), runtime.List(shortCodec), []string{"abc", "", "a", "b"}, []string{}),
		caseOf("list<string{maxLength:3}>{minItems:2}", list(short, &spec.Rules{MinItems: count(2)}),
			runtime.Checked(runtime.List(shortCodec), runtime.MinItems[string](2)), []string{"abc", ""}, []string{"a", "b", "c"}),
	}
	for _, w := range cases {
		for _, r := range cases {
			if w.typ.Kind == spec.String && r.typ.Kind != spec.String || w.typ.Kind == spec.Float && r.typ.Kind == spec.Int {
				continue // type changes are TestReadRulesMatchTheRuntime's
			}
			reads := true
			for _, b := range w.samples {
				if err := r.decode(b); err != nil {
					reads = false
				}
			}
			c := &compare{pairs: map[pairKey]*pair{}}
			s := &site{}
			c.read(s, w.typ, r.typ, oldToNewOC, true)
			claimed := s.failed == 0 && len(s.constraints) == 0
			patterns := w.typ.Rules != nil && w.typ.Rules.Pattern != nil || r.typ.Rules != nil && r.typ.Rules.Pattern != nil
			if claimed != reads && !(patterns && !claimed) {
				t.Errorf("%s written, %s read: the rules say reads=%v, the runtime says %v", w.name, r.name, claimed, reads)
			}
		}
	}
}
