package runtime

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// logger is the endpoint's view of Options.Logger. Every line is
// rate-limited per level (a burst, then one per interval, with the count of
// what was dropped in between), is one line, and carries no more than
// maxLogValue bytes of any value, so that a peer cannot flood the log or
// write into it at length. Errors are logged by their text alone: some
// errors (jx's, through go-faster/errors) print stack frames and file
// paths when formatted with %+v, as slog's text handler does.
type logger struct {
	l     *slog.Logger
	warn  logBucket
	debug logBucket
}

const (
	logBurst    = 10
	logInterval = time.Second
	// maxLogValue bounds each value on a log line.
	maxLogValue = 200
)

type logBucket struct {
	mu         sync.Mutex
	tokens     float64
	last       time.Time
	suppressed int
}

// allow takes a token; it returns false when the line must be dropped, and
// otherwise how many lines were dropped since the last one written.
func (b *logBucket) allow(now time.Time) (int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last.IsZero() {
		b.tokens = logBurst
	} else {
		b.tokens = min(logBurst, b.tokens+float64(now.Sub(b.last))/float64(logInterval))
	}
	b.last = now
	if b.tokens < 1 {
		b.suppressed++
		return 0, false
	}
	b.tokens--
	n := b.suppressed
	b.suppressed = 0
	return n, true
}

func (g *logger) enabled(level slog.Level) bool {
	return g != nil && g.l != nil && g.l.Enabled(context.Background(), level)
}

func (g *logger) Debug(msg string, args ...any) { g.log(slog.LevelDebug, &g.debug, msg, args) }
func (g *logger) Warn(msg string, args ...any)  { g.log(slog.LevelWarn, &g.warn, msg, args) }

func (g *logger) log(level slog.Level, b *logBucket, msg string, args []any) {
	if !g.enabled(level) {
		return
	}
	suppressed, ok := b.allow(time.Now())
	if !ok {
		return
	}
	attrs := make([]slog.Attr, 0, len(args)/2+1)
	for i := 0; i+1 < len(args); i += 2 {
		key, _ := args[i].(string)
		attrs = append(attrs, logAttr(key, args[i+1]))
	}
	if suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed", suppressed))
	}
	g.l.LogAttrs(context.Background(), level, msg, attrs...)
}

// logAttr keeps numbers as they are and turns everything else into a
// clipped one-line string.
func logAttr(key string, v any) slog.Attr {
	switch v := v.(type) {
	case int:
		return slog.Int(key, v)
	case int64:
		return slog.Int64(key, v)
	case uint64:
		return slog.Uint64(key, v)
	case bool:
		return slog.Bool(key, v)
	case time.Duration:
		return slog.Duration(key, v)
	case string:
		return slog.String(key, clip(v, maxLogValue))
	case []byte:
		return slog.String(key, clip(string(v), maxLogValue))
	case error:
		if v == nil {
			return slog.String(key, "")
		}
		return slog.String(key, clip(v.Error(), maxLogValue))
	case nil:
		return slog.String(key, "")
	}
	return slog.String(key, "?")
}

// clip returns s on one line and at most limit bytes long (plus a note of
// the full length when cut), cut on a rune boundary.
func clip(s string, limit int) string {
	if head, cut := cutAt(s, limit); cut {
		s = head + cutNote(len(s))
	}
	if strings.ContainsAny(s, "\n\r") {
		s = lineBreaks.Replace(s)
	}
	return s
}

var lineBreaks = strings.NewReplacer("\n", `\n`, "\r", `\r`)
