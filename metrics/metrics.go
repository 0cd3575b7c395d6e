// Package metrics exports what an ambigen server (or client) does to
// Prometheus: connections, messages and bytes in and out by message name,
// handler and call latencies, call outcomes by code, errors by kind, and the
// closes and refusals of the runtime's limits.
//
// It is built on the runtime's extension points, so that the runtime itself
// does not depend on Prometheus: an Interceptor counts and times every
// message by name, and the endpoint's Stats are read at each scrape for the
// totals. Per-name series are made once per name and reused, so counting a
// message allocates nothing.
//
//	m := metrics.New(metrics.Options{})
//	m.Instrument(rt) // rt is a *runtime.Server (or *runtime.Client)
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(m)
//	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ambigen/ambigen/runtime"
)

// Options configures a Collector. The zero value is ready to use.
type Options struct {
	// Namespace prefixes every metric name. Defaults to "ambigen".
	Namespace string
	// ConstLabels are added to every series, to tell apart two collectors
	// registered in one registry (a server and a client, say).
	ConstLabels prometheus.Labels
	// Buckets are the upper bounds, in seconds, of the latency histograms.
	// Defaults to DefaultBuckets.
	Buckets []float64
	// MaxNames bounds how many message names get series of their own; the
	// messages of further names are counted under the name "other", so that
	// a program sending to many dynamic names cannot grow the registry
	// without bound. Defaults to 256. (Names a peer sends without a handler
	// never get a series: they are counted in unhandled_messages_total.)
	MaxNames int
}

// DefaultBuckets span a WebSocket handler's usual latencies, from 50 µs to
// about 13 s, each four times the last.
var DefaultBuckets = prometheus.ExponentialBuckets(50e-6, 4, 10)

// OtherName is the name label of messages past Options.MaxNames.
const OtherName = "other"

// Collector is a prometheus.Collector of one ambigen endpoint, and the
// runtime.Interceptor that feeds it. Register it with a Prometheus registry
// and attach it with Instrument. It is safe for concurrent use.
type Collector struct {
	maxNames int

	receivedMsgs, sentMsgs   *prometheus.CounterVec
	receivedBytes, sentBytes *prometheus.CounterVec
	handlerSeconds           *prometheus.HistogramVec
	callSeconds              *prometheus.HistogramVec
	calls                    *prometheus.CounterVec

	mu    sync.Mutex                         // serialises adding names
	made  int                                // series made so far; under mu
	names atomic.Pointer[map[string]*series] // copy-on-write: lookups take no lock

	stats  atomic.Pointer[func() runtime.Stats]
	totals []total
	errors *prometheus.Desc
}

// series are the per-name series of one name, made once.
type series struct {
	received, sent           prometheus.Counter
	receivedBytes, sentBytes prometheus.Counter
	handler, call            prometheus.Observer
	handledOK, madeOK        prometheus.Counter
	name                     string
}

// total is one series read from runtime.Stats at each scrape.
type total struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(runtime.Stats) uint64
}

// New returns a Collector; attach it to a server or client with Instrument.
func New(opts Options) *Collector {
	ns := opts.Namespace
	if ns == "" {
		ns = "ambigen"
	}
	buckets := opts.Buckets
	if len(buckets) == 0 {
		buckets = DefaultBuckets
	}
	c := &Collector{maxNames: opts.MaxNames}
	if c.maxNames <= 0 {
		c.maxNames = 256
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help, ConstLabels: opts.ConstLabels}, labels)
	}
	histogram := func(name, help string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: name, Help: help, Buckets: buckets, ConstLabels: opts.ConstLabels}, []string{"name"})
	}
	c.receivedMsgs = counter("messages_received_total", "Messages and call requests received that have a handler, by message name.", "name")
	c.sentMsgs = counter("messages_sent_total", "Messages and call requests sent, by message name; a broadcast counts once per recipient.", "name")
	c.receivedBytes = counter("received_bytes_total", "Bytes of the messages counted in messages_received_total, by message name.", "name")
	c.sentBytes = counter("sent_bytes_total", "Bytes of the messages counted in messages_sent_total, by message name; a broadcast counts once per recipient.", "name")
	c.handlerSeconds = histogram("handler_duration_seconds", "Time handlers took, messages and calls, by message name (interceptors after this one included).")
	c.callSeconds = histogram("call_duration_seconds", "Time calls this side made waited for their reply, by message name.")
	c.calls = counter("calls_total", `Calls by message name, side ("handled": received and answered here; "made": sent from here) and outcome code ("ok" or the error code).`, "name", "side", "code")

	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(ns, "", name), help, labels, opts.ConstLabels)
	}
	add := func(name, help string, kind prometheus.ValueType, value func(runtime.Stats) uint64) {
		c.totals = append(c.totals, total{desc(name, help), kind, value})
	}
	add("connections_total", "Connections accepted (or dialled) so far.", prometheus.CounterValue, func(s runtime.Stats) uint64 { return s.Connections })
	add("connections_active", "Connections open now.", prometheus.GaugeValue, func(s runtime.Stats) uint64 { return s.Active })
	add("frames_received_total", "WebSocket messages read, bad and unhandled ones included.", prometheus.CounterValue, func(s runtime.Stats) uint64 { return s.MessagesIn })
	add("frames_sent_total", "WebSocket messages accepted for writing, replies and broadcasts included.", prometheus.CounterValue, func(s runtime.Stats) uint64 { return s.MessagesOut })
	add("unhandled_messages_total", "Messages and calls no handler took.", prometheus.CounterValue, func(s runtime.Stats) uint64 { return s.Unhandled })
	add("refused_upgrades_total", "Upgrades refused with 401 or 403 (Authenticate, or the Origin check).", prometheus.CounterValue, func(s runtime.Stats) uint64 { return s.Refused })
	add("rate_limited_messages_total", "Messages and pings refused by the rate limit.", prometheus.CounterValue, func(s runtime.Stats) uint64 { return s.RateLimited })
	add("rate_limit_closes_total", "Connections closed for exceeding their rate limit.", prometheus.CounterValue, func(s runtime.Stats) uint64 { return s.RateLimitCloses })
	add("slow_consumer_closes_total", "Connections closed because they did not keep up with what was sent to them.", prometheus.CounterValue, func(s runtime.Stats) uint64 { return s.SlowConsumers })
	add("overloaded_closes_total", "Connections closed with 1013 because the message memory budget was exhausted.", prometheus.CounterValue, func(s runtime.Stats) uint64 { return s.Overloaded })
	add("message_timeout_closes_total", "Connections closed because a message was unfinished after MessageTimeout.", prometheus.CounterValue, func(s runtime.Stats) uint64 { return s.TimedOut })
	add("hook_panics_total", "Panics recovered from hooks.", prometheus.CounterValue, func(s runtime.Stats) uint64 { return s.HookPanics })
	c.errors = desc("errors_total", "Bad input and failed handlers, by kind.", "kind")
	return c
}

// Endpoint is what Instrument attaches to: a *runtime.Server or a
// *runtime.Client.
type Endpoint interface {
	Use(interceptors ...runtime.Interceptor)
	Stats() runtime.Stats
}

// Instrument installs the collector's interceptor on e and reads e's Stats
// at each scrape. Call it once, before serving or dialling; a Collector
// watches one endpoint.
func (c *Collector) Instrument(e Endpoint) {
	stats := e.Stats
	c.stats.Store(&stats)
	e.Use(c)
}

// series returns the series of name, made on first use.
func (c *Collector) series(name string) *series {
	if p := c.names.Load(); p != nil {
		if s, ok := (*p)[name]; ok {
			return s
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[string]*series
	if p := c.names.Load(); p != nil {
		old = *p
		if s, ok := old[name]; ok {
			return s
		}
	}
	label := name
	switch {
	case !utf8.ValidString(name):
		label = "invalid"
	case c.made >= c.maxNames:
		label = OtherName
	}
	s, ok := old[label]
	if !ok {
		c.made++
		s = &series{
			name:          label,
			received:      c.receivedMsgs.WithLabelValues(label),
			sent:          c.sentMsgs.WithLabelValues(label),
			receivedBytes: c.receivedBytes.WithLabelValues(label),
			sentBytes:     c.sentBytes.WithLabelValues(label),
			handler:       c.handlerSeconds.WithLabelValues(label),
			call:          c.callSeconds.WithLabelValues(label),
			handledOK:     c.calls.WithLabelValues(label, "handled", "ok"),
			madeOK:        c.calls.WithLabelValues(label, "made", "ok"),
		}
	} else if len(old) >= 4*c.maxNames {
		// A flood of names: the lookup stays bounded, each of them now
		// taking the lock instead.
		return s
	}
	next := make(map[string]*series, len(old)+2)
	for k, v := range old {
		next[k] = v
	}
	next[label] = s
	next[name] = s
	c.names.Store(&next)
	return s
}

// WrapReceive implements runtime.Interceptor: it counts each message and
// call received, its bytes and its handler's time, and a call's outcome.
func (c *Collector) WrapReceive(next runtime.MessageFunc) runtime.MessageFunc {
	return func(ctx context.Context, m runtime.Message) (json.RawMessage, error) {
		s := c.series(m.Name)
		s.received.Inc()
		s.receivedBytes.Add(float64(m.Size))
		start := time.Now()
		reply, err := next(ctx, m)
		s.handler.Observe(time.Since(start).Seconds())
		if m.Call {
			if err == nil {
				s.handledOK.Inc()
			} else {
				c.calls.WithLabelValues(s.name, "handled", handledCode(err)).Inc()
			}
		}
		return reply, err
	}
}

// WrapSend implements runtime.Interceptor: it counts each message and call
// sent (a broadcast once per recipient) and its bytes, and times a call
// until its reply.
func (c *Collector) WrapSend(next runtime.MessageFunc) runtime.MessageFunc {
	return func(ctx context.Context, m runtime.Message) (json.RawMessage, error) {
		s := c.series(m.Name)
		s.sent.Add(float64(m.Recipients))
		s.sentBytes.Add(float64(m.Size * m.Recipients))
		if !m.Call {
			return next(ctx, m)
		}
		start := time.Now()
		reply, err := next(ctx, m)
		s.call.Observe(time.Since(start).Seconds())
		if err == nil {
			s.madeOK.Inc()
		} else {
			c.calls.WithLabelValues(s.name, "made", madeCode(err)).Inc()
		}
		return reply, err
	}
}

// handledCode is the code the runtime answers a handler's error with.
func handledCode(err error) string {
	var ce *runtime.CallError
	var pe *runtime.PayloadError
	switch {
	case errors.As(err, &ce):
		return knownCode(ce.Code)
	case errors.As(err, &pe):
		return runtime.CodeInvalidArgument
	}
	return runtime.CodeInternal
}

// madeCode is the code of a call this side made that failed.
func madeCode(err error) string {
	var ce *runtime.CallError
	if errors.As(err, &ce) {
		return knownCode(ce.Code)
	}
	return runtime.CodeUnknown
}

// knownCode keeps the code label within the known set: a peer may send any
// code, and must not grow the registry.
func knownCode(code string) string {
	if runtime.IsKnownCode(code) {
		return code
	}
	return runtime.CodeUnknown
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, v := range c.vecs() {
		v.Describe(ch)
	}
	for _, t := range c.totals {
		ch <- t.desc
	}
	ch <- c.errors
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, v := range c.vecs() {
		v.Collect(ch)
	}
	p := c.stats.Load()
	if p == nil {
		return
	}
	st := (*p)()
	for _, t := range c.totals {
		ch <- prometheus.MustNewConstMetric(t.desc, t.kind, float64(t.value(st)))
	}
	for kind, n := range st.Errors {
		ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(n), kindLabel(kind))
	}
}

func (c *Collector) vecs() []prometheus.Collector {
	return []prometheus.Collector{c.receivedMsgs, c.sentMsgs, c.receivedBytes, c.sentBytes, c.handlerSeconds, c.callSeconds, c.calls}
}

// kindLabel is the label value of an error kind.
func kindLabel(k runtime.ErrorKind) string {
	switch k {
	case runtime.KindMalformed:
		return "malformed"
	case runtime.KindBinary:
		return "binary"
	case runtime.KindInvalidUTF8:
		return "invalid_utf8"
	case runtime.KindNotObject:
		return "not_object"
	case runtime.KindBadName:
		return "bad_name"
	case runtime.KindTooBig:
		return "too_big"
	case runtime.KindPayload:
		return "payload"
	case runtime.KindHandler:
		return "handler"
	case runtime.KindPanic:
		return "panic"
	case runtime.KindRateLimited:
		return "rate_limited"
	}
	return "kind_" + strconv.Itoa(int(k))
}

var (
	_ prometheus.Collector = (*Collector)(nil)
	_ runtime.Interceptor  = (*Collector)(nil)
)
