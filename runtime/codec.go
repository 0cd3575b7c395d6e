package runtime

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/go-faster/jx"
)

// A Codec turns payloads of type T into JSON and back. Generated code builds
// one per schema type out of the codecs below, [NewFields] and
// [Decoder.Object]; the runtime only ever sees the two functions, so a
// generated codec never goes through reflection.
//
// Encode writes exactly one JSON value, or returns an error (an
// [*EncodeError] from the runtime's codecs) when v breaks a rule of its
// schema type; what it wrote is then discarded. Decode reads exactly one
// JSON value and reports a [*PayloadError] that names where the value was
// wrong.
type Codec[T any] struct {
	Encode func(w *jx.Writer, v T) error
	Decode func(d *Decoder) (T, error)
}

// String is the codec for schema type string.
//
// A Go string is bytes, and may hold invalid UTF-8 (a string cut in the
// middle of a character, binary data). Such bytes never reach the wire: a
// frame with invalid UTF-8 makes a browser fail the whole connection. Each
// byte of an invalid sequence is written as U+FFFD instead, as encoding/json
// does; Any and JSON, which encode with encoding/json, therefore behave the
// same, and a cut string costs one character rather than the whole message.
var String = Codec[string]{
	Encode: func(w *jx.Writer, v string) error {
		writeString(w, v)
		return nil
	},
	Decode: (*Decoder).Str,
}

// writeString writes s as a JSON string, with invalid UTF-8 replaced (see
// String).
func writeString(w *jx.Writer, s string) {
	if plainASCII(s) {
		// The common case, as jx would write it, without its byte loop.
		w.Buf = append(append(append(w.Buf, '"'), s...), '"')
		return
	}
	if !utf8.ValidString(s) {
		s = replaceInvalidUTF8(s)
	}
	w.Str(s)
}

func replaceInvalidUTF8(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Bool is the codec for schema type bool.
var Bool = Codec[bool]{
	Encode: func(w *jx.Writer, v bool) error {
		w.Bool(v)
		return nil
	},
	Decode: func(d *Decoder) (bool, error) {
		if t := d.Next(); t != jx.Bool {
			return false, d.typeError("bool", t)
		}
		v, err := d.sc.boolean()
		if err != nil {
			return false, d.malformed(err)
		}
		return v, nil
	},
}

// Int is the codec for schema type int (a signed 64-bit integer).
//
// It accepts what an R peer sends for an integer: a whole number written
// as a double (`100.0`) and an integer written as a decimal string
// (`"3000000000"`, as R writes integers outside int32).
var Int = Codec[int64]{
	Encode: func(w *jx.Writer, v int64) error {
		w.Int64(v)
		return nil
	},
	Decode: func(d *Decoder) (int64, error) {
		switch t := d.Next(); t {
		case jx.String:
			b, err := d.strBytes()
			if err != nil {
				return 0, err
			}
			v, err := strconv.ParseInt(view(b), 10, 64)
			if err != nil {
				return 0, &PayloadError{Err: errors.New("expected integer, got string " + quoteInput(string(b)))}
			}
			return v, nil
		case jx.Number:
			n, err := d.sc.number()
			if err != nil {
				return 0, d.malformed(err)
			}
			if v, ok := smallInt(n); ok {
				return v, nil
			}
			if v, err := strconv.ParseInt(view(n), 10, 64); err == nil {
				return v, nil
			}
			// 100.0, 1e2 and integers beyond int64 land here; the first
			// two are integers that fit.
			if f, err := strconv.ParseFloat(view(n), 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return int64(f), nil
			}
			return 0, &PayloadError{Err: errors.New("expected integer, got " + literalInput(string(n)))}
		default:
			return 0, d.typeError("integer", t)
		}
	},
}

// smallInt reads the common integer, a JSON number of at most 18 digits
// without fraction or exponent, without the general parsers.
func smallInt(n []byte) (int64, bool) {
	neg := len(n) > 0 && n[0] == '-'
	if neg {
		n = n[1:]
	}
	if len(n) == 0 || len(n) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range n {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// Float is the codec for schema type float (a float64). NaN and the
// infinities have no JSON form: Encode refuses them rather than writing
// null, which a peer would reject as a value of the wrong type.
var Float = Codec[float64]{
	Encode: func(w *jx.Writer, v float64) error {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return &EncodeError{Err: errors.New(strconv.FormatFloat(v, 'g', -1, 64) + " is not a JSON number")}
		}
		w.Float64(v)
		return nil
	},
	Decode: func(d *Decoder) (float64, error) { return d.float() },
}

// float reads a JSON number as a float64. It parses the number's text
// itself so that a number out of range is the runtime's error, worded for
// the peer.
func (d *Decoder) float() (float64, error) {
	if t := d.Next(); t != jx.Number {
		return 0, d.typeError("number", t)
	}
	n, err := d.sc.number()
	if err != nil {
		return 0, d.malformed(err)
	}
	f, err := strconv.ParseFloat(view(n), 64)
	if err != nil {
		return 0, &PayloadError{Err: errors.New("expected number within float64 range, got " + literalInput(string(n)))}
	}
	return f, nil
}

// Timestamp is the codec for schema type timestamp: an RFC 3339 string,
// written in UTC with as many fractional digits as needed. A time whose
// year is outside 0000-9999 has no RFC 3339 form, and Encode refuses it.
var Timestamp = Codec[time.Time]{
	Encode: func(w *jx.Writer, v time.Time) error {
		v = v.UTC()
		if y := v.Year(); y < 0 || y > 9999 {
			return &EncodeError{Err: fmt.Errorf("year %d is outside the years 0000-9999 of RFC 3339", y)}
		}
		// RFC 3339 text has nothing to escape: it is written with its
		// quotes as it is.
		var buf [len(time.RFC3339Nano) + 8]byte
		b := append(buf[:0], '"')
		b = append(v.AppendFormat(b, time.RFC3339Nano), '"')
		w.Raw(b)
		return nil
	},
	Decode: func(d *Decoder) (time.Time, error) {
		if t := d.Next(); t != jx.String {
			return time.Time{}, d.typeError("RFC 3339 timestamp string", t)
		}
		s, err := d.str()
		if err != nil {
			return time.Time{}, err
		}
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, &PayloadError{Err: errors.New("expected RFC 3339 timestamp, got " + quoteInput(s))}
		}
		return ts, nil
	},
}

// Bytes is the codec for schema type bytes: standard base64 with padding.
// A nil slice is written as "", like an empty one: null is not a bytes
// value.
var Bytes = Codec[[]byte]{
	Encode: func(w *jx.Writer, v []byte) error {
		if v == nil {
			w.RawStr(`""`)
			return nil
		}
		w.Base64(v)
		return nil
	},
	Decode: func(d *Decoder) ([]byte, error) {
		if t := d.Next(); t != jx.String {
			return nil, d.typeError("base64 string", t)
		}
		s, err := d.strBytes()
		if err != nil {
			return nil, err
		}
		out := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
		n, err := base64.StdEncoding.Decode(out, s)
		if err != nil {
			var ce base64.CorruptInputError
			if errors.As(err, &ce) {
				return nil, &PayloadError{Err: fmt.Errorf("expected standard base64, got a bad byte at offset %d", int64(ce))}
			}
			return nil, &PayloadError{Err: errors.New("expected standard base64")}
		}
		return out[:n], nil
	},
}

// Any is the codec for schema type any. Values decode as encoding/json
// decodes into an interface (objects as map[string]any, arrays as []any,
// numbers as float64), except that of a key given twice the first
// occurrence wins, as for every object the runtime reads. They encode with
// encoding/json, without HTML escaping; a value it cannot write (a channel,
// a func, a cyclic value, NaN) is refused.
var Any = Codec[any]{
	Encode: func(w *jx.Writer, v any) error {
		var e anyEncoder
		return e.encode(w, v)
	},
	Decode: decodeAny,
}

// anyEncoder writes the values JSON decodes to (maps, slices, strings,
// float64, bool, nil) itself, so that a value it must refuse deep inside
// is reported at its path; any other Go value goes to encoding/json.
type anyEncoder struct {
	depth int
	// open holds the maps and slices being written, once the nesting is
	// deep enough to suspect a cycle.
	open map[any]bool
}

// cycleDepth is the nesting from which the encoder looks for cycles; a
// value is rarely that deep, so the check costs nothing in the common case.
const cycleDepth = 64

func (e *anyEncoder) encode(w *jx.Writer, v any) error {
	switch v := v.(type) {
	case nil:
		w.Null()
	case string:
		writeString(w, v)
	case bool:
		w.Bool(v)
	case float64:
		return Float.Encode(w, v)
	case map[string]any:
		if v == nil {
			w.Null()
			return nil
		}
		return e.nested(v, reflect.ValueOf(v).UnsafePointer(), func() error {
			return encodeSortedMap(w, v, e.encode)
		})
	case []any:
		if v == nil {
			w.Null()
			return nil
		}
		return e.nested(v, reflect.ValueOf(v).UnsafePointer(), func() error {
			w.ArrStart()
			for i, x := range v {
				if i > 0 {
					w.Comma()
				}
				if err := e.encode(w, x); err != nil {
					return encodeErrorAt(indexSegment(i), err)
				}
			}
			w.ArrEnd()
			return nil
		})
	default:
		b, err := marshalNoEscape(v)
		if err != nil {
			return &EncodeError{Err: marshalProblem(err)}
		}
		w.Raw(b)
	}
	return nil
}

// nested writes a map or slice through write, refusing one that contains
// itself instead of recursing until the stack runs out.
func (e *anyEncoder) nested(v any, p unsafe.Pointer, write func() error) error {
	e.depth++
	defer func() { e.depth-- }()
	if e.depth < cycleDepth {
		return write()
	}
	// A slice is the same value only at the same start and length.
	key := any(p)
	if s, ok := v.([]any); ok {
		key = [2]uintptr{uintptr(p), uintptr(len(s))}
	}
	if e.open[key] {
		return &EncodeError{Err: errors.New("cyclic value: it contains itself")}
	}
	if e.open == nil {
		e.open = map[any]bool{}
	}
	e.open[key] = true
	defer delete(e.open, key)
	return write()
}

func decodeAny(d *Decoder) (any, error) {
	switch t := d.Next(); t {
	case jx.String:
		s, err := d.str()
		return s, err
	case jx.Number:
		f, err := d.float()
		return f, err
	case jx.Bool:
		b, err := Bool.Decode(d)
		return b, err
	case jx.Null:
		if err := d.sc.literal("null"); err != nil {
			return nil, d.malformed(err)
		}
		return nil, nil
	case jx.Array:
		out := []any{}
		err := d.array(func(d *Decoder) error {
			v, err := decodeAny(d)
			if err != nil {
				return err
			}
			out = append(out, v)
			return nil
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	case jx.Object:
		out := map[string]any{}
		err := d.object(
			func(key []byte) bool { _, dup := out[string(key)]; return dup },
			func(d *Decoder, key []byte) error {
				v, err := decodeAny(d)
				if err != nil {
					return err
				}
				out[d.keep(key)] = v
				return nil
			})
		if err != nil {
			return nil, err
		}
		return out, nil
	default:
		return nil, d.malformed(nil)
	}
}

// RawJSON passes a payload through as the JSON text it is. The runtime's
// untyped handlers use it, and so does an echo that must not re-encode.
// Encode refuses text that is not one valid JSON value in valid UTF-8,
// since it is written to the wire as it is.
var RawJSON = Codec[json.RawMessage]{
	Encode: func(w *jx.Writer, v json.RawMessage) error {
		switch {
		case len(v) == 0:
			w.Null()
			return nil
		case !utf8.Valid(v):
			return &EncodeError{Err: errors.New("raw JSON is not valid UTF-8")}
		case !json.Valid(v):
			return &EncodeError{Err: errors.New("raw JSON is not one valid JSON value")}
		}
		w.Raw(v)
		return nil
	},
	Decode: func(d *Decoder) (json.RawMessage, error) {
		raw, err := d.Raw()
		if err != nil {
			return nil, err
		}
		// The payload's bytes belong to the frame, which is recycled.
		return append(json.RawMessage(nil), raw...), nil
	},
}

// List is the codec for list<T>. A nil slice is written as []. A single
// value where a list is expected is read as a one-element list, because R
// unboxes one-element vectors when it writes JSON.
func List[T any](elem Codec[T]) Codec[[]T] {
	return Codec[[]T]{
		Encode: func(w *jx.Writer, v []T) error {
			w.ArrStart()
			for i, e := range v {
				if i > 0 {
					w.Comma()
				}
				if err := elem.Encode(w, e); err != nil {
					return encodeErrorAt(indexSegment(i), err)
				}
			}
			w.ArrEnd()
			return nil
		},
		Decode: func(d *Decoder) ([]T, error) {
			switch d.Next() {
			case jx.Invalid:
				return nil, d.malformed(nil)
			case jx.Array:
			default:
				e, err := elem.Decode(d)
				if err != nil {
					var pe *PayloadError
					if errors.As(err, &pe) && pe.Path == "" {
						return nil, &PayloadError{Err: fmt.Errorf("expected array: %w", pe.Err)}
					}
					return nil, err
				}
				return []T{e}, nil
			}
			out := make([]T, 0, 4)
			err := d.array(func(d *Decoder) error {
				e, err := elem.Decode(d)
				if err != nil {
					return err
				}
				out = append(out, e)
				return nil
			})
			if err != nil {
				return nil, err
			}
			return out, nil
		},
	}
}

// Map is the codec for map<T>: a JSON object with string keys. Keys are
// written sorted so that output is deterministic. An empty array is read as
// an empty map, because R writes an empty named list as []. Of a key given
// twice the first occurrence wins, found by a lookup in the map being
// built, so a map costs time linear in its size.
func Map[T any](elem Codec[T]) Codec[map[string]T] {
	return Codec[map[string]T]{
		Encode: func(w *jx.Writer, v map[string]T) error {
			return encodeSortedMap(w, v, elem.Encode)
		},
		Decode: func(d *Decoder) (map[string]T, error) {
			switch t := d.Next(); t {
			case jx.Array:
				n := 0
				if err := d.array(func(d *Decoder) error { n++; return d.Skip() }); err != nil {
					return nil, err
				}
				if n > 0 {
					return nil, d.typeError("object", jx.Array)
				}
				return map[string]T{}, nil
			case jx.Object:
			default:
				return nil, d.typeError("object", t)
			}
			out := map[string]T{}
			err := d.object(
				func(key []byte) bool { _, dup := out[string(key)]; return dup },
				func(d *Decoder, key []byte) error {
					e, err := elem.Decode(d)
					if err != nil {
						return err
					}
					out[d.keep(key)] = e
					return nil
				})
			if err != nil {
				return nil, err
			}
			return out, nil
		},
	}
}

// Optional is the codec for an optional value: nil is written as null, and
// null reads as nil. Generated objects omit nil optional fields altogether.
func Optional[T any](elem Codec[T]) Codec[*T] {
	return Codec[*T]{
		Encode: func(w *jx.Writer, v *T) error {
			if v == nil {
				w.Null()
				return nil
			}
			return elem.Encode(w, *v)
		},
		Decode: func(d *Decoder) (*T, error) {
			if d.Next() == jx.Null {
				if err := d.sc.literal("null"); err != nil {
					return nil, d.malformed(err)
				}
				return nil, nil
			}
			v, err := elem.Decode(d)
			if err != nil {
				return nil, err
			}
			return &v, nil
		},
	}
}

// Enum is the codec for a string enumeration. Values outside allowed are
// refused in both directions: a peer's as a *PayloadError, this side's
// (the zero value "", say) as an *EncodeError, so that they are never sent.
func Enum[T ~string](allowed ...T) Codec[T] {
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = strconv.Quote(string(a))
	}
	list := strings.Join(quoted, ", ")
	notOneOf := func(s string) error { return errors.New(quoteInput(s) + " is not one of " + list) }
	return Codec[T]{
		Encode: func(w *jx.Writer, v T) error {
			for _, a := range allowed {
				if a == v {
					writeString(w, string(v))
					return nil
				}
			}
			return &EncodeError{Err: notOneOf(string(v))}
		},
		Decode: func(d *Decoder) (T, error) {
			if t := d.Next(); t != jx.String {
				return "", d.typeError("string", t)
			}
			b, err := d.strBytes()
			if err != nil {
				return "", err
			}
			for _, a := range allowed {
				if string(a) == string(b) {
					return a, nil
				}
			}
			return "", &PayloadError{Err: notOneOf(string(b))}
		},
	}
}

// JSON is a codec that uses encoding/json for T; it serves untyped
// payloads and types that have no generated codec. Strings it writes are
// not HTML-escaped, matching what Ambiorix writes. A value encoding/json
// cannot write is refused with an *EncodeError. Decode errors are the
// runtime's own words: the JSON kind expected and found, at the path
// encoding/json reports, never a Go type name.
func JSON[T any]() Codec[T] {
	return Codec[T]{
		Encode: func(w *jx.Writer, v T) error {
			b, err := marshalNoEscape(v)
			if err != nil {
				return &EncodeError{Err: marshalProblem(err)}
			}
			w.Raw(b)
			return nil
		},
		Decode: func(d *Decoder) (T, error) {
			var v T
			raw, err := d.Raw()
			if err != nil {
				return v, err
			}
			if err := json.Unmarshal(raw, &v); err != nil {
				return v, unmarshalProblem(err)
			}
			return v, nil
		},
	}
}

// unmarshalProblem words an error of encoding/json for the peer.
func unmarshalProblem(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		// A syntax error cannot happen after jx read the value; what is
		// left are errors of UnmarshalJSON methods, whose text is not ours
		// to send.
		return &PayloadError{Err: errors.New("value is not valid for its type")}
	}
	got, literal, _ := strings.Cut(te.Value, " ")
	msg := "expected " + jsonKind(te.Type) + ", got " + got
	if literal != "" {
		msg += " " + literalInput(literal)
	}
	path := ""
	if te.Field != "" {
		parts := strings.Split(te.Field, ".")
		for i := len(parts) - 1; i >= 0; i-- {
			path = joinPath(fieldSegment(parts[i]), path)
		}
	}
	return &PayloadError{Path: path, Err: errors.New(msg)}
}

// jsonKind names the JSON a Go type is read from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "base64 string"
		}
		return "array"
	case reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return "a different value"
}

// marshalProblem words an error of encoding/json for the sender, without
// its "json: " prefix.
func marshalProblem(err error) error {
	var ue *json.UnsupportedTypeError
	var uv *json.UnsupportedValueError
	switch {
	case errors.As(err, &ue):
		return fmt.Errorf("a value of type %s has no JSON form", ue.Type)
	case errors.As(err, &uv):
		switch {
		case strings.HasPrefix(uv.Str, "encountered a cycle"):
			return errors.New("cyclic value: " + uv.Str)
		case uv.Str == "NaN" || uv.Str == "+Inf" || uv.Str == "-Inf":
			return errors.New(uv.Str + " is not a JSON number")
		}
		return errors.New(uv.Str + " has no JSON form")
	}
	return errors.New(strings.TrimPrefix(err.Error(), "json: "))
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

// DecodePayload decodes one complete payload. An absent payload (nil or
// empty raw) is decoded as JSON null. Trailing data after the value is an
// error. Every error is a *PayloadError. The result does not point into
// raw: it may be kept after raw is reused.
func DecodePayload[T any](c Codec[T], raw []byte) (T, error) {
	d := payloadDecoders.Get().(*Decoder)
	v, err := decodeIn(d, c, raw)
	payloadDecoders.Put(d)
	return v, err
}

// decodeIn is DecodePayload with the Decoder d, which it leaves holding
// nothing of raw or of the result.
func decodeIn[T any](d *Decoder, c Codec[T], raw []byte) (T, error) {
	if len(raw) == 0 {
		raw = nullJSON
	}
	d.reset(raw)
	v, err := c.Decode(d)
	if err == nil && !d.sc.atEnd() {
		err = &PayloadError{Err: errors.New("unexpected data after the payload")}
	}
	d.clear()
	if err != nil {
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

// payloadWriters spare AppendPayload a jx.Writer per call: the codec's
// function value would make a local one escape.
var payloadWriters = sync.Pool{New: func() any { return new(jx.Writer) }}

// AppendPayload appends the JSON encoding of v to dst. When v cannot be
// encoded it returns dst unchanged and an *EncodeError.
func AppendPayload[T any](dst []byte, c Codec[T], v T) ([]byte, error) {
	w := payloadWriters.Get().(*jx.Writer)
	w.Buf = dst
	err := c.Encode(w, v)
	out := w.Buf
	w.Buf = nil
	payloadWriters.Put(w)
	if err != nil {
		return dst, asEncodeError(err)
	}
	return out, nil
}

// asEncodeError is err as an *EncodeError; an encoder written by hand may
// return a plain error.
func asEncodeError(err error) error {
	var ee *EncodeError
	if errors.As(err, &ee) {
		return ee
	}
	return &EncodeError{Err: err}
}

// encodeSortedMap writes m as a JSON object with its keys in sorted order,
// so that output is deterministic; an error is located at its key.
func encodeSortedMap[T any](w *jx.Writer, m map[string]T, enc func(*jx.Writer, T) error) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.ObjStart()
	for i, k := range keys {
		if i > 0 {
			w.Comma()
		}
		writeString(w, k)
		w.RawStr(":")
		if err := enc(w, m[k]); err != nil {
			return encodeErrorAt(fieldSegment(k), err)
		}
	}
	w.ObjEnd()
	return nil
}
