package runtime

import (
	"context"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/go-faster/jx"
)

// callResult is what a pending call receives: the reply payload (a copy,
// since frame buffers are recycled) or an error.
type callResult struct {
	payload []byte
	err     error
}

// startCall registers a pending call and returns its id and channel.
func (c *Conn) startCall() (string, chan callResult, error) {
	ch := make(chan callResult, 1)
	id := c.ep.newCallID()
	if !c.adoptCall(id, ch) {
		return "", nil, ErrClosed
	}
	return id, ch, nil
}

// newCallID returns an id unique among the endpoint's calls.
func (ep *endpoint) newCallID() string {
	return strconv.FormatUint(ep.callIDs.Add(1), 36)
}

// adoptCall registers a pending call under id; false if c is not open.
func (c *Conn) adoptCall(id string, ch chan callResult) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stateNow() != stateOpen {
		return false
	}
	if c.pending == nil {
		c.pending = make(map[string]chan callResult)
	}
	c.pending[id] = ch
	return true
}

func (c *Conn) forgetCall(id string) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// awaitCall sends frame and waits for the reply to id. An error is the
// peer's *CallError, or ErrClosed, ErrSlowConsumer or ctx's error, which
// Call turns into a *CallError with a local code (callFailed).
func (c *Conn) awaitCall(ctx context.Context, id string, ch chan callResult, frame []byte) ([]byte, error) {
	c.ep.stats.calls.Add(1)
	if err := c.enqueue(frame); err != nil {
		c.forgetCall(id)
		c.ep.stats.callErrors.Add(1)
		return nil, err
	}
	// The reply comes through the reader: if the reader is running a
	// handler (perhaps the one making this call), it must not wait for it.
	c.freeReader()
	return c.ep.awaitReply(ctx, ch, func() { c.forgetCall(id) })
}

// awaitReply waits for a pending call's result or ctx's end; forget takes
// the call out of wherever it waits.
func (ep *endpoint) awaitReply(ctx context.Context, ch chan callResult, forget func()) ([]byte, error) {
	select {
	case r := <-ch:
		if r.err != nil {
			ep.stats.callErrors.Add(1)
		}
		return r.payload, r.err
	case <-ctx.Done():
		forget()
		ep.stats.callErrors.Add(1)
		return nil, ctx.Err()
	}
}

// deliverReply hands a reply to the call waiting for it. Replies nobody
// waits for (late, after a timeout) are dropped and counted as ignored.
func (c *Conn) deliverReply(env *envelope) {
	c.mu.Lock()
	ch, ok := c.pending[string(env.replyTo)]
	if ok {
		delete(c.pending, string(env.replyTo))
	}
	c.mu.Unlock()
	if !ok {
		c.ep.stats.ignored.Add(1)
		c.ep.log.Debug("ambigen: dropped a reply nobody waits for", "conn", c.id, "replyTo", env.replyTo)
		return
	}
	if env.errorRaw != nil {
		ch <- callResult{err: parseCallError(env.errorRaw)}
		return
	}
	ch <- callResult{payload: append([]byte(nil), env.message...)}
}

var callErrorFields = NewFields(Field{Name: "code", Required: true}, Field{Name: "message"})

var callErrorCodec = Codec[CallError]{Decode: func(d *Decoder) (CallError, error) {
	var ce CallError
	err := d.Object(callErrorFields, func(d *Decoder, i int) (err error) {
		if i == 0 {
			ce.Code, err = d.Str()
		} else {
			ce.Message, err = d.Str()
		}
		return err
	})
	return ce, err
}}

func parseCallError(raw []byte) *CallError {
	ce, err := DecodePayload(callErrorCodec, raw)
	if err != nil || ce.Code == "" {
		return &CallError{Code: CodeInternal, Message: "malformed error reply: " + literalInput(string(raw))}
	}
	return &ce
}

// serveCall runs a call handler and sends exactly one reply.
func (c *Conn) serveCall(r route, env *envelope, size int) {
	c.ep.stats.calls.Add(1)
	id := string(env.id)
	var reply []byte
	err := c.protect(func() error {
		var err error
		if r.wrapped != nil {
			reply, err = r.wrapped(c.ctx, Message{Conn: c, Name: r.name, Call: true, Payload: env.message, Size: size, Recipients: 1})
		} else {
			reply, err = r.call(c.ctx, c, env.message)
		}
		return err
	})
	if err == nil {
		if !validReply(reply) {
			err = errBadReply
		} else {
			_ = c.sendWriter(encodeRawEnvelope(r.name, reply, meta{replyTo: id, reply: true}))
			return
		}
	}
	c.ep.stats.callErrors.Add(1)
	var ce *CallError
	var pe *PayloadError
	switch {
	case isPanic(err):
		c.sendError(r.name, id, &CallError{Code: CodeInternal, Message: "internal error"})
		c.reject(KindPanic, r.name, err)
	case errors.As(err, &ce):
		// A code the handler chose is the normal outcome of a call, not bad
		// input: it is counted but not reported.
		c.sendError(r.name, id, ce)
	case errors.As(err, &pe):
		// Only the payload error's own text (where, and what was
		// expected) goes to the peer, never the text of an error wrapping
		// it, which may hold details the peer should not see.
		c.sendError(r.name, id, &CallError{Code: CodeInvalidArgument, Message: clip(pe.Error(), maxWireText)})
		c.reject(KindPayload, r.name, err)
	default:
		// The text of an unclassified error stays on this side.
		c.sendError(r.name, id, &CallError{Code: CodeInternal, Message: "internal error"})
		c.reject(KindHandler, r.name, err)
	}
}

// errBadReply is a call handler's reply that is not one JSON value in
// UTF-8: it would break the peer's parser, so it is not sent.
var errBadReply = errors.New("the handler's reply is not one valid JSON value in UTF-8")

// validReply checks what a CallHandler returned; empty is null.
func validReply(b []byte) bool {
	return len(b) == 0 || (utf8.Valid(b) && jx.Valid(b))
}

// maxWireText bounds what the runtime writes of its own error texts into
// an error reply; peer input quoted in them is cut shorter still.
const maxWireText = 200

func (c *Conn) sendError(name, id string, ce *CallError) {
	_ = c.sendWriter(encodeRawEnvelope(name, nil, meta{replyTo: id, reply: true, err: ce}))
}

// Call sends a request to a peer (a *Conn, or a *Client, which queues the
// request while it reconnects) and waits for its reply, the context's end
// or the connection's close. A call that fails returns a *CallError: the
// peer's error reply, or a local code (CodeTimeout, CodeCanceled,
// CodeClosed, CodeQueueFull, CodeInvalidReply for a reply that does not
// decode) wrapping its cause. A request that does not encode is an
// *EncodeError and is not sent.
func Call[Req, Resp any](ctx context.Context, to Peer, name string, req Codec[Req], resp Codec[Resp], v Req) (Resp, error) {
	var zero Resp
	var payload []byte
	var err error
	var ep *endpoint
	switch p := to.(type) {
	case *Conn:
		if p == nil {
			return zero, callFailed(name, errNotConnected)
		}
		ep = p.ep
		payload, err = callConn(ctx, p, name, req, v)
	case *Client:
		if p == nil {
			return zero, callFailed(name, errNotConnected)
		}
		ep = p.ep
		payload, err = callClient(ctx, p, name, req, v)
	default:
		return zero, callFailed(name, errNotConnected)
	}
	if err != nil {
		return zero, callFailed(name, err)
	}
	out, err := DecodePayload(resp, payload)
	if err != nil {
		ep.stats.callErrors.Add(1)
		return zero, &CallError{Code: CodeInvalidReply, Message: "reply to " + quoteName(name) + ": " + clip(err.Error(), maxWireText), cause: err}
	}
	return out, nil
}

// callConn sends a request on c and waits for the reply's payload.
func callConn[Req any](ctx context.Context, c *Conn, name string, req Codec[Req], v Req) ([]byte, error) {
	id, ch, err := c.startCall()
	if err != nil {
		return nil, err
	}
	if chain := c.ep.sendChain(); chain != nil {
		o, err := encodeOut(name, req, v, meta{id: id, call: true})
		if err != nil {
			c.forgetCall(id)
			return nil, err
		}
		o.ch = ch
		payload, err := chain(ctx, o.message(c, name, true))
		if err != nil {
			c.forgetCall(id)
		}
		return payload, err
	}
	w, err := encodeEnvelope(name, req, v, meta{id: id, call: true})
	if err != nil {
		c.forgetCall(id)
		return nil, err
	}
	return c.awaitCall(ctx, id, ch, ownFrame(w))
}
