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
