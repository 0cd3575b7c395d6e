package runtime

import (
	"errors"
	"math"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-faster/jx"
)

// A Rule is one value constraint of a schema (a maximum length, a range, a
// pattern) on values of type T. It returns nil for a value that meets it,
// or says what is wrong in the runtime's words, ending with the rule as the
// schema writes it: `longer than 200 characters (maxLength 200)`.
//
// The TypeScript client words every rule the same, so that a value refused
// on either side is reported identically.
type Rule[T any] func(v T) error

// Checked returns the codec c with rules added: a decoded value that breaks
// one is refused with a *PayloadError, and a value to encode with an
// *EncodeError, so that Send, Broadcast and Call send nothing. Rules run in
// the order given, after c has read or written the value, so that a value
// breaking its elements' rules and its own is reported the same way in both
// directions and by the TypeScript decoders.
//
// Generated code builds one Checked codec per constrained field, payload or
// alias, once, when the package is initialised; a type without constraints
// never goes through one.
func Checked[T any](c Codec[T], rules ...Rule[T]) Codec[T] {
	return Codec[T]{
		Encode: func(w *jx.Writer, v T) error {
			if err := c.Encode(w, v); err != nil {
				return err
			}
			for _, r := range rules {
				if err := r(v); err != nil {
					return &EncodeError{Err: err}
				}
			}
			return nil
		},
		Decode: func(d *Decoder) (T, error) {
			v, err := c.Decode(d)
			if err != nil {
				return v, err
			}
			for _, r := range rules {
				if err := r(v); err != nil {
					var zero T
					return zero, &PayloadError{Err: err}
				}
			}
			return v, nil
		},
	}
}

// MinLength refuses strings shorter than n code points. Lengths count
// Unicode code points, as JSON Schema does: "é" and "😀" are one each. In
// a Go string that is not valid UTF-8 each bad byte counts as one, as it is
// sent as one U+FFFD.
func MinLength(n int) Rule[string] {
	rule := " (minLength " + strconv.Itoa(n) + ")"
	text := "shorter than " + plural(n, "character", "characters") + rule
	return func(s string) error {
		// A string has at most as many code points as bytes, and at
		// least a quarter as many.
		if len(s) >= 4*n {
			return nil
		}
		if len(s) < n || utf8.RuneCountInString(s) < n {
			return errors.New(text)
		}
		return nil
	}
}

// MaxLength refuses strings longer than n code points (see MinLength).
func MaxLength(n int) Rule[string] {
	text := "longer than " + plural(n, "character", "characters") + " (maxLength " + strconv.Itoa(n) + ")"
	return func(s string) error {
		if len(s) > n && utf8.RuneCountInString(s) > n {
			return errors.New(text)
		}
		return nil
	}
}

// Pattern refuses strings in which the regular expression expr matches
// nowhere; source is the pattern as the schema writes it, for the error.
// expr is compiled here, once, and must be valid: generated code passes
// the RE2 form of a pattern that ambigen checked (a schema's pattern is
// read as JavaScript reads it, and expr matches the same strings).
func Pattern(expr, source string) Rule[string] {
	re := regexp.MustCompile(expr)
	match := re.MatchString
	if run, ok := runOf(expr); ok {
		match = run.match
	}
	rule := " (pattern " + source + ")"
	return func(s string) error {
		if match(s) {
			return nil
		}
		return errors.New(quoteInput(s) + " does not match" + rule)
	}
}

// classRun is a pattern that says what every character of the whole string
// may be, and how many there may be: ^[a-z0-9-]+$, ^.{1,80}$, ^\d{4}$. Such
// patterns are common in schemas (slugs, tags, codes), and a loop over the
// runes checks them in a fraction of the time the regexp machine takes for
// a short string.
type classRun struct {
	ranges   []rune // pairs of lowest and highest rune, sorted, as regexp/syntax gives them
	min, max int    // how many runes; max -1 for no limit
}

// runOf recognises a classRun in expr: the beginning of the text, one
// character class (or a single literal character) repeated, and the end of
// the text, nothing else.
func runOf(expr string) (classRun, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil || re.Op != syntax.OpConcat || len(re.Sub) != 3 ||
		re.Sub[0].Op != syntax.OpBeginText || re.Sub[2].Op != syntax.OpEndText {
		return classRun{}, false
	}
	q, c := re.Sub[1], re.Sub[1]
	r := classRun{min: 1, max: 1}
	switch q.Op {
	case syntax.OpStar:
		c, r.min, r.max = q.Sub[0], 0, -1
	case syntax.OpPlus:
		c, r.min, r.max = q.Sub[0], 1, -1
	case syntax.OpQuest:
		c, r.min, r.max = q.Sub[0], 0, 1
	case syntax.OpRepeat:
		c, r.min, r.max = q.Sub[0], q.Min, q.Max
	}
	switch {
	case c.Op == syntax.OpCharClass:
		r.ranges = c.Rune
	case c.Op == syntax.OpLiteral && len(c.Rune) == 1 && c.Flags&syntax.FoldCase == 0:
		r.ranges = []rune{c.Rune[0], c.Rune[0]}
	default:
		return classRun{}, false
	}
	return r, true
}

func (r classRun) match(s string) bool {
	n := 0
	for _, c := range s {
		if n++; r.max >= 0 && n > r.max || !r.allows(c) {
			return false
		}
	}
	return n >= r.min
}

// allows reports whether c is in one of the ranges: a scan for the few
// ranges of a written class, a binary search for a Unicode category's many.
func (r classRun) allows(c rune) bool {
	ranges := r.ranges
	if len(ranges) > 16 {
		i := sort.Search(len(ranges)/2, func(i int) bool { return ranges[2*i+1] >= c })
		return i < len(ranges)/2 && ranges[2*i] <= c
	}
	for i := 0; i+1 < len(ranges); i += 2 {
		if c < ranges[i] {
			return false
		}
		if c <= ranges[i+1] {
			return true
		}
	}
	return false
}

// Number is the Go type of a schema int or float.
type Number interface{ int64 | float64 }

// Min refuses numbers less than bound.
func Min[T Number](bound T) Rule[T] {
	b := formatNumber(bound)
	return func(v T) error {
		if v < bound {
			return errors.New(formatNumber(v) + " is less than " + b + " (min " + b + ")")
		}
		return nil
	}
}

// ExclusiveMin refuses numbers that are not more than bound.
func ExclusiveMin[T Number](bound T) Rule[T] {
	b := formatNumber(bound)
	return func(v T) error {
		if !(v > bound) {
			return errors.New(formatNumber(v) + " is not more than " + b + " (exclusiveMin " + b + ")")
		}
		return nil
	}
}

// Max refuses numbers more than bound.
func Max[T Number](bound T) Rule[T] {
	b := formatNumber(bound)
	return func(v T) error {
		if v > bound {
			return errors.New(formatNumber(v) + " is more than " + b + " (max " + b + ")")
		}
		return nil
	}
}

// ExclusiveMax refuses numbers that are not less than bound.
func ExclusiveMax[T Number](bound T) Rule[T] {
	b := formatNumber(bound)
	return func(v T) error {
		if !(v < bound) {
			return errors.New(formatNumber(v) + " is not less than " + b + " (exclusiveMax " + b + ")")
		}
		return nil
	}
}

// MinItems refuses lists of fewer than n elements; a nil slice has none.
func MinItems[E any](n int) Rule[[]E] {
	text := "fewer than " + plural(n, "item", "items") + " (minItems " + strconv.Itoa(n) + ")"
	return func(v []E) error {
		if len(v) < n {
			return errors.New(text)
		}
		return nil
	}
}

// MaxItems refuses lists of more than n elements.
func MaxItems[E any](n int) Rule[[]E] {
	text := "more than " + plural(n, "item", "items") + " (maxItems " + strconv.Itoa(n) + ")"
	return func(v []E) error {
		if len(v) > n {
			return errors.New(text)
		}
		return nil
	}
}

// MinEntries refuses maps of fewer than n keys.
func MinEntries[E any](n int) Rule[map[string]E] {
	text := "fewer than " + plural(n, "entry", "entries") + " (minEntries " + strconv.Itoa(n) + ")"
	return func(v map[string]E) error {
		if len(v) < n {
			return errors.New(text)
		}
		return nil
	}
}

// MaxEntries refuses maps of more than n keys.
func MaxEntries[E any](n int) Rule[map[string]E] {
	text := "more than " + plural(n, "entry", "entries") + " (maxEntries " + strconv.Itoa(n) + ")"
	return func(v map[string]E) error {
		if len(v) > n {
			return errors.New(text)
		}
		return nil
	}
}

// plural is "1 item" or "n items".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// formatNumber writes v as JavaScript's String(v) does, so that an error
// reads the same in both runtimes: integers in full up to 1e21, the
// shortest digits that read back as the same float64, and an exponent only
// for very large or small magnitudes (1e+21, 1e-7).
func formatNumber[T Number](v T) string {
	switch v := any(v).(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return jsNumber(v)
	}
	panic("unreachable")
}

func jsNumber(f float64) string {
	switch {
	case f == 0:
		return "0" // -0 too, as in JavaScript
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 0):
		if f > 0 {
			return "Infinity"
		}
		return "-Infinity"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// d.dddde±x: the shortest digits, and where the point goes.
	mant, exp, _ := strings.Cut(strconv.FormatFloat(f, 'e', -1, 64), "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(digits), x+1 // n: digits before the point
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	m := digits[:1]
	if k > 1 {
		m += "." + digits[1:]
	}
	e := "e+"
	if n-1 < 0 {
		e = "e-"
	}
	return sign + m + e + strconv.Itoa(max(n-1, 1-n))
}
