package diff

import (
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestUnified(t *testing.T) {
	old := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n"
	new := "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\nl\n"
	want := `--- old
+++ new
@@ -1,7 +1,7 @@
 a
 b
 c
-d
+D
 e
 f
 g
@@ -9,3 +9,4 @@
 i
 j
 k
+l
`
	if got := Unified("old", "new", []byte(old), []byte(new)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := Unified("old", "new", []byte(old), []byte(old)); got != "" {
		t.Errorf("equal texts: got %q", got)
	}
	// A file that loses its last newline, and one that did not exist.
	if got := Unified("x", "y", []byte("a\nb\n"), []byte("a\nb")); got != "--- x\n+++ y\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n" {
		t.Errorf("missing newline: got %q", got)
	}
	if got := Unified("x", "y", nil, []byte("a\n")); got != "--- x\n+++ y\n@@ -0,0 +1 @@\n+a\n" {
		t.Errorf("new file: got %q", got)
	}
}

// TestPatchApplies checks random edits with the patch program: applying the diff to the old
// text must give the new one.
func TestPatchApplies(t *testing.T) {
	patch, err := exec.LookPath("patch")
	if err != nil {
		t.Fatalf("the patch program is needed to check diffs (Debian's patch package): %v", err)
	}
	rng := rand.New(rand.NewSource(1))
	dir := t.TempDir()
	for n := 0; n < 200; n++ {
		var a []string
		for i := rng.Intn(40); i > 0; i-- {
			a = append(a, strconv.Itoa(rng.Intn(8)))
		}
		b := append([]string(nil), a...)
		for e := rng.Intn(6); e > 0; e-- {
			k := rng.Intn(len(b) + 1)
			switch rng.Intn(3) {
			case 0:
				b = append(b[:k], append([]string{"new" + strconv.Itoa(e)}, b[k:]...)...)
			case 1:
				if k < len(b) {
					b = append(b[:k], b[k+1:]...)
				}
			default:
				if k < len(b) {
					b[k] = "changed"
				}
			}
		}
		oldText, newText := join(a), join(b)
		d := Unified("a/f", "b/f", []byte(oldText), []byte(newText))
		if oldText == newText {
			continue
		}
		f := filepath.Join(dir, "f")
		if err := os.WriteFile(f, []byte(oldText), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(patch, "-s", "-f", "-o", filepath.Join(dir, "out"), f)
		cmd.Stdin = strings.NewReader(d)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("patch refused the diff of %q -> %q: %v\n%s\n%s", oldText, newText, err, out, d)
		}
		got, err := os.ReadFile(filepath.Join(dir, "out"))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != newText {
			t.Fatalf("patched %q with\n%s\ngot %q, want %q", oldText, d, got, newText)
		}
	}
}

func join(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return strings.Join(l, "\n") + "\n"
}
