package gen_test

import (
	"bufio"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/runtime"
	"github.com/google/go-cmp/cmp"
)

// tool finds a program for the end-to-end test: tsc in ts/node_modules (as
// CI's npm ci installs it), node on PATH. Missing tools fail in CI and skip,
// loudly, elsewhere.
func tool(t *testing.T, name string) string {
	t.Helper()
	var p string
	if name == "tsc" {
		if abs, err := filepath.Abs(filepath.Join("..", "ts", "node_modules", ".bin", "tsc")); err == nil {
			if _, err := os.Stat(abs); err == nil {
				p = abs
			}
		}
	} else if lp, err := exec.LookPath(name); err == nil {
		p = lp
	}
	if p == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (run npm ci in ts/)", name)
		}
		t.Skipf("SKIPPED, NOT PASSED: %s not found (run npm ci in ts/)", name)
	}
	return p
}

// TestRoundTripOverWebSocket runs the generated Go server API and the
// generated TypeScript client (on the real runtimes of both languages) over
// loopback: a ChatMessage with every optional field goes Go -> TypeScript
// -> Go unchanged, and calls work in both directions.
func TestRoundTripOverWebSocket(t *testing.T) {
	tsc, node := tool(t, "tsc"), tool(t, "node")
	out := t.TempDir()
	client, _ := filepath.Abs(filepath.Join("..", "ts", "src", "gen", "messages.ts"))
	src, _ := filepath.Abs(filepath.Join("..", "ts", "src"))
	// Compile only the generated client and what it imports.
	cmd := exec.Command(tsc, "--strict", "--target", "ES2020", "--module", "NodeNext", "--moduleResolution", "NodeNext",
		"--lib", "ES2020,DOM", "--rootDir", src, "--outDir", out, client)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tsc: %v\n%s", err, b)
	}
	if err := os.WriteFile(filepath.Join(out, "package.json"), []byte(`{"type":"module"}`), 0o644); err != nil {
		t.Fatal(err)
	}

	srv := runtime.NewServer(runtime.Options{})
	api := gen.Serve(srv)
	mood := gen.MoodHappy
	sent := time.Date(2024, 5, 6, 7, 8, 9, 123000000, time.UTC)
	want := gen.ChatMessage{User: "ann", Text: "héllo <b> \"&\"", SentAt: &sent, Tags: []string{"a", "b"}, Mood: &mood}
	echoed := make(chan gen.ChatMessage, 1)
	confirmed := make(chan error, 1)
	api.OnGreeting(func(ctx context.Context, c *gen.Conn, msg string) {
		if err := c.SendPost(want); err != nil {
			t.Errorf("SendPost: %v", err)
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			r, err := c.Confirm(ctx, gen.ConfirmRequest{Question: "sure?"})
			if err == nil && !r.Ok {
				err = context.Canceled
			}
			confirmed <- err
		}()
	})
	api.OnPost(func(ctx context.Context, c *gen.Conn, msg gen.ChatMessage) { echoed <- msg })
	api.HandleAdd(func(ctx context.Context, c *gen.Conn, req gen.AddRequest) (int64, error) { return req.A + req.B, nil })
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(context.Background())

	script := `
const { connect } = await import(process.argv[1]);
const c = connect({ url: process.argv[2], reconnect: false });
c.on.post((m) => c.send.post(m));
c.handle.confirm((req) => ({ ok: req.question === "sure?" }));
c.send.greeting("ready");
const sum = await c.call.add({ a: 40, b: 2 }, { timeout: 5000 });
console.log("add=" + sum);
`
	mod := "file://" + filepath.ToSlash(filepath.Join(out, "gen", "messages.js"))
	ncmd := exec.Command(node, "--experimental-websocket", "--no-warnings", "--input-type=module", "-e", script, mod, "ws"+strings.TrimPrefix(hs.URL, "http")+"/")
	stdout, _ := ncmd.StdoutPipe()
	var stderr strings.Builder
	ncmd.Stderr = &stderr
	if err := ncmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { ncmd.Process.Kill(); ncmd.Wait() }()
	lines := make(chan string, 4)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()

	timeout := time.After(15 * time.Second)
	select {
	case got := <-echoed:
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Go -> TypeScript -> Go (-want +got):\n%s", diff)
		}
	case <-timeout:
		t.Fatalf("no echo from the TypeScript client; its stderr:\n%s", stderr.String())
	}
	select {
	case err := <-confirmed:
		if err != nil {
			t.Errorf("server -> client call confirm: %v", err)
		}
	case <-timeout:
		t.Fatal("confirm got no reply")
	}
	select {
	case l := <-lines:
		if l != "add=42" {
			t.Errorf("TypeScript printed %q, want add=42; stderr:\n%s", l, stderr.String())
		}
	case <-timeout:
		t.Fatalf("no add reply; stderr:\n%s", stderr.String())
	}
}
