package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// endpoint is what a Server and a Client share: the handler table, the
// normalised configuration, the counters, the memory budget and the
// rate-limited logger. Every connection points at the endpoint it belongs
// to.
type endpoint struct {
	cfg    config
	stats  counters
	log    logger
	memory budget

	mu     sync.Mutex                       // serialises registrations and Use
	routes atomic.Pointer[map[string]route] // copy-on-write: lookups take no lock
	chains atomic.Pointer[chains]           // the interceptors; nil without any (interceptor.go)
	hooks  atomic.Pointer[hooks]            // OnConnect and OnDisconnect added by method (hooks.go)
	// callIDs numbers the calls made on the endpoint's connections, so that
	// an id stays unique when a Client moves a queued call to a new
	// connection.
	callIDs atomic.Uint64

	// leave takes a closed connection out of the server's registry (or the
	// client's current connection) and its counts into the totals.
	leave func(*Conn)
	// client is set on a Client's endpoint, which takes the server's
	// version verdict (see skew.go).
	client bool
}

func newEndpoint(cfg config, memory int64, lg *slog.Logger) *endpoint {
	ep := &endpoint{cfg: cfg, log: logger{l: lg}}
	if memory <= 0 {
		memory = DefaultMessageMemory
	}
	ep.memory.limit = memory
	return ep
}

// route is what a name is registered to: exactly one of handle and call is
// set. wrapped is the handler inside the interceptors, nil without any.
type route struct {
	name    string // the registered name, so dispatch needs no conversion
	handle  Handler
	call    CallHandler
	wrapped MessageFunc
	// typed is handle for a handler registered with On: it decodes with
	// the Decoder of the message being dispatched, which spares a pooled
	// one. Dispatch uses it when no interceptor wraps the route.
	typed typedHandler
}

// typedHandler is a typed message handler given the Decoder to read its
// payload with.
type typedHandler func(ctx context.Context, c *Conn, payload []byte, d *Decoder) error

// typedRegistrar is a Registrar that takes a typed handler beside the
// plain one (Server and Client); On falls back to Handle on any other.
type typedRegistrar interface {
	handleTyped(name string, h Handler, typed typedHandler) error
}

func (ep *endpoint) register(name string, r route) error {
	if name == "" {
		return errors.New("ambigen: empty message name")
	}
	if isReserved(name) {
		return fmt.Errorf("ambigen: %q: names starting with %q are reserved for ambigen's own messages", name, ReservedPrefix)
	}
	if r.handle == nil && r.call == nil {
		return fmt.Errorf("ambigen: nil handler for %q", name)
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	var old map[string]route
	if p := ep.routes.Load(); p != nil {
		old = *p
	}
	if _, dup := old[name]; dup {
		return fmt.Errorf("%w: %q", ErrDuplicateHandler, name)
	}
	next := make(map[string]route, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	r.name = name
	next[name] = ep.wrapRoute(r)
	ep.routes.Store(&next)
	return nil
}

// lookup finds the route for name without allocating.
func (ep *endpoint) lookup(name []byte) (route, bool) {
	p := ep.routes.Load()
	if p == nil {
		return route{}, false
	}
	r, ok := (*p)[string(name)]
	return r, ok
}

// hook runs one of the user's hooks; a panic in it is recovered, counted
// and logged, so that it costs neither the process nor the connection.
func (ep *endpoint) hook(name string, fn func()) {
	defer func() {
		if v := recover(); v != nil {
			ep.stats.hookPanics.Add(1)
			ep.log.Warn("ambigen: hook panicked", "hook", name, "panic", fmt.Sprint(v))
		}
	}()
	fn()
}
