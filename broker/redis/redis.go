// Package redis is a runtime.Broker on Redis pub/sub: every server of a
// cluster publishes to one Redis channel and subscribes to it, so that a
// broadcast (to everyone, a room or a user) is one PUBLISH however many
// nodes and connections it reaches.
//
//	b, err := redis.New("redis://127.0.0.1:6379", redis.Options{})
//	if err != nil { ... }
//	defer b.Close()
//	rt := runtime.NewServer(runtime.Options{Broker: b})
//	defer rt.Shutdown(ctx) // before b.Close
//
// Redis pub/sub stores nothing: a node that is not subscribed when a message
// is published never gets it. That matches the runtime's promise, at most
// once (see runtime.Broker). The client is rueidis: it reconnects by itself
// and resubscribes, and a server that lost Redis carries on for its own
// connections, counting what it could not publish, until Redis is back.
package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ambigen/ambigen/runtime"
	"github.com/redis/rueidis"
)

// DefaultChannel is the Redis channel of a cluster when Options.Channel is
// empty.
const DefaultChannel = "ambigen"

// Options configures a Broker. The zero value is ready to use.
type Options struct {
	// Channel is the Redis pub/sub channel the cluster's servers share.
	// Clusters that share one Redis need one each. Defaults to "ambigen".
	Channel string
	// DialTimeout bounds connecting to Redis. Defaults to 5 s.
	DialTimeout time.Duration
}

// Broker joins servers through Redis. It holds two connections: one that
// publishes (commands from concurrent callers share it, pipelined) and one
// that stays subscribed, so that delivering what arrives never holds up
// publishing. Safe for concurrent use.
type Broker struct {
	channel string
	pub     rueidis.Client
	sub     rueidis.Client
}

var _ runtime.Broker = (*Broker)(nil)

// New connects to the Redis server at url (redis://[user:password@]host:port[/db],
// or rediss:// for TLS). It fails when Redis cannot be reached now, so that
// a wrong address is found at start-up; after that the broker reconnects
// on its own.
func New(url string, opts Options) (*Broker, error) {
	co, err := rueidis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis broker: %w", err)
	}
	// Pub/sub and PUBLISH need no client-side cache.
	co.DisableCache = true
	co.Dialer.Timeout = opts.DialTimeout
	if co.Dialer.Timeout <= 0 {
		co.Dialer.Timeout = 5 * time.Second
	}
	// PUBLISH is not idempotent: a retry after a lost reply could deliver a
	// message twice, which the runtime's promise (at most once) rules out.
	co.DisableRetry = true
	pub, err := rueidis.NewClient(co)
	if err != nil {
		return nil, fmt.Errorf("redis broker: %w", err)
	}
	// The subscription, unlike PUBLISH, is retried: Receive then
	// reconnects and subscribes again by itself.
	co.DisableRetry = false
	sub, err := rueidis.NewClient(co)
	if err != nil {
		pub.Close()
		return nil, fmt.Errorf("redis broker: %w", err)
	}
	b := &Broker{channel: opts.Channel, pub: pub, sub: sub}
	if b.channel == "" {
		b.channel = DefaultChannel
	}
	return b, nil
}

// Publish sends each message with PUBLISH, in order, pipelined on one
// connection; with no messages it sends PING.
func (b *Broker) Publish(ctx context.Context, msgs ...[]byte) error {
	if len(msgs) == 0 {
		return b.pub.Do(ctx, b.pub.B().Ping().Build()).Error()
	}
	cmds := make(rueidis.Commands, len(msgs))
	for i, m := range msgs {
		cmds[i] = b.pub.B().Publish().Channel(b.channel).Message(rueidis.BinaryString(m)).Build()
	}
	var errs []error
	for _, r := range b.pub.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("redis broker: %d of %d messages not published: %w", len(errs), len(msgs), errs[0])
	}
	return nil
}

// Subscribe subscribes to the channel and delivers every message until ctx
// ends. After a lost connection rueidis subscribes again (ready runs then);
// what was published meanwhile is lost.
func (b *Broker) Subscribe(ctx context.Context, ready func(), deliver func(msg []byte)) error {
	hooked := rueidis.WithOnSubscriptionHook(ctx, func(s rueidis.PubSubSubscription) {
		if s.Kind == "subscribe" && s.Channel == b.channel {
			ready()
		}
	})
	err := b.sub.Receive(hooked, b.sub.B().Subscribe().Channel(b.channel).Build(), func(m rueidis.PubSubMessage) {
		deliver([]byte(m.Message))
	})
	if ctx.Err() != nil {
		return nil
	}
	if err == nil {
		err = errors.New("unsubscribed")
	}
	return fmt.Errorf("redis broker: subscription ended: %w", err)
}

// Close closes the connections. Shut the servers that use the broker down
// first.
func (b *Broker) Close() {
	b.pub.Close()
	b.sub.Close()
}
