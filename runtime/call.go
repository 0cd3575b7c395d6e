package runtime

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return "", nil, ErrClosed
	}
	c.nextCall++
	id := strconv.FormatUint(c.nextCall, 36)
	if c.pending == nil {
		c.pending = make(map[string]chan callResult)
	}
	c.pending[id] = ch
	return id, ch, nil
}

func (c *Conn) forgetCall(id string) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// awaitCall sends frame and waits for the reply to id.
func (c *Conn) awaitCall(ctx context.Context, id string, ch chan callResult, frame []byte) ([]byte, error) {
	c.ep.stats.calls.Add(1)
	// Urgent: the caller may be a handler on the reader, about to wait
	// for the reply.
	if err := c.enqueueFrame(frame, true); err != nil {
		c.forgetCall(id)
		c.ep.stats.callErrors.Add(1)
		return nil, err
	}
	select {
	case r := <-ch:
		if r.err != nil {
			c.ep.stats.callErrors.Add(1)
		}
		return r.payload, r.err
	case <-ctx.Done():
		c.forgetCall(id)
		c.ep.stats.callErrors.Add(1)
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
		c.ep.debug("ambigen: dropped a reply nobody waits for", "conn", c.id, "replyTo", string(env.replyTo))
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
func (c *Conn) serveCall(r route, env *envelope) {
	c.ep.stats.calls.Add(1)
	id := string(env.id)
	var reply []byte
	err := c.protect(func() error {
		var err error
		reply, err = r.call(c.ctx, c, env.message)
		return err
	})
	if err == nil {
		_ = c.enqueue(encodeRawFrame(r.name, reply, "", id, nil))
		return
	}
	c.ep.stats.callErrors.Add(1)
	var ce *CallError
	switch {
	case isPanic(err):
		c.sendError(r.name, id, &CallError{Code: CodeInternal, Message: "internal error"})
		c.reject(KindPanic, r.name, err)
	case errors.As(err, &ce):
		// A code the handler chose is the normal outcome of a call, not bad
		// input: it is counted but not reported.
		c.sendError(r.name, id, ce)
	case isPayload(err):
		c.sendError(r.name, id, &CallError{Code: CodeInvalidArgument, Message: err.Error()})
		c.reject(KindPayload, r.name, err)
	default:
		// The text of an unclassified error stays on this side: it may
		// hold details the peer should not see.
		c.sendError(r.name, id, &CallError{Code: CodeInternal, Message: "internal error"})
		c.reject(KindHandler, r.name, err)
	}
}

func (c *Conn) sendError(name, id string, ce *CallError) {
	_ = c.enqueue(encodeRawFrame(name, nil, "", id, ce))
}

// Call sends a request on c and waits for its reply, the context's end, or
// the connection's close (ErrClosed). Error replies come back as
// *CallError; a reply that does not decode as a *PayloadError.
func Call[Req, Resp any](ctx context.Context, c *Conn, name string, req Codec[Req], resp Codec[Resp], v Req) (Resp, error) {
	var zero Resp
	if c == nil {
		return zero, errNotConnected
	}
	id, ch, err := c.startCall()
	if err != nil {
		return zero, err
	}
	frame, err := encodeFrame(name, req, v, id, "")
	if err != nil {
		c.forgetCall(id)
		return zero, err
	}
	payload, err := c.awaitCall(ctx, id, ch, frame)
	if err != nil {
		return zero, err
	}
	out, err := DecodePayload(resp, payload)
	if err != nil {
		c.ep.stats.callErrors.Add(1)
		return zero, fmt.Errorf("ambigen: reply to %q: %w", name, err)
	}
	return out, nil
}
