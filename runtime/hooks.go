package runtime

import (
	"net/http"
	"slices"
)

// Connection hooks added by method, after the options: the typed API that
// ambigen generates registers its OnConnect and OnDisconnect here, and so
// can any package that instruments a server it did not build.

// hooks is an endpoint's added hooks; replaced as a whole when one is added.
type hooks struct {
	connect    []func(*Conn)
	disconnect []func(*Conn, error)
}

func (ep *endpoint) addHooks(connect func(*Conn), disconnect func(*Conn, error)) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	next := &hooks{}
	if old := ep.hooks.Load(); old != nil {
		next.connect = slices.Clone(old.connect)
		next.disconnect = slices.Clone(old.disconnect)
	}
	if connect != nil {
		next.connect = append(next.connect, connect)
	}
	if disconnect != nil {
		next.disconnect = append(next.disconnect, disconnect)
	}
	ep.hooks.Store(next)
}

// connected runs the OnConnect hooks of c: the option's, then those added,
// in order. A panic in one is recovered and the next still runs.
func (ep *endpoint) connected(c *Conn) {
	if fn := ep.cfg.onConnect; fn != nil {
		ep.hook("OnConnect", func() { fn(c) })
	}
	if h := ep.hooks.Load(); h != nil {
		for _, fn := range h.connect {
			ep.hook("OnConnect", func() { fn(c) })
		}
	}
}

// disconnected runs the OnDisconnect hooks of c, as connected does.
func (ep *endpoint) disconnected(c *Conn, cause error) {
	if fn := ep.cfg.onDisconnect; fn != nil {
		ep.hook("OnDisconnect", func() { fn(c, cause) })
	}
	if h := ep.hooks.Load(); h != nil {
		for _, fn := range h.disconnect {
			ep.hook("OnDisconnect", func() { fn(c, cause) })
		}
	}
}

// OnConnect adds fn to the hooks that run when a connection has joined the
// registry, before its first message is handled, after Options.OnConnect
// and the hooks added before it. It runs on the connection's reader and
// must not block for long; a panic in it is recovered and logged.
func (s *Server) OnConnect(fn func(c *Conn)) { s.ep.addHooks(fn, nil) }

// OnDisconnect adds fn to the hooks that run once a connection has closed,
// as Options.OnDisconnect, after it and the hooks added before it.
func (s *Server) OnDisconnect(fn func(c *Conn, err error)) { s.ep.addHooks(nil, fn) }

// OnConnect adds fn to the hooks that run each time the client has
// connected (its first Dial, and every reconnect), before the first message
// of that connection is handled and after the queued messages were handed
// to it. It must not block for long; a panic in it is recovered.
func (c *Client) OnConnect(fn func(c *Conn)) { c.ep.addHooks(fn, nil) }

// OnDisconnect adds fn to the hooks that run once each of the client's
// connections has closed, after ClientOptions.OnDisconnect.
func (c *Client) OnDisconnect(fn func(c *Conn, err error)) { c.ep.addHooks(nil, fn) }

// Connection is anything that stands for one connection: a *Conn, or the
// typed Conn that generated code wraps around one.
type Connection interface {
	Runtime() *Conn
}

// Runtime returns c itself, so that a *Conn is a Connection like the typed
// views of generated code.
func (c *Conn) Runtime() *Conn { return c }

// Auth is an authentication function whose identity keeps its type: its
// Authenticate goes into Options.Authenticate, and Of gives back, for any
// connection it accepted, the T it returned.
//
//	users := runtime.NewAuth(func(r *http.Request) (*User, error) { ... })
//	rt := runtime.NewServer(runtime.Options{Authenticate: users.Authenticate})
//	...
//	api.OnChat(func(ctx context.Context, from *gen.Conn, msg string) {
//		user := users.Of(from) // *User
//	})
type Auth[T any] struct {
	fn func(r *http.Request) (T, error)
}

// NewAuth wraps fn, which sees each upgrade request and returns the
// identity of the connection, or an error that refuses it (see
// Options.Authenticate, and Refuse to choose the status and reason).
func NewAuth[T any](fn func(r *http.Request) (T, error)) *Auth[T] {
	return &Auth[T]{fn: fn}
}

// Authenticate is the function for Options.Authenticate.
func (a *Auth[T]) Authenticate(r *http.Request) (any, error) {
	v, err := a.fn(r)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// Of returns the identity of c, or T's zero value for a connection that a
// different function authenticated (or none did).
func (a *Auth[T]) Of(c Connection) T {
	v, _ := a.Lookup(c)
	return v
}

// Lookup returns the identity of c and whether c has one of type T.
func (a *Auth[T]) Lookup(c Connection) (T, bool) {
	var zero T
	if c == nil {
		return zero, false
	}
	rc := c.Runtime()
	if rc == nil {
		return zero, false
	}
	v, ok := rc.identity.(T)
	return v, ok
}
