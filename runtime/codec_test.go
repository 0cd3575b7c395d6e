package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-faster/jx"
	"github.com/google/go-cmp/cmp"
)

func encode[T any](t *testing.T, c Codec[T], v T) string {
	t.Helper()
	b, err := AppendPayload(nil, c, v)
	if err != nil {
		t.Fatalf("encode %v: %v", v, err)
	}
	return string(b)
}

func TestCodecRoundTrips(t *testing.T) {
	ts := time.Date(2026, 11, 27, 13, 54, 39, 120000000, time.FixedZone("CET", 3600))
	check := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %s, want %s", name, got, want)
		}
	}
	check("string", encode(t, String, "é\u2028<&>"), "\"é\u2028<&>\"")
	check("int", encode(t, Int, -42), "-42")
	check("float", encode(t, Float, 1.5), "1.5")
	check("bool", encode(t, Bool, true), "true")
	check("timestamp", encode(t, Timestamp, ts), `"2026-11-27T12:54:39.12Z"`)
	check("bytes", encode(t, Bytes, []byte{0, 1, 255}), `"AAH/"`)
	check("nil bytes", encode(t, Bytes, nil), `""`)
	check("nil list", encode(t, List(String), nil), `[]`)
	check("map sorted", encode(t, Map(Int), map[string]int64{"b": 2, "a": 1}), `{"a":1,"b":2}`)
	check("optional nil", encode(t, Optional(Int), nil), `null`)
	check("raw empty", encode(t, RawJSON, nil), `null`)
	check("JSON no escape", encode(t, JSON[map[string]string](), map[string]string{"k": "<b>"}), `{"k":"<b>"}`)

	got, err := DecodePayload(Timestamp, []byte(`"2026-11-27T12:54:39.12Z"`))
	if err != nil || !got.Equal(ts) {
		t.Errorf("timestamp: %v %v", got, err)
	}
	b, err := DecodePayload(Bytes, []byte(`"AAH/"`))
	if err != nil || string(b) != "\x00\x01\xff" {
		t.Errorf("bytes: %v %v", b, err)
	}
	o, err := DecodePayload(Optional(Int), []byte(`7`))
	if err != nil || o == nil || *o != 7 {
		t.Errorf("optional: %v %v", o, err)
	}
	o, err = DecodePayload(Optional(Int), nil)
	if err != nil || o != nil {
		t.Errorf("absent optional: %v %v", o, err)
	}
	a, err := DecodePayload(Any, []byte(`{"a":[1,"x",null,true,{}],"b":[]}`))
	if err != nil || !cmp.Equal(a, any(map[string]any{"a": []any{1.0, "x", nil, true, map[string]any{}}, "b": []any{}})) {
		t.Errorf("any: %v %v", a, err)
	}
	r, err := DecodePayload(RawJSON, []byte(` {"a" : 1} `))
	if err != nil || string(r) != `{"a" : 1}` {
		t.Errorf("raw: %s %v", r, err)
	}
	s, err := DecodePayload(List(String), []byte(`["\u00e9\ud83d\ude00\n\"", "", "x"]`))
	if err != nil || !cmp.Equal(s, []string{"é😀\n\"", "", "x"}) {
		t.Errorf("escaped strings: %q %v", s, err)
	}
}

// What an R peer writes for integers and lists is accepted.
func TestCodecRShapes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{`100.0`, 100}, {`"3000000000"`, 3000000000}, {`-7`, -7}, {`1e2`, 100}, {`-0`, 0},
		{`123456789012345678`, 123456789012345678}, {`-9223372036854775808`, math.MinInt64}, {`9223372036854775807`, math.MaxInt64},
	} {
		got, err := DecodePayload(Int, []byte(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("Int(%s) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{`1.5`, `"abc"`, `"1.5"`, `true`, `1e400`, `99999999999999999999`, `9223372036854775808`, `-1.0e-3`} {
		if _, err := DecodePayload(Int, []byte(in)); err == nil {
			t.Errorf("Int(%s) accepted", in)
		}
	}
	l, err := DecodePayload(List(String), []byte(`"a"`))
	if err != nil || !cmp.Equal(l, []string{"a"}) {
		t.Errorf("unboxed list: %v %v", l, err)
	}
	m, err := DecodePayload(Map(String), []byte(`[]`))
	if err != nil || m == nil || len(m) != 0 {
		t.Errorf("empty named list: %v %v", m, err)
	}
	if _, err := DecodePayload(Map(String), []byte(`["a"]`)); err == nil {
		t.Error("non-empty array read as a map")
	}
}

func TestCodecErrorsHavePaths(t *testing.T) {
	type mood string
	moods := Enum[mood]("happy", "sad")
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"list elem", err2(DecodePayload(List(Int), []byte(`[1,"x"]`))), `[1]: expected integer, got string "x"`},
		{"map value", err2(DecodePayload(Map(List(Bool)), []byte(`{"ok":[true],"a b":[1]}`))), `["a b"][0]: expected bool, got number`},
		{"point field", err2(DecodePayload(pointCodec, []byte(`{"x":1,"y":2,"tags":[1]}`))), `tags[0]: expected string, got number`},
		{"missing", err2(DecodePayload(pointCodec, []byte(`{"y":2}`))), `x: required field is missing`},
		{"enum", err2(DecodePayload(moods, []byte(`"meh"`))), `"meh" is not one of "happy", "sad"`},
		{"trailing", err2(DecodePayload(Int, []byte(`1 2`))), `unexpected data after the payload`},
		{"absent", err2(DecodePayload(String, nil)), `expected string, got null`},
		{"float range", err2(DecodePayload(Float, []byte(`1e400`))), `expected number within float64 range, got 1e400`},
		{"any deep", err2(DecodePayload(Any, []byte(`{"a":[0,{"b":1e400}]}`))), `a[1].b: expected number within float64 range`},
		{"json field", err2(DecodePayload(JSON[struct {
			N int `json:"n"`
		}](), []byte(`{"n":"x"}`))), `n: expected integer, got string`},
	} {
		var pe *PayloadError
		if !errors.As(tc.err, &pe) {
			t.Errorf("%s: %v is not a *PayloadError", tc.name, tc.err)
			continue
		}
		if !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %q does not contain %q", tc.name, tc.err, tc.want)
		}
	}
}

func err2[T any](_ T, err error) error { return err }

// The builtin codecs agree with encoding/json on what they write.
func TestCodecMatchesEncodingJSON(t *testing.T) {
	vals := []string{"", "a\"b\\c", "\x00\x1f", "é😀", "<script>&"}
	for _, v := range vals {
		var back string
		if err := json.Unmarshal([]byte(encode(t, String, v)), &back); err != nil || back != v {
			t.Errorf("%q: round trip through encoding/json gave %q, %v", v, back, err)
		}
		d := jx.DecodeBytes([]byte(encode(t, String, v)))
		if s, err := d.Str(); err != nil || s != v {
			t.Errorf("%q: jx read back %q", v, s)
		}
	}
}

// Any writes what encoding/json writes (without HTML escaping) for the
// values JSON decodes to, which it encodes itself, and for the rest.
func TestAnyMatchesEncodingJSON(t *testing.T) {
	type pair struct {
		A int    `json:"a"`
		B string `json:"b,omitempty"`
	}
	vals := []any{
		nil, true, "<&>\u2028\x01é", 0.0, math.Copysign(0, -1), 0.1, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, float64(1 << 60), -3.5e-300,
		map[string]any{"b": []any{1.0, "x", nil, map[string]any{}}, "a": false, "é": []any{}},
		[]any{int64(7), json.Number("12.50"), pair{A: 1}, map[string]int{"z": 1, "y": 2}, json.RawMessage(`{"r" : 1}`), []string{"s"}},
		map[string]any(nil), []any(nil),
	}
	for _, v := range vals {
		want, err := marshalNoEscape(v)
		if err != nil {
			t.Fatal(err)
		}
		// encoding/json escapes U+2028; the runtime writes it raw, as
		// Ambiorix does (both read back the same).
		w := strings.ReplaceAll(string(want), `\u2028`, "\u2028")
		if got := encode(t, Any, v); got != w {
			t.Errorf("%#v: Any wrote %s, encoding/json %s", v, got, want)
		}
	}
}

// A Go string is bytes; what it holds beyond UTF-8 must not reach the
// wire, where a browser would fail the connection over it. Each invalid
// byte becomes U+FFFD, as encoding/json writes it.
func TestInvalidUTF8IsReplaced(t *testing.T) {
	for _, s := range []string{"a\xffb", "cut \xe2\x82", "\xed\xa0\x80 surrogate", "\x80\x80"} {
		out := encode(t, String, s)
		if !utf8.ValidString(out) {
			t.Errorf("%q encoded as invalid UTF-8: %q", s, out)
		}
		want, _ := json.Marshal(s)
		var got, ref string
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%q: %s is not JSON: %v", s, out, err)
		}
		_ = json.Unmarshal(want, &ref)
		if got != ref {
			t.Errorf("%q: encoded as %q, encoding/json as %q", s, got, ref)
		}
		// Map keys and the envelope's own strings take the same way.
		keys := encode(t, Map(Int), map[string]int64{s: 1})
		frame := encoded(t, s, String, s, meta{id: s, call: true})
		reply := envelopeOf(ownFrame(encodeRawEnvelope("n", nil, meta{replyTo: "1", reply: true, err: &CallError{Code: s, Message: s}})))
		for _, b := range []string{keys, frame, string(reply)} {
			if !utf8.ValidString(b) || !json.Valid([]byte(b)) {
				t.Errorf("%q: wrote %q", s, b)
			}
		}
	}
}

// Encoders refuse what the schema forbids, naming the path and the rule.
func TestEncodeRefuses(t *testing.T) {
	type mood string
	moods := Enum[mood]("happy", "sad", "neutral")
	type withChan struct{ C chan int }
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	cyclicList := []any{1, nil}
	cyclicList[1] = cyclicList
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"enum zero", encodeErr(moods, ""), `"" is not one of "happy", "sad", "neutral"`},
		{"enum in list", encodeErr(List(moods), []mood{"sad", "meh"}), `[1]: "meh" is not one of`},
		{"NaN", encodeErr(Float, math.NaN()), `NaN is not a JSON number`},
		{"+Inf in map", encodeErr(Map(Float), map[string]float64{"a": 1, "b c": math.Inf(1)}), `["b c"]: +Inf is not a JSON number`},
		{"-Inf optional", encodeErr(Optional(Float), ptr(math.Inf(-1))), `-Inf is not a JSON number`},
		{"year", encodeErr(Timestamp, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)), `year 10000 is outside`},
		{"any chan", encodeErr(Any, any(make(chan int))), `a value of type chan int has no JSON form`},
		{"any func in map", encodeErr(Map(Any), map[string]any{"f": func() {}}), `f: a value of type func() has no JSON form`},
		{"any NaN", encodeErr(Any, any([]any{"x", map[string]any{"a b": math.NaN()}})), `[1]["a b"]: NaN is not a JSON number`},
		{"any cyclic map", encodeErr(Any, any(cyclic)), `self.self.self`},
		{"any cyclic list", encodeErr(Any, any(cyclicList)), `cyclic value: it contains itself`},
		{"any struct", encodeErr(Any, any(withChan{C: make(chan int)})), `a value of type chan int has no JSON form`},
		{"JSON chan", encodeErr(JSON[withChan](), withChan{C: make(chan int)}), `has no JSON form`},
		{"JSON NaN", encodeErr(JSON[[]float64](), []float64{math.NaN()}), `NaN is not a JSON number`},
		{"raw invalid", encodeErr(RawJSON, json.RawMessage(`{"a":`)), `raw JSON is not one valid JSON value`},
		{"raw not UTF-8", encodeErr(RawJSON, json.RawMessage("\"\xff\"")), `raw JSON is not valid UTF-8`},
		{"point tags", encodeErr(List(pointCodec), []point{{}, {Tags: []string{"x"}}}), ``},
	} {
		if tc.want == "" {
			if tc.err != nil {
				t.Errorf("%s: %v", tc.name, tc.err)
			}
			continue
		}
		var ee *EncodeError
		if !errors.As(tc.err, &ee) {
			t.Errorf("%s: %v is not an *EncodeError", tc.name, tc.err)
			continue
		}
		if !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %q does not contain %q", tc.name, tc.err, tc.want)
		}
	}
	// A hand-written encoder that locates its field's error.
	_, err := AppendPayload(nil, Map(moods), map[string]mood{"x": "happy", "y": ""})
	if err == nil || err.Error() != `y: "" is not one of "happy", "sad", "neutral"` {
		t.Errorf("map of enums: %v", err)
	}
	// The buffer given to AppendPayload comes back as it was.
	dst := []byte("keep")
	out, err := AppendPayload(dst, List(Float), []float64{1, math.NaN()})
	if err == nil || string(out) != "keep" {
		t.Errorf("AppendPayload after a refusal: %q, %v", out, err)
	}
}

func encodeErr[T any](c Codec[T], v T) error {
	_, err := AppendPayload(nil, c, v)
	return err
}

func ptr[T any](v T) *T { return &v }

// Of a key given twice the first occurrence wins, in objects with a field
// list, in maps and in values of type any; unknown keys are skipped
// whatever they hold.
func TestDecodeFirstOccurrenceWins(t *testing.T) {
	p, err := DecodePayload(pointCodec, []byte(`{"zz":{"x":[1,{"y":"no"}]},"x":1,"x":"not even a number","y":2,"tags":["a"],"tags":7,"y":{}}`))
	if err != nil || !cmp.Equal(p, point{X: 1, Y: 2, Tags: []string{"a"}}) {
		t.Errorf("object: %+v %v", p, err)
	}
	m, err := DecodePayload(Map(Int), []byte(`{"a":1,"a":2,"b":3,"a":"x"}`))
	if err != nil || !cmp.Equal(m, map[string]int64{"a": 1, "b": 3}) {
		t.Errorf("map: %v %v", m, err)
	}
	a, err := DecodePayload(Any, []byte(`{"k":1,"k":2,"\u006b":3}`))
	if err != nil || !cmp.Equal(a, any(map[string]any{"k": 1.0})) {
		t.Errorf("any: %v %v", a, err)
	}
	// A required field is still required when only unknown keys came.
	if _, err := DecodePayload(pointCodec, []byte(`{"X":1,"x ":1,"y":2}`)); err == nil || err.Error() != "x: required field is missing" {
		t.Errorf("keys are matched exactly: %v", err)
	}
}

// An object type with more fields than the short list that is scanned
// finds its keys through the index, and knows its required fields by bit.
func TestFieldsLongList(t *testing.T) {
	var fields []Field
	for i := range 130 {
		fields = append(fields, Field{Name: fmt.Sprintf("f%d", i), Required: i == 129})
	}
	f := NewFields(fields...)
	c := Codec[[]int]{Decode: func(d *Decoder) ([]int, error) {
		var got []int
		err := d.Object(f, func(d *Decoder, i int) error {
			got = append(got, i)
			return d.Skip()
		})
		return got, err
	}}
	got, err := DecodePayload(c, []byte(`{"f3":0,"f128":0,"nope":0,"f3":1,"f129":0,"f64":0}`))
	if err != nil || !cmp.Equal(got, []int{3, 128, 129, 64}) {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := DecodePayload(c, []byte(`{"f1":0}`)); err == nil || err.Error() != "f129: required field is missing" {
		t.Errorf("missing f129: %v", err)
	}
}

// The strings of a small payload share one allocation; a large payload's
// are allocated one by one, so that a kept string does not pin it.
func TestStringArena(t *testing.T) {
	small := []byte(`["alpha","beta","gamma","delta"]`)
	large := []byte(`["alpha","beta","gamma","` + strings.Repeat("d", arenaLimit) + `"]`)
	for _, tc := range []struct {
		name    string
		payload []byte
		allocs  float64
	}{
		{"small", small, 2}, // the arena and the slice
		{"large", large, 5}, // four strings and the slice
		// Go makes strings of one byte without allocating; they do not
		// start an arena.
		{"one-byte strings", []byte(`["a","b","","d"]`), 1},
	} {
		n := steadyAllocs(func() {
			if _, err := DecodePayload(List(String), tc.payload); err != nil {
				t.Fatal(err)
			}
		})
		if n != tc.allocs {
			t.Errorf("%s payload: %.1f allocations, want %.0f", tc.name, n, tc.allocs)
		}
	}

	// Strings copy the payload, and the next payload does not reuse their
	// arena: both would corrupt what a handler kept.
	raw := append([]byte(nil), small...)
	first, err := DecodePayload(Map(String), []byte(`{"k1":"v1","k2":"v2"}`))
	if err != nil {
		t.Fatal(err)
	}
	kept, err := DecodePayload(List(String), raw)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		raw[i] = 'x'
	}
	for range 10 {
		if _, err := DecodePayload(Map(String), []byte(`{"zz":"yy","ww":"vv"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if !cmp.Equal(kept, []string{"alpha", "beta", "gamma", "delta"}) || !cmp.Equal(first, map[string]string{"k1": "v1", "k2": "v2"}) {
		t.Errorf("kept strings changed: %q %q", kept, first)
	}
}

// A payload error goes back to the peer and into logs: it quotes at most a
// short part of the peer's input, and never the text or stack frames of the
// JSON library.
func TestPayloadErrorsAreSafeToSend(t *testing.T) {
	type secret int
	longNumber := strings.Repeat("9", 900_000)
	longString := `"` + strings.Repeat("s", 900_000) + `"`
	type mood string
	deep := strings.Repeat("[", 5000) + "1e999" + strings.Repeat("]", 5000)
	for _, tc := range []struct {
		name, payload string
		codec         func([]byte) error
		want          string
	}{
		{"long number", longNumber, decodeWith(Int), "expected integer, got 9999"},
		{"long string for int", longString, decodeWith(Int), "expected integer, got string \"ssss"},
		{"long enum", longString, decodeWith(Enum[mood]("a")), " is not one of \"a\""},
		{"long timestamp", longString, decodeWith(Timestamp), "expected RFC 3339 timestamp, got \"sss"},
		{"long map key", `{` + longString + `:"x"}`, decodeWith(Map(Int)), `expected integer, got string "x"`},
		{"long float", "1" + strings.Repeat("0", 400), decodeWith(Float), "expected number within float64 range"},
		{"deep any", deep, decodeWith(Any), "expected number within float64 range, got 1e999"},
		{"JSON type", `{"n":"x"}`, decodeWith(JSON[struct {
			N secret `json:"n"`
		}]()), "n: expected integer, got string"},
		{"JSON long number", `{"n":` + longNumber + `}`, decodeWith(JSON[struct {
			N secret `json:"n"`
		}]()), "n: expected integer, got number 999"},
		{"JSON method", `{"t":"yesterday"}`, decodeWith(JSON[struct{ T time.Time }]()), "value is not valid for its type"},
		{"malformed", `[1,2,}`, decodeWith(List(Int)), "[2]: malformed JSON at byte 5"},
		{"malformed key", `{"a":1,}`, decodeWith(pointCodec), "malformed JSON at byte 7"},
		{"bad escape", `"a\qb"`, decodeWith(String), "malformed JSON at byte 3"},
		{"cut short", `{"x":1,"y":[`, decodeWith(Any), "unexpected end of JSON"},
		{"unknown value", `{"x":1,"y":2,"z":[1,,2]}`, decodeWith(pointCodec), "malformed JSON at byte 20"},
	} {
		err := tc.codec([]byte(tc.payload))
		var pe *PayloadError
		if !errors.As(err, &pe) {
			t.Errorf("%s: %v is not a *PayloadError", tc.name, err)
			continue
		}
		text := err.Error()
		if !strings.Contains(text, tc.want) {
			t.Errorf("%s: %.300q does not contain %q", tc.name, text, tc.want)
		}
		if len(text) > 2*maxPath+4*maxQuoted {
			t.Errorf("%s: error text of %d bytes: %.300q", tc.name, len(text), text)
		}
		if len(tc.payload) > 1000 && !strings.Contains(text, "bytes in all") && !strings.Contains(pe.Path, pathCut) {
			t.Errorf("%s: %.300q does not say the input was cut", tc.name, text)
		}
		// Every error in the chain, printed with %+v as a logger might:
		// no stack frames, no file paths, no Go type names, no text of
		// encoding/json.
		for e := error(err); e != nil; e = errors.Unwrap(e) {
			full := fmt.Sprintf("%+v", e)
			for _, bad := range []string{".go:", "github.com", "secret", "runtime.", "json:", "cannot unmarshal", "time.Time"} {
				if strings.Contains(full, bad) {
					t.Errorf("%s: %T prints %q, which contains %q", tc.name, e, full, bad)
				}
			}
		}
	}
}

func decodeWith[T any](c Codec[T]) func([]byte) error {
	return func(b []byte) error { return err2(DecodePayload(c, b)) }
}

// An error deep in a recursive value keeps a bounded path, with its
// innermost part.
func TestDeepPathIsBounded(t *testing.T) {
	payload := strings.Repeat(`{"a":`, 3000) + `1e999` + strings.Repeat(`}`, 3000)
	_, err := DecodePayload(Any, []byte(payload))
	var pe *PayloadError
	if !errors.As(err, &pe) {
		t.Fatalf("%v", err)
	}
	if !strings.HasPrefix(pe.Path, pathCut+".a.a") || !strings.HasSuffix(pe.Path, ".a.a") || len(pe.Path) > maxPath+len(pathCut)+1 {
		t.Errorf("path of %d bytes: %q", len(pe.Path), pe.Path)
	}
}

// Encoding into a buffer with room costs no allocation.
func TestEncodeDoesNotAllocate(t *testing.T) {
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123000000, time.UTC)
	buf := make([]byte, 0, 256)
	strs := []string{"a", "héllo"}
	n := steadyAllocs(func() {
		var err error
		for _, f := range []func() ([]byte, error){
			func() ([]byte, error) { return AppendPayload(buf[:0], Timestamp, ts) },
			func() ([]byte, error) { return AppendPayload(buf[:0], Int, -12345) },
			func() ([]byte, error) { return AppendPayload(buf[:0], Float, 2.5) },
			func() ([]byte, error) { return AppendPayload(buf[:0], String, "x\"y") },
			func() ([]byte, error) { return AppendPayload(buf[:0], List(String), strs) },
		} {
			if _, err = f(); err != nil {
				t.Fatal(err)
			}
		}
	})
	if n != 0 {
		t.Errorf("%.1f allocations", n)
	}
}

// steadyAllocs is the number of allocations f makes once the runtime's pools
// are warm: the least of many single runs. Without -race every run makes
// that many; under -race sync.Pool drops a quarter of what is put back, at
// random, so some runs also allocate a pooled object anew.
func steadyAllocs(f func()) float64 {
	least := testing.AllocsPerRun(1, f)
	for range 100 {
		least = min(least, testing.AllocsPerRun(1, f))
	}
	return least
}
