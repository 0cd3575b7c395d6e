package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-faster/jx"
)

func parse(t testing.TB, frame string) (envelope, ErrorKind, error) {
	var env envelope
	kind, err := parseEnvelope([]byte(frame), &env)
	return env, kind, err
}

func TestParseEnvelope(t *testing.T) {
	cases := []struct {
		frame   string
		kind    ErrorKind
		name    string
		message string // "" for absent
		flagged bool
		id      string
		replyTo string
	}{
		{frame: `{"name":"chat","message":"hi","isAmbiorix":true}`, name: "chat", message: `"hi"`, flagged: true},
		{frame: ` {"isAmbiorix":true , "message": [1, {"a":null}],"name":"x"} `, name: "x", message: `[1, {"a":null}]`, flagged: true},
		{frame: `{"name":"a","name":"b","isAmbiorix":true,"isAmbiorix":false}`, name: "a", flagged: true},
		{frame: `{"name":"c\u00e9\n","isAmbiorix":true}`, name: "cé\n", flagged: true},
		{frame: `{"name":"add","message":{},"isAmbiorix":true,"id":"7"}`, name: "add", message: `{}`, flagged: true, id: "7"},
		{frame: `{"name":"add","message":3,"isAmbiorix":true,"replyTo":"7","id":7}`, name: "add", message: `3`, flagged: true, replyTo: "7"},
		{frame: `{"name":"x","isAmbiorix":"true"}`, name: "x"},
		{frame: `{"name":"x","isAmbiorix":1}`, name: "x"},
		{frame: `{"name":5,"isAmbiorix":true}`, flagged: true},
		{frame: `{}`},
		{frame: ``, kind: KindMalformed},
		{frame: `   `, kind: KindMalformed},
		{frame: `{"name":"x"`, kind: KindMalformed},
		{frame: `{"name":"x"} {}`, kind: KindMalformed},
		{frame: `{"name":"x",}`, kind: KindMalformed},
		{frame: `[1,`, kind: KindMalformed},
		{frame: `nul`, kind: KindMalformed},
		{frame: `[1,2]`, kind: KindNotObject},
		{frame: `null`, kind: KindNotObject},
	}
	for _, tc := range cases {
		env, kind, err := parse(t, tc.frame)
		if kind != tc.kind || (err != nil) != (tc.kind != 0) {
			t.Errorf("%q: kind %v err %v, want kind %v", tc.frame, kind, err, tc.kind)
			continue
		}
		if err != nil {
			continue
		}
		if string(env.name) != tc.name || string(env.message) != tc.message || env.flagged != tc.flagged ||
			string(env.id) != tc.id || env.hasID != (tc.id != "") || string(env.replyTo) != tc.replyTo || env.hasReplyTo != (tc.replyTo != "") {
			t.Errorf("%q: got name %q message %q flagged %v id %q replyTo %q", tc.frame, env.name, env.message, env.flagged, env.id, env.replyTo)
		}
	}
}

// encoded is the envelope encodeEnvelope writes, for tests.
func encoded[T any](t testing.TB, name string, codec Codec[T], v T, m meta) string {
	t.Helper()
	w, err := encodeEnvelope(name, codec, v, m)
	if err != nil {
		t.Fatal(err)
	}
	return string(envelopeOf(ownFrame(w)))
}

func TestEncodeEnvelope(t *testing.T) {
	cases := []struct{ got, want string }{
		{encoded(t, "greeting", String, "Hello from the server!", meta{}), `{"name":"greeting","message":"Hello from the server!","isAmbiorix":true}`},
		// No HTML escaping; U+2028 raw; control characters escaped.
		{encoded(t, "echo", String, "é/\u2028<>&\"\\\n\t\x01", meta{}), "{\"name\":\"echo\",\"message\":\"é/\u2028<>&\\\"\\\\\\n\\t\\u0001\",\"isAmbiorix\":true}"},
		{encoded(t, "add", Int, 3, meta{id: "k1", call: true}), `{"name":"add","message":3,"isAmbiorix":true,"id":"k1"}`},
		{string(envelopeOf(ownFrame(encodeRawEnvelope("add", []byte(`3`), meta{replyTo: "k1", reply: true})))), `{"name":"add","message":3,"isAmbiorix":true,"replyTo":"k1"}`},
		// An empty id is an id: the reply carries it.
		{string(envelopeOf(ownFrame(encodeRawEnvelope("add", []byte(`3`), meta{reply: true})))), `{"name":"add","message":3,"isAmbiorix":true,"replyTo":""}`},
		{string(envelopeOf(ownFrame(encodeRawEnvelope("add", nil, meta{replyTo: "k1", reply: true, err: &CallError{Code: "not_found", Message: "no <x>"}})))), `{"name":"add","message":null,"isAmbiorix":true,"replyTo":"k1","error":{"code":"not_found","message":"no <x>"}}`},
		{encoded(t, "m", Any, any(map[string]any{"a": "<b>"}), meta{}), `{"name":"m","message":{"a":"<b>"},"isAmbiorix":true}`},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("got  %s\nwant %s", tc.got, tc.want)
		}
	}
}

// FuzzParseEnvelope checks the decoder against encoding/json on arbitrary
// UTF-8 frames: it never panics, accepts exactly the JSON texts,
// classifies objects and non-objects as encoding/json does, and what it
// reads survives a round trip through the encoder.
func FuzzParseEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"name":"chat","message":"hi","isAmbiorix":true}`,
		`{"isAmbiorix":true,"message":{"a":[1,2.5e3,null]},"name":"x\u2028"}`,
		`{"name":"add","message":{"a":1},"isAmbiorix":true,"id":"1"}`,
		`{"name":"add","message":null,"isAmbiorix":true,"replyTo":"1","error":{"code":"x","message":"y"}}`,
		`[{"name":"a"}]`, `{bad`, ``, `"s"`, `{"name":"a","name":"b"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		var env envelope
		if !utf8.Valid(frame) {
			// The reader fails the connection on invalid UTF-8 before a frame
			// is parsed (see TestInvalidUTF8); encoding/json would replace
			// the bad bytes, so there is nothing to compare.
			return
		}
		kind, err := parseEnvelope(frame, &env)
		// Numbers are read as json.Number: 1e700 is valid JSON even though it
		// does not fit a float64, and the envelope never converts numbers.
		var ref any
		refErr := unmarshalUseNumber(frame, &ref)
		switch {
		case refErr != nil && err == nil:
			t.Fatalf("accepted %q, which encoding/json rejects: %v", frame, refErr)
		case refErr == nil && err != nil && kind != KindNotObject:
			t.Fatalf("rejected valid JSON %q: %v %v", frame, kind, err)
		case refErr == nil && kind == KindNotObject:
			if _, isObj := ref.(map[string]any); isObj {
				t.Fatalf("object %q reported as not an object", frame)
			}
		}
		if err != nil {
			return
		}
		obj := ref.(map[string]any)
		// With "name" repeated the first wins here (as in the reference) and
		// the last in encoding/json, so there is nothing to compare.
		if !hasDuplicateKey(frame, "name") {
			if name, ok := obj["name"].(string); ok != (env.nameKind == jx.String) {
				t.Fatalf("%q: name kind %v, encoding/json sees %T", frame, env.nameKind, obj["name"])
			} else if ok && !bytes.Equal(env.name, []byte(name)) {
				t.Fatalf("%q: name %q, want %q", frame, env.name, name)
			}
		}
		// What was read encodes to a frame that reads back the same.
		out := envelopeOf(ownFrame(encodeRawEnvelope(string(env.name), env.message, meta{})))
		var again envelope
		if _, err := parseEnvelope(out, &again); err != nil {
			t.Fatalf("re-encoded %q does not parse: %v", out, err)
		}
		if env.nameKind == jx.String && !bytes.Equal(again.name, env.name) {
			t.Fatalf("name %q came back as %q", env.name, again.name)
		}
		if len(env.message) > 0 && !bytes.Equal(again.message, env.message) {
			t.Fatalf("message %q came back as %q", env.message, again.message)
		}
	})
}

// hasDuplicateKey reports whether key may occur more than once, in which
// case encoding/json keeps the last and the runtime (as the reference) the
// first.
func hasDuplicateKey(frame []byte, key string) bool {
	return bytes.Count(frame, []byte(`"`+key+`"`)) > 1 || bytes.Contains(frame, []byte(`\u`))
}

// unmarshalUseNumber is json.Unmarshal with numbers kept as json.Number,
// including its refusal of data after the value.
func unmarshalUseNumber(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// canonicalFrames are frames of the common shape and near misses, for
// TestCanonicalEnvelope and as seeds of FuzzCanonicalEnvelope.
var canonicalFrames = []string{
	`{"name":"chat","message":"hi","isAmbiorix":true}`,
	`{"name":"post","message":{"user":"ada","tags":["a","b"]},"isAmbiorix":true}`,
	`{"name":"","message":null,"isAmbiorix":true}`,
	`{"name":"x","message": [1, 2] ,"isAmbiorix":true}`,
	`{"name":"cé","message":"\u00e9","isAmbiorix":true}`,
	// As deep as the envelope may be.
	`{"name":"x","message":[` + strings.Repeat("[", maxDepth-2) + strings.Repeat("]", maxDepth-2) + `],"isAmbiorix":true}`,
	// Near misses, read member by member: one level too deep, too.
	`{"name":"c\u00e9","message":1,"isAmbiorix":true}`,
	`{"name":"x","message":1,"name":"y","isAmbiorix":true}`,
	`{"name":"x","message":1,"isAmbiorix":false,"isAmbiorix":true}`,
	`{"name":"x","message":,"isAmbiorix":true}`,
	`{"name":"x","message":1 2,"isAmbiorix":true}`,
	`{"name":"x","message":{"a":1,"isAmbiorix":true}`,
	`{"name":"x","message":"a","id":"1","isAmbiorix":true}`,
	`{"name":"x","message":1,"isAmbiorix":true} `,
	`{"name":"x","message":1,"isAmbiorix":true}{"name":"x","message":1,"isAmbiorix":true}`,
	`{"name":"x","message":[` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `],"isAmbiorix":true}`,
}

// TestCanonicalEnvelope checks that the shortcut for frames of the common
// shape takes them, and that whatever it takes it reads as the member by
// member reading does.
func TestCanonicalEnvelope(t *testing.T) {
	taken := 0
	for _, frame := range canonicalFrames {
		if checkCanonical(t, []byte(frame)) {
			taken++
		}
	}
	if taken != 6 {
		t.Errorf("the shortcut took %d frames, want the first 6", taken)
	}
	for i, frame := range canonicalFrames[:6] {
		var env envelope
		if !env.canonical([]byte(frame)) {
			t.Errorf("frame %d %q: not taken by the shortcut", i, frame)
		}
	}
}

// checkCanonical compares the shortcut with the full reading on frame and
// reports whether the shortcut took it.
func checkCanonical(t testing.TB, frame []byte) bool {
	t.Helper()
	var fast, full envelope
	if !fast.canonical(frame) {
		return false
	}
	kind, err := full.parse(frame)
	if err != nil {
		t.Fatalf("%q: the shortcut took a frame the full reading refuses: %v %v", frame, kind, err)
	}
	if string(fast.name) != string(full.name) || fast.nameKind != full.nameKind ||
		string(fast.message) != string(full.message) || (fast.message == nil) != (full.message == nil) ||
		fast.flagged != full.flagged || fast.hasID != full.hasID || fast.hasReplyTo != full.hasReplyTo || full.errorRaw != nil {
		t.Fatalf("%q: shortcut read name %q (%v) message %q flagged %v; full reading name %q (%v) message %q flagged %v id %v replyTo %v",
			frame, fast.name, fast.nameKind, fast.message, fast.flagged, full.name, full.nameKind, full.message, full.flagged, full.hasID, full.hasReplyTo)
	}
	return true
}

// FuzzCanonicalEnvelope checks on arbitrary frames that the shortcut never
// reads a frame differently from the full reading.
func FuzzCanonicalEnvelope(f *testing.F) {
	for _, s := range canonicalFrames {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		if !utf8.Valid(frame) {
			return // the reader fails such a frame's connection first
		}
		checkCanonical(t, frame)
	})
}
