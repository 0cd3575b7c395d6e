// Package redistest runs a real redis-server (Debian's package, which
// scripts/install-deps installs) on a free loopback port, for the tests and
// benchmarks that join servers through Redis. There is no stand-in: a test
// that cannot start redis-server fails and says why.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is one redis-server process.
type Server struct {
	// Addr is host:port; URL is the same as redis://host:port.
	Addr, URL string
	bin, dir  string

	mu     sync.Mutex
	cmd    *exec.Cmd  // nil while stopped
	exited chan error // receives cmd's Wait once it exits
}

// Start runs redis-server for the test and stops it when the test ends. A
// machine without redis-server fails the test: it is never skipped.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := StartProcess(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartProcess runs redis-server with its working files in dir, without
// persistence, on a free loopback port, and waits until it answers.
func StartProcess(dir string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not found (%v): install Debian's redis-server (scripts/install-deps does)", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &Server{Addr: addr, URL: "redis://" + addr, bin: bin, dir: dir}
	if err := s.Restart(); err != nil {
		return nil, err
	}
	return s, nil
}

// Restart starts the server again on the same port after Stop (or starts
// it the first time).
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("redistest: the server is running")
	}
	_, port, _ := net.SplitHostPort(s.Addr)
	var lastErr error
	// The port was free when chosen and, after Stop, is the one the server
	// just let go; retry a moment in case the kernel still holds it.
	for attempt := 0; attempt < 20; attempt++ {
		cmd := exec.Command(s.bin,
			"--bind", "127.0.0.1", "--port", port,
			"--save", "", "--appendonly", "no", "--dir", s.dir,
			"--loglevel", "warning", "--logfile", "")
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			return err
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		err := waitReady(s.Addr, exited)
		if err == nil {
			s.cmd, s.exited = cmd, exited
			return nil
		}
		lastErr = fmt.Errorf("redis-server on %s: %v\n%s", s.Addr, err, out.String())
		_ = cmd.Process.Kill()
		<-exited
		time.Sleep(100 * time.Millisecond)
	}
	return lastErr
}

// waitReady polls the server with PING until it answers PONG, or fails
// when the process exits or 10 s pass.
func waitReady(addr string, exited chan error) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("exited: %v", err)
		default:
		}
		if reply, err := command(addr, "PING"); err == nil && reply == "+PONG" {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("did not answer PING within 10s")
}

// Stop kills the server at once, as a crash would: clients see their
// connections drop. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd, s.exited = nil, nil
}

// Publishes is how many PUBLISH commands the server has run since it
// started (INFO commandstats).
func (s *Server) Publishes() (int64, error) {
	reply, err := command(s.Addr, "INFO commandstats")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(reply, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_publish:calls=")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ",")
		return strconv.ParseInt(n, 10, 64)
	}
	return 0, nil // no PUBLISH yet
}

// Quiet waits until no PUBLISH has run for d (what nodes publish as they
// meet, say, has settled), or fails after timeout.
func (s *Server) Quiet(d, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	last, err := s.Publishes()
	if err != nil {
		return err
	}
	since := time.Now()
	for time.Since(since) < d {
		if time.Now().After(deadline) {
			return fmt.Errorf("redistest: PUBLISH commands did not stop for %v within %v", d, timeout)
		}
		time.Sleep(d / 10)
		n, err := s.Publishes()
		if err != nil {
			return err
		}
		if n != last {
			last, since = n, time.Now()
		}
	}
	return nil
}

// command sends one inline command on a new connection and returns the
// reply: a status line as it is ("+PONG"), a bulk string's contents.
func command(addr, cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "$") {
		return line, nil
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 {
		return "", fmt.Errorf("bad reply %q", line)
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}
