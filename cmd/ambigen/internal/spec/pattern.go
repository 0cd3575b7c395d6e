package spec

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A pattern is checked by Go's regexp (RE2) on one side and by JavaScript's
// RegExp on the other, and is written into JSON Schema, whose patterns are
// ECMA-262 regular expressions. The schema's text is therefore read as
// JavaScript reads it with the u flag, as JSON Schema 2020-12 asks, and
// only a subset of that syntax is accepted: the part whose meaning can be
// given to RE2 exactly. The TypeScript client and the JSON Schema get the
// text as it is written; the Go codec gets a translation (goPattern) that
// matches the same strings.
//
// Two constructs mean something else in RE2 and are translated: `.`
// (JavaScript excludes \r, U+2028 and U+2029 as well as \n) and `\s`
// (JavaScript's Unicode white space, not RE2's ASCII). The rest of the
// subset is spelt and read alike: literals, escaped syntax characters,
// \t \n \r \f \v, \xHH, \uHHHH and \u{H...} (written \x{...} for RE2),
// \d \D \w \W \b \B, \p{..} and \P{..} of a Unicode general category,
// classes with ranges, groups (...) and (?:...), alternation, ^ and $, and
// the quantifiers * + ? {n} {n,} {n,m}, greedy or lazy. Everything else is
// refused with a reason: flags, lookaround, backreferences, named groups,
// POSIX classes, \A \z \Q, and the characters that one side takes as a
// literal and the other as syntax unless they are escaped (], } and { when
// it does not start a quantifier, [ inside a class, and a class that opens
// with ]).

// jsDot is what `.` matches in JavaScript, as an RE2 class.
const jsDot = `[^\n\r\x{2028}\x{2029}]`

// jsSpace is JavaScript's \s (WhiteSpace and LineTerminator) as the body of
// an RE2 class.
const jsSpace = `\t\n\x{0B}\f\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}`

// generalCategories are the Unicode general categories both engines name
// the same way in \p{...}: JavaScript knows scripts only as Script=...,
// which RE2 does not read.
var generalCategories = map[string]bool{
	"C": true, "Cc": true, "Cf": true, "Co": true, "Cs": true,
	"L": true, "Ll": true, "Lm": true, "Lo": true, "Lt": true, "Lu": true,
	"M": true, "Mc": true, "Me": true, "Mn": true,
	"N": true, "Nd": true, "Nl": true, "No": true,
	"P": true, "Pc": true, "Pd": true, "Pe": true, "Pf": true, "Pi": true, "Po": true, "Ps": true,
	"S": true, "Sc": true, "Sk": true, "Sm": true, "So": true,
	"Z": true, "Zl": true, "Zp": true, "Zs": true,
}

// syntaxChars may be escaped with a backslash to stand for themselves, in
// both engines and inside or outside a class.
const syntaxChars = `^$\.*+?()[]{}|/`

// patternError is a pattern outside the subset, or one RE2 refuses.
type patternError struct {
	at  int // byte offset in the pattern; -1 when it concerns the whole
	msg string
}

func (e *patternError) Error() string {
	if e.at < 0 {
		return e.msg
	}
	return fmt.Sprintf("at byte %d: %s", e.at, e.msg)
}

// GoRegexp returns the RE2 form of a pattern the schema accepts: the
// regular expression for Go's regexp that matches what JavaScript matches
// with new RegExp(pattern, "u"). A tool that checks the generated JSON
// Schema with Go's regexp (whose patterns are JavaScript's) compiles its
// patterns through it; a pattern outside the subset is an error.
func GoRegexp(pattern string) (string, error) { return goPattern(pattern) }

// goPattern checks that src is in the subset and returns the RE2 text that
// matches what JavaScript matches with new RegExp(src, "u").
func goPattern(src string) (string, error) {
	if !utf8.ValidString(src) {
		return "", &patternError{at: -1, msg: "not valid UTF-8"}
	}
	t := &patternTranslator{src: src}
	if err := t.run(); err != nil {
		return "", err
	}
	out := t.out.String()
	if _, err := regexp.Compile(out); err != nil {
		// The translation only adds classes and spells escapes
		// differently, so what RE2 refuses is the schema's own mistake:
		// name it without the translated text.
		var se *syntax.Error
		if errors.As(err, &se) {
			return "", &patternError{at: -1, msg: se.Code.String()}
		}
		return "", &patternError{at: -1, msg: err.Error()}
	}
	return out, nil
}

type patternTranslator struct {
	src string
	i   int // next byte to read
	out strings.Builder
	// quantifiable says whether the last thing written can take a
	// quantifier: an atom, not an assertion, a quantifier or the start of a
	// group or alternative.
	quantifiable bool
}

func (t *patternTranslator) fail(at int, format string, args ...any) error {
	return &patternError{at: at, msg: fmt.Sprintf(format, args...)}
}

func (t *patternTranslator) next() (rune, int) {
	r, n := utf8.DecodeRuneInString(t.src[t.i:])
	t.i += n
	return r, n
}

func (t *patternTranslator) run() error {
	for t.i < len(t.src) {
		start := t.i
		r, _ := t.next()
		switch r {
		case '\\':
			if err := t.escape(start, false); err != nil {
				return err
			}
		case '.':
			t.out.WriteString(jsDot)
			t.quantifiable = true
		case '[':
			if err := t.class(start); err != nil {
				return err
			}
			t.quantifiable = true
		case '(':
			if strings.HasPrefix(t.src[t.i:], "?") {
				if !strings.HasPrefix(t.src[t.i:], "?:") {
					return t.fail(start, "%s", groupProblem(t.src[t.i:]))
				}
				t.i += 2
				t.out.WriteString("(?:")
			} else {
				t.out.WriteString("(")
			}
			t.quantifiable = false
		case ')':
			t.out.WriteString(")")
			t.quantifiable = true
		case '|':
			t.out.WriteString("|")
			t.quantifiable = false
		case '^', '$':
			t.out.WriteRune(r)
			t.quantifiable = false
		case '*', '+', '?':
			if err := t.quantifier(start, string(r)); err != nil {
				return err
			}
		case '{':
			q, ok := repeatAt(t.src[start:])
			if !ok {
				return t.fail(start, "a { that does not start a quantifier {n}, {n,} or {n,m} must be escaped as \\{ (JavaScript refuses it bare)")
			}
			t.i = start + len(q)
			if err := t.quantifier(start, q); err != nil {
				return err
			}
		case '}', ']':
			return t.fail(start, "a lone %c must be escaped as \\%c (JavaScript refuses it bare)", r, r)
		default:
			t.out.WriteString(regexp.QuoteMeta(string(r)))
			t.quantifiable = true
		}
	}
	return nil
}

// groupProblem says why a group opening with (? is refused; rest follows
// the parenthesis.
func groupProblem(rest string) string {
	switch {
	case strings.HasPrefix(rest, "?=") || strings.HasPrefix(rest, "?!") || strings.HasPrefix(rest, "?<=") || strings.HasPrefix(rest, "?<!"):
		return "lookaround is not in the pattern subset (Go's RE2 has none)"
	case strings.HasPrefix(rest, "?<") || strings.HasPrefix(rest, "?P<"):
		return "named groups are not in the pattern subset; write (?:...) or (...)"
	}
	return "flags such as (?i) are not in the pattern subset (JavaScript has no inline flags); spell the cases out, as [Aa]"
}

// repeatAt returns the quantifier {n}, {n,} or {n,m} at the start of s.
func repeatAt(s string) (string, bool) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return "", false
	}
	body := s[1:end]
	lo, hi, comma := strings.Cut(body, ",")
	digits := func(d string) bool {
		if d == "" {
			return false
		}
		for _, c := range d {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	if !digits(lo) || (comma && hi != "" && !digits(hi)) {
		return "", false
	}
	return s[:end+1], true
}

func (t *patternTranslator) quantifier(start int, q string) error {
	if !t.quantifiable {
		return t.fail(start, "%s has nothing to repeat (an anchor, a group's start or another quantifier comes before it)", q)
	}
	t.out.WriteString(q)
	if strings.HasPrefix(t.src[t.i:], "?") {
		t.i++
		t.out.WriteString("?")
	}
	t.quantifiable = false
	return nil
}

// escape translates the escape whose backslash is at start. inClass says
// whether it is inside [...], where only single characters and character
// classes may appear.
func (t *patternTranslator) escape(start int, inClass bool) error {
	if t.i >= len(t.src) {
		return t.fail(start, "the pattern ends with a lone backslash")
	}
	r, _ := t.next()
	switch {
	case r == 'd' || r == 'D' || r == 'w' || r == 'W':
		t.out.WriteString(`\` + string(r))
		t.quantifiable = true
	case r == 'b' || r == 'B':
		if inClass {
			return t.fail(start, `\%c inside a class is not in the pattern subset (JavaScript reads [\b] as a backspace)`, r)
		}
		t.out.WriteString(`\` + string(r))
		t.quantifiable = false
	case r == 's':
		if inClass {
			t.out.WriteString(jsSpace)
		} else {
			t.out.WriteString("[" + jsSpace + "]")
		}
		t.quantifiable = true
	case r == 'S':
		if inClass {
			return t.fail(start, `\S inside a class is not in the pattern subset; write the class without it and \S outside, as (?:[...]|\S)`)
		}
		t.out.WriteString("[^" + jsSpace + "]")
		t.quantifiable = true
	case r == 't' || r == 'n' || r == 'r' || r == 'f' || r == 'v':
		t.out.WriteString(`\` + string(r))
		t.quantifiable = true
	case r == 'x':
		hex := t.src[t.i:min(t.i+2, len(t.src))]
		if len(hex) != 2 || !isHex(hex) {
			return t.fail(start, `\x takes exactly two hex digits, as \x41`)
		}
		t.i += 2
		t.out.WriteString(`\x` + hex)
		t.quantifiable = true
	case r == 'u':
		return t.unicodeEscape(start)
	case r == 'p' || r == 'P':
		rest := t.src[t.i:]
		end := strings.IndexByte(rest, '}')
		if !strings.HasPrefix(rest, "{") || end < 0 {
			return t.fail(start, `\%c takes a general category in braces, as \%c{L}`, r, r)
		}
		name := rest[1:end]
		if !generalCategories[name] {
			return t.fail(start, `\%c{%s}: only Unicode general categories (L, Lu, Nd, P, Zs...) are in the pattern subset; scripts are named differently in Go and JavaScript`, r, name)
		}
		t.i += end + 1
		t.out.WriteString(`\` + string(r) + "{" + name + "}")
		t.quantifiable = true
	case strings.ContainsRune(syntaxChars, r):
		t.out.WriteString(`\` + string(r))
		t.quantifiable = true
	case r == '-' && inClass:
		t.out.WriteString(`\-`)
		t.quantifiable = true
	case r >= '1' && r <= '9':
		return t.fail(start, `backreferences (\%c) are not in the pattern subset (Go's RE2 has none)`, r)
	default:
		return t.fail(start, `\%c is not in the pattern subset`, r)
	}
	return nil
}

// unicodeEscape reads \uHHHH or \u{H...} after its u, and writes it as
// RE2's \x{...}.
func (t *patternTranslator) unicodeEscape(start int) error {
	rest := t.src[t.i:]
	var hex string
	if strings.HasPrefix(rest, "{") {
		end := strings.IndexByte(rest, '}')
		if end < 2 || end > 9 || !isHex(rest[1:end]) {
			return t.fail(start, `\u{...} takes one to six hex digits, as \u{1F600}`)
		}
		hex, t.i = rest[1:end], t.i+end+1
	} else {
		if len(rest) < 4 || !isHex(rest[:4]) {
			return t.fail(start, `\u takes four hex digits, as \u00E9, or a code point in braces, as \u{1F600}`)
		}
		hex, t.i = rest[:4], t.i+4
	}
	v, err := strconv.ParseUint(hex, 16, 32)
	switch {
	case err != nil || v > utf8.MaxRune:
		return t.fail(start, `\u{%s} is beyond U+10FFFF`, hex)
	case v >= 0xD800 && v <= 0xDFFF:
		return t.fail(start, `\u%s is a surrogate; write the character itself or its code point, as \u{1F600}`, hex)
	}
	t.out.WriteString(`\x{` + strings.ToUpper(strconv.FormatUint(v, 16)) + "}")
	t.quantifiable = true
	return nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// class translates a class whose [ is at start. A range's ends must be
// single characters; a - anywhere else is a literal only first or last.
func (t *patternTranslator) class(start int) error {
	t.out.WriteString("[")
	if strings.HasPrefix(t.src[t.i:], "^") {
		t.i++
		t.out.WriteString("^")
	}
	first := true
	// single says whether the last item was one character, which a - may
	// then make the start of a range; afterRange whether it ended a range.
	single, dash := false, false
	for {
		if t.i >= len(t.src) {
			return t.fail(start, "missing closing ]")
		}
		at := t.i
		r, _ := t.next()
		switch {
		case r == ']' && first:
			return t.fail(at, `a class cannot be empty or start with ] (Go and JavaScript disagree on []); escape it as \]`)
		case r == ']':
			t.out.WriteString("]")
			return nil
		case r == '[':
			return t.fail(at, `a [ inside a class must be escaped as \[ (Go reads [: as the start of a POSIX class)`)
		case r == '-':
			switch {
			case first || strings.HasPrefix(t.src[t.i:], "]"):
				t.out.WriteString(`\-`)
				single = true
			case !single || dash:
				return t.fail(at, `a - between a class escape and a character is not a range; escape it as \-`)
			default:
				t.out.WriteString("-")
				dash = true
				first = false
				continue
			}
		case r == '\\':
			before := t.out.Len()
			if err := t.escape(at, true); err != nil {
				return err
			}
			// A class escape (\d, \s, \p{..}) is several characters; a
			// character escape writes one.
			written := t.out.String()[before:]
			isSingle := !strings.HasPrefix(written, `\d`) && !strings.HasPrefix(written, `\D`) &&
				!strings.HasPrefix(written, `\w`) && !strings.HasPrefix(written, `\W`) &&
				!strings.HasPrefix(written, `\p`) && !strings.HasPrefix(written, `\P`) && written != jsSpace
			if dash && !isSingle {
				return t.fail(at, `a range cannot end with a class escape; escape the - as \-`)
			}
			single = isSingle && !dash
		default:
			t.out.WriteString(classLiteral(r))
			single = !dash
		}
		dash = false
		first = false
	}
}

// classLiteral writes r for the inside of an RE2 class.
func classLiteral(r rune) string {
	switch r {
	case '\\', ']', '[', '^', '-':
		return `\` + string(r)
	}
	return string(r)
}
