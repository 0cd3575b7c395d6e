package runtime

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/go-faster/jx"
)

// PayloadError says what was wrong with an incoming payload and where.
//
// Its text is built by the runtime only, so that it can go back to the peer
// that sent the payload: a path of field names and indexes, what was
// expected, and at most a short quote of the peer's input (values longer
// than 64 bytes are cut, with their full length). It never holds the text of
// a JSON library's error or a Go type name.
type PayloadError struct {
	// Path locates the offending value from the payload root, in the form
	// `user.tags[2]`; it is empty when the root itself is wrong. A path
	// deeper than a few hundred bytes keeps its innermost part and starts
	// with "...".
	Path string
	// Err says what was wrong.
	Err error
}

func (e *PayloadError) Error() string { return locatedText(e.Path, e.Err) }

func (e *PayloadError) Unwrap() error { return e.Err }

// EncodeError says why a value could not be encoded: it breaks a rule of its
// schema type (an enum value outside the list, a NaN float, a string that is
// not valid UTF-8 in a raw JSON payload, a value encoding/json cannot write)
// or a constraint of the schema (see [Checked]). Send, Broadcast and Call
// return it and send nothing.
//
// It is a different type from [PayloadError] on purpose: a value this side
// failed to encode is this side's fault, never the peer's, so a call handler
// whose reply does not encode is answered "internal", not "invalid_argument".
type EncodeError struct {
	// Path locates the offending value from the payload root, as in
	// [PayloadError].
	Path string
	// Err says which rule the value breaks.
	Err error
}

func (e *EncodeError) Error() string { return locatedText(e.Path, e.Err) }

func (e *EncodeError) Unwrap() error { return e.Err }

func locatedText(path string, err error) string {
	if path == "" {
		return err.Error()
	}
	return path + ": " + err.Error()
}

// EncodeErrorAt returns err located one object field deeper, as an
// [*EncodeError]. Generated encoders call it for the field whose value
// failed to encode.
func EncodeErrorAt(field string, err error) error {
	return encodeErrorAt(fieldSegment(field), err)
}

func encodeErrorAt(seg string, err error) error {
	var ee *EncodeError
	if errors.As(err, &ee) {
		return &EncodeError{Path: joinPath(seg, ee.Path), Err: ee.Err}
	}
	return &EncodeError{Path: seg, Err: err}
}

// payloadErrorAt returns err located one segment deeper, as a
// [*PayloadError]. An error that is not one yet (from a hand-written codec)
// is taken as the description of what was wrong.
func payloadErrorAt(seg string, err error) error {
	var pe *PayloadError
	if errors.As(err, &pe) {
		return &PayloadError{Path: joinPath(seg, pe.Path), Err: pe.Err}
	}
	return &PayloadError{Path: seg, Err: err}
}

// maxPath bounds the text of a path. A value nested thousands of levels deep
// (a recursive type, or any) would otherwise give an error text as long as
// the payload, and building it one level at a time would cost time
// quadratic in the depth.
const maxPath = 256

// pathCut starts a path whose outer segments were dropped.
const pathCut = "..."

// joinPath puts seg in front of path. Once the result would pass maxPath the
// outer segments are dropped, so each step costs O(maxPath) at most.
func joinPath(seg, path string) string {
	switch {
	case path == "":
		return seg
	case len(path) >= len(pathCut) && path[:len(pathCut)] == pathCut:
		return path
	case len(seg)+1+len(path) > maxPath:
		if path[0] == '[' {
			return pathCut + path
		}
		return pathCut + "." + path
	case path[0] == '[':
		return seg + path
	default:
		return seg + "." + path
	}
}

// fieldSegment is the path segment of an object key: the key itself when it
// reads as an identifier, otherwise the quoted key in brackets (cut, since
// map keys come from the peer).
func fieldSegment(name string) string {
	if isPathIdent(name) && len(name) <= maxQuoted {
		return name
	}
	return "[" + quoteInput(name) + "]"
}

func indexSegment(i int) string { return "[" + strconv.Itoa(i) + "]" }

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

// maxQuoted is how much of a peer's value an error text quotes. A payload
// error goes back to the peer and into logs; a 900 KB number must not.
const maxQuoted = 64

// quoteInput quotes s for an error text, cut to maxQuoted bytes (on a rune
// boundary) with a note of its full length.
func quoteInput(s string) string {
	head, cut := cutAt(s, maxQuoted)
	if !cut {
		return strconv.Quote(s)
	}
	return strconv.Quote(head) + cutNote(len(s))
}

// literalInput is quoteInput for text that is shown unquoted, such as a
// number.
func literalInput(s string) string {
	head, cut := cutAt(s, maxQuoted)
	if !cut {
		return s
	}
	return head + cutNote(len(s))
}

// cutAt returns the first n bytes of s or fewer, ending on a rune
// boundary, and whether anything was cut.
func cutAt(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i], true
}

func cutNote(n int) string { return "... (" + strconv.Itoa(n) + " bytes in all)" }

// typeError reports a JSON value of the wrong kind, or no JSON value at all.
func (d *Decoder) typeError(want string, got jx.Type) error {
	if got == jx.Invalid {
		return d.malformed(nil)
	}
	return &PayloadError{Err: errors.New("expected " + want + ", got " + got.String())}
}

// errMissing is what a required field that is absent reports, at its path.
var errMissing = errors.New("required field is missing")

// malformedError is what the runtime says about JSON it cannot read. It
// replaces the JSON library's own error, whose text means little to a peer
// and whose %+v prints stack frames and file paths of this machine.
type malformedError struct {
	offset int // of the first bad byte in the payload; -1 when unknown
	end    bool
}

func (e *malformedError) Error() string {
	switch {
	case e.end:
		return "unexpected end of JSON"
	case e.offset < 0:
		return "malformed JSON"
	}
	return "malformed JSON at byte " + strconv.Itoa(e.offset)
}

// locateSyntaxError finds where input stops being JSON. It runs only after
// jx has failed, so a well-formed payload never pays for it.
func locateSyntaxError(input []byte) *malformedError {
	var raw json.RawMessage
	var se *json.SyntaxError
	if err := json.Unmarshal(input, &raw); errors.As(err, &se) {
		// The offset of a bad last byte and of input cut short are the
		// same; only the text tells them apart.
		if se.Error() == "unexpected end of JSON input" {
			return &malformedError{end: true}
		}
		// Offset counts the bad byte itself.
		return &malformedError{offset: int(se.Offset) - 1}
	}
	return &malformedError{offset: -1}
}
