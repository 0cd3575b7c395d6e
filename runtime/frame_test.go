package runtime

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The server writes frames it built itself (header and envelope in one
// buffer); a plain gorilla client must read every length form: 7-bit,
// 16-bit and 64-bit, at their boundaries.
func TestServerFrameLengths(t *testing.T) {
	ts := startServer(t, Options{}, func(s *Server) {
		s.Handle("size", func(ctx context.Context, c *Conn, p json.RawMessage) error {
			n, err := DecodePayload(Int, p)
			if err != nil {
				return err
			}
			return Send(c, "blob", String, strings.Repeat("x", int(n)))
		})
	})
	ws := dialRaw(t, ts.url)
	// overhead is the envelope around the text, so these texts give
	// envelopes of 125, 126, 65535, 65536 and 1 MiB + 1 bytes.
	const overhead = len(`{"name":"blob","message":"","isAmbiorix":true}`)
	for _, size := range []int{125, 126, 0xFFFF, 0x10000, 1<<20 + 1} {
		send(t, ws, `{"name":"size","message":`+itoa(int64(size-overhead))+`,"isAmbiorix":true}`)
		got := readText(t, ws, 5*time.Second)
		if len(got) != size {
			t.Fatalf("envelope of %d bytes arrived as %d", size, len(got))
		}
		want := `{"name":"blob","message":"` + strings.Repeat("x", size-overhead) + `","isAmbiorix":true}`
		if got != want {
			t.Fatalf("envelope of %d bytes arrived changed", size)
		}
	}
}
