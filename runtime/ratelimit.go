package runtime

import "time"

// limiter is one connection's inbound rate limit (see RateLimit): two
// token buckets filled continuously up to their burst, and the count of
// messages refused in a row. It belongs to the connection's reader.
type limiter struct {
	msgs, bytes float64 // tokens left
	last        mono    // zero before the first message
	refused     int32
}

// verdict is what the limiter says of one message.
type verdict uint8

const (
	allowed  verdict = iota
	refused          // drop (or answer) this message
	exceeded         // refused, and too many in a row: close the connection
)

// take charges one message of n bytes at now.
func (l *limiter) take(cfg *rateConfig, now mono, n int) verdict {
	if !cfg.on {
		return allowed
	}
	// now may lie up to a tick before an earlier now (see coarseClock):
	// last only moves forward, so that no time is credited twice.
	if l.last == 0 {
		l.msgs, l.bytes = cfg.burst, cfg.burstBytes
		l.last = now
	} else if now > l.last {
		dt := time.Duration(now - l.last).Seconds()
		l.msgs = min(cfg.burst, l.msgs+dt*cfg.messages)
		l.bytes = min(cfg.burstBytes, l.bytes+dt*cfg.bytes)
		l.last = now
	}
	okMsgs := cfg.messages == 0 || l.msgs >= 1
	okBytes := cfg.bytes == 0 || l.bytes >= float64(n)
	if okMsgs && okBytes {
		if cfg.messages > 0 {
			l.msgs--
		}
		if cfg.bytes > 0 {
			l.bytes -= float64(n)
		}
		l.refused = 0
		return allowed
	}
	l.refused++
	if int(l.refused) >= cfg.maxRefused {
		return exceeded
	}
	return refused
}
