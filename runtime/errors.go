package runtime

import (
	"errors"
	"fmt"

	"github.com/gorilla/websocket"
)

// Sentinel errors; compare with errors.Is.
var (
	// ErrClosed is returned by sends and calls on a connection that is
	// closed, closing, or (on a Client) not dialled yet; pending calls fail
	// with it when their connection closes.
	ErrClosed = errors.New("ambigen: connection closed")
	// ErrDuplicateHandler is wrapped by the error of a second registration
	// for one name.
	ErrDuplicateHandler = errors.New("ambigen: handler already registered")
	// ErrSlowConsumer is the cause given to OnDisconnect when a connection
	// was closed because it did not keep up (its queued bytes passed
	// Options.SendBuffer, or its socket took nothing for WriteTimeout), and
	// the error the send that passed the buffer returns.
	ErrSlowConsumer = errors.New("ambigen: slow consumer")
	// ErrShutdown is returned for work refused because the server is
	// shutting down.
	ErrShutdown = errors.New("ambigen: server shutting down")
	// ErrRateLimited is the cause given to OnDisconnect for a connection
	// closed with 1008 because it kept sending over its rate limit.
	ErrRateLimited = errors.New("ambigen: rate limit exceeded")
	// ErrOverloaded is the cause given to OnDisconnect for a connection
	// closed with 1013 because the memory budget for messages still
	// arriving (Options.MessageMemory) was exhausted.
	ErrOverloaded = errors.New("ambigen: message memory exhausted")
	// ErrMessageTimeout is the cause given to OnDisconnect for a
	// connection closed with 1008 because a message was still unfinished
	// after Options.MessageTimeout.
	ErrMessageTimeout = errors.New("ambigen: message not finished in time")
	// ErrQueueFull is returned by a send on a Client between connections
	// whose queue (ClientOptions.QueueLimit) is full; the message is not
	// sent. A call fails with a *CallError (CodeQueueFull) wrapping it.
	ErrQueueFull = errors.New("ambigen: send queue full")
)

// ErrorKind says what was wrong with an inbound message.
type ErrorKind int

// The kinds of bad input and handler failure (PROTOCOL.md part B item 3).
const (
	KindMalformed   ErrorKind = iota + 1 // not JSON: empty frame, syntax error, trailing data
	KindBinary                           // a binary frame
	KindInvalidUTF8                      // a text frame that is not UTF-8
	KindNotObject                        // JSON, but not an object
	KindBadName                          // a flagged message whose name is missing or not a string
	KindTooBig                           // larger than the read limit
	KindPayload                          // the payload did not decode into the handler's type
	KindHandler                          // the handler returned an error
	KindPanic                            // the handler panicked
	KindRateLimited                      // dropped: the connection is over its rate limit
)

var kindNames = [...]string{
	KindMalformed:   "malformed JSON",
	KindBinary:      "binary frame",
	KindInvalidUTF8: "invalid UTF-8",
	KindNotObject:   "not an object",
	KindBadName:     "bad name",
	KindTooBig:      "message too big",
	KindPayload:     "bad payload",
	KindHandler:     "handler error",
	KindPanic:       "handler panic",
	KindRateLimited: "rate limited",
}

func (k ErrorKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// CloseCode is the close code a strict connection uses for this kind
// (PROTOCOL.md part B item 3).
func (k ErrorKind) CloseCode() int {
	switch k {
	case KindBinary:
		return websocket.CloseUnsupportedData // 1003
	case KindTooBig:
		return websocket.CloseMessageTooBig // 1009
	case KindHandler, KindPanic:
		return websocket.CloseInternalServerErr // 1011
	case KindRateLimited:
		return websocket.ClosePolicyViolation // 1008
	default:
		return websocket.CloseInvalidFramePayloadData // 1007
	}
}

// MessageError is what the error hook receives for bad input and failed
// handlers.
type MessageError struct {
	Kind ErrorKind
	// Name is the message name, when the envelope got far enough to have one.
	Name string
	// Err is the detail; for KindPayload it is a *PayloadError with the
	// path of the offending value.
	Err error
}

func (e *MessageError) Error() string {
	if e.Name == "" {
		return "ambigen: " + e.Kind.String() + ": " + e.Err.Error()
	}
	return fmt.Sprintf("ambigen: message %q: %s: %v", e.Name, e.Kind, e.Err)
}

func (e *MessageError) Unwrap() error { return e.Err }

// PanicError carries the value a handler panicked with.
type PanicError struct{ Value any }

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// CallError is the failure of a call (PROTOCOL.md part C), with a code
// from codes.go. A call handler returns one to choose the code of its error
// reply; Call returns one when the peer replied with an error, and also when
// no reply came: the caller's deadline passed (CodeTimeout), its context was
// canceled (CodeCanceled), the connection closed (CodeClosed), or a client
// between connections had no room to queue the request (CodeQueueFull). Those
// wrap their cause, so errors.Is(err, context.DeadlineExceeded) and
// errors.Is(err, ErrClosed) hold as well. A reply that does not decode is
// CodeInvalidReply, wrapping the *PayloadError.
type CallError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	cause   error
}

func (e *CallError) Error() string { return e.Code + ": " + e.Message }

// Unwrap returns what made a call fail on this side, or nil for an error
// reply from the peer.
func (e *CallError) Unwrap() error { return e.cause }

// Errorf returns a *CallError with code and a formatted message.
func Errorf(code, format string, args ...any) *CallError {
	return &CallError{Code: code, Message: fmt.Sprintf(format, args...)}
}
