package compat

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ambigen/ambigen/internal/testkit"
	"github.com/ambigen/ambigen/jsclient"
)

// startTimeout bounds how long R may take to load httpuv and open its port. It takes about a
// second; the margin is for a machine shared with other builds.
const startTimeout = 20 * time.Second

// rServer is one running server.R.
type rServer struct {
	addr   string // 127.0.0.1:port
	stderr *syncBuffer
}

func (r *rServer) wsURL() string   { return "ws://" + r.addr + "/" }
func (r *rServer) httpURL() string { return "http://" + r.addr + "/" }

// syncBuffer collects R's stderr, written by exec's copying goroutine and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	rCheckOnce sync.Once
	rMissing   string // why R cannot run here; empty when it can
)

// requireR returns the path of Rscript, or ends the test when R with httpuv and jsonlite is not
// installed: a failure under CI, where scripts/install-deps should have installed it, and a
// loud skip elsewhere, so that nobody mistakes a skip for a pass.
func requireR(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("Rscript")
	rCheckOnce.Do(func() {
		if err != nil {
			rMissing = "Rscript not found on PATH"
			return
		}
		check := exec.Command(path, "--vanilla", "-e",
			`quit(status = !all(sapply(c("httpuv", "jsonlite"), requireNamespace, quietly = TRUE)))`)
		if out, err := check.CombinedOutput(); err != nil {
			rMissing = fmt.Sprintf("R lacks httpuv or jsonlite (%v) %s", err, out)
		}
	})
	if rMissing != "" {
		msg := rMissing + ": run compat/rserver/install-r.sh"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPED, NOT PASSED: the R compatibility tests did not run: " + msg)
	}
	return path
}

// startR starts server.R on a free loopback port, serving the Ambiorix documentation's chat page
// at "/" and our ambiorix.js at "/static/ambiorix.js", and waits until it listens. R is killed
// when the test ends; its stderr is shown if the test failed.
func startR(t *testing.T) *rServer {
	t.Helper()
	rscript := requireR(t)
	root := testkit.RepoRoot(t)
	script := filepath.Join(root, "compat", "rserver", "server.R")
	page := filepath.Join(root, "examples", "chat", "templates", "ambiorix-chat.html")
	static := t.TempDir()
	// The same bytes as the committed jsclient/ambiorix.js, which the package embeds.
	if err := jsclient.WriteFile(filepath.Join(static, jsclient.ScriptName)); err != nil {
		t.Fatal(err)
	}

	// The port is found by Go and handed to R, so it could be taken in between by another
	// process; R then fails to listen and the next attempt takes another port.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		srv, err := launchR(t, rscript, script, port, page, static)
		if err == nil {
			return srv
		}
		lastErr = err
	}
	t.Fatalf("server.R did not start: %v", lastErr)
	return nil
}

func launchR(t *testing.T, rscript, script string, port int, page, static string) (*rServer, error) {
	cmd := exec.Command(rscript, "--vanilla", script, strconv.Itoa(port), page, static)
	// Its own process group, so that cleanup reaches R even if Rscript's launcher forks it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	// A writer rather than StdoutPipe, so that Wait may run while the output is still read.
	ready := make(chan string, 1)
	cmd.Stdout = &readyWriter{ready: ready}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	kill := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}

	select {
	case addr := <-ready:
		srv := &rServer{addr: addr, stderr: stderr}
		t.Cleanup(func() {
			kill()
			if t.Failed() {
				t.Logf("server.R's stderr:\n%s", stderr.String())
			}
		})
		return srv, nil
	case <-exited:
		return nil, fmt.Errorf("Rscript exited before listening; stderr:\n%s", stderr.String())
	case <-time.After(startTimeout):
		kill()
		return nil, fmt.Errorf("not listening after %v; stderr:\n%s", startTimeout, stderr.String())
	}
}

// readyWriter receives R's stdout and reports the address of the first "listening <addr>" line.
type readyWriter struct {
	line  []byte
	ready chan<- string // buffered; sent to at most once
	done  bool
}

func (w *readyWriter) Write(p []byte) (int, error) {
	for _, b := range p {
		if w.done {
			break
		}
		if b != '\n' {
			w.line = append(w.line, b)
			continue
		}
		if addr, ok := strings.CutPrefix(string(w.line), "listening "); ok {
			w.ready <- addr
			w.done = true
		}
		w.line = w.line[:0]
	}
	return len(p), nil
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
