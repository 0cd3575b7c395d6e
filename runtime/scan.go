package runtime

import (
	"errors"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-faster/jx"
)

// scanner reads JSON text that is whole in memory, a token at a time, for
// the envelope parser and the payload Decoder. Every frame is complete
// before it is parsed, so the scanner is a cursor over one byte slice:
// no refills, no copies, and a string without escapes is handed out as a
// view of the input.
//
// It accepts exactly the JSON that encoding/json accepts (RFC 8259: no
// trailing commas, no leading zeros, no control characters in strings,
// nesting at most maxDepth), which FuzzScanner checks against json.Valid.
// Like encoding/json it does not check that strings hold valid UTF-8: the
// reader has checked every text frame as it arrived. Its errors carry no
// position; the callers locate a syntax error for the peer themselves (see
// locateSyntaxError).
type scanner struct {
	buf   []byte
	pos   int
	depth int // objects and arrays entered and not yet left
}

var (
	errSyntax = errors.New("malformed JSON")
	errDepth  = errors.New("JSON nested too deeply")
)

// maxDepth is the deepest nesting of objects and arrays read, as in
// encoding/json.
const maxDepth = 10000

func (s *scanner) reset(b []byte) { s.buf, s.pos, s.depth = b, 0, 0 }

// tokenType is the JSON type a value starting with each byte has.
var tokenType = func() (t [256]jx.Type) {
	t['"'] = jx.String
	t['-'] = jx.Number
	for c := '0'; c <= '9'; c++ {
		t[c] = jx.Number
	}
	t['t'], t['f'] = jx.Bool, jx.Bool
	t['n'] = jx.Null
	t['['] = jx.Array
	t['{'] = jx.Object
	return t
}()

// plain marks the bytes a string holds as they are: not the quote, not the
// backslash, not a control character.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func (s *scanner) skipSpace() {
	for s.pos < len(s.buf) && isSpace(s.buf[s.pos]) {
		s.pos++
	}
}

// next skips whitespace and reports the type of the value that starts
// there, without reading it; jx.Invalid at the end or before a byte that
// starts no value.
func (s *scanner) next() jx.Type {
	s.skipSpace()
	if s.pos >= len(s.buf) {
		return jx.Invalid
	}
	return tokenType[s.buf[s.pos]]
}

// atEnd reports whether only whitespace is left.
func (s *scanner) atEnd() bool {
	s.skipSpace()
	return s.pos == len(s.buf)
}

// expect consumes byte c after optional whitespace.
func (s *scanner) expect(c byte) bool {
	s.skipSpace()
	if s.pos < len(s.buf) && s.buf[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

// rawStr reads the string whose opening quote is at s.pos. It returns the
// bytes between the quotes as they are in the input, and whether they hold
// escapes (then unescape gives the string's value).
func (s *scanner) rawStr() (raw []byte, escaped bool, err error) {
	b := s.buf
	start := s.pos + 1
	i := start
	for {
		i = plainRun(b, i)
		if i >= len(b) {
			return nil, false, errSyntax
		}
		switch b[i] {
		case '"':
			s.pos = i + 1
			return b[start:i], escaped, nil
		case '\\':
			escaped = true
			if i+1 >= len(b) {
				return nil, false, errSyntax
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(b, i+2); !ok {
					return nil, false, errSyntax
				}
				i += 6
			default:
				return nil, false, errSyntax
			}
		default: // a control character
			return nil, false, errSyntax
		}
	}
}

// plainRun returns the index of the first byte at or after i that a string
// does not hold as it is (see plain), or len(b). (Strings on the wire are
// mostly short keys and values; a loop over eight bytes at a time measured
// slower on them than this one.)
func plainRun(b []byte, i int) int {
	for i < len(b) && plain[b[i]] {
		i++
	}
	return i
}

// plainASCII reports whether s is ASCII without a byte that JSON must
// escape: then its JSON string is s between quotes.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || !plain[c] {
			return false
		}
	}
	return true
}

// hex4 reads the four hex digits of a \u escape at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// unescape appends the value of the string whose text between the quotes
// is raw, which rawStr has checked. As in encoding/json, a \u escape of a
// surrogate that is not part of a pair stands for U+FFFD. The value is
// never longer than raw.
func unescape(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		j := i
		for j < len(raw) && raw[j] != '\\' {
			j++
		}
		dst = append(dst, raw[i:j]...)
		if j == len(raw) {
			break
		}
		c := raw[j+1]
		i = j + 2
		switch c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(raw, i)
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					r2, ok = hex4(raw, i+2)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
	}
	return dst
}

// number reads the number that starts at s.pos and returns its text.
func (s *scanner) number() ([]byte, error) {
	b := s.buf
	start, i := s.pos, s.pos
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return nil, errSyntax
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return nil, errSyntax
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return nil, errSyntax
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return nil, errSyntax
		}
		i = j
	}
	s.pos = i
	return b[start:i], nil
}

func digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// literal reads word (true, false or null) at s.pos.
func (s *scanner) literal(word string) error {
	if len(s.buf)-s.pos < len(word) || string(s.buf[s.pos:s.pos+len(word)]) != word {
		return errSyntax
	}
	s.pos += len(word)
	return nil
}

// boolean reads true or false at s.pos.
func (s *scanner) boolean() (bool, error) {
	if s.pos < len(s.buf) && s.buf[s.pos] == 't' {
		return true, s.literal("true")
	}
	return false, s.literal("false")
}

// enter consumes the opening bracket at s.pos.
func (s *scanner) enter() error {
	s.pos++
	s.depth++
	if s.depth > maxDepth {
		return errDepth
	}
	return nil
}

// key reads the next key of the object being read, up to and including
// its colon; more is false at the object's end (whose brace it consumes).
// first says that no member was read yet. The key is returned as rawStr
// returns it.
func (s *scanner) key(first bool) (raw []byte, escaped, more bool, err error) {
	s.skipSpace()
	if s.pos >= len(s.buf) {
		return nil, false, false, errSyntax
	}
	switch c := s.buf[s.pos]; {
	case c == '}':
		s.pos++
		s.depth--
		return nil, false, false, nil
	case !first:
		if c != ',' {
			return nil, false, false, errSyntax
		}
		s.pos++
		s.skipSpace()
	}
	if s.pos >= len(s.buf) || s.buf[s.pos] != '"' {
		return nil, false, false, errSyntax
	}
	raw, escaped, err = s.rawStr()
	if err != nil {
		return nil, false, false, err
	}
	if !s.expect(':') {
		return nil, false, false, errSyntax
	}
	return raw, escaped, true, nil
}

// elem moves to the next element of the array being read; more is false
// at the array's end (whose bracket it consumes). first says that no
// element was read yet.
func (s *scanner) elem(first bool) (more bool, err error) {
	s.skipSpace()
	if s.pos >= len(s.buf) {
		return false, errSyntax
	}
	switch c := s.buf[s.pos]; {
	case c == ']':
		s.pos++
		s.depth--
		return false, nil
	case !first:
		if c != ',' {
			return false, errSyntax
		}
		s.pos++
	}
	return true, nil
}

// skip reads the next value and discards it. It keeps no call stack per
// level of nesting, so that a deeply nested value costs a bit per level
// rather than a stack frame: one bit per open container says whether it is
// an object.
func (s *scanner) skip() error {
	var small [4]uint64
	objects := small[:]
	depth := 0 // containers opened by this skip
	for {
		// A value starts here.
		switch s.next() {
		case jx.String:
			if _, _, err := s.rawStr(); err != nil {
				return err
			}
		case jx.Number:
			if _, err := s.number(); err != nil {
				return err
			}
		case jx.Bool:
			if _, err := s.boolean(); err != nil {
				return err
			}
		case jx.Null:
			if err := s.literal("null"); err != nil {
				return err
			}
		case jx.Object, jx.Array:
			obj := s.buf[s.pos] == '{'
			if err := s.enter(); err != nil {
				return err
			}
			if depth/64 == len(objects) {
				objects = append(objects, 0)
			}
			if obj {
				objects[depth/64] |= 1 << (depth % 64)
			} else {
				objects[depth/64] &^= 1 << (depth % 64)
			}
			depth++
			var more bool
			var err error
			if obj {
				_, _, more, err = s.key(true)
			} else {
				more, err = s.elem(true)
			}
			if err != nil {
				return err
			}
			if more {
				continue // the first member's value
			}
			depth--
		default:
			return errSyntax
		}
		// A value ended: the next member of the innermost container, or
		// its end, comes next.
		for {
			if depth == 0 {
				return nil
			}
			var more bool
			var err error
			if objects[(depth-1)/64]&(1<<((depth-1)%64)) != 0 {
				_, _, more, err = s.key(false)
			} else {
				more, err = s.elem(false)
			}
			if err != nil {
				return err
			}
			if more {
				break
			}
			depth--
		}
	}
}

// raw reads the next value and returns its text, without whitespace
// around it.
func (s *scanner) raw() ([]byte, error) {
	s.skipSpace()
	start := s.pos
	if err := s.skip(); err != nil {
		return nil, err
	}
	return s.buf[start:s.pos], nil
}
