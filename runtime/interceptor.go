package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/go-faster/jx"
)

// Interceptor wraps what passes through the connections of a Server or a
// Client: every message and call it receives that has a handler
// (WrapReceive), and every message and call it sends (WrapSend). It is the
// place for what would otherwise be written into every handler:
// authorization by message name, logging, metrics, tracing, quotas.
//
// Each method is called once per chain (for WrapReceive, once per
// registered name, and again if interceptors are added later), never per
// message; the function it returns runs for every message, on the goroutine
// that handles or sends it, and must be safe for concurrent use.
//
// Order: interceptors wrap in the order they are given (Options.Interceptors,
// then each Use), the first outermost. For a message received, the first
// interceptor sees it first and its code after next runs last; for a message
// sent, likewise. The handler (or the write) is innermost.
//
// A receiving interceptor that returns an error without calling next keeps
// the message from its handler: for a call, a *CallError chooses the code
// of the error reply (Errorf(CodePermissionDenied, ...)), any other error is
// answered "internal"; for a message, the error is reported to OnError as a
// handler error. A panic in an interceptor is recovered like a handler's. A
// sending interceptor that returns an error without calling next sends
// nothing, and Send, Call or Broadcast return that error.
type Interceptor interface {
	WrapReceive(next MessageFunc) MessageFunc
	WrapSend(next MessageFunc) MessageFunc
}

// MessageFunc handles or sends one message. For a call it returns the
// reply's JSON (what the handler answered, or what the peer replied); for a
// message, nil.
type MessageFunc func(ctx context.Context, m Message) (reply json.RawMessage, err error)

// Message is what an interceptor sees of one message or call. It is passed by
// value, so that intercepting costs no allocation; an interceptor passes it
// on to next as it got it, or a copy with another Payload (valid JSON), which
// the handler then gets or which is encoded afresh to be sent.
//
// The context is the handler's (the connection's Context, as an interceptor
// may have extended it) for what is received, the caller's for a call made,
// and the connection's (the server's, for a broadcast) for a message sent.
type Message struct {
	// Conn is the connection; Conn.Identity is what Authenticate attached.
	// It is nil for a broadcast, and for a send through a Client that is
	// between connections (queued until it reconnects).
	Conn *Conn
	// Name is the message's name.
	Name string
	// Call is set for a call: a request received or sent, whose reply
	// next returns.
	Call bool
	// Payload is the JSON of the envelope's "message" (for a call, the
	// request). It is valid only until the MessageFunc returns.
	Payload json.RawMessage
	// Size is the length in bytes of the whole envelope (the WebSocket
	// message, without the frame's header).
	Size int
	// Recipients is how many connections a broadcast goes to (after its
	// filter); 1 for any other message.
	Recipients int

	out outgoing // set on messages sent: what the innermost function writes
}

// outgoing is the encoded frame of a message on its way out, and whatever
// else the innermost send function needs.
type outgoing struct {
	w          *jx.Writer
	start, end int // the payload within w.Buf
	id         string
	ch         chan callResult
	fan        *fanout
	client     *Client
}

// fanout is the recipients of a broadcast, and how many it reached: the
// connections a filter kept, or an audience (everyone, a room, a user),
// which also reaches the other nodes of a cluster.
type fanout struct {
	conns []*Conn
	to    *Audience
	n     int
}

// ReceiveInterceptor is an Interceptor that wraps only what is received.
type ReceiveInterceptor func(next MessageFunc) MessageFunc

// WrapReceive implements Interceptor.
func (f ReceiveInterceptor) WrapReceive(next MessageFunc) MessageFunc { return f(next) }

// WrapSend implements Interceptor: it leaves sends alone.
func (f ReceiveInterceptor) WrapSend(next MessageFunc) MessageFunc { return next }

// SendInterceptor is an Interceptor that wraps only what is sent.
type SendInterceptor func(next MessageFunc) MessageFunc

// WrapReceive implements Interceptor: it leaves what is received alone.
func (f SendInterceptor) WrapReceive(next MessageFunc) MessageFunc { return next }

// WrapSend implements Interceptor.
func (f SendInterceptor) WrapSend(next MessageFunc) MessageFunc { return f(next) }

// chains holds an endpoint's interceptors and the send chain built from
// them; nil (no interceptors) keeps every path as it is without them.
type chains struct {
	list []Interceptor
	send MessageFunc
}

// Use adds interceptors after those already installed (Options.Interceptors
// first); the handlers registered so far are wrapped again, so Use may come
// before or after registration, typically before serving. It is safe at any
// time: a message already being handled finishes with the chain it started
// with.
func (s *Server) Use(interceptors ...Interceptor) { s.ep.use(interceptors) }

// Use adds interceptors to the client, as Server.Use.
func (c *Client) Use(interceptors ...Interceptor) { c.ep.use(interceptors) }

func (ep *endpoint) use(add []Interceptor) {
	var list []Interceptor
	for _, ic := range add {
		if ic != nil {
			list = append(list, ic)
		}
	}
	if len(list) == 0 {
		return
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if old := ep.chains.Load(); old != nil {
		list = append(append([]Interceptor(nil), old.list...), list...)
	}
	ch := &chains{list: list, send: ep.sendBase}
	for i := len(list) - 1; i >= 0; i-- {
		ch.send = list[i].WrapSend(ch.send)
	}
	ep.chains.Store(ch)
	// Every route gets its receive chain again, from its own handler.
	if p := ep.routes.Load(); p != nil {
		next := make(map[string]route, len(*p))
		for k, r := range *p {
			next[k] = ep.wrapRoute(r)
		}
		ep.routes.Store(&next)
	}
}

// wrapRoute builds r's receive chain from the interceptors installed; ep.mu
// is held.
func (ep *endpoint) wrapRoute(r route) route {
	ch := ep.chains.Load()
	if ch == nil {
		r.wrapped = nil
		return r
	}
	var f MessageFunc
	if r.call != nil {
		call := r.call
		f = func(ctx context.Context, m Message) (json.RawMessage, error) {
			return call(ctx, m.Conn, m.Payload)
		}
	} else {
		handle := r.handle
		f = func(ctx context.Context, m Message) (json.RawMessage, error) {
			return nil, handle(ctx, m.Conn, m.Payload)
		}
	}
	for i := len(ch.list) - 1; i >= 0; i-- {
		f = ch.list[i].WrapReceive(f)
	}
	r.wrapped = f
	return r
}

// sendChain is the endpoint's send chain, or nil without interceptors.
func (ep *endpoint) sendChain() MessageFunc {
	if ch := ep.chains.Load(); ch != nil {
		return ch.send
	}
	return nil
}

// sendBase is the innermost send function: it writes the frame that the
// Message carries (encoding it again if an interceptor changed the payload)
// to its connection, client or broadcast recipients.
func (ep *endpoint) sendBase(ctx context.Context, m Message) (json.RawMessage, error) {
	o := &m.out
	if o.w == nil {
		return nil, errNotOutgoing
	}
	w := o.w
	if !bytes.Equal(w.Buf[o.start:o.end], m.Payload) {
		if !validReply(m.Payload) {
			return nil, &EncodeError{Err: errors.New("an interceptor's payload is not one valid JSON value in UTF-8")}
		}
		w = encodeRawEnvelope(m.Name, m.Payload, meta{id: o.id, call: m.Call})
	}
	switch {
	case o.fan != nil && o.fan.to != nil:
		n, err := o.fan.to.send(ownFrame(w))
		o.fan.n = n
		return nil, err
	case o.fan != nil:
		o.fan.n = fanOut(o.fan.conns, ownFrame(w))
		return nil, nil
	case o.client != nil:
		return o.client.post(ctx, w, o.id, o.ch)
	case m.Call:
		return m.Conn.awaitCall(ctx, o.id, o.ch, ownFrame(w))
	default:
		return nil, m.Conn.sendWriter(w)
	}
}

// errNotOutgoing is what a send chain returns for a Message an interceptor
// made itself instead of passing on the one it got.
var errNotOutgoing = errors.New("ambigen: an interceptor passed on a Message it did not receive")

// encodeOut encodes an envelope as encodeEnvelope does, noting where the
// payload lies in it, for a Message.
func encodeOut[T any](name string, codec Codec[T], v T, m meta) (outgoing, error) {
	w := getWriter()
	envelopeHead(w, name)
	start := len(w.Buf)
	if err := codec.Encode(w, v); err != nil {
		putWriter(w)
		return outgoing{}, asEncodeError(err)
	}
	end := len(w.Buf)
	envelopeTail(w, m)
	return outgoing{w: w, start: start, end: end, id: m.id}, nil
}

// message is the Message of an encoded outgoing frame.
func (o outgoing) message(c *Conn, name string, call bool) Message {
	return Message{Conn: c, Name: name, Call: call, Payload: o.w.Buf[o.start:o.end], Size: len(o.w.Buf) - frameRoom, Recipients: 1, out: o}
}

// broadcastOut is a broadcast through the send chain: the interceptors see
// it once, with its recipients counted.
func (s *Server) broadcastOut(chain MessageFunc, name string, o outgoing, keep func(*Conn) bool) (int, error) {
	if keep == nil {
		return s.Everyone().sendOut(chain, name, o)
	}
	o.fan = &fanout{conns: s.recipients(keep)}
	m := o.message(nil, name, false)
	m.Recipients = len(o.fan.conns)
	_, err := chain(s.baseCtx, m)
	return o.fan.n, err
}

// sendOut is Audience.send through the send interceptors: they see the
// broadcast once, with the number of its members on this node.
func (a Audience) sendOut(chain MessageFunc, name string, o outgoing) (int, error) {
	o.fan = &fanout{to: &a}
	m := o.message(nil, name, false)
	m.Recipients = a.Len()
	_, err := chain(a.s.baseCtx, m)
	return o.fan.n, err
}

// encodeUntypedOut is encodeUntyped for a Message.
func encodeUntypedOut(name string, v any) (outgoing, error) {
	if raw, ok := v.(json.RawMessage); ok {
		return encodeOut(name, RawJSON, raw, meta{})
	}
	return encodeOut(name, Any, v, meta{})
}
