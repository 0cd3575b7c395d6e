package runtime

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// recordingConn keeps a copy of every byte the client reads off the socket.
type recordingConn struct {
	net.Conn
	mu  sync.Mutex
	got bytes.Buffer
}

func (r *recordingConn) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.mu.Lock()
	r.got.Write(p[:n])
	r.mu.Unlock()
	return n, err
}

// serverFrames splits what a server sent after its handshake into frames' opcodes.
func serverFrames(t *testing.T, stream []byte) []int {
	t.Helper()
	i := bytes.Index(stream, []byte("\r\n\r\n"))
	if i < 0 {
		t.Fatal("no handshake in the recorded stream")
	}
	b := stream[i+4:]
	var ops []int
	for len(b) >= 2 {
		op, n, hdr := int(b[0]&0x0f), uint64(b[1]&0x7f), 2
		switch n {
		case 126:
			if len(b) < 4 {
				return ops
			}
			n, hdr = uint64(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			if len(b) < 10 {
				return ops
			}
			n, hdr = binary.BigEndian.Uint64(b[2:]), 10
		}
		if b[1]&0x80 != 0 {
			t.Fatal("a server frame is masked")
		}
		if uint64(len(b)-hdr) < n {
			return ops // cut off by the socket's close
		}
		ops = append(ops, op)
		b = b[hdr+int(n):]
	}
	return ops
}

// TestNothingFollowsTheCloseFrame: while a server connection streams frames, the client closes.
// The server answers with its close frame, and no data frame may come after it (RFC 6455,
// section 5.5.1), even though data frames are written past gorilla.
func TestNothingFollowsTheCloseFrame(t *testing.T) {
	for round := range 20 {
		ts := startServer(t, Options{SendBuffer: 64 << 20}, func(s *Server) {
			s.Handle("go", func(ctx context.Context, c *Conn, _ json.RawMessage) error {
				go func() {
					for i := 0; c.Send("n", i) == nil; i++ {
						if i%32 == 0 {
							time.Sleep(50 * time.Microsecond)
						}
					}
				}()
				return nil
			})
		})
		var rec *recordingConn
		d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
			c, err := net.Dial(network, addr)
			if err != nil {
				return nil, err
			}
			rec = &recordingConn{Conn: c}
			return rec, nil
		}}
		ws, _, err := d.Dial(ts.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"name":"go","message":null,"isAmbiorix":true}`)); err != nil {
			t.Fatal(err)
		}
		for range 50 {
			if _, _, err := ws.ReadMessage(); err != nil {
				t.Fatal(err)
			}
		}
		if err := ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		// gorilla reads up to the close frame; whatever follows it stays on the socket, so read
		// that raw until the server hangs up.
		for {
			ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, _, err := ws.ReadMessage(); err != nil {
				break
			}
		}
		rec.Conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 64<<10)
		for {
			if _, err := rec.Read(buf); err != nil {
				break
			}
		}
		ws.Close()

		rec.mu.Lock()
		ops := serverFrames(t, rec.got.Bytes())
		rec.mu.Unlock()
		closeAt := -1
		for i, op := range ops {
			if op == websocket.CloseMessage {
				closeAt = i
				break
			}
		}
		if closeAt < 0 {
			t.Fatalf("round %d: the server never answered the close (%d frames)", round, len(ops))
		}
		for _, op := range ops[closeAt+1:] {
			if op == websocket.TextMessage || op == websocket.BinaryMessage || op == 0 {
				t.Fatalf("round %d: a data frame came after the server's close frame (frame %d of %d)", round, closeAt+1, len(ops))
			}
		}
	}
}
