package runtime

import (
	"context"
	"errors"
)

// Error codes of calls (docs/PROTOCOL.md part C). A code is a string on the
// wire, in a *CallError and in the TypeScript client's CallError, spelt the
// same everywhere: ts/src/codes.ts lists the same set, and a test ties the
// two lists together.
//
// The first group travels in error replies. The runtime itself answers
// invalid_argument, unimplemented, internal and resource_exhausted; a
// handler may return any of them, or a string of its own, through a
// *CallError (Errorf). The second group never travels: it is how the
// caller's own side reports a call that got no reply.
const (
	CodeInvalidArgument    = "invalid_argument"    // the request did not decode or validate
	CodeNotFound           = "not_found"           // what the request names does not exist
	CodeAlreadyExists      = "already_exists"      // what the request would create exists
	CodePermissionDenied   = "permission_denied"   // the caller may not do this
	CodeUnauthenticated    = "unauthenticated"     // the caller is not known
	CodeResourceExhausted  = "resource_exhausted"  // refused by a limit (the rate limit, a quota)
	CodeFailedPrecondition = "failed_precondition" // the system is not in a state to do it
	CodeAborted            = "aborted"             // a conflict with another operation; retry it
	CodeOutOfRange         = "out_of_range"        // a value past the end of what is valid
	CodeUnimplemented      = "unimplemented"       // nobody handles that name as a call
	CodeInternal           = "internal"            // the handler failed without choosing a code, or panicked
	CodeUnavailable        = "unavailable"         // the service cannot answer now; retry later
	CodeDataLoss           = "data_loss"           // data was lost or corrupted
	CodeUnknown            = "unknown"             // an error reply without a code

	CodeTimeout      = "timeout"       // the caller's deadline passed first
	CodeCanceled     = "canceled"      // the caller stopped waiting
	CodeClosed       = "closed"        // the connection closed before the reply
	CodeQueueFull    = "queue_full"    // a client between connections had no room to queue the request
	CodeInvalidReply = "invalid_reply" // the reply did not decode into its declared type
)

// codes lists every code above, in order; ts/src/codes.ts has the same list.
var codes = []string{
	CodeInvalidArgument, CodeNotFound, CodeAlreadyExists, CodePermissionDenied,
	CodeUnauthenticated, CodeResourceExhausted, CodeFailedPrecondition, CodeAborted,
	CodeOutOfRange, CodeUnimplemented, CodeInternal, CodeUnavailable, CodeDataLoss,
	CodeUnknown,
	CodeTimeout, CodeCanceled, CodeClosed, CodeQueueFull, CodeInvalidReply,
}

// IsKnownCode reports whether code is one of the codes above. Peers may send
// others; a program (or a metric label) that must stay within a fixed set can
// map those to CodeUnknown.
func IsKnownCode(code string) bool {
	for _, c := range codes {
		if c == code {
			return true
		}
	}
	return false
}

// callFailed is the error of a call that got no reply: a *CallError with a
// local code, wrapping the cause so that errors.Is(err, context.DeadlineExceeded)
// and errors.Is(err, ErrClosed) keep working.
func callFailed(name string, cause error) error {
	var ce *CallError
	switch {
	case cause == nil:
		return nil
	case errors.As(cause, &ce):
		return cause
	case errors.Is(cause, context.DeadlineExceeded):
		return &CallError{Code: CodeTimeout, Message: "call " + quoteName(name) + " timed out", cause: cause}
	case errors.Is(cause, context.Canceled):
		return &CallError{Code: CodeCanceled, Message: "call " + quoteName(name) + " canceled", cause: cause}
	case errors.Is(cause, ErrQueueFull):
		return &CallError{Code: CodeQueueFull, Message: "send queue full: call " + quoteName(name) + " was not sent", cause: cause}
	case errors.Is(cause, ErrClosed), errors.Is(cause, ErrSlowConsumer):
		return &CallError{Code: CodeClosed, Message: "call " + quoteName(name) + ": connection closed", cause: cause}
	}
	var re *HandshakeError
	if errors.As(cause, &re) {
		return &CallError{Code: CodeClosed, Message: "call " + quoteName(name) + ": " + re.Error(), cause: cause}
	}
	return cause
}

func quoteName(name string) string { return clip(quote([]byte(name)), maxWireText) }
