package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// endpoint is what a Server and a Client share: the handler table, the
// normalised configuration, the counters and the rate-limited logger. Every
// connection points at the endpoint it belongs to.
type endpoint struct {
	cfg   config
	stats counters

	mu     sync.Mutex                       // serialises registrations
	routes atomic.Pointer[map[string]route] // copy-on-write: lookups take no lock

	warnMu         sync.Mutex
	warnTokens     float64
	warnLast       time.Time
	warnSuppressed int

	// leave removes a closed connection from the server's registry; nil on
	// a client.
	leave func(*Conn)
}

// route is what a name is registered to: exactly one of the two is set.
type route struct {
	name   string // the registered name, so dispatch needs no conversion
	handle Handler
	call   CallHandler
}

// connIDs numbers connections across the process.
var connIDs atomic.Uint64

func (ep *endpoint) register(name string, r route) error {
	if name == "" {
		return errors.New("ambigen: empty message name")
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
	next[name] = r
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

// Rate limit for Warn logs of bad input: a burst, then one per interval, so
// a misbehaving peer cannot flood the log.
const (
	warnBurst    = 10
	warnInterval = time.Second
)

func (ep *endpoint) warn(c *Conn, me *MessageError) {
	l := ep.cfg.logger
	if l == nil {
		return
	}
	ep.warnMu.Lock()
	now := time.Now()
	if ep.warnLast.IsZero() {
		ep.warnTokens = warnBurst
	} else {
		ep.warnTokens += float64(now.Sub(ep.warnLast)) / float64(warnInterval)
		if ep.warnTokens > warnBurst {
			ep.warnTokens = warnBurst
		}
	}
	ep.warnLast = now
	if ep.warnTokens < 1 {
		ep.warnSuppressed++
		ep.warnMu.Unlock()
		return
	}
	ep.warnTokens--
	suppressed := ep.warnSuppressed
	ep.warnSuppressed = 0
	ep.warnMu.Unlock()
	l.Warn("ambigen: bad input", "conn", c.id, "kind", me.Kind.String(), "name", me.Name, "err", me.Err, "suppressed", suppressed)
}

func (ep *endpoint) debug(msg string, args ...any) {
	if l := ep.cfg.logger; l != nil && l.Enabled(context.Background(), slog.LevelDebug) {
		l.Debug(msg, args...)
	}
}
