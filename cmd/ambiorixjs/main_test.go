package main

import (
	"bytes"
	"os"
	"os/exec"
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
		{"build", "-typecheck", "maybe"},
		{"build", "-typecheck", "off", "-tsc", "tsc"},
	} {
		if code, _, stderr := runCmd(t, args...); code != 2 || !strings.Contains(stderr, "usage") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and the usage", args, code, stderr)
		}
	}
}

// repoTSC is the TypeScript compiler that npm ci installs in ts/; without it the type-check
// tests fail under CI and are skipped, loudly, elsewhere.
func repoTSC(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "ts", "node_modules", ".bin", "tsc"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		msg := "ts/node_modules/.bin/tsc is missing: run npm ci in ts/ (scripts/install-deps does)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPED, NOT PASSED: " + msg)
	}
	return p
}

// TestBuildTypeChecks: a page with a type error is not bundled when a compiler is found, found
// the way a user's project has one (node_modules/.bin/tsc above the entry); without a compiler the
// build says that nothing was checked, and -typecheck=require turns that into a failure.
func TestBuildTypeChecks(t *testing.T) {
	tsc := repoTSC(t)
	project := t.TempDir()
	// A PATH with node (which runs tsc) and nothing else: only node_modules/.bin or -tsc can
	// provide a compiler.
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed to run tsc: %v", err)
	}
	noPath := t.TempDir()
	if err := os.Symlink(node, filepath.Join(noPath, "node")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", noPath)
	web := filepath.Join(project, "web")
	for _, dir := range []string{web, filepath.Join(project, "static")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	page := filepath.Join(web, "page.ts")
	out := filepath.Join(project, "static", "page.js")
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(page, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bad := "const n: number = \"ten\";\nconsole.log(n.toFixed(1));\n"
	good := "const n: number = 10;\nconsole.log(n.toFixed(1));\n"

	// No compiler anywhere: bundled, and stderr says plainly that it was not checked.
	write(bad)
	code, _, stderr := runCmd(t, "build", "-entry", page, "-out", out)
	if code != 0 || !strings.Contains(stderr, "NOT type-checked") {
		t.Errorf("build without a compiler: exit %d, stderr:\n%s", code, stderr)
	}
	os.Remove(out)
	code, _, stderr = runCmd(t, "build", "-typecheck", "require", "-entry", page, "-out", out)
	if code != 1 || !strings.Contains(stderr, "-typecheck=require") {
		t.Errorf("-typecheck=require without a compiler: exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("-typecheck=require without a compiler still wrote the bundle")
	}

	// The project's own node_modules/.bin/tsc is found from the entry's folder upward.
	bin := filepath.Join(project, "node_modules", ".bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(tsc, filepath.Join(bin, "tsc")); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCmd(t, "build", "-typecheck", "require", "-entry", page, "-out", out)
	if code != 1 || !strings.Contains(stderr, "does not type-check") || !strings.Contains(stderr, "TS2322") {
		t.Errorf("a type error: exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a page with a type error was bundled")
	}
	write(good)
	if code, _, stderr = runCmd(t, "build", "-entry", page, "-out", out); code != 0 || stderr != "" {
		t.Errorf("a correct page: exit %d, stderr:\n%s", code, stderr)
	}

	// A tsconfig.json above the entry is the project's: its settings apply (here, a rule the
	// strict defaults do not have).
	write("export function f(unused: number): number {\n  return 1;\n}\n")
	cfg := `{"compilerOptions": {"strict": true, "noUnusedParameters": true, "noEmit": true, "module": "ESNext", "moduleResolution": "bundler", "target": "ES2020"}, "include": ["web/*.ts"]}`
	if err := os.WriteFile(filepath.Join(project, "tsconfig.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr = runCmd(t, "build", "-entry", page, "-out", out); code != 1 || !strings.Contains(stderr, "TS6133") {
		t.Errorf("the project's tsconfig.json was not used: exit %d, stderr:\n%s", code, stderr)
	}
	// -typecheck=off bundles without asking anyone.
	if code, _, stderr = runCmd(t, "build", "-typecheck", "off", "-entry", page, "-out", out); code != 0 || stderr != "" {
		t.Errorf("-typecheck=off: exit %d, stderr:\n%s", code, stderr)
	}
	// -tsc names the compiler explicitly; one that does not exist is an error.
	if code, _, stderr = runCmd(t, "build", "-tsc", filepath.Join(noPath, "tsc"), "-entry", page, "-out", out); code != 1 || !strings.Contains(stderr, "-tsc") {
		t.Errorf("-tsc naming no file: exit %d, stderr:\n%s", code, stderr)
	}
}
