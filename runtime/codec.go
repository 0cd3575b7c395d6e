package runtime

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-faster/jx"
)

// A Codec turns payloads of type T into JSON and back. Generated code builds
// one per schema type out of the codecs below and [DecodeObject]; the runtime
// only ever sees the two functions, so a generated codec never goes through
// reflection.
//
// Encode writes exactly one JSON value. Decode reads exactly one JSON value
// and reports a [*PayloadError] that names where the value was wrong.
type Codec[T any] struct {
	Encode func(w *jx.Writer, v T)
	Decode func(d *jx.Decoder) (T, error)
}

// PayloadError says what was wrong with a payload and where.
type PayloadError struct {
	// Path locates the offending value from the payload root, in the form
	// `user.tags[2]`; it is empty when the root itself is wrong.
	Path string
	// Err says what was wrong.
	Err error
}

func (e *PayloadError) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}

func (e *PayloadError) Unwrap() error { return e.Err }

// atField returns err located one object field deeper.
func atField(name string, err error) error {
	seg := name
	if !isPathIdent(name) {
		seg = "[" + strconv.Quote(name) + "]"
	}
	return prefixPath(seg, err)
}

// atIndex returns err located one array element deeper.
func atIndex(i int, err error) error {
	return prefixPath("["+strconv.Itoa(i)+"]", err)
}

func prefixPath(seg string, err error) error {
	var pe *PayloadError
	if errors.As(err, &pe) {
		switch {
		case pe.Path == "":
			return &PayloadError{Path: seg, Err: pe.Err}
		case pe.Path[0] == '[':
			return &PayloadError{Path: seg + pe.Path, Err: pe.Err}
		default:
			return &PayloadError{Path: seg + "." + pe.Path, Err: pe.Err}
		}
	}
	return &PayloadError{Path: seg, Err: err}
}

func isPathIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || r == '$' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return false
	}
	return true
}

// typeError reports a JSON value of the wrong kind.
func typeError(want string, got jx.Type) error {
	if got == jx.Invalid {
		return &PayloadError{Err: fmt.Errorf("expected %s, got invalid JSON", want)}
	}
	return &PayloadError{Err: fmt.Errorf("expected %s, got %s", want, got)}
}

// MissingField is the error generated decoders return when a required field
// is absent.
func MissingField(name string) error {
	return atField(name, errors.New("required field is missing"))
}

// DecodeObject reads a JSON object and calls field for each key, in order.
// Errors returned by field are located at that key. Generated decoders skip
// unknown keys with d.Skip(). The first occurrence of a key wins, as in the
// reference implementation; later duplicates are skipped.
func DecodeObject(d *jx.Decoder, field func(d *jx.Decoder, key string) error) error {
	if t := d.Next(); t != jx.Object {
		return typeError("object", t)
	}
	it, err := d.ObjIter()
	if err != nil {
		return err
	}
	// Keys seen so far, by a seeded hash: no allocation for the objects of
	// a schema, and a peer cannot make two keys collide on purpose.
	var small [16]uint64
	seen := small[:0]
	for it.Next() {
		key := it.Key()
		h := maphash.Bytes(keySeed, key)
		if slices.Contains(seen, h) {
			if err := d.Skip(); err != nil {
				return err
			}
			continue
		}
		seen = append(seen, h)
		k := internKey(key)
		if err := field(d, k); err != nil {
			return atField(k, err)
		}
	}
	return it.Err()
}

var keySeed = maphash.MakeSeed()

// Object keys are interned so that decoding a schema's objects does not
// allocate a string per key. The table is bounded: keys from a hostile
// peer cannot grow it without limit, they are merely not interned.
const (
	maxInternedKeys   = 4096
	maxInternedKeyLen = 64
)

var (
	internMu    sync.Mutex
	internTable atomic.Pointer[map[string]string]
)

func internKey(b []byte) string {
	if p := internTable.Load(); p != nil {
		if s, ok := (*p)[string(b)]; ok {
			return s
		}
	}
	s := string(b)
	if len(b) > maxInternedKeyLen {
		return s
	}
	internMu.Lock()
	defer internMu.Unlock()
	var old map[string]string
	if p := internTable.Load(); p != nil {
		old = *p
	}
	if len(old) >= maxInternedKeys {
		return s
	}
	if v, ok := old[s]; ok {
		return v
	}
	next := make(map[string]string, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[s] = s
	internTable.Store(&next)
	return s
}

// String is the codec for schema type string.
var String = Codec[string]{
	Encode: func(w *jx.Writer, v string) { w.Str(v) },
	Decode: func(d *jx.Decoder) (string, error) {
		if t := d.Next(); t != jx.String {
			return "", typeError("string", t)
		}
		return d.Str()
	},
}

// Bool is the codec for schema type bool.
var Bool = Codec[bool]{
	Encode: func(w *jx.Writer, v bool) { w.Bool(v) },
	Decode: func(d *jx.Decoder) (bool, error) {
		if t := d.Next(); t != jx.Bool {
			return false, typeError("bool", t)
		}
		return d.Bool()
	},
}

// Int is the codec for schema type int (a signed 64-bit integer).
//
// It accepts what an R peer sends for an integer: a whole number written
// as a double (`100.0`) and an integer written as a decimal string
// (`"3000000000"`, as R writes integers outside int32).
var Int = Codec[int64]{
	Encode: func(w *jx.Writer, v int64) { w.Int64(v) },
	Decode: func(d *jx.Decoder) (int64, error) {
		t := d.Next()
		if t == jx.String {
			// R writes integers outside int32 as decimal strings.
			s, err := d.Str()
			if err != nil {
				return 0, err
			}
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return 0, &PayloadError{Err: fmt.Errorf("expected integer, got string %q", s)}
			}
			return v, nil
		}
		if t != jx.Number {
			return 0, typeError("integer", t)
		}
		n, err := d.Num()
		if err != nil {
			return 0, &PayloadError{Err: fmt.Errorf("expected integer: %v", err)}
		}
		v, err := n.Int64()
		if err != nil {
			if f, ferr := n.Float64(); ferr == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return int64(f), nil
			}
			return 0, &PayloadError{Err: fmt.Errorf("expected integer, got %s", n.String())}
		}
		return v, nil
	},
}

// Float is the codec for schema type float (a float64). NaN and infinities
// have no JSON form and are written as null, as R does for NA.
var Float = Codec[float64]{
	Encode: func(w *jx.Writer, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			w.Null()
			return
		}
		w.Float64(v)
	},
	Decode: func(d *jx.Decoder) (float64, error) {
		if t := d.Next(); t != jx.Number {
			return 0, typeError("number", t)
		}
		return d.Float64()
	},
}

// Timestamp is the codec for schema type timestamp: an RFC 3339 string, written in
// UTC with as many fractional digits as needed.
var Timestamp = Codec[time.Time]{
	Encode: func(w *jx.Writer, v time.Time) { w.Str(v.UTC().Format(time.RFC3339Nano)) },
	Decode: func(d *jx.Decoder) (time.Time, error) {
		if t := d.Next(); t != jx.String {
			return time.Time{}, typeError("RFC 3339 timestamp string", t)
		}
		s, err := d.Str()
		if err != nil {
			return time.Time{}, err
		}
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, &PayloadError{Err: fmt.Errorf("expected RFC 3339 timestamp, got %q", s)}
		}
		return ts, nil
	},
}

// Bytes is the codec for schema type bytes: standard base64 with padding.
var Bytes = Codec[[]byte]{
	Encode: func(w *jx.Writer, v []byte) { w.Base64(v) },
	Decode: func(d *jx.Decoder) ([]byte, error) {
		if t := d.Next(); t != jx.String {
			return nil, typeError("base64 string", t)
		}
		s, err := d.Str()
		if err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, &PayloadError{Err: fmt.Errorf("expected base64: %v", err)}
		}
		return b, nil
	},
}

// Any is the codec for schema type any. Values decode as encoding/json does
// into an interface (objects as map[string]any, numbers as float64) and
// encode with encoding/json, without HTML escaping.
var Any = Codec[any]{
	Encode: func(w *jx.Writer, v any) {
		b, err := marshalNoEscape(v)
		if err != nil {
			// A value of type any that encoding/json cannot write (a channel,
			// a func) is a programming error; null keeps the frame valid.
			w.Null()
			return
		}
		w.Raw(b)
	},
	Decode: func(d *jx.Decoder) (any, error) {
		raw, err := d.Raw()
		if err != nil {
			return nil, err
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, &PayloadError{Err: err}
		}
		return v, nil
	},
}

// RawJSON passes a payload through as the JSON text it is. The runtime's
// untyped handlers use it, and so does an echo that must not re-encode.
var RawJSON = Codec[json.RawMessage]{
	Encode: func(w *jx.Writer, v json.RawMessage) {
		if len(v) == 0 {
			w.Null()
			return
		}
		w.Raw(v)
	},
	Decode: func(d *jx.Decoder) (json.RawMessage, error) {
		raw, err := d.Raw()
		if err != nil {
			return nil, err
		}
		// jx includes the whitespace before the value.
		return json.RawMessage(append([]byte(nil), bytes.TrimLeft(raw, " \t\r\n")...)), nil
	},
}

// List is the codec for list<T>. A nil slice is written as []. A single
// value where a list is expected is read as a one-element list, because R
// unboxes one-element vectors when it writes JSON.
func List[T any](elem Codec[T]) Codec[[]T] {
	return Codec[[]T]{
		Encode: func(w *jx.Writer, v []T) {
			w.ArrStart()
			for i, e := range v {
				if i > 0 {
					w.Comma()
				}
				elem.Encode(w, e)
			}
			w.ArrEnd()
		},
		Decode: func(d *jx.Decoder) ([]T, error) {
			if d.Next() != jx.Array {
				e, err := elem.Decode(d)
				if err != nil {
					var pe *PayloadError
					if errors.As(err, &pe) && pe.Path == "" {
						return nil, &PayloadError{Err: fmt.Errorf("expected array: %v", pe.Err)}
					}
					return nil, err
				}
				return []T{e}, nil
			}
			out := make([]T, 0, 4)
			i := 0
			err := d.Arr(func(d *jx.Decoder) error {
				e, err := elem.Decode(d)
				if err != nil {
					return atIndex(i, err)
				}
				out = append(out, e)
				i++
				return nil
			})
			return out, err
		},
	}
}

// Map is the codec for map<T>: a JSON object with string keys. Keys are
// written sorted so that output is deterministic. An empty array is read as
// an empty map, because R writes an empty named list as [].
func Map[T any](elem Codec[T]) Codec[map[string]T] {
	return Codec[map[string]T]{
		Encode: func(w *jx.Writer, v map[string]T) {
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			w.ObjStart()
			for i, k := range keys {
				if i > 0 {
					w.Comma()
				}
				w.Str(k)
				w.RawStr(":")
				elem.Encode(w, v[k])
			}
			w.ObjEnd()
		},
		Decode: func(d *jx.Decoder) (map[string]T, error) {
			if d.Next() == jx.Array {
				n := 0
				err := d.Arr(func(d *jx.Decoder) error { n++; return d.Skip() })
				if err != nil {
					return nil, err
				}
				if n > 0 {
					return nil, typeError("object", jx.Array)
				}
				return map[string]T{}, nil
			}
			out := map[string]T{}
			err := DecodeObject(d, func(d *jx.Decoder, key string) error {
				e, err := elem.Decode(d)
				if err != nil {
					return err
				}
				out[key] = e
				return nil
			})
			return out, err
		},
	}
}

// Optional is the codec for an optional value: nil is written as null, and
// null reads as nil. Generated objects omit nil optional fields altogether.
func Optional[T any](elem Codec[T]) Codec[*T] {
	return Codec[*T]{
		Encode: func(w *jx.Writer, v *T) {
			if v == nil {
				w.Null()
				return
			}
			elem.Encode(w, *v)
		},
		Decode: func(d *jx.Decoder) (*T, error) {
			if d.Next() == jx.Null {
				return nil, d.Null()
			}
			v, err := elem.Decode(d)
			if err != nil {
				return nil, err
			}
			return &v, nil
		},
	}
}

// Enum is the codec for a string enumeration; values outside allowed are
// rejected in both directions' decoders.
func Enum[T ~string](allowed ...T) Codec[T] {
	return Codec[T]{
		Encode: func(w *jx.Writer, v T) { w.Str(string(v)) },
		Decode: func(d *jx.Decoder) (T, error) {
			if t := d.Next(); t != jx.String {
				return "", typeError("string", t)
			}
			s, err := d.Str()
			if err != nil {
				return "", err
			}
			for _, a := range allowed {
				if string(a) == s {
					return a, nil
				}
			}
			names := make([]string, len(allowed))
			for i, a := range allowed {
				names[i] = strconv.Quote(string(a))
			}
			return "", &PayloadError{Err: fmt.Errorf("%q is not one of %s", s, strings.Join(names, ", "))}
		},
	}
}

// JSON is a codec that uses encoding/json for T; it serves untyped
// payloads and types that have no generated codec. Strings it writes are
// not HTML-escaped, matching what Ambiorix writes.
func JSON[T any]() Codec[T] {
	return Codec[T]{
		Encode: func(w *jx.Writer, v T) {
			b, err := marshalNoEscape(v)
			if err != nil {
				w.Null()
				return
			}
			w.Raw(b)
		},
		Decode: func(d *jx.Decoder) (T, error) {
			var v T
			raw, err := d.Raw()
			if err != nil {
				return v, err
			}
			if err := json.Unmarshal(raw, &v); err != nil {
				var te *json.UnmarshalTypeError
				if errors.As(err, &te) && te.Field != "" {
					return v, &PayloadError{Path: te.Field, Err: fmt.Errorf("expected %s, got JSON %s", te.Type, te.Value)}
				}
				return v, &PayloadError{Err: err}
			}
			return v, nil
		},
	}
}

func marshalNoEscape(v any) ([]byte, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(sb.String(), "\n")), nil
}

var decoderPool = sync.Pool{New: func() any { return new(jx.Decoder) }}

// DecodePayload decodes one complete payload. An absent payload (nil or
// empty raw) is decoded as JSON null. Trailing data after the value is an
// error.
func DecodePayload[T any](c Codec[T], raw []byte) (T, error) {
	if len(raw) == 0 {
		raw = nullJSON
	}
	d := decoderPool.Get().(*jx.Decoder)
	d.ResetBytes(raw)
	v, err := c.Decode(d)
	if err == nil {
		if serr := d.Skip(); serr != io.EOF {
			err = &PayloadError{Err: errors.New("unexpected data after the payload")}
		}
	}
	d.ResetBytes(nil)
	decoderPool.Put(d)
	if err != nil {
		// Return the located error itself, not jx's wrapping of it, whose
		// text ("callback: ...") means nothing to a reader of the error.
		var pe *PayloadError
		if errors.As(err, &pe) {
			err = pe
		} else {
			err = &PayloadError{Err: err}
		}
	}
	return v, err
}

var nullJSON = []byte("null")

// AppendPayload appends the JSON encoding of v to dst.
func AppendPayload[T any](dst []byte, c Codec[T], v T) []byte {
	w := jx.Writer{Buf: dst}
	c.Encode(&w, v)
	return w.Buf
}
