package runtime

import (
	"sync"
	"unsafe"

	"github.com/go-faster/jx"
)

// Decoder reads one payload for a [Codec]. The runtime hands one to
// Codec.Decode for each payload, reset, and takes it back afterwards; a
// codec must not keep it.
//
// It reads the payload, which is whole in memory, with the runtime's own
// scanner (see scan.go) rather than a general JSON library: strings without
// escapes are copied once, straight from the frame, and nothing is
// buffered. Every error it returns is the runtime's own [*PayloadError].
// The strings of one small payload share one allocation (see
// [Decoder.Str]).
type Decoder struct {
	sc    scanner
	input []byte // the whole payload, for locating syntax errors
	// arena holds the strings of a small payload; nil until the first one.
	arena []byte
	// scratch receives strings with escapes, unescaped, before they are
	// kept (and the key of a known field while it is looked up). It is the
	// Decoder's own, reused from payload to payload, and no string points
	// into it.
	scratch []byte
	// perString is set for payloads larger than arenaLimit, whose strings
	// are allocated one by one.
	perString bool

	// For a message decoded before its frame was read in full (see
	// Conn.deliverDecoded): depth is the payload's depth in the frame, so
	// that nesting is bounded as when the frame is read member by member;
	// gate is the connection a typed handler asks whether it may run once
	// the payload decoded, and admitted records that it may.
	depth    int
	gate     *Conn
	admitted bool
}

// arenaLimit is the largest payload whose strings share one allocation.
//
// The trade-off is retention: a string kept from a payload keeps its whole
// arena alive, and the arena is as large as the payload, so keeping a
// three-byte name from a 4 KiB payload holds 4 KiB until every string of
// that payload is gone. Bounding the arena to small payloads bounds that
// cost at 4 KiB per kept payload, while a chat-sized payload pays one
// allocation for all its strings instead of one each. Larger payloads
// allocate per string, so a small string kept from them pins only itself.
const arenaLimit = 4 << 10

// payloadDecoders serve DecodePayload and typed handlers run outside
// dispatch; a message being dispatched carries its own (see inMsg).
var payloadDecoders = sync.Pool{New: func() any { return new(Decoder) }}

func (d *Decoder) reset(input []byte) {
	d.sc.reset(input)
	d.sc.depth = d.depth
	d.input = input
	d.arena = nil
	d.perString = len(input) > arenaLimit
}

// clear lets go of the payload. The arena is dropped, never reused:
// strings of the payload just decoded point into it.
func (d *Decoder) clear() {
	d.sc.reset(nil)
	d.input = nil
	d.arena = nil
}

// malformed reports JSON the scanner could not read, located in the
// payload.
func (d *Decoder) malformed(error) error {
	return &PayloadError{Err: locateSyntaxError(d.input)}
}

// Next reports the JSON type of the next value without reading it;
// jx.Invalid at the end of the payload or before bad JSON.
func (d *Decoder) Next() jx.Type { return d.sc.next() }

// Skip reads the next value and discards it.
func (d *Decoder) Skip() error {
	if err := d.sc.skip(); err != nil {
		return d.malformed(err)
	}
	return nil
}

// Raw reads the next value and returns its JSON text, without the
// whitespace around it. The bytes belong to the payload: copy them to keep
// them past the handler.
func (d *Decoder) Raw() ([]byte, error) {
	raw, err := d.sc.raw()
	if err != nil {
		return nil, d.malformed(err)
	}
	return raw, nil
}

// Str reads a string value.
//
// In a payload of up to 4 KiB, every string Str returns (and every map key)
// lives in one arena, allocated at the first string and sized to the
// payload, which bounds the total length of its unescaped strings, so it
// never grows. (Strings of one byte stay out of it: Go makes those without
// allocating.) Each string is a view of its own part of the arena; no part
// is written after a string points into it, and the arena is never reused
// for another payload. See arenaLimit for what that costs in retention.
func (d *Decoder) Str() (string, error) {
	if t := d.sc.next(); t != jx.String {
		return "", d.typeError("string", t)
	}
	return d.str()
}

// str is Str after the caller has checked that a string comes next.
func (d *Decoder) str() (string, error) {
	b, err := d.strBytes()
	if err != nil {
		return "", err
	}
	return d.keep(b), nil
}

// keep returns a string with the bytes of b, which the caller does not own
// (a map key, the scratch buffer): copied into the arena in a small
// payload, allocated on its own in a large one.
func (d *Decoder) keep(b []byte) string {
	if len(b) <= 1 || d.perString {
		return string(b)
	}
	if d.arena == nil {
		d.arena = make([]byte, 0, len(d.input))
	}
	// Unescaping never lengthens a string and the quotes are not kept, so
	// the strings of the payload fit in the arena and append keeps its
	// backing array. Were that ever wrong, append would move the bytes to
	// a new array, and the strings already made would still be intact in
	// the old one.
	start := len(d.arena)
	d.arena = append(d.arena, b...)
	return view(d.arena[start:])
}

// view is a string over b without a copy. Callers guarantee that b is
// never written again.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// strBytes reads a string the caller only looks at (an enum value, base64
// text) or keeps with keep: it points into the payload, or into the
// scratch space until the next string with escapes.
func (d *Decoder) strBytes() ([]byte, error) {
	raw, escaped, err := d.sc.rawStr()
	if err != nil {
		return nil, d.malformed(err)
	}
	if escaped {
		d.scratch = unescape(d.scratch[:0], raw)
		return d.scratch, nil
	}
	return raw, nil
}

// Fields is the field list of one object type, declared once by generated
// code and shared by every decode of the type. It maps a key to the
// field's index in O(1) of the payload's size, and knows which fields are
// required.
type Fields struct {
	names    []string
	segments []string // path segments, for errors
	required []int
	index    map[string]int // for long lists; short ones are scanned
}

// Field is one entry of a [Fields] list: the JSON key, and whether the
// object is invalid without it.
type Field struct {
	Name     string
	Required bool
}

// linearFields is the longest field list looked up by scanning; comparing a
// handful of strings (lengths first) beats hashing the key.
const linearFields = 8

// NewFields returns the field list of an object type, in the order of its
// struct fields; [Decoder.Object] reports fields by their index in it.
// Names must be distinct.
func NewFields(fields ...Field) *Fields {
	f := &Fields{}
	for i, fl := range fields {
		f.names = append(f.names, fl.Name)
		f.segments = append(f.segments, fieldSegment(fl.Name))
		if fl.Required {
			f.required = append(f.required, i)
		}
	}
	if len(fields) > linearFields {
		f.index = make(map[string]int, len(fields))
		for i, fl := range fields {
			f.index[fl.Name] = i
		}
	}
	return f
}

func (f *Fields) lookup(key []byte) int {
	if f.index != nil {
		if i, ok := f.index[string(key)]; ok {
			return i
		}
		return -1
	}
	// Most unknown keys differ from every field in length or first byte;
	// checking those first spares a call to compare the rest.
	for i, name := range f.names {
		if len(key) == len(name) && (len(key) == 0 || key[0] == name[0]) && string(key) == name {
			return i
		}
	}
	return -1
}

// Object reads a JSON object whose fields are listed in f, calling field
// with the index of each known key, in the order the keys come. Unknown
// keys are skipped; of a key given twice the first occurrence wins, as in
// the reference implementation, and later ones are skipped. An error from
// field is located at that field's key. After the object, a required field
// that never came is reported at its key, the first in f's order. A nil
// field skips every key (an object type without fields).
//
// The cost is linear in the object's size: a key costs one lookup in f and
// one bit in a set of the fields seen, whatever the number of keys.
func (d *Decoder) Object(f *Fields, field func(d *Decoder, i int) error) error {
	if t := d.sc.next(); t != jx.Object {
		return d.typeError("object", t)
	}
	if err := d.sc.enter(); err != nil {
		return d.malformed(err)
	}
	var small [4]uint64
	seen := small[:]
	if n := (len(f.names) + 63) / 64; n > len(small) {
		seen = make([]uint64, n)
	}
	for first := true; ; first = false {
		key, escaped, more, err := d.sc.key(first)
		if err != nil {
			return d.malformed(err)
		}
		if !more {
			break
		}
		i := -1
		if field != nil {
			if escaped {
				d.scratch = unescape(d.scratch[:0], key)
				key = d.scratch
			}
			i = f.lookup(key)
		}
		if i < 0 || seen[i/64]&(1<<(i%64)) != 0 {
			if err := d.sc.skip(); err != nil {
				return d.malformed(err)
			}
			continue
		}
		seen[i/64] |= 1 << (i % 64)
		if err := field(d, i); err != nil {
			return payloadErrorAt(f.segments[i], err)
		}
	}
	for _, i := range f.required {
		if seen[i/64]&(1<<(i%64)) == 0 {
			return &PayloadError{Path: f.segments[i], Err: errMissing}
		}
	}
	return nil
}

// array reads a JSON array, calling elem for each element; an error from
// elem is located at the element's index.
func (d *Decoder) array(elem func(d *Decoder) error) error {
	if d.sc.next() != jx.Array {
		return d.malformed(nil)
	}
	if err := d.sc.enter(); err != nil {
		return d.malformed(err)
	}
	for i := 0; ; i++ {
		more, err := d.sc.elem(i == 0)
		if err != nil {
			return d.malformed(err)
		}
		if !more {
			return nil
		}
		if err := elem(d); err != nil {
			return payloadErrorAt(indexSegment(i), err)
		}
	}
}

// object reads a JSON object with keys of its own (a map, or an object of
// schema type any), calling value for each key that is new; the caller
// says through seen whether a key came before, so that the first
// occurrence wins. Errors are located at the key. The key handed to value
// stays valid while value reads the key's value.
func (d *Decoder) object(seen func(key []byte) bool, value func(d *Decoder, key []byte) error) error {
	if d.sc.next() != jx.Object {
		return d.malformed(nil)
	}
	if err := d.sc.enter(); err != nil {
		return d.malformed(err)
	}
	for first := true; ; first = false {
		key, escaped, more, err := d.sc.key(first)
		if err != nil {
			return d.malformed(err)
		}
		if !more {
			return nil
		}
		if escaped {
			// Not the scratch space: the value may use it.
			key = unescape(nil, key)
		}
		if seen(key) {
			if err := d.sc.skip(); err != nil {
				return d.malformed(err)
			}
			continue
		}
		if err := value(d, key); err != nil {
			return payloadErrorAt(fieldSegment(string(key)), err)
		}
	}
}
