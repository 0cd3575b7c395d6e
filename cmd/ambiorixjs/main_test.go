package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ambigen/ambigen/jsclient"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// The committed jsclient bundles must be exactly what the sources build to,
// the way ambigen -check guards generated code.
func TestCommittedClientBundlesAreCurrent(t *testing.T) {
	if code, _, stderr := runCmd(t, "build", "-check"); code != 0 {
		t.Fatalf("build -check: exit %d\n%s", code, stderr)
	}
}

func TestBuildEntry(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "page.ts")
	lib := filepath.Join(dir, "lib.ts")
	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(lib, "export const greet = (who: string): string => `hello ${who}`;\n")
	write(src, "import { greet } from \"./lib.js\";\n(globalThis as { out?: string }).out = greet(\"page\");\n")

	out := filepath.Join(dir, "static", "app.js")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, "build", "-entry", src, "-out", out)
	if code != 0 {
		t.Fatalf("build: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "wrote "+out) {
		t.Errorf("stdout %q does not name the file", stdout)
	}
	first, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// An IIFE, minified, with the imported module bundled in and the types gone.
	text := string(first)
	if !strings.HasPrefix(text, "(()=>{") || !strings.Contains(text, "hello ") || strings.Contains(text, ": string") {
		t.Errorf("unexpected bundle:\n%s", text)
	}

	// Unchanged sources: nothing is rewritten and -check agrees.
	if code, stdout, _ = runCmd(t, "build", "-entry", src, "-out", out); code != 0 || stdout != "" {
		t.Errorf("second build: exit %d, stdout %q; want 0 and silence", code, stdout)
	}
	if code, _, stderr = runCmd(t, "build", "-check", "-entry", src, "-out", out); code != 0 {
		t.Errorf("-check on a current bundle: exit %d\n%s", code, stderr)
	}

	// A changed source makes the committed bundle stale, and -check says so without writing.
	write(lib, "export const greet = (who: string): string => `bonjour ${who}`;\n")
	code, _, stderr = runCmd(t, "build", "-check", "-entry", src, "-out", out)
	if code != 1 || !strings.Contains(stderr, "stale") {
		t.Errorf("-check on a stale bundle: exit %d\n%s", code, stderr)
	}
	if now, _ := os.ReadFile(out); !bytes.Equal(now, first) {
		t.Error("-check wrote the file")
	}

	// .mjs means an ES module; -minify=false keeps it readable.
	mjs := filepath.Join(dir, "app.mjs")
	if code, _, stderr = runCmd(t, "build", "-entry", src, "-out", mjs, "-minify=false"); code != 0 {
		t.Fatalf("build esm: exit %d\n%s", code, stderr)
	}
	if b, _ := os.ReadFile(mjs); strings.Contains(string(b), "(() =>") || !strings.Contains(string(b), "bonjour") || !strings.Contains(string(b), "// lib.ts\n") {
		t.Errorf("unexpected esm bundle:\n%s", b)
	}

	// A source error names the file and fails.
	write(lib, "export const greet = (who: string): string => {\n")
	code, _, stderr = runCmd(t, "build", "-entry", src, "-out", out)
	if code != 1 || !strings.Contains(stderr, "lib.ts") {
		t.Errorf("broken source: exit %d\n%s", code, stderr)
	}
}

func TestCopy(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "static", "ambiorix.js")
	if code, _, stderr := runCmd(t, "copy", js); code != 0 {
		t.Fatalf("copy: exit %d\n%s", code, stderr)
	}
	if b, _ := os.ReadFile(js); !bytes.Equal(b, jsclient.Script()) {
		t.Error("copy did not write the script")
	}
	mjs := filepath.Join(dir, "ambiorix.mjs")
	if code, _, stderr := runCmd(t, "copy", "-module", mjs); code != 0 {
		t.Fatalf("copy -module: exit %d\n%s", code, stderr)
	}
	if b, _ := os.ReadFile(mjs); !bytes.Equal(b, jsclient.Module()) {
		t.Error("copy -module did not write the module")
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"bogus"},
		{"copy"},
		{"copy", "a", "b"},
		{"build", "-entry", "x.ts"},
		{"build", "-out", "x.js"},
		{"build", "-entry", "x.ts", "-out", "x.js", "-format", "cjs"},
		{"build", "-format", "esm"},
		{"build", "extra"},
		{"build", "-nope"},
	} {
		if code, _, stderr := runCmd(t, args...); code != 2 || !strings.Contains(stderr, "usage") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and the usage", args, code, stderr)
		}
	}
}
