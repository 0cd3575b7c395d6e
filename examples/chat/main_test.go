package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/runtime"
	"github.com/gorilla/websocket"
)

// goBuild compiles a package of this example into a temporary binary, as `go run` would.
func goBuild(t *testing.T, pkg string) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build %s: %v", pkg, err)
	}
	bin := filepath.Join(t.TempDir(), "prog")
	if out, err := exec.Command(gobin, "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// TestCommandStopsCleanlyOnInterrupt runs the example as `go run ./examples/chat` does, on a
// free port, and checks that it prints the address, serves it, and that Ctrl-C closes the
// WebSockets with 1001 and exits with status 0.
func TestCommandStopsCleanlyOnInterrupt(t *testing.T) {
	bin := goBuild(t, ".")
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})

	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`).FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	var addr string
	select {
	case addr = <-urls:
	case <-time.After(10 * time.Second):
		t.Fatalf("the command never printed its address; stderr: %s", stderr.String())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	closed := make(chan error, 1)
	cl, err := gen.Dial(ctx, "ws://"+addr+"/", runtime.ClientOptions{
		OnDisconnect: func(_ *runtime.Conn, err error) { closed <- err },
	})
	if err != nil {
		t.Fatalf("dial the running example: %v", err)
	}
	defer cl.Close()
	if sum, err := cl.Add(ctx, gen.AddRequest{A: 20, B: 22}); err != nil || sum != 42 {
		t.Fatalf("Add(20, 22) = %d, %v", sum, err)
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-closed:
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("the client's connection closed with %v, want close code 1001 (going away)", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the client's connection was not closed within 5s of Ctrl-C")
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after Ctrl-C: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the command did not exit within 10s of Ctrl-C")
	}
	if !strings.Contains(stderr.String(), "msg=stopped") {
		t.Errorf("the log does not say it stopped:\n%s", stderr.String())
	}
}
