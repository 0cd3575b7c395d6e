package runtime

import (
	"errors"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// The wire is where a connection's bytes leave the process. Every frame is
// complete when it reaches the wire: data frames as the envelope encoder
// built them (header and payload), control frames as the outbox built
// them. On a server connection the outbox is the only writer of the socket:
// gorilla/websocket is given the socket wrapped in a sockConn, whose Write
// hands gorilla's own frames (the close it sends on a protocol error) to
// the outbox instead of the socket. A frame can therefore never interleave
// with another, nothing follows the close frame, and a write that fails
// half-way ends the connection before anything else is written.

// errWouldBlock is tryWrite's answer when the socket cannot take (all of)
// the batch without waiting; what was written is consumed from it.
var errWouldBlock = errors.New("ambigen: write would block")

// wire writes batches of complete frames to one socket. Only the holder of
// the outbox's writer role calls it.
type wire interface {
	// tryWrite writes what the socket takes without waiting and consumes
	// it from bufs; errWouldBlock means some is left.
	tryWrite(bufs *net.Buffers) error
	// write writes all of bufs. It fails once the socket has taken no byte
	// for the write timeout, or when the socket fails.
	write(bufs *net.Buffers) error
	// shut closes the socket; a write in progress fails at once.
	shut()
}

// sockWire is the wire of a server connection: the hijacked socket itself.
type sockWire struct {
	conn    net.Conn
	timeout time.Duration
	nb      nonblocking // writes without waiting, where the platform allows
}

func newSockWire(conn net.Conn, timeout time.Duration) *sockWire {
	w := &sockWire{conn: conn, timeout: timeout}
	w.nb.init(conn)
	return w
}

func (w *sockWire) tryWrite(bufs *net.Buffers) error { return w.nb.write(bufs) }

func (w *sockWire) write(bufs *net.Buffers) error {
	for len(*bufs) > 0 {
		_ = w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
		n, err := bufs.WriteTo(w.conn)
		if err == nil {
			break
		}
		// A peer that reads slowly but steadily is not a slow consumer: the
		// deadline bounds the time without progress, not the whole batch.
		var ne net.Error
		if n > 0 && errors.As(err, &ne) && ne.Timeout() {
			continue
		}
		return err
	}
	// A deadline left in the past would fail the next write without waiting.
	_ = w.conn.SetWriteDeadline(time.Time{})
	return nil
}

func (w *sockWire) shut() { _ = w.conn.Close() }

// consume removes n written bytes from the front of bufs, as
// net.Buffers.WriteTo does.
func consume(bufs *net.Buffers, n int) {
	for len(*bufs) > 0 {
		b := (*bufs)[0]
		if len(b) > n {
			(*bufs)[0] = b[n:]
			return
		}
		n -= len(b)
		(*bufs)[0] = nil
		*bufs = (*bufs)[1:]
	}
}

// sockConn is the net.Conn that gorilla/websocket is given by the upgrade.
// Reads go to the socket. Writes go to the socket until the connection is
// attached to its outbox (gorilla writes the handshake response itself);
// from then on gorilla's only writes are control frames it makes on its own
// (the 1002 close of a protocol error), which are handed to the outbox so
// that they take their place in the one queue of the connection.
type sockConn struct {
	net.Conn
	owner atomic.Pointer[outbox]
}

func (s *sockConn) Write(p []byte) (int, error) {
	if o := s.owner.Load(); o != nil {
		o.foreign(p)
		return len(p), nil
	}
	return s.Conn.Write(p)
}

// SetWriteDeadline is gorilla's, which the wire replaces with its own.
func (s *sockConn) SetWriteDeadline(t time.Time) error {
	if s.owner.Load() != nil {
		return nil
	}
	return s.Conn.SetWriteDeadline(t)
}

func (s *sockConn) SetDeadline(t time.Time) error {
	if s.owner.Load() != nil {
		return s.Conn.SetReadDeadline(t)
	}
	return s.Conn.SetDeadline(t)
}

// gorillaWire is the wire of a client connection. Client frames are masked
// (RFC 6455, section 5.3), so they are written through gorilla, which masks
// them; gorilla's own write lock and its sticky write error give the same
// guarantees as the server's single door.
type gorillaWire struct {
	ws      *websocket.Conn
	timeout time.Duration
}

func (g *gorillaWire) tryWrite(*net.Buffers) error { return errWouldBlock }

func (g *gorillaWire) write(bufs *net.Buffers) error {
	for _, f := range *bufs {
		op, payload := splitFrame(f)
		deadline := time.Now().Add(g.timeout)
		var err error
		if op >= websocket.CloseMessage {
			err = g.ws.WriteControl(op, payload, deadline)
		} else {
			_ = g.ws.SetWriteDeadline(deadline)
			err = g.ws.WriteMessage(op, payload)
		}
		if err != nil {
			return err
		}
	}
	*bufs = (*bufs)[:0]
	return nil
}

func (g *gorillaWire) shut() { _ = g.ws.NetConn().Close() }

// splitFrame returns the opcode and payload of an unmasked, unfragmented
// frame built by this package.
func splitFrame(f []byte) (op int, payload []byte) {
	op = int(f[0] & 0x0f)
	switch f[1] & 0x7f {
	case 126:
		return op, f[4:]
	case 127:
		return op, f[10:]
	}
	return op, f[2:]
}

// Control frames, built as the server writes them (unmasked).
var pingFrame = []byte{0x80 | websocket.PingMessage, 0}

func controlFrame(op int, payload []byte) []byte {
	if len(payload) > maxControlPayload {
		payload = payload[:maxControlPayload]
	}
	f := make([]byte, 0, 2+len(payload))
	return append(append(f, 0x80|byte(op), byte(len(payload))), payload...)
}

// maxControlPayload is the largest payload of a control frame (RFC 6455,
// section 5.5); a close frame's reason is what is left after the code.
const (
	maxControlPayload = 125
	maxCloseReason    = maxControlPayload - 2
)

// rawConnOf returns conn's file descriptor access, or nil when conn is not
// a plain socket (a TLS connection, a wrapper).
func rawConnOf(conn net.Conn) syscall.RawConn {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}
