package bench

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	goruntime "runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ambigen/ambigen/runtime"
)

// BenchmarkServerPath is the echo of the post frame through each server's
// code with the network taken out, so that the servers' own work per
// message can be compared without the noise of the kernel's TCP and of a
// client process on the same cores. Each connection's socket is a fake:
// its Read waits until the benchmark hands it one client frame (a goroutine
// wake-up, as the network poller's), and every write the server makes is a
// real write system call to /dev/null, the cheapest there is, so both
// servers pay the same kernel cost per reply. The frames go to the
// connections in turn, so with 1,000 connections every message finds its
// connection's state cold in the cache, as on a busy server.
//
// cpu-ns/op is the process's CPU time per echo (the benchmark's own
// hand-out included, the same for both); compare ambigen's with gorilla's
// in the same run.
func BenchmarkServerPath(b *testing.B) {
	if err := RaiseFileLimit(); err != nil {
		b.Fatal(err)
	}
	for _, conns := range []int{1, 1000} {
		for _, kind := range []Kind{Gorilla, Ambigen} {
			b.Run(fmt.Sprintf("%s/conns=%d", kind, conns), func(b *testing.B) {
				benchServerPath(b, kind, conns)
			})
		}
	}
}

func benchServerPath(b *testing.B, kind Kind, conns int) {
	s, err := startServer(kind, runtime.Options{}, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	net := &fakeNet{frame: maskedFrame(postFrame), done: make(chan struct{})}
	socks := make([]*fakeSocket, conns)
	for i := range socks {
		if socks[i], err = net.socket(); err != nil {
			b.Fatal(err)
		}
		defer socks[i].devnull.Close()
		go s.http.Handler.ServeHTTP(&fakeHijack{conn: socks[i]}, upgradeRequest())
	}
	defer func() {
		for _, sk := range socks {
			close(sk.in)
		}
	}()
	if err := waitConns(s, conns, 10*time.Second); err != nil {
		b.Fatal(err)
	}
	net.target.Store(int64(b.N))
	goruntime.GC()
	b.ReportAllocs()
	before := readUsage()
	b.ResetTimer()
	for i := range b.N {
		socks[i%conns].in <- struct{}{}
	}
	select {
	case <-net.done:
	case <-time.After(time.Minute):
		b.Fatalf("%d replies to %d frames", net.replies.Load(), b.N)
	}
	b.StopTimer()
	after := readUsage()
	b.ReportMetric(float64(after.cpu-before.cpu)/float64(b.N), "cpu-ns/op")
}

// fakeNet counts the replies of all its sockets and closes done once
// target replies were written.
type fakeNet struct {
	frame   []byte
	target  atomic.Int64
	replies atomic.Int64
	done    chan struct{}
}

func (n *fakeNet) reply() {
	if n.replies.Add(1) == n.target.Load() {
		close(n.done)
	}
}

func (n *fakeNet) socket() (*fakeSocket, error) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &fakeSocket{net: n, in: make(chan struct{}), devnull: f, raw: raw}
	s.writeFn = s.writeFD
	return s, nil
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

// fakeSocket is a server's side of a connection. Each Read waits for the
// benchmark to send on in and then returns one client frame; once in is
// closed, Read reports the end of the stream. Writes go to /dev/null; the
// handshake response, written first, is not counted as a reply.
type fakeSocket struct {
	net     *fakeNet
	in      chan struct{}
	devnull *os.File
	raw     syscall.RawConn

	// Write's call to raw.Write, made without a closure per call.
	writeFn func(uintptr) bool
	p       []byte
	wn      int
	werr    error

	handshake atomic.Bool // the handshake response was written
}

func (s *fakeSocket) Read(p []byte) (int, error) {
	if _, ok := <-s.in; !ok {
		return 0, io.EOF
	}
	if len(p) < len(s.net.frame) {
		return 0, errors.New("fake socket: read buffer smaller than a frame")
	}
	return copy(p, s.net.frame), nil
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
	if !s.handshake.Load() {
		s.handshake.Store(true)
		return
	}
	s.net.reply()
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
