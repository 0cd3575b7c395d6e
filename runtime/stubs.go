package runtime

// CONTRACT STUBS. This file fixes the exported API that generated code, the
// example and the benchmarks are written against. The runtime implementation
// replaces these bodies (and moves the declarations into one file per
// concern); signatures may only change in agreement with the generator.

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// IsAtLeastVersion0_1_0 is referenced by generated code so that a program
// built against a runtime older than its generated code fails to compile.
const IsAtLeastVersion0_1_0 = true

// Handler handles one fire-and-forget message. payload is the raw JSON of the
// envelope's "message" (nil when absent). A returned error goes to the error
// hook (as a *MessageError); it never closes the connection unless Strict.
type Handler func(ctx context.Context, c *Conn, payload json.RawMessage) error

// CallHandler handles one call (PROTOCOL.md part C). It returns the reply's
// JSON encoding, or an error; a *CallError chooses the code, any other error
// is reported as "internal".
type CallHandler func(ctx context.Context, c *Conn, payload json.RawMessage) (reply []byte, err error)

// Registrar is what both *Server and *Client offer to register handlers on.
// Registering a name twice returns an error wrapping ErrDuplicateHandler.
type Registrar interface {
	Handle(name string, h Handler) error
	HandleCall(name string, h CallHandler) error
}

// On registers a typed handler for fire-and-forget messages named name.
// A payload that does not decode never reaches fn: it goes to the error hook
// as a *MessageError wrapping a *PayloadError.
func On[T any](r Registrar, name string, codec Codec[T], fn func(ctx context.Context, c *Conn, msg T)) error {
	panic("not implemented")
}

// OnCall registers a typed call handler. A request that does not decode is
// answered with an error reply, code "invalid_argument", without calling fn.
func OnCall[Req, Resp any](r Registrar, name string, req Codec[Req], resp Codec[Resp], fn func(ctx context.Context, c *Conn, req Req) (Resp, error)) error {
	panic("not implemented")
}

// Send encodes v with codec and queues it for c. It never blocks; it returns
// ErrClosed when c is closed and applies the slow-consumer policy when c's
// queue is full.
func Send[T any](c *Conn, name string, codec Codec[T], v T) error {
	panic("not implemented")
}

// Call sends a request on c and waits for its reply, the context's end, or
// the connection's close. Error replies come back as *CallError.
func Call[Req, Resp any](ctx context.Context, c *Conn, name string, req Codec[Req], resp Codec[Resp], v Req) (Resp, error) {
	panic("not implemented")
}

// Broadcast encodes the envelope once and queues the same bytes to every live
// connection of s for which keep returns true (keep nil means all). It
// returns how many connections it was queued to. It never waits on a slow peer.
func Broadcast[T any](s *Server, name string, codec Codec[T], v T, keep func(*Conn) bool) int {
	panic("not implemented")
}

// Conn is one live connection, on the server or the client side.
type Conn struct{}

// Send is the untyped ws$send: v is encoded as encoding/json would, without
// HTML escaping.
func (c *Conn) Send(name string, v any) error { panic("not implemented") }

// Close starts the close handshake with code and reason.
func (c *Conn) Close(code int, reason string) error { panic("not implemented") }

// Context is canceled when the connection closes.
func (c *Conn) Context() context.Context { panic("not implemented") }

// Identity is what Options.Authenticate attached, or nil.
func (c *Conn) Identity() any { panic("not implemented") }

// ID is unique among the connections of a process.
func (c *Conn) ID() uint64 { panic("not implemented") }

// Done is closed once the connection is closed and its writer has stopped.
func (c *Conn) Done() <-chan struct{} { panic("not implemented") }

// Options configures a Server. The zero value is ready to use.
type Options struct {
	Fallback        http.Handler                                    // non-WebSocket requests; defaults to 404
	Raw             func(ctx context.Context, ws *websocket.Conn)   // bypass: hand over the raw socket
	ReadLimit       int64                                           // defaults to 1 MiB
	SendQueue       int                                             // frames per connection; defaults to 256
	WriteTimeout    time.Duration                                   // defaults to 10 s
	PingInterval    time.Duration                                   // defaults to 20 s
	PongTimeout     time.Duration                                   // defaults to 45 s; must exceed PingInterval
	CheckOrigin     func(r *http.Request) bool                      // defaults to same-origin (no Origin allowed)
	Authenticate    func(r *http.Request) (identity any, err error) // nil accepts all
	OnConnect       func(c *Conn)                                   // after registration
	OnDisconnect    func(c *Conn, err error)                        // after removal
	OnError         func(c *Conn, err error)                        // bad input and handler errors
	Strict          bool                                            // close on bad input with the precise code
	Logger          *slog.Logger                                    // nil is silent
	ReadBufferSize  int
	WriteBufferSize int
}

// Server is an http.Handler that speaks the Ambiorix protocol.
type Server struct{}

func NewServer(opts Options) *Server                               { panic("not implemented") }
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { panic("not implemented") }
func (s *Server) Handle(name string, h Handler) error              { panic("not implemented") }
func (s *Server) HandleCall(name string, h CallHandler) error      { panic("not implemented") }
func (s *Server) Clients() []*Conn                                 { panic("not implemented") }
func (s *Server) Len() int                                         { panic("not implemented") }
func (s *Server) Broadcast(name string, v any) int                 { panic("not implemented") }
func (s *Server) Shutdown(ctx context.Context) error               { panic("not implemented") }
func (s *Server) Stats() Stats                                     { panic("not implemented") }

// ClientOptions configures a Client. The zero value is ready to use.
type ClientOptions struct {
	Header       http.Header
	Dialer       *websocket.Dialer
	ReadLimit    int64
	SendQueue    int
	WriteTimeout time.Duration
	PingInterval time.Duration
	PongTimeout  time.Duration
	OnError      func(c *Conn, err error)
	Logger       *slog.Logger
}

// Client is a Go peer of an Ambiorix server (ours or R's).
type Client struct{}

func NewClient(opts ClientOptions) *Client { panic("not implemented") }
func Dial(ctx context.Context, url string, opts ClientOptions) (*Client, error) {
	panic("not implemented")
}
func (c *Client) Dial(ctx context.Context, url string) error  { panic("not implemented") }
func (c *Client) Handle(name string, h Handler) error         { panic("not implemented") }
func (c *Client) HandleCall(name string, h CallHandler) error { panic("not implemented") }
func (c *Client) Conn() *Conn                                 { panic("not implemented") }
func (c *Client) Close() error                                { panic("not implemented") }

// Stats are the server's counters.
type Stats struct {
	Connections, Active              uint64
	MessagesIn, MessagesOut          uint64
	Ignored, Rejected, SlowConsumers uint64
	Calls, CallErrors                uint64
}

// CallError is an error reply (PROTOCOL.md part C).
type CallError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *CallError) Error() string { return e.Code + ": " + e.Message }

// Error codes of part C.
const (
	CodeInvalidArgument = "invalid_argument"
	CodeUnimplemented   = "unimplemented"
	CodeInternal        = "internal"
)

var (
	ErrClosed           = errors.New("ambigen: connection closed")
	ErrDuplicateHandler = errors.New("ambigen: handler already registered")
	ErrSlowConsumer     = errors.New("ambigen: send queue full")
)
