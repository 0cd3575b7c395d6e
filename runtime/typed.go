package runtime

import (
	"context"
	"encoding/json"
	"net/http"
)

// Handler handles one fire-and-forget message. payload is the raw JSON of
// the envelope's "message" (nil when absent); it is valid only until the
// handler returns, so copy what must outlive it. A returned error goes to
// the error hook as a *MessageError; it never closes the connection unless
// Strict.
type Handler func(ctx context.Context, c *Conn, payload json.RawMessage) error

// CallHandler handles one call (PROTOCOL.md part C). It returns the reply's
// JSON encoding, or an error: a *CallError chooses the code, a
// *PayloadError becomes "invalid_argument", anything else "internal".
// payload is valid only until the handler returns.
type CallHandler func(ctx context.Context, c *Conn, payload json.RawMessage) (reply []byte, err error)

// Registrar is what both *Server and *Client offer to register handlers on.
// Registering a name twice (as a handler or a call handler) returns an
// error wrapping ErrDuplicateHandler. Registration is safe at any time,
// also while connections are running.
type Registrar interface {
	Handle(name string, h Handler) error
	HandleCall(name string, h CallHandler) error
}

var (
	_ Registrar    = (*Server)(nil)
	_ Registrar    = (*Client)(nil)
	_ http.Handler = (*Server)(nil)
)

// On registers a typed handler for fire-and-forget messages named name.
// A payload that does not decode never reaches fn: it goes to the error hook
// as a *MessageError (KindPayload) wrapping a *PayloadError.
func On[T any](r Registrar, name string, codec Codec[T], fn func(ctx context.Context, c *Conn, msg T)) error {
	typed := func(ctx context.Context, c *Conn, payload []byte, d *Decoder) error {
		v, err := decodeIn(d, codec, payload)
		if err != nil {
			return err
		}
		if d.gate != nil && !d.gate.admit(d) {
			return errNotAdmitted
		}
		fn(ctx, c, v)
		return nil
	}
	h := func(ctx context.Context, c *Conn, payload json.RawMessage) error {
		d := payloadDecoders.Get().(*Decoder)
		err := typed(ctx, c, payload, d)
		payloadDecoders.Put(d)
		return err
	}
	if tr, ok := r.(typedRegistrar); ok {
		return tr.handleTyped(name, h, typed)
	}
	return r.Handle(name, h)
}

// OnCall registers a typed call handler. A request that does not decode is
// answered with an error reply, code "invalid_argument", without calling fn.
func OnCall[Req, Resp any](r Registrar, name string, req Codec[Req], resp Codec[Resp], fn func(ctx context.Context, c *Conn, req Req) (Resp, error)) error {
	return r.HandleCall(name, func(ctx context.Context, c *Conn, payload json.RawMessage) ([]byte, error) {
		v, err := DecodePayload(req, payload)
		if err != nil {
			return nil, err
		}
		out, err := fn(ctx, c, v)
		if err != nil {
			return nil, err
		}
		// A reply that does not encode is an *EncodeError: this side's
		// fault, answered "internal".
		return AppendPayload(nil, resp, out)
	})
}

// Peer is where Send and Call deliver: a *Conn (one connection), or a
// *Client (its connection of the moment; while it reconnects, sends and
// calls wait in its bounded queue).
type Peer interface {
	peer()
}

func (*Conn) peer()   {}
func (*Client) peer() {}

var (
	_ Peer = (*Conn)(nil)
	_ Peer = (*Client)(nil)
)

// Send encodes v with codec and queues it for the peer. It never blocks; it
// returns ErrClosed when the connection is closed (or nil, or a Client not
// dialled), ErrSlowConsumer, after starting the 1008 close, when the
// connection's queue is full, and ErrQueueFull when a Client between
// connections has no room left to keep it. A value that does not encode (an
// *EncodeError) is not sent.
func Send[T any](to Peer, name string, codec Codec[T], v T) error {
	switch p := to.(type) {
	case *Conn:
		if p == nil {
			return errNotConnected
		}
		if chain := p.ep.sendChain(); chain != nil {
			o, err := encodeOut(name, codec, v, meta{})
			if err != nil {
				return err
			}
			_, err = chain(p.ctx, o.message(p, name, false))
			return err
		}
		w, err := encodeEnvelope(name, codec, v, meta{})
		if err != nil {
			return err
		}
		return p.sendWriter(w)
	case *Client:
		if p == nil {
			return errNotConnected
		}
		o, err := encodeOut(name, codec, v, meta{})
		if err != nil {
			return err
		}
		return p.sendOut(name, o)
	}
	return errNotConnected
}

// Broadcast encodes the envelope once and queues the same bytes to every live
// connection of s for which keep returns true (keep nil means all). It
// returns how many connections it was queued to. It never waits on a slow
// peer: one whose queue is full is closed with 1008 instead. A value that
// does not encode is sent to nobody: Broadcast returns 0 and the
// *EncodeError. With a Broker and keep nil, the other nodes get it too (see
// Audience); a filter cannot travel, so with keep it stays on this node.
// Interceptors see a broadcast once, with a nil Conn.
func Broadcast[T any](s *Server, name string, codec Codec[T], v T, keep func(*Conn) bool) (int, error) {
	if chain := s.ep.sendChain(); chain != nil {
		o, err := encodeOut(name, codec, v, meta{})
		if err != nil {
			return 0, err
		}
		return s.broadcastOut(chain, name, o, keep)
	}
	w, err := encodeEnvelope(name, codec, v, meta{})
	if err != nil {
		return 0, err
	}
	if keep == nil {
		return s.Everyone().send(ownFrame(w))
	}
	return s.broadcastFrame(ownFrame(w), keep), nil
}
