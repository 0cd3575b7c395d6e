package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// needTool returns the path of a tool the page tests run; without it they cannot run, which is a
// failure under CI and a loud skip elsewhere.
func needTool(t *testing.T, path, hint string) string {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if p, err := exec.LookPath(path); err == nil {
		return p
	}
	msg := path + " is missing: " + hint
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPING: " + msg)
	return ""
}

// TestPageTypeChecks runs tsc over the page script, which is what proves the page uses the
// generated client correctly: a wrong message name or payload type fails here.
func TestPageTypeChecks(t *testing.T) {
	tsc := needTool(t, filepath.Join(repoRoot(t), "ts", "node_modules", ".bin", "tsc"), "run `npm ci` in ts/ (scripts/install-deps does)")
	cmd := exec.Command(tsc, "-p", "web")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tsc -p examples/chat/web: %v\n%s", err, out)
	}
}

// TestBundleIsCurrent rebuilds static/app.js the way go:generate does and compares it with the
// committed file, so that the page a user runs is the page the tests type-check.
func TestBundleIsCurrent(t *testing.T) {
	gobin := needTool(t, "go", "the go command builds the bundle")
	out := filepath.Join(t.TempDir(), "app.js")
	cmd := exec.Command(gobin, "run", "../../cmd/ambiorixjs", "build", "-entry", "web/app.ts", "-out", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the page bundle: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("static", "app.js"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("static/app.js is stale (%d bytes committed, %d bytes built): run `go generate ./examples/chat`", len(got), len(want))
	}
}
