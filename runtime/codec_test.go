package runtime

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-faster/jx"
	"github.com/google/go-cmp/cmp"
)

func encode[T any](c Codec[T], v T) string { return string(AppendPayload(nil, c, v)) }

func TestCodecRoundTrips(t *testing.T) {
	ts := time.Date(2026, 11, 27, 13, 54, 39, 120000000, time.FixedZone("CET", 3600))
	check := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %s, want %s", name, got, want)
		}
	}
	check("string", encode(String, "é\u2028<&>"), "\"é\u2028<&>\"")
	check("int", encode(Int, -42), "-42")
	check("float", encode(Float, 1.5), "1.5")
	check("NaN", encode(Float, nan()), "null")
	check("bool", encode(Bool, true), "true")
	check("timestamp", encode(Timestamp, ts), `"2026-11-27T12:54:39.12Z"`)
	check("bytes", encode(Bytes, []byte{0, 1, 255}), `"AAH/"`)
	check("nil list", encode(List(String), nil), `[]`)
	check("map sorted", encode(Map(Int), map[string]int64{"b": 2, "a": 1}), `{"a":1,"b":2}`)
	check("optional nil", encode(Optional(Int), nil), `null`)
	check("raw empty", encode(RawJSON, nil), `null`)
	check("JSON no escape", encode(JSON[map[string]string](), map[string]string{"k": "<b>"}), `{"k":"<b>"}`)

	got, err := DecodePayload(Timestamp, []byte(`"2026-11-27T12:54:39.12Z"`))
	if err != nil || !got.Equal(ts) {
		t.Errorf("timestamp: %v %v", got, err)
	}
	b, err := DecodePayload(Bytes, []byte(`"AAH/"`))
	if err != nil || string(b) != "\x00\x01\xff" {
		t.Errorf("bytes: %v %v", b, err)
	}
	m, err := DecodePayload(Map(Int), []byte(`{"a":1,"a":2,"b":3}`))
	if err != nil || !cmp.Equal(m, map[string]int64{"a": 1, "b": 3}) {
		t.Errorf("map, first duplicate wins: %v %v", m, err)
	}
	o, err := DecodePayload(Optional(Int), []byte(`7`))
	if err != nil || o == nil || *o != 7 {
		t.Errorf("optional: %v %v", o, err)
	}
	o, err = DecodePayload(Optional(Int), nil)
	if err != nil || o != nil {
		t.Errorf("absent optional: %v %v", o, err)
	}
	a, err := DecodePayload(Any, []byte(`{"a":[1,"x",null]}`))
	if err != nil || !cmp.Equal(a, any(map[string]any{"a": []any{1.0, "x", nil}})) {
		t.Errorf("any: %v %v", a, err)
	}
	r, err := DecodePayload(RawJSON, []byte(` {"a" : 1} `))
	if err != nil || string(r) != `{"a" : 1}` {
		t.Errorf("raw: %s %v", r, err)
	}
}

// What an R peer writes for integers and lists is accepted.
func TestCodecRShapes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{{`100.0`, 100}, {`"3000000000"`, 3000000000}, {`-7`, -7}, {`1e2`, 100}} {
		got, err := DecodePayload(Int, []byte(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("Int(%s) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{`1.5`, `"abc"`, `"1.5"`, `true`, `1e400`} {
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
		{"json field", err2(DecodePayload(JSON[struct {
			N int `json:"n"`
		}](), []byte(`{"n":"x"}`))), `n: expected int, got JSON string`},
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

func nan() float64 {
	var z float64
	return z / z
}

// The builtin codecs agree with encoding/json on what they write.
func TestCodecMatchesEncodingJSON(t *testing.T) {
	vals := []string{"", "a\"b\\c", "\x00\x1f", "é😀", "<script>&"}
	for _, v := range vals {
		var back string
		if err := json.Unmarshal([]byte(encode(String, v)), &back); err != nil || back != v {
			t.Errorf("%q: round trip through encoding/json gave %q, %v", v, back, err)
		}
		d := jx.DecodeBytes([]byte(encode(String, v)))
		if s, err := d.Str(); err != nil || s != v {
			t.Errorf("%q: jx read back %q", v, s)
		}
	}
}
