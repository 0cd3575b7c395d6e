//go:build unix

package runtime

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rawClient is a WebSocket client written frame by frame, for what a
// well-behaved client never does: fragments that never end, invalid UTF-8,
// ping floods, not reading at all. It records every byte it reads.
type rawClient struct {
	nc  net.Conn
	br  *bufio.Reader
	rec strings.Builder
}

// dialRawTCP connects to a test server; rcvbuf > 0 fixes the socket's
// receive buffer before the connection is made.
func dialRawTCP(t testing.TB, url string, rcvbuf int) *rawClient {
	t.Helper()
	d := net.Dialer{}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
			return errors.Join(err, serr)
		}
	}
	nc, err := d.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	c := &rawClient{nc: nc, br: bufio.NewReaderSize(nc, 512)}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		line, err := c.br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	nc.SetReadDeadline(time.Time{})
	return c
}

// frame writes one masked frame.
func (c *rawClient) frame(op byte, fin bool, payload []byte) error {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	f := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n <= 0xFFFF:
		f = append(f, 0x80|126, byte(n>>8), byte(n))
	default:
		f = binary.BigEndian.AppendUint64(append(f, 0x80|127), uint64(n))
	}
	key := [4]byte{7, 1, 9, 3}
	f = append(f, key[:]...)
	for i, b := range payload {
		f = append(f, b^key[i%4])
	}
	_, err := c.nc.Write(f)
	return err
}

// next reads one server frame, within d.
func (c *rawClient) next(d time.Duration) (op byte, payload []byte, err error) {
	c.nc.SetReadDeadline(time.Now().Add(d))
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		if _, err := io.ReadFull(c.br, l[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		if _, err := io.ReadFull(c.br, l[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(l[:])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return 0, nil, err
	}
	return h[0] & 0x0f, payload, nil
}

// closeFrame reads until the server's close frame and returns its code
// and reason, answering pings on the way when pong is set.
func (c *rawClient) closeFrame(t testing.TB, d time.Duration, pong bool) (int, string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		op, p, err := c.next(time.Until(deadline))
		if err != nil {
			t.Fatalf("no close frame: %v", err)
		}
		switch op {
		case 0x8:
			if len(p) < 2 {
				return 1005, ""
			}
			return int(binary.BigEndian.Uint16(p)), string(p[2:])
		case 0x9:
			if pong {
				c.frame(0xA, true, p)
			}
		}
	}
}

// drain reads every byte until the server closes the socket.
func (c *rawClient) drain(d time.Duration) []byte {
	c.nc.SetReadDeadline(time.Now().Add(d))
	b, _ := io.ReadAll(c.br)
	return b
}

// startServerBuffers is startServer with every accepted socket's kernel
// send buffer fixed at sndbuf bytes, so that a peer that does not read
// blocks the server's writes quickly.
func startServerBuffers(t testing.TB, opts Options, setup func(s *Server), sndbuf int) *testServer {
	t.Helper()
	return startServerOn(t, opts, setup, func(ln net.Listener) net.Listener {
		return &sndbufListener{Listener: ln, size: sndbuf}
	})
}

// sndbufListener sets the send buffer of the sockets it accepts and hands
// them out unwrapped, so that the runtime still sees a *net.TCPConn.
type sndbufListener struct {
	net.Listener
	size int
}

func (l *sndbufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		if err := tc.SetWriteBuffer(l.size); err != nil {
			return nil, fmt.Errorf("SO_SNDBUF: %w", err)
		}
	}
	return c, nil
}
