package runtime

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-faster/jx"
)

// scanAll reports whether the scanner reads in as one JSON value with
// nothing but whitespace after it.
func scanAll(in []byte) bool {
	var s scanner
	s.reset(in)
	return s.skip() == nil && s.atEnd()
}

// The scanner accepts exactly what encoding/json accepts.
func TestScannerAcceptsWhatEncodingJSONAccepts(t *testing.T) {
	deep := func(n int, open, close string) string {
		return strings.Repeat(open, n) + strings.Repeat(close, n)
	}
	for _, in := range []string{
		``, ` `, `null`, `nul`, `nulll`, `true`, `tru`, `false`, `falsey`,
		`0`, `-0`, `-`, `01`, `-01`, `1.`, `1.5`, `.5`, `1e`, `1e+`, `1E-3`, `1e400`, `+1`, `0x10`,
		`""`, `"a`, `"\"`, `"\u00e9"`, `"\u00g9"`, `"\u12"`, `"\x"`, `"\/"`, "\"a\tb\"", "\"\x7f\"",
		`"\ud800"`, `"\ud83d\ude00"`, "\"\xff\"",
		`[]`, `[`, `[1,]`, `[,1]`, `[1 2]`, `[1,[2,[3]]]`, ` [ 1 , 2 ] `,
		`{}`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,"a":1}`, `{"a":1 "b":2}`, `{1:2}`, `{"a":1}x`, `{"a":1} `,
		`{"a":{"b":[{},{"c":null}]}}`, `{"\u0061":1}`, `{"a":1}{"b":2}`,
		deep(maxDepth, "[", "]"), deep(maxDepth+1, "[", "]"),
		strings.Repeat(`{"a":`, maxDepth) + `1` + strings.Repeat(`}`, maxDepth),
		strings.Repeat(`{"a":`, maxDepth+1) + `1` + strings.Repeat(`}`, maxDepth+1),
		"\t\r\n 1 \t\r\n", "\v1", "\u00a01",
	} {
		if got, want := scanAll([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("%.40q: scanner %v, encoding/json %v", in, got, want)
		}
	}
}

// A string's value is what encoding/json makes of it, lone surrogates
// included.
func TestUnescapeAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`"plain"`, `"a\"b\\c\/d"`, `"\b\f\n\r\t"`, `"\u00e9\u4e2d"`, `"\ud83d\ude00"`,
		`"\ud800"`, `"\udc00"`, `"\ud800\u0041"`, `"\ud800\ud800\udc00"`, `"\ud83dx"`, `"x\ud83d"`,
	} {
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		var s scanner
		s.reset([]byte(in))
		got, err := str(&s)
		if err != nil || string(got) != want {
			t.Errorf("%s: got %q, %v; want %q", in, got, err, want)
		}
	}
}

// FuzzScanner checks the scanner against encoding/json on any input: the
// same verdict on validity, and the same value for a string.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{`{"a":[1,"x\n",null,true,{"b":-1.5e3}]}`, `"\ud83d\ude00\ud800"`, `[1,]`, `01`, `{"a" 1}`, `[[[]]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, want := scanAll(in), json.Valid(in)
		if got != want {
			t.Fatalf("%q: scanner %v, encoding/json %v", in, got, want)
		}
		var s scanner
		s.reset(in)
		if !want || s.next() != jx.String || !utf8.Valid(in) {
			return
		}
		var ref string
		if err := json.Unmarshal(in, &ref); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		v, err := str(&s)
		if err != nil || string(v) != ref {
			t.Fatalf("%q: scanner %q (%v), encoding/json %q", in, v, err, ref)
		}
	})
}

// plainRun finds the first byte a string does not hold as it is, at every
// position of a word and past it, among bytes that look alike in binary.
func TestPlainRun(t *testing.T) {
	fill := []byte{'a', 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff}
	for _, special := range []byte{'"', '\\', 0x00, 0x01, 0x1f} {
		for _, f := range fill {
			for at := 0; at < 20; at++ {
				b := []byte(strings.Repeat(string([]byte{f}), 20))
				b[at] = special
				if got := plainRun(b, 0); got != at {
					t.Errorf("%q in %q: plainRun says %d, want %d", special, b, got, at)
				}
			}
		}
	}
	if got := plainRun([]byte("abcdefghijklmnop"), 3); got != 16 {
		t.Errorf("a plain run to the end: %d, want 16", got)
	}
}

// plainASCII agrees with a byte-by-byte check, at every position of a word.
func TestPlainASCII(t *testing.T) {
	for _, special := range []byte{'"', '\\', 0x00, 0x1f, 0x80, 0xc3, 0xff} {
		for n := 1; n < 20; n++ {
			for at := 0; at < n; at++ {
				b := []byte(strings.Repeat("a~ ", 7)[:n])
				b[at] = special
				if plainASCII(string(b)) {
					t.Errorf("%q: plainASCII says it needs no escape", b)
				}
			}
		}
	}
	for _, s := range []string{"", "a", "hello, world", strings.Repeat("abc ~!#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}", 3)} {
		if !plainASCII(s) {
			t.Errorf("%q: plainASCII says it needs an escape", s)
		}
	}
}
