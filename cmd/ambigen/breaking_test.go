package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBreakingGolden runs `ambigen breaking` at both levels on every case
// of testdata/breaking (old.yaml, new.yaml) and compares the transcript
// (exit code and output of each run) with the case's want.golden.
func TestBreakingGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "breaking", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no breaking cases found: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var b strings.Builder
			for _, level := range []string{"wire", "source"} {
				args := []string{"breaking", "-level", level, filepath.Join(dir, "old.yaml"), filepath.Join(dir, "new.yaml")}
				code, out, errOut := runCLI(args...)
				if code == 2 || (code == 1 && out == "") {
					t.Fatalf("ambigen %s: exit %d, stderr:\n%s", strings.Join(args, " "), code, errOut)
				}
				fmt.Fprintf(&b, "# -level %s: exit %d\n%s", level, code, out)
			}
			compareGolden(t, filepath.Join(dir, "want"), []byte(b.String()))
		})
	}
}

func TestBreakingUsage(t *testing.T) {
	old := filepath.Join("testdata", "breaking", "message-removed", "old.yaml")
	new := filepath.Join("testdata", "breaking", "message-removed", "new.yaml")
	bad := filepath.Join("testdata", "cases", "err-unknown-type", "schema.yaml")
	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout+stderr
	}{
		{"help", []string{"breaking", "-h"}, 0, "-against"},
		{"one file", []string{"breaking", old}, 2, "want 2 schema files, got 1"},
		{"three files", []string{"breaking", old, new, new}, 2, "want 2 schema files, got 3"},
		{"against with two files", []string{"breaking", "-against", "HEAD", old, new}, 2, "want 1 schema files, got 2"},
		{"bad level", []string{"breaking", "-level", "bytes", old, new}, 2, `-level is "bytes"`},
		{"missing file", []string{"breaking", old, filepath.Join(t.TempDir(), "none.yaml")}, 1, "no such file"},
		{"schema errors", []string{"breaking", bad, new}, 1, `unknown type "ChatMsg"`},
		{"flags after the files", []string{"breaking", old, new, "-level", "source"}, 1, "at the source level"},
		{"summary", []string{"breaking", old, new}, 1, "3 breaking changes at the wire level"},
		{"nothing breaks", []string{"breaking", old, old}, 0, "nothing breaks at the wire level; fingerprints "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			if !strings.Contains(out+errOut, tt.want) {
				t.Errorf("output lacks %q:\n%s%s", tt.want, out, errOut)
			}
		})
	}
}

// TestBreakingAgainst runs -against in a git repository made for the
// test: OLD is the committed schema, NEW the file in the work tree, and
// removals point into OLD as ref:path from the repository root.
func TestBreakingAgainst(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("SKIPPED, NOT PASSED: git is not installed")
	}
	repo := t.TempDir()
	gitIn := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	schema := filepath.Join(repo, "schema", "messages.yaml")
	write := func(src string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(schema), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(schema, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn("init", "-q")
	write("messages:\n  chat: {from: both, payload: string}\n  ping: {from: client, payload: int}\n")
	gitIn("add", ".")
	gitIn("commit", "-q", "-m", "first")
	write("messages:\n  chat: {from: both, payload: string}\n")
	gitIn("commit", "-q", "-am", "second")

	code, out, errOut := runCLI("breaking", "-against", "HEAD~1", schema)
	want := "HEAD~1:schema/messages.yaml:3:3: message-removed: message \"ping\" (from client) was removed; breaks old clients and generated source\n"
	if code != 1 || out != want {
		t.Errorf("-against HEAD~1: exit %d, stdout:\n%s\nwant exit 1 and:\n%s\nstderr:\n%s", code, out, want, errOut)
	}
	if code, out, errOut := runCLI("breaking", "-against", "HEAD", schema); code != 0 || out != "" {
		t.Errorf("-against HEAD: exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// An uncommitted change in the work tree is NEW.
	write("messages:\n  chat: {from: client, payload: string}\n")
	if code, out, _ := runCLI("breaking", "-against", "HEAD", schema); code != 1 || !strings.Contains(out, "message-direction-changed") {
		t.Errorf("-against HEAD with a changed work tree: exit %d, stdout:\n%s", code, out)
	}
	if code, _, errOut := runCLI("breaking", "-against", "no-such-ref", schema); code != 1 || !strings.Contains(errOut, "git show no-such-ref:./messages.yaml") {
		t.Errorf("unknown ref: exit %d, stderr:\n%s", code, errOut)
	}
	outside := filepath.Join(t.TempDir(), "messages.yaml")
	if err := os.WriteFile(outside, []byte("messages: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI("breaking", "-against", "HEAD", outside); code != 1 || !strings.Contains(errOut, "git rev-parse") {
		t.Errorf("file outside a repository: exit %d, stderr:\n%s", code, errOut)
	}
}
