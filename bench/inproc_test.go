package bench

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ambigen/ambigen/runtime"
)

// BenchmarkServerPath is one echo of the post frame through each server's
// code, with the network taken out: the socket is a fake that hands the
// reader one client frame per Read, and every write the server makes is a
// real write system call to /dev/null (the cheapest there is), so both
// servers pay the same kernel cost per reply. What is left is each
// server's own work per message (gorilla: read the frame, write it back;
// ambigen: read, parse, route, decode, check, run the handler, encode,
// write), which the loopback echo measures under the noise of the kernel's
// TCP and of the client process. Compare ambigen's ns/op with gorilla's in
// the same run.
func BenchmarkServerPath(b *testing.B) {
	for _, kind := range []Kind{Gorilla, Ambigen} {
		b.Run(string(kind), func(b *testing.B) {
			s, err := startServer(kind, runtime.Options{}, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer s.close()
			conn, err := newFakeSocket(maskedFrame(postFrame), b.N)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.devnull.Close()
			b.ReportAllocs()
			b.ResetTimer()
			go s.http.Handler.ServeHTTP(&fakeHijack{conn: conn}, upgradeRequest())
			<-conn.drained
			b.StopTimer()
			if conn.writes < b.N {
				b.Fatalf("%d replies to %d frames", conn.writes, b.N)
			}
		})
	}
}

// maskedFrame is p as a client sends it: one final text frame, masked.
func maskedFrame(p []byte) []byte {
	f := []byte{0x81}
	switch {
	case len(p) < 126:
		f = append(f, 0x80|byte(len(p)))
	case len(p) < 1<<16:
		f = append(f, 0x80|126)
		f = binary.BigEndian.AppendUint16(f, uint16(len(p)))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(len(p)))
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	f = append(f, key[:]...)
	for i, c := range p {
		f = append(f, c^key[i%4])
	}
	return f
}

func upgradeRequest() *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	return r
}

// fakeSocket is a server's side of a connection whose client sends frame n
// times, one frame per Read, and then waits for the replies to stop: the
// next Read after the last frame blocks until every reply was written, then
// reports the end of the stream. Writes go to /dev/null; the handshake
// response, written first, is not counted as a reply.
type fakeSocket struct {
	frame   []byte
	left    int // frames still to hand out
	n       int
	devnull *os.File
	raw     syscall.RawConn

	// Write's call to raw.Write, made without a closure per call.
	writeFn func(uintptr) bool
	p       []byte
	wn      int
	werr    error

	mu        sync.Mutex
	handshake bool // the handshake response was written
	writes    int  // replies written (one system call each)
	replied   chan struct{}
	drained   chan struct{}
}

func newFakeSocket(frame []byte, n int) (*fakeSocket, error) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	raw, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	s := &fakeSocket{frame: frame, left: n, n: n, devnull: f, raw: raw,
		replied: make(chan struct{}), drained: make(chan struct{})}
	s.writeFn = s.writeFD
	return s, nil
}

func (s *fakeSocket) Read(p []byte) (int, error) {
	if s.left == 0 {
		<-s.replied
		close(s.drained)
		return 0, io.EOF
	}
	if len(p) < len(s.frame) {
		return 0, errors.New("fake socket: read buffer smaller than a frame")
	}
	s.left--
	return copy(p, s.frame), nil
}

// Write is gorilla's path to the socket (the ambigen server writes through
// SyscallConn instead): one write system call per call, as net.Conn's.
func (s *fakeSocket) Write(p []byte) (int, error) {
	s.p = p
	if err := s.raw.Write(s.writeFn); err != nil {
		return 0, err
	}
	s.count()
	return s.wn, s.werr
}

func (s *fakeSocket) writeFD(fd uintptr) bool {
	s.wn, s.werr = syscall.Write(int(fd), s.p)
	return true
}

// count notes one write; the first is the handshake response.
func (s *fakeSocket) count() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.handshake {
		s.handshake = true
		return
	}
	s.writes++
	if s.writes == s.n {
		close(s.replied)
	}
}

// SyscallConn gives the ambigen server the socket's descriptor, which it
// writes with write(2) or writev(2) directly; every call is counted.
func (s *fakeSocket) SyscallConn() (syscall.RawConn, error) { return countingRaw{s}, nil }

type countingRaw struct{ s *fakeSocket }

func (r countingRaw) Control(f func(uintptr)) error { return r.s.raw.Control(f) }
func (r countingRaw) Read(f func(uintptr) bool) error {
	return errors.New("fake socket: no raw reads")
}
func (r countingRaw) Write(f func(uintptr) bool) error {
	err := r.s.raw.Write(f)
	r.s.count()
	return err
}

func (s *fakeSocket) Close() error                       { return nil }
func (s *fakeSocket) LocalAddr() net.Addr                { return fakeAddr{} }
func (s *fakeSocket) RemoteAddr() net.Addr               { return fakeAddr{} }
func (s *fakeSocket) SetDeadline(t time.Time) error      { return nil }
func (s *fakeSocket) SetReadDeadline(t time.Time) error  { return nil }
func (s *fakeSocket) SetWriteDeadline(t time.Time) error { return nil }

type fakeAddr struct{}

func (fakeAddr) Network() string { return "tcp" }
func (fakeAddr) String() string  { return "127.0.0.1:1" }

// fakeHijack is the http.ResponseWriter of the upgrade request: it hands
// the fake socket over as the hijacked connection.
type fakeHijack struct {
	conn *fakeSocket
	h    http.Header
}

func (w *fakeHijack) Header() http.Header {
	if w.h == nil {
		w.h = http.Header{}
	}
	return w.h
}
func (w *fakeHijack) Write(p []byte) (int, error) { return len(p), nil }
func (w *fakeHijack) WriteHeader(int)             {}
func (w *fakeHijack) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.conn, bufio.NewReadWriter(bufio.NewReader(w.conn), bufio.NewWriter(w.conn)), nil
}
