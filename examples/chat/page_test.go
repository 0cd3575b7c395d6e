package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ambigen/ambigen/internal/testkit"
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
	tsc := needTool(t, filepath.Join(testkit.RepoRoot(t), "ts", "node_modules", ".bin", "tsc"), "run `npm ci` in ts/ (scripts/install-deps does)")
	cmd := exec.Command(tsc, "-p", "web")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tsc -p examples/chat/web: %v\n%s", err, out)
	}
}

// TestBundleIsCurrent asks ambiorixjs whether the committed static/app.js matches a fresh build
// of web/app.ts (the go:generate line with -check), so that the page a user runs is the page the
// tests type-check.
func TestBundleIsCurrent(t *testing.T) {
	gobin := needTool(t, "go", "the go command builds the bundle")
	// TestPageTypeChecks type-checks the page; this test is about the bundle's bytes only.
	cmd := exec.Command(gobin, "run", "../../cmd/ambiorixjs", "build", "-check", "-typecheck", "off", "-entry", "web/app.ts", "-out", "static/app.js")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("static/app.js is not a fresh build of web/app.ts (%v); run `go generate ./examples/chat`\n%s", err, msg)
	}
}
