package runtime

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"

	"github.com/go-faster/jx"
	"github.com/gorilla/websocket"
)

// envelope is one parsed frame. Its byte slices point into the frame (or,
// for strings with escapes, into fresh memory) and are valid only as long as
// the frame is: the reader recycles frame buffers once dispatch returns.
type envelope struct {
	name    []byte // the "name" string, unescaped
	message []byte // raw JSON of "message"; nil when absent (read as null)
	flagged bool   // "isAmbiorix" is JSON true

	nameKind jx.Type // JSON type of "name"; jx.Invalid when absent

	id, replyTo       []byte // part C keys, set only when they are strings
	hasID, hasReplyTo bool
	errorRaw          []byte // raw JSON of "error" on a reply
}

// Bits for the keys seen so far: the first occurrence of a key wins, as in
// the reference implementation, and later duplicates are skipped.
const (
	seenName = 1 << iota
	seenMessage
	seenFlag
	seenID
	seenReplyTo
	seenError
)

var errTrailing = errors.New("unexpected data after the JSON value")

// parseEnvelope reads one text frame, which the reader has already found
// to be valid UTF-8. It reports what was wrong as an ErrorKind
// (KindMalformed or KindNotObject) and a description; it does not judge the
// flag or the name, which the caller does, because an unflagged frame is
// ignored whatever its name.
func parseEnvelope(frame []byte, env *envelope) (ErrorKind, error) {
	if env.canonical(frame) {
		return 0, nil
	}
	return env.parse(frame)
}

// parse is parseEnvelope for any frame: it reads the members one by one.
func (env *envelope) parse(frame []byte) (ErrorKind, error) {
	*env = envelope{}
	var s scanner
	s.reset(frame)
	switch t := s.next(); t {
	case jx.Object:
	case jx.Invalid:
		if len(bytes.TrimSpace(frame)) == 0 {
			return KindMalformed, errors.New("empty frame")
		}
		return KindMalformed, errors.New("not JSON")
	default:
		// Validate the value so that "[1," is reported as malformed rather
		// than as a well-formed non-object.
		if err := s.skip(); err != nil {
			return KindMalformed, locateSyntaxError(frame)
		}
		if !s.atEnd() {
			return KindMalformed, errTrailing
		}
		return KindNotObject, errors.New("top-level JSON " + t.String() + " is not an object")
	}
	if err := env.members(&s); err != nil {
		return KindMalformed, locateSyntaxError(frame)
	}
	if !s.atEnd() {
		return KindMalformed, errTrailing
	}
	return 0, nil
}

// members reads the envelope object's members; s is at its opening brace.
func (env *envelope) members(s *scanner) error {
	if err := s.enter(); err != nil {
		return err
	}
	var seen uint
	for first := true; ; first = false {
		key, escaped, more, err := s.key(first)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		if escaped {
			key = unescape(nil, key)
		}
		var bit uint
		switch string(key) {
		case "name":
			bit = seenName
		case "message":
			bit = seenMessage
		case "isAmbiorix":
			bit = seenFlag
		case "id":
			bit = seenID
		case "replyTo":
			bit = seenReplyTo
		case "error":
			bit = seenError
		}
		if bit == 0 || seen&bit != 0 {
			if err := s.skip(); err != nil {
				return err
			}
			continue
		}
		seen |= bit
		switch bit {
		case seenName:
			env.nameKind = s.next()
			if env.nameKind == jx.String {
				env.name, err = str(s)
			} else {
				err = s.skip()
			}
		case seenMessage:
			env.message, err = s.raw()
		case seenFlag:
			if s.next() == jx.Bool {
				env.flagged, err = s.boolean()
			} else {
				err = s.skip()
			}
		case seenID, seenReplyTo:
			if s.next() != jx.String {
				err = s.skip()
				break
			}
			var v []byte
			if v, err = str(s); bit == seenID {
				env.id, env.hasID = v, err == nil
			} else {
				env.replyTo, env.hasReplyTo = v, err == nil
			}
		default: // seenError
			env.errorRaw, err = s.raw()
		}
		if err != nil {
			return err
		}
	}
}

// The parts of a frame as JSON.stringify writes an Ambiorix message: the
// browser clients (ambiorix.js and ours) and the runtime's own encoder put
// the keys in this order, without whitespace.
const (
	canonicalHead = `{"name":"`
	canonicalMid  = `","message":`
	canonicalTail = `,"isAmbiorix":true}`
)

// canonical reads frame when it has exactly the form most frames have:
// the name, a string without escapes, then the message, then the flag,
// with nothing else around them. It reports false for anything else, and
// parseEnvelope then reads the frame member by member. For such a frame it
// gives the result the member-by-member reading gives: the message is one
// JSON value, validated by the same scanner at the same depth, so the
// frame is an object with exactly these three keys. What it spares is
// reading the keys and the flag.
func (env *envelope) canonical(frame []byte) bool {
	if !env.shell(frame) {
		return false
	}
	var s scanner
	s.reset(env.message)
	s.depth = 1 // inside the envelope, as when read member by member
	if s.next() == jx.Invalid {
		return false
	}
	start := s.pos
	if s.skip() != nil {
		return false
	}
	end := s.pos
	if !s.atEnd() {
		return false
	}
	env.message = s.buf[start:end]
	return true
}

// shell is canonical without the check of the message. On success it sets
// all of env (such a frame has no other keys), taking as the message
// everything between its key and the flag, which makes the frame what
// canonical takes only if it is one JSON value (whitespace around it
// allowed); on failure it leaves env as it was. Until the message is known
// to be one value the envelope is only what the frame claims to be; see
// Conn.deliverDecoded for the one reader that checks it by decoding the
// message.
func (env *envelope) shell(frame []byte) bool {
	if len(frame) <= len(canonicalHead)+len(canonicalMid)+len(canonicalTail) ||
		string(frame[:len(canonicalHead)]) != canonicalHead ||
		string(frame[len(frame)-len(canonicalTail):]) != canonicalTail {
		return false
	}
	rest := frame[len(canonicalHead) : len(frame)-len(canonicalTail)]
	n := plainRun(rest, 0)
	if len(rest)-n <= len(canonicalMid) || string(rest[n:n+len(canonicalMid)]) != canonicalMid {
		return false
	}
	*env = envelope{name: rest[:n], nameKind: jx.String, message: rest[n+len(canonicalMid):], flagged: true}
	return true
}

// str reads the string at s.pos without copying when it has no escapes
// (the common case): the result then points into the frame.
func str(s *scanner) ([]byte, error) {
	raw, escaped, err := s.rawStr()
	if err != nil || !escaped {
		return raw, err
	}
	return unescape(nil, raw), nil
}

// Envelopes are encoded in pooled writers. Each writer's buffer starts with
// frameRoom bytes left free, so that the WebSocket header can be put in
// front of the envelope without moving it: a frame sent to one connection
// whose socket takes it at once is written from the pooled buffer and
// costs no allocation; a frame that must wait, or that several connections
// share, is copied out at its exact size.
var writers = sync.Pool{New: func() any { return &jx.Writer{Buf: make([]byte, 0, 512)} }}

// frameRoom is the longest header of an unmasked frame.
const frameRoom = 10

// maxPooledWriter bounds the buffers kept in the pool, so one huge frame
// does not pin its buffer.
const maxPooledWriter = 64 << 10

func getWriter() *jx.Writer {
	w := writers.Get().(*jx.Writer)
	w.Buf = append(w.Buf[:0], make([]byte, frameRoom)...)
	return w
}

func putWriter(w *jx.Writer) {
	if cap(w.Buf) <= maxPooledWriter {
		writers.Put(w)
	}
}

// frameOf completes the frame in w and returns it; it stays w's.
func frameOf(w *jx.Writer) []byte {
	n := len(w.Buf) - frameRoom
	h := textHeaderLen(n)
	appendTextHeader(w.Buf[frameRoom-h:frameRoom-h], n)
	return w.Buf[frameRoom-h:]
}

// ownFrame returns the frame in w as a new slice and recycles w.
func ownFrame(w *jx.Writer) []byte {
	f := bytes.Clone(frameOf(w))
	putWriter(w)
	return f
}

// textHeaderLen is the size of the header of an unmasked, unfragmented
// text frame with an n-byte payload (RFC 6455, section 5.2).
func textHeaderLen(n int) int {
	switch {
	case n < 126:
		return 2
	case n <= 0xFFFF:
		return 4
	}
	return 10
}

// appendTextHeader appends that header: FIN and the text opcode, no mask,
// the length in its shortest form, exactly as gorilla/websocket writes it.
func appendTextHeader(dst []byte, n int) []byte {
	const finText = 0x80 | websocket.TextMessage
	switch {
	case n < 126:
		return append(dst, finText, byte(n))
	case n <= 0xFFFF:
		return append(dst, finText, 126, byte(n>>8), byte(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, finText, 127), uint64(n))
}

// envelopeOf returns the payload of a frame built here.
func envelopeOf(frame []byte) []byte {
	_, p := splitFrame(frame)
	return p
}

// meta is what part C adds to an envelope. A call's id and a reply's
// replyTo are written whenever the frame is a call or a reply, even when
// the id is the empty string: a frame that carried an id is never answered
// without replyTo.
type meta struct {
	id      string
	replyTo string
	call    bool // write "id"
	reply   bool // write "replyTo"
	err     *CallError
}

// encodeEnvelope encodes name and v into a pooled writer (see frameOf), or
// returns the *EncodeError of a value that does not encode.
func encodeEnvelope[T any](name string, codec Codec[T], v T, m meta) (*jx.Writer, error) {
	w := getWriter()
	envelopeHead(w, name)
	if err := codec.Encode(w, v); err != nil {
		putWriter(w)
		return nil, asEncodeError(err)
	}
	envelopeTail(w, m)
	return w, nil
}

// encodeRawEnvelope is encodeEnvelope for a payload that is already JSON;
// an empty payload is written as null.
func encodeRawEnvelope(name string, payload []byte, m meta) *jx.Writer {
	w := getWriter()
	envelopeHead(w, name)
	if len(payload) == 0 {
		w.Null()
	} else {
		w.Raw(payload)
	}
	envelopeTail(w, m)
	return w
}

// envelopeHead writes `{"name":<name>,"message":` so that the payload can
// follow directly.
func envelopeHead(w *jx.Writer, name string) {
	w.RawStr(`{"name":`)
	writeString(w, name)
	w.RawStr(`,"message":`)
}

// envelopeTail closes an envelope begun by envelopeHead.
func envelopeTail(w *jx.Writer, m meta) {
	w.RawStr(`,"isAmbiorix":true`)
	if m.call {
		w.RawStr(`,"id":`)
		writeString(w, m.id)
	}
	if m.reply {
		w.RawStr(`,"replyTo":`)
		writeString(w, m.replyTo)
	}
	if m.err != nil {
		w.RawStr(`,"error":{"code":`)
		writeString(w, m.err.Code)
		w.RawStr(`,"message":`)
		writeString(w, m.err.Message)
		w.RawStr(`}`)
	}
	w.RawStr(`}`)
}
