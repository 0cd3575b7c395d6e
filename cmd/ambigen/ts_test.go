package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the module root, seen from this package's directory.
var repoRoot = filepath.Join("..", "..")

// findTool returns the path of a tool from ts/node_modules/.bin (where CI's
// `npm ci` puts it) or from the env var named env. Without it the test
// fails in CI and is skipped, loudly, elsewhere.
func findTool(t *testing.T, name, env string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	p, err := filepath.Abs(filepath.Join(repoRoot, "ts", "node_modules", ".bin", name))
	if err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := name + " not found in ts/node_modules/.bin (run npm ci in ts/) and " + env + " is not set"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED, NOT PASSED: " + msg)
	return ""
}

// copyTSRuntime copies the TypeScript client runtime (ts/src without the generated client) to dir,
// so that goldens are checked against the real runtime the generated code will run on.
func copyTSRuntime(t *testing.T, dir string) {
	t.Helper()
	srcs, err := filepath.Glob(filepath.Join(repoRoot, "ts", "src", "*.ts"))
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no TypeScript runtime sources in ts/src: %v", err)
	}
	for _, src := range srcs {
		copyFile(t, src, filepath.Join(dir, filepath.Base(src)))
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTypeScriptGoldens type-checks every TypeScript golden against the
// declarations of Contract B under a strict config, together with the
// files of testdata/tsexpect whose @ts-expect-error lines prove that wrong
// directions and payloads do not compile (tsc fails on an unused one).
func TestTypeScriptGoldens(t *testing.T) {
	tsc := findTool(t, "tsc", "AMBIGEN_TSC")
	tmp := t.TempDir()
	copyTSRuntime(t, filepath.Join(tmp, "tsruntime"))
	copyFile(t, filepath.Join("testdata", "tsexpect", "tsconfig.json"), filepath.Join(tmp, "tsconfig.json"))
	copyFile(t, filepath.Join("testdata", "tsexpect", "package.json"), filepath.Join(tmp, "package.json"))
	n := 0
	for _, dir := range cases(t) {
		golden := filepath.Join(dir, "schema.ts.golden")
		if _, err := os.Stat(golden); err != nil {
			continue
		}
		copyFile(t, golden, filepath.Join(tmp, "cases", filepath.Base(dir), "schema.ts"))
		n++
		uses := filepath.Join("testdata", "tsexpect", filepath.Base(dir)+".ts")
		if _, err := os.Stat(uses); err == nil {
			copyFile(t, uses, filepath.Join(tmp, "cases", filepath.Base(dir), "uses.ts"))
		}
	}
	if n == 0 {
		t.Fatal("no TypeScript goldens")
	}
	cmd := exec.Command(tsc, "-p", filepath.Join(tmp, "tsconfig.json"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tsc: %v\n%s", err, out)
	}

	// The expectations must bite: the same uses against a schema where
	// the client may send "scores" make one @ts-expect-error unused.
	broken := filepath.Join(tmp, "cases", "everything", "schema.ts")
	data, _ := os.ReadFile(broken)
	mutated := strings.Replace(string(data), "clientToServer: {\n", "clientToServer: {\n    scores: Record<string, number>;\n", 1)
	if mutated == string(data) {
		t.Fatal("could not mutate the everything golden")
	}
	if err := os.WriteFile(broken, []byte(mutated), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tsc, "-p", filepath.Join(tmp, "tsconfig.json")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Unused '@ts-expect-error' directive") {
		t.Fatalf("tsc accepted a client that may send scores; the @ts-expect-error lines prove nothing:\n%s", out)
	}
}

// TestCommittedTypeScriptWithRuntime type-checks the committed
// ts/src/gen/messages.ts with the real runtime in ts/src, strictly.
func TestCommittedTypeScriptWithRuntime(t *testing.T) {
	tsc := findTool(t, "tsc", "AMBIGEN_TSC")
	gen, err := filepath.Abs(filepath.Join(repoRoot, "ts", "src", "gen", "messages.ts"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(repoRoot, "ts", "src", "index.ts")); err != nil {
		t.Fatalf("ts/src/index.ts is missing: %v", err)
	}
	cfg := map[string]any{
		"compilerOptions": map[string]any{
			"target": "ES2020", "lib": []string{"ES2020", "DOM"}, "module": "NodeNext", "moduleResolution": "NodeNext",
			"strict": true, "noUnusedLocals": true, "noUnusedParameters": true, "verbatimModuleSyntax": true,
			"isolatedModules": true, "types": []string{}, "noEmit": true,
		},
		"files": []string{gen},
	}
	data, _ := json.Marshal(cfg)
	tmp := t.TempDir()
	if err := os.WriteFile(filepath.Join(tmp, "tsconfig.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tsc, "-p", filepath.Join(tmp, "tsconfig.json")).CombinedOutput(); err != nil {
		t.Fatalf("tsc on ts/src/gen/messages.ts: %v\n%s", err, out)
	}
}

// TestRuntimeCopy generates with -ts-runtime-copy and type-checks the result strictly with nothing
// else on disk: the generated file must find the whole client in the copy beside it. The copy is
// part of -check like every other output.
func TestRuntimeCopy(t *testing.T) {
	tsc := findTool(t, "tsc", "AMBIGEN_TSC")
	tmp := t.TempDir()
	schema := filepath.Join("testdata", "cases", "everything", "schema.yaml")
	args := []string{"-schema", schema, "-ts-out", filepath.Join(tmp, "web", "gen"), "-ts-runtime-copy"}
	if code, _, errOut := runCLI(args...); code != 0 {
		t.Fatalf("ambigen -ts-runtime-copy: exit %d\n%s", code, errOut)
	}
	generated, err := os.ReadFile(filepath.Join(tmp, "web", "gen", "schema.ts"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(generated), `from "./ambigen-client/index.js";`) {
		t.Errorf("the generated file does not import the copy:\n%.600s", generated)
	}
	for _, f := range []string{"index.js", "index.d.ts", "client.js", "client.d.ts", "decode.js", "typed.js"} {
		data, err := os.ReadFile(filepath.Join(tmp, "web", "gen", "ambigen-client", f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), runtimeCopyHeader) {
			t.Errorf("%s does not start with the DO NOT EDIT header", f)
		}
	}
	// A page that uses the generated client, compiled as a user's bundler project would be.
	page := "import { connect } from \"./gen/schema.js\";\nconst c = connect({ url: \"ws://127.0.0.1:1/\" });\nc.close();\n"
	if err := os.WriteFile(filepath.Join(tmp, "web", "page.ts"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tsc, "--noEmit", "--strict", "--target", "ES2020", "--module", "ESNext", "--moduleResolution", "bundler",
		"--lib", "ES2020,DOM", "page.ts")
	cmd.Dir = filepath.Join(tmp, "web")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tsc on a page using the copied runtime: %v\n%s", err, out)
	}

	if code, out, errOut := runCLI(append(args, "-check")...); code != 0 {
		t.Fatalf("-check after generating: exit %d\n%s%s", code, out, errOut)
	}
	os.Remove(filepath.Join(tmp, "web", "gen", "ambigen-client", "decode.js"))
	if code, _, errOut := runCLI(append(args, "-check")...); code != 1 || !strings.Contains(errOut, "decode.js is stale") {
		t.Errorf("-check with a copied file missing: exit %d\n%s", code, errOut)
	}

	// The copy takes the place of the import; both at once, or a copy without TypeScript, is a usage error.
	if code, _, _ := runCLI(append(args, "-ts-runtime-import", "x")...); code != 2 {
		t.Errorf("-ts-runtime-copy with -ts-runtime-import: exit %d, want 2", code)
	}
	if code, _, _ := runCLI("-schema", schema, "-go-out", tmp, "-go-package", "example.com/x", "-ts-runtime-copy"); code != 2 {
		t.Errorf("-ts-runtime-copy without -ts-out: exit %d, want 2", code)
	}
}
