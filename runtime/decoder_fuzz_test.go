package runtime

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecodeAny: on any UTF-8 input (frames are checked for UTF-8 before a
// payload is decoded) the decoder accepts what encoding/json accepts, its
// errors are *PayloadErrors of bounded length, and what it decodes, strings
// in their arena included, survives a second decode and encodes back to
// the same value.
func FuzzDecodeAny(f *testing.F) {
	for _, s := range []string{`{"a":[1,"x",null,true,{"b":-1.5e3}]}`, `"\u00e9\ud83d\ude00"`, `{"k":1,"k":2}`, `[`, `1e400`, `{"a":"b"} x`, `[[[[[]]]]]`, `"\ud800"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !utf8.Valid(in) {
			return
		}
		v, err := DecodePayload(Any, in)
		var ref any
		refErr := json.Unmarshal(in, &ref)
		if (err == nil) != (refErr == nil) && len(in) > 0 {
			t.Fatalf("%q: runtime says %v, encoding/json %v", in, err, refErr)
		}
		if err != nil {
			var pe *PayloadError
			if !errors.As(err, &pe) || len(err.Error()) > 2*maxPath+4*maxQuoted {
				t.Fatalf("%q: error %T %q", in, err, err)
			}
			return
		}
		out, err := AppendPayload(nil, Any, v)
		if err != nil || !utf8.Valid(out) || !json.Valid(out) {
			t.Fatalf("%q: decoded %#v encodes as %q, %v", in, v, out, err)
		}
		again, err := DecodePayload(Any, out)
		if err != nil || !cmp.Equal(v, again) {
			t.Fatalf("%q: %#v, then %#v (%v)", in, v, again, err)
		}
	})
}
