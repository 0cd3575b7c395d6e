package runtime

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/gorilla/websocket"
)

var benchFrame = []byte(`{"name":"post","message":{"x":12,"y":34,"tags":["a","b"]},"isAmbiorix":true}`)

func BenchmarkParseEnvelope(b *testing.B) {
	var env envelope
	b.ReportAllocs()
	b.SetBytes(int64(len(benchFrame)))
	for b.Loop() {
		if _, err := parseEnvelope(benchFrame, &env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDispatchTyped measures a frame's way from bytes to a typed
// handler (parse, route, decode), without the network.
func BenchmarkDispatchTyped(b *testing.B) {
	ep := newEndpoint(newConfig(limits{}), 0, nil)
	var sink int64
	if err := On(registrar{ep}, "post", pointCodec, func(ctx context.Context, c *Conn, p point) { sink += p.X }); err != nil {
		b.Fatal(err)
	}
	c := &Conn{ep: ep, ctx: context.Background()}
	now := monoNow()
	b.ReportAllocs()
	for b.Loop() {
		// As the reader leaves it: the frame in a pooled message buffer.
		m := msgPool.Get().(*inMsg)
		m.mt, m.buf = websocket.TextMessage, append(m.buf[:0], benchFrame...)
		// A fixed clock keeps the rate limit's bucket from emptying.
		c.rd.limit = limiter{}
		c.deliver(m, 0, now)
	}
	if sink == 0 || ep.stats.rejected.Load() != 0 {
		b.Fatal("handler did not run")
	}
}

// BenchmarkEncodeFrame encodes an envelope and copies the frame out, as a
// frame that must wait in the queue or that a broadcast shares is.
func BenchmarkEncodeFrame(b *testing.B) {
	p := point{X: 12, Y: 34, Tags: []string{"a", "b"}}
	b.ReportAllocs()
	for b.Loop() {
		w, err := encodeEnvelope("post", pointCodec, p, meta{})
		if err != nil {
			b.Fatal(err)
		}
		_ = ownFrame(w)
	}
}

// BenchmarkEchoLoopback is one message client -> server -> client over a
// real loopback socket, one in flight at a time.
func BenchmarkEchoLoopback(b *testing.B) {
	// b.Loop runs past the default rate limit's burst.
	ts := startServer(b, Options{RateLimit: RateLimit{Messages: -1, Bytes: -1}}, func(s *Server) {
		s.Handle("post", func(ctx context.Context, c *Conn, p json.RawMessage) error {
			v, err := DecodePayload(pointCodec, p)
			if err != nil {
				return err
			}
			return Send(c, "post", pointCodec, v)
		})
	})
	got := make(chan point, 1)
	cl := NewClient(ClientOptions{})
	On(cl, "post", pointCodec, func(ctx context.Context, c *Conn, p point) { got <- p })
	if err := cl.Dial(context.Background(), ts.url); err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	p := point{X: 12, Y: 34, Tags: []string{"a", "b"}}
	b.ReportAllocs()
	for b.Loop() {
		if err := Send(cl.Conn(), "post", pointCodec, p); err != nil {
			b.Fatal(err)
		}
		<-got
	}
}

// registrar registers straight on an endpoint, for benchmarks without a
// Server or Client around it.
type registrar struct{ ep *endpoint }

func (r registrar) Handle(name string, h Handler) error { return r.ep.register(name, route{handle: h}) }
func (r registrar) HandleCall(name string, h CallHandler) error {
	return r.ep.register(name, route{call: h})
}
