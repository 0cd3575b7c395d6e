package readmecheck

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.yaml.in/yaml/v3"

	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/jsclient"
	"github.com/ambigen/ambigen/runtime"
)

// root is the repository root, seen from this package's directory.
const root = "../.."

type block struct {
	lang, text string
	line       int // of the opening fence
}

// readmeBlocks returns every fenced code block of README.md in order.
func readmeBlocks(t *testing.T) []block {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []block
	var cur *block
	for i, line := range strings.Split(string(src), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &block{lang: strings.TrimPrefix(line, "```"), line: i + 1}
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	if cur != nil {
		t.Fatalf("README.md:%d: code block never closed", cur.line)
	}
	return blocks
}

// TestEveryBlockIsChecked makes sure that no code block is added to the README without a test
// below that proves it.
func TestEveryBlockIsChecked(t *testing.T) {
	for _, b := range readmeBlocks(t) {
		if kind(b) == "" {
			t.Errorf("README.md:%d: a %q block that no test checks; add a case to kind()", b.line, b.lang)
		}
	}
}

// kind classifies a block by what proves it.
func kind(b block) string {
	switch {
	case b.lang == "yaml":
		return "schema"
	case b.lang == "go" && strings.Contains(b.text, "//go:generate"):
		return "generate"
	case b.lang == "go":
		return "go-fragment"
	case b.lang == "ts":
		return "ts-fragment"
	case b.lang == "sh" && (strings.Contains(b.text, "go get -tool") || strings.Contains(b.text, "npm install")):
		return "own-module" // run by TestOwnModule
	case b.lang == "sh":
		return "shell"
	case b.lang == "" && strings.HasPrefix(b.text, "> {"):
		return "wire"
	case b.lang == "" && strings.HasPrefix(b.text, "schema/messages.yaml:"):
		return "diagnostics"
	case b.lang == "" && strings.HasPrefix(b.text, "schema/messages.yaml "):
		return "layout"
	}
	return ""
}

func blocksOf(t *testing.T, k string) []block {
	t.Helper()
	var out []block
	for _, b := range readmeBlocks(t) {
		if kind(b) == k {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		t.Fatalf("README.md has no %s block any more; remove its test or restore the block", k)
	}
	return out
}

// The schema shown is the project's schema, not a paraphrase of it.
func TestSchemaBlockIsTheProjectSchema(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(root, "schema", "messages.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var w, g any
	if err := yaml.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	for _, b := range blocksOf(t, "schema") {
		if err := yaml.Unmarshal([]byte(b.text), &g); err != nil {
			t.Fatalf("README.md:%d: %v", b.line, err)
		}
		if !reflect.DeepEqual(w, g) {
			t.Errorf("README.md:%d: the schema block differs from schema/messages.yaml", b.line)
		}
	}
}

// scratch makes a directory inside this package's testdata, so that code written there builds
// as part of this module (testdata is ignored by ./...).
func scratch(t *testing.T) string {
	t.Helper()
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("testdata", "build-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// The go:generate line of "Generating code in your own module", with the commands around it, is
// run as written in a module outside the repository by TestOwnModule (ownmodule_test.go).

// The Go fragments compile against the generated package and the runtime, inside a function
// that gives them the names the surrounding prose assumes (ctx, and pages for the Fallback).
func TestGoFragmentsCompile(t *testing.T) {
	dir := scratch(t)
	var src strings.Builder
	src.WriteString(`package fragments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ambigen/ambigen/broker/redis"
	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/metrics"
	"github.com/ambigen/ambigen/runtime"
)

var (
	_ = fmt.Sprint
	_ http.Handler
	_ json.RawMessage
	_ = errors.As
	_ = slog.Debug
	_ = strings.HasPrefix
	_ sync.Mutex
	_ = time.Now
	_ = prometheus.NewRegistry
	_ = promhttp.HandlerFor
	_ = metrics.New
	_ = gen.Serve
	_ = runtime.NewServer
	_ = redis.New
)
`)
	for i, b := range blocksOf(t, "go-fragment") {
		src.WriteString("\n// README.md:" + strconv.Itoa(b.line) + "\n")
		src.WriteString("func fragment" + strconv.Itoa(i) + "(ctx context.Context, pages http.Handler) error {\n")
		src.WriteString(b.text)
		src.WriteString("return nil\n}\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "fragments.go"), []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, dir, "go", "vet", ".")
}

// tsc finds the TypeScript compiler that scripts/test installs with npm ci in ts/.
func tsc(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(root, "ts", "node_modules", ".bin", "tsc"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("tsc is missing (%v): run npm ci in ts/ (scripts/install-deps does)", err)
		}
		t.Skip("SKIPPED, NOT PASSED: tsc is missing; run npm ci in ts/")
	}
	return p
}

// The TypeScript fragment type-checks under a strict config against the generated client.
func TestTSFragmentTypeChecks(t *testing.T) {
	compiler := tsc(t)
	for _, b := range blocksOf(t, "ts-fragment") {
		dir := scratch(t)
		// The fragment imports the generated client from beside the page, as a user's page would;
		// here that is the project's own generated client.
		genDir, err := filepath.Abs(filepath.Join(root, "ts", "src", "gen"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.text, `from "./gen/messages.js"`) {
			t.Fatalf("README.md:%d: the fragment no longer imports ./gen/messages.js", b.line)
		}
		b.text = strings.Replace(b.text, `"./gen/messages.js"`, strconv.Quote(genDir+"/messages.js"), 1)
		prelude := "declare function show(line: string): void;\ndeclare const input: HTMLInputElement;\n"
		if err := os.WriteFile(filepath.Join(dir, "page.ts"), []byte(b.text+prelude), 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, dir, compiler, "--noEmit", "--strict", "--target", "ES2022", "--module", "ES2022",
			"--moduleResolution", "bundler", "--lib", "ES2022,DOM", "page.ts")
	}
}

// The shell commands are the ones the rest of the suite runs: the example is started by
// examples/chat's TestCommand, scripts/test is this run itself; copy is run here, as written.
func TestShellBlocks(t *testing.T) {
	known := map[string]bool{
		"go run ./examples/chat": true,
		"scripts/test":           true,
		// examples/chat's TestCommandTwoNodes runs these, on free ports and a test redis-server.
		"go run ./examples/chat -addr 127.0.0.1:3001 -redis redis://127.0.0.1:6379\ngo run ./examples/chat -addr 127.0.0.1:3002 -redis redis://127.0.0.1:6379": true,
	}
	for _, b := range blocksOf(t, "shell") {
		cmdline := strings.TrimSpace(b.text)
		switch {
		case known[cmdline]:
		case cmdline == "go run ./cmd/ambiorixjs copy static/ambiorix.js":
			dir := t.TempDir()
			bin := filepath.Join(dir, "ambiorixjs")
			run(t, root, "go", "build", "-o", bin, "./cmd/ambiorixjs")
			run(t, dir, bin, "copy", "static/ambiorix.js")
			got, err := os.ReadFile(filepath.Join(dir, "static", "ambiorix.js"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, jsclient.Script()) {
				t.Errorf("README.md:%d: the copied script is not the embedded one", b.line)
			}
		case cmdline == "go run ./cmd/ambigen breaking -against HEAD~1 schema/messages.yaml":
			checkBreakingAgainst(t, b, cmdline)
		default:
			t.Errorf("README.md:%d: no test runs %q", b.line, cmdline)
		}
	}
}

// The diagnostics shown are what ambigen prints for a schema with those mistakes.
func TestDiagnosticsBlock(t *testing.T) {
	bad := `messages:
  chat: {from: both, payload: ChatMsg}
  add: {from: both, payload: {a: int, b: int}, reply: int}
  close: {from: client, payload: string, dco: Closes the chat.}
types:
  ChatMessage:
    fields:
      text: string
      title: {type: int, maxLength: 200}
`
	dir := t.TempDir()
	bin := filepath.Join(dir, "ambigen")
	run(t, root, "go", "build", "-o", bin, "./cmd/ambigen")
	if err := os.MkdirAll(filepath.Join(dir, "schema"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "schema", "messages.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-schema", "schema/messages.yaml", "-go-out", "out")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("ambigen on a bad schema: want exit status 1, got %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
		t.Errorf("ambigen wrote output for a bad schema")
	}
	for _, b := range blocksOf(t, "diagnostics") {
		if string(out) != b.text {
			t.Errorf("README.md:%d: ambigen prints\n%s\nthe README shows\n%s", b.line, out, b.text)
		}
	}
}

// The call transcript is replayed against a server with the README's add handler; the replies
// must be the very bytes shown.
func TestWireBlock(t *testing.T) {
	rt := runtime.NewServer(runtime.Options{})
	api := gen.Serve(rt)
	api.HandleAdd(func(ctx context.Context, from *gen.Conn, req gen.AddRequest) (int64, error) {
		return req.A + req.B, nil
	})
	srv := startServer(t, rt)
	for _, b := range blocksOf(t, "wire") {
		ws, _, err := websocket.DefaultDialer.Dial(srv, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSuffix(b.text, "\n"), "\n") {
			switch {
			case strings.HasPrefix(line, "> "):
				if err := ws.WriteMessage(websocket.TextMessage, []byte(line[2:])); err != nil {
					t.Fatal(err)
				}
			case strings.HasPrefix(line, "< "):
				ws.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, got, err := ws.ReadMessage()
				if err != nil {
					t.Fatalf("README.md:%d: waiting for %s: %v", b.line, line[2:], err)
				}
				if string(got) != line[2:] {
					t.Errorf("README.md:%d: server sent\n%s\nthe README shows\n%s", b.line, got, line[2:])
				}
			default:
				t.Errorf("README.md:%d: a wire line starts with neither > nor <: %q", b.line, line)
			}
		}
		ws.Close()
	}
}

// Every path in the layout listing exists.
func TestLayoutBlock(t *testing.T) {
	for _, b := range blocksOf(t, "layout") {
		for _, line := range strings.Split(strings.TrimSpace(b.text), "\n") {
			for _, p := range strings.Split(strings.Fields(line)[0], ",") {
				if p = strings.TrimSpace(p); p == "" {
					continue
				}
				if _, err := os.Stat(filepath.Join(root, p)); err != nil {
					t.Errorf("README.md:%d: %s is listed but missing", b.line, p)
				}
			}
		}
	}
}

// startServer serves rt on a loopback port for the length of the test and returns its ws:// URL.
func startServer(t *testing.T, rt *runtime.Server) string {
	t.Helper()
	srv := httptest.NewServer(rt)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rt.Shutdown(ctx)
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
}

// The bundle sizes the README states are the committed bundles' sizes, minified and gzipped
// (gzip -9), rounded to a tenth of a kilobyte.
func TestBundleSizes(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	kb := func(n int) string { return strconv.FormatFloat(float64(n)/1000, 'f', 1, 64) + " KB" }
	gz := func(b []byte) int {
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		w.Write(b)
		w.Close()
		return buf.Len()
	}
	text := strings.Join(strings.Fields(string(src)), " ")
	script, module := jsclient.Script(), jsclient.Module()
	for _, want := range []string{
		"**" + kb(len(script)) + " minified, " + kb(gz(script)) + " gzipped** (`ambiorix.js`)",
		"`ambiorix.mjs`, which also carries the decoders the generated client uses, is " +
			strings.TrimSuffix(kb(len(module)), " KB") + " KB / " + kb(gz(module)) + ".",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("README.md should say %q (the sizes changed; update the README)", want)
		}
	}
}

// checkBreakingAgainst runs the README's schema check in this repository: it must compare (exit
// 0, or 1 when the last commit did break something) and print the fingerprints of both schemas.
// A clone without the previous commit (a shallow one) is compared against HEAD instead, which
// exercises the same path.
func checkBreakingAgainst(t *testing.T, b block, cmdline string) {
	t.Helper()
	args := strings.Fields(cmdline)[2:]
	if err := exec.Command("git", "-C", root, "rev-parse", "--verify", "-q", "HEAD~1").Run(); err != nil {
		t.Logf("README.md:%d: this clone has no HEAD~1; comparing against HEAD", b.line)
		args[3] = "HEAD"
	}
	cmd := exec.Command("go", append([]string{"run"}, args...)...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("README.md:%d: %v", b.line, err)
	}
	if code != 0 && code != 1 {
		t.Fatalf("README.md:%d: %s exited %d:\n%s%s", b.line, cmdline, code, out, stderr.String())
	}
	if !strings.Contains(stderr.String(), gen.Fingerprint) {
		t.Errorf("README.md:%d: the summary does not name the schema's fingerprint %s:\n%s", b.line, gen.Fingerprint, stderr.String())
	}
}
