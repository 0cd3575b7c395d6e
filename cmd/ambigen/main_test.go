package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/cases from the generator's output")

// caseConfig is how every golden case is generated: all outputs, into the
// case's own folder, with a fixed package path so output is comparable.
func caseConfig(dir string) config {
	return config{
		schema:    filepath.Join(dir, "schema.yaml"),
		goOut:     dir,
		goPackage: "github.com/ambigen/ambigen/cmd/ambigen/testdata/golden",
		goName:    "golden",
		tsOut:     dir,
		tsRuntime: "../../tsruntime/index.js",
		jsonOut:   filepath.Join(dir, "schema.json"),
	}
}

// goldenName maps an output file to its golden file: .golden keeps Go and
// TypeScript goldens away from gofmt, go vet and tsc globs.
func goldenName(path string) string { return path + ".golden" }

func cases(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("testdata/cases/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	return dirs
}

// TestGolden renders every case and compares each output, or the sorted
// diagnostics of an invalid schema, with its golden file.
func TestGolden(t *testing.T) {
	for _, dir := range cases(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			files, err := render(caseConfig(dir))
			if strings.HasPrefix(filepath.Base(dir), "err-") {
				if err == nil {
					t.Fatalf("schema rendered, want diagnostics")
				}
				compareGolden(t, filepath.Join(dir, "errors"), []byte(err.Error()+"\n"))
				return
			}
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if len(files) != 3 {
				t.Fatalf("rendered %d files, want Go, TypeScript and JSON Schema", len(files))
			}
			for _, f := range files {
				compareGolden(t, f.path, f.data)
			}
		})
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	golden := goldenName(path)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/ambigen -update to create it)", err)
	}
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", golden, diff)
	}
}

// TestDeterministic renders the richest case twice: output must depend on
// the schema and flags only (no map order, no time).
func TestDeterministic(t *testing.T) {
	dir := filepath.Join("testdata", "cases", "everything")
	a, err := render(caseConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		b, err := render(caseConfig(dir))
		if err != nil {
			t.Fatal(err)
		}
		for j := range a {
			if !bytes.Equal(a[j].data, b[j].data) {
				t.Fatalf("%s differs between two runs", a[j].path)
			}
		}
	}
}

// runCLI runs the command in-process and returns its exit code and output.
func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	tmp := t.TempDir()
	good := filepath.Join("testdata", "cases", "minimal", "schema.yaml")
	bad := filepath.Join("testdata", "cases", "err-unknown-type", "schema.yaml")
	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout+stderr
	}{
		{"help", []string{"-h"}, 0, "-check"},
		{"unknown flag", []string{"-nope"}, 2, "flag provided but not defined"},
		{"stray argument", []string{"-schema", good, "-ts-out", tmp, "extra"}, 2, "unexpected arguments"},
		{"no output", []string{"-schema", good}, 2, "nothing to do"},
		{"missing schema", []string{"-schema", filepath.Join(tmp, "none.yaml"), "-ts-out", tmp}, 1, "no such file"},
		{"schema errors", []string{"-schema", bad, "-ts-out", tmp}, 1, `unknown type "ChatMsg" (did you mean "ChatMessage"?)`},
		{"ok", []string{"-schema", good, "-ts-out", tmp}, 0, ""},
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
	// -h documents every flag.
	_, _, help := runCLI("-h")
	for _, f := range []string{"-schema", "-go-out", "-go-package", "-go-name", "-ts-out", "-ts-runtime-import", "-ts-runtime-copy", "-jsonschema-out", "-format-schema-out", "-check"} {
		if !strings.Contains(help, f) {
			t.Errorf("-h does not document %s", f)
		}
	}
}

// TestWriteAndCheck covers the write path end to end: a first run writes,
// -check then passes, a stale file makes -check fail with a diff, and a
// schema error leaves every existing file untouched.
func TestWriteAndCheck(t *testing.T) {
	tmp := t.TempDir()
	schema := filepath.Join(tmp, "messages.yaml")
	src, err := os.ReadFile(filepath.Join("testdata", "cases", "everything", "schema.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(schema, src, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-schema", schema, "-go-out", filepath.Join(tmp, "go"), "-go-package", "example.com/x/gen",
		"-ts-out", filepath.Join(tmp, "ts"), "-jsonschema-out", filepath.Join(tmp, "m.json"), "-format-schema-out", filepath.Join(tmp, "f.json")}
	if code, _, errOut := runCLI(args...); code != 0 {
		t.Fatalf("generate: exit %d: %s", code, errOut)
	}
	goFile := filepath.Join(tmp, "go", "messages.go")
	before, err := os.Stat(goFile)
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(append(args, "-check")...); code != 0 {
		t.Fatalf("-check after generate: exit %d: %s%s", code, out, errOut)
	}
	// Unchanged bytes are not rewritten.
	if code, _, _ := runCLI(args...); code != 0 {
		t.Fatal("second generate failed")
	}
	after, _ := os.Stat(goFile)
	if !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("unchanged %s was rewritten", goFile)
	}

	stale := filepath.Join(tmp, "ts", "messages.ts")
	data, _ := os.ReadFile(stale)
	if err := os.WriteFile(stale, bytes.Replace(data, []byte("export"), []byte("exported"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(append(args, "-check")...)
	name := strings.TrimPrefix(filepath.ToSlash(stale), "/")
	if code != 1 || !strings.Contains(errOut, "messages.ts is stale") {
		t.Errorf("-check on a stale file: exit %d, stderr:\n%s", code, errOut)
	}
	// A unified diff from the file on disk to what would be generated, and nothing else.
	header := "--- a/" + name + "\n+++ b/" + name + "\n@@ -"
	if !strings.HasPrefix(out, header) || !strings.Contains(out, "\n-exported ") || !strings.Contains(out, "\n+export ") {
		t.Errorf("-check on a stale file: stdout is not the expected unified diff:\n%s", out)
	}

	// A broken schema writes nothing, not even the files that would render.
	broken := bytes.Replace(src, []byte("messages:\n"), []byte("messages:\n  broken: {from: nowhere, payload: string}\n"), 1)
	if err := os.WriteFile(schema, broken, 0o644); err != nil {
		t.Fatal(err)
	}
	goBefore, _ := os.ReadFile(goFile)
	if code, _, errOut := runCLI(args...); code != 1 || !strings.Contains(errOut, `"nowhere"`) {
		t.Fatalf("broken schema: exit %d: %s", code, errOut)
	}
	goAfter, _ := os.ReadFile(goFile)
	if !bytes.Equal(goBefore, goAfter) {
		t.Error("a failing run changed an output file")
	}
}

// TestCommittedOutputIsCurrent is the -check of the test command: the
// committed gen/, ts/src/gen/ and JSON Schemas match the schema.
func TestCommittedOutputIsCurrent(t *testing.T) {
	root := filepath.Join("..", "..")
	cmd := exec.Command("go", "run", "../cmd/ambigen", "-check",
		"-schema", "../schema/messages.yaml", "-go-out", ".", "-ts-out", "../ts/src/gen",
		"-ts-runtime-import", "../index.js", "-jsonschema-out", "messages.schema.json", "-format-schema-out", "../schema/ambigen.schema.json")
	cmd.Dir = filepath.Join(root, "gen")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("committed output is stale (run go generate ./...): %v\n%s", err, out)
	}
	// The go:generate line must be the command checked here.
	doc, err := os.ReadFile(filepath.Join(root, "gen", "doc.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "//go:generate go run "+strings.Join(cmd.Args[2:3], "")) ||
		!strings.Contains(string(doc), strings.Join(cmd.Args[4:], " ")) {
		t.Errorf("gen/doc.go's go:generate line differs from the checked command %q", cmd.Args)
	}
}
