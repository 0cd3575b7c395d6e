package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const modulePath = "github.com/ambigen/ambigen/cmd/ambigen/"

// TestGoGoldens compiles every Go golden inside this module, against the
// real runtime: with go vet, a program using the API as intended, the
// generated codecs' own tests (including the TypeScript round trip when
// node and tsc are available), and programs that must not compile because
// they send in the wrong direction or with the wrong payload.
func TestGoGoldens(t *testing.T) {
	// Inside testdata, so that ./... never sees it; inside the module, so
	// that the goldens build with the module's go.mod and runtime.
	dir, err := os.MkdirTemp("testdata", "build-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	var pkgs []string
	for _, c := range cases(t) {
		golden := filepath.Join(c, "schema.go.golden")
		if _, err := os.Stat(golden); err != nil {
			continue
		}
		copyFile(t, golden, filepath.Join(dir, filepath.Base(c), "messages.go"))
		pkgs = append(pkgs, "./"+filepath.ToSlash(filepath.Join(dir, filepath.Base(c))))
	}
	copyFile(t, filepath.Join("testdata", "gobuild", "codec_test.go.txt"), filepath.Join(dir, "everything", "codec_test.go"))
	copyFile(t, filepath.Join("testdata", "gobuild", "constraints_test.go.txt"), filepath.Join(dir, "constraints", "constraints_test.go"))
	copyFile(t, filepath.Join("testdata", "gobuild", "constraint_cases.json"), filepath.Join(dir, "constraints", "constraint_cases.json"))
	copyFile(t, filepath.Join("testdata", "cases", "constraints", "schema.json.golden"), filepath.Join(dir, "constraints", "schema.json"))

	progs, _ := filepath.Glob(filepath.Join("testdata", "gobuild", "*", "main.go.txt"))
	var fails []string
	for _, p := range progs {
		name := filepath.Base(filepath.Dir(p))
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		src = []byte(strings.ReplaceAll(string(src), "PKG", modulePath+filepath.ToSlash(dir)+"/everything"))
		to := filepath.Join(dir, "prog", name, "main.go")
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, src, 0o644); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(name, "fail-") {
			fails = append(fails, name)
		} else {
			pkgs = append(pkgs, "./"+filepath.ToSlash(filepath.Dir(to)))
		}
	}
	if len(fails) == 0 {
		t.Fatal("no compile-fail programs")
	}

	if out, err := exec.Command("go", append([]string{"vet"}, pkgs...)...).CombinedOutput(); err != nil {
		t.Fatalf("go vet of the goldens: %v\n%s", err, out)
	}

	t.Run("compile-fail", func(t *testing.T) {
		for _, name := range fails {
			src, _ := os.ReadFile(filepath.Join("testdata", "gobuild", name, "main.go.txt"))
			first, _, _ := strings.Cut(string(src), "\n")
			want, ok := strings.CutPrefix(first, "// want: ")
			if !ok {
				t.Errorf("%s: first line must be // want: <error>", name)
				continue
			}
			out, err := exec.Command("go", "build", "-o", os.DevNull, "./"+filepath.ToSlash(filepath.Join(dir, "prog", name))).CombinedOutput()
			if err == nil {
				t.Errorf("%s compiled; it must not", name)
				continue
			}
			if !strings.Contains(string(out), want) {
				t.Errorf("%s: go build output lacks %q:\n%s", name, want, out)
			}
		}
	})

	// The tests of the generated codecs: everything's round trips, and the
	// constraints' shared cases, each with its TypeScript golden compiled.
	for _, name := range []string{"everything", "constraints"} {
		t.Run("codecs "+name, func(t *testing.T) {
			env := os.Environ()
			if js, node := compileTypeScriptGolden(t, name); js != "" {
				env = append(env, "AMBIGEN_TS_MODULE="+js, "AMBIGEN_NODE="+node)
			}
			cmd := exec.Command("go", "test", "-count=1", "-v", "./"+filepath.ToSlash(filepath.Join(dir, name)))
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("tests of the generated codecs: %v\n%s", err, out)
			}
			if strings.Contains(string(out), "SKIPPED, NOT PASSED") && os.Getenv("CI") == "true" {
				t.Fatalf("tests of the generated codecs skipped in CI:\n%s", out)
			}
			t.Logf("%s", out)
		})
	}
}

// compileTypeScriptGolden emits JavaScript for the TypeScript golden of a
// case and returns its path and node's; empty when the tools are missing
// outside CI.
func compileTypeScriptGolden(t *testing.T, name string) (module, node string) {
	tsc := findTool(t, "tsc", "AMBIGEN_TSC")
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node not found")
		}
		t.Log("SKIPPING the TypeScript round trip: node not found")
		return "", ""
	}
	tmp := t.TempDir()
	copyTSRuntime(t, filepath.Join(tmp, "tsruntime"))
	copyFile(t, filepath.Join("testdata", "tsexpect", "package.json"), filepath.Join(tmp, "package.json"))
	copyFile(t, filepath.Join("testdata", "cases", name, "schema.ts.golden"), filepath.Join(tmp, "cases", name, "schema.ts"))
	out, err := exec.Command(tsc, "--strict", "--target", "ES2020", "--module", "NodeNext", "--moduleResolution", "NodeNext",
		"--lib", "ES2020,DOM", filepath.Join(tmp, "cases", name, "schema.ts")).CombinedOutput()
	if err != nil {
		t.Fatalf("tsc: %v\n%s", err, out)
	}
	return filepath.Join(tmp, "cases", name, "schema.js"), node
}
