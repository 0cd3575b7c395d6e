package ts

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// TestDistIsCurrent compiles src/ again with tsconfig.build.json, as npm run build does, and
// compares the result with the committed dist/ that npm installs and Go embeds: a change to src/
// without a rebuild fails here.
func TestDistIsCurrent(t *testing.T) {
	tsc, err := filepath.Abs(filepath.Join("node_modules", ".bin", "tsc"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tsc); err != nil {
		msg := "the TypeScript compiler is missing: run npm ci in ts/ (scripts/install-deps does): " + err.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPED, NOT PASSED: " + msg)
	}
	out := t.TempDir()
	cmd := exec.Command(tsc, "-p", "tsconfig.build.json", "--outDir", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tsc -p tsconfig.build.json: %v\n%s", err, msg)
	}
	built := readAll(t, os.DirFS(out))
	committed := readAll(t, Dist())
	if !slices.Equal(sortedKeys(built), sortedKeys(committed)) {
		t.Fatalf("dist/ holds %v, a build gives %v; run npm run build in ts/", sortedKeys(committed), sortedKeys(built))
	}
	for name, data := range built {
		if !bytes.Equal(data, committed[name]) {
			t.Errorf("dist/%s is stale; run npm run build in ts/", name)
		}
	}
	if _, ok := committed["index.js"]; !ok {
		t.Error("dist/ has no index.js, the package's entry point")
	}
}

func readAll(t *testing.T, fsys fs.FS) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files[path], err = fs.ReadFile(fsys, path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
