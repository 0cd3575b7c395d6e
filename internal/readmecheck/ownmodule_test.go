package readmecheck

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ambigen/ambigen/internal/testkit"
)

// The tests in this file use ambigen as someone outside this repository does: a fresh module in
// a temporary folder, set up only with the commands of the README's "Generating code in your own
// module" and "The TypeScript and browser API" sections, taken from the README itself. The
// module gets this checkout through a module proxy on disk that serves it as
// github.com/ambigen/ambigen, so `go get -tool` runs exactly as the README writes it, with no
// replace directive that a user would not have. Every other module comes from this machine's
// module cache; the user module has a module cache of its own, so nothing is left behind.

// modulePath is this repository's module path.
const modulePath = "github.com/ambigen/ambigen"

// checkoutPlaceholder stands for the path of a checkout in the README's npm command.
const checkoutPlaceholder = "<path to an ambigen checkout>"

// ownModuleBlocks returns the README's commands for an outside project: the shell lines that
// install ambigen's tools, the go:generate file, and the shell lines of the TypeScript setup.
func ownModuleBlocks(t *testing.T) (install []string, generate string, frontEnd []string) {
	t.Helper()
	for _, b := range readmeBlocks(t) {
		switch kind(b) {
		case "generate":
			generate = b.text
		case "own-module":
			for _, line := range strings.Split(strings.TrimSpace(b.text), "\n") {
				if strings.Contains(line, "npm ") || strings.Contains(line, "ambiorixjs") {
					frontEnd = append(frontEnd, line)
				} else {
					install = append(install, line)
				}
			}
		}
	}
	if len(install) == 0 || generate == "" || len(frontEnd) == 0 {
		t.Fatalf("README.md lacks the own-module commands: install %q, generate %q, front end %q", install, generate, frontEnd)
	}
	return install, generate, frontEnd
}

// TestOwnModule follows the README in a fresh module outside the repository: go get -tool,
// go:generate with go tool ambigen, go generate, go mod tidy (which must not undo the setup),
// go generate again, go build, and a run in which the generated Go client and server exchange
// a message and a call over loopback. Then the front end: npm install of this checkout's ts/,
// tsc, a bundle by ambiorixjs (which type-checks it), the same page on a client runtime that
// ambigen copied beside the generated file instead of the npm package, and both pages chatting
// with each other in headless Chromium.
func TestOwnModule(t *testing.T) {
	install, generate, frontEnd := ownModuleBlocks(t)
	checkout, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	env := userEnv(t, checkout)
	mod := filepath.Join(t.TempDir(), "todo")
	copyTree(t, filepath.Join("testdata", "ownmodule"), mod)
	writeFile(t, filepath.Join(mod, "gen", "doc.go"), generate)

	shell(t, mod, env, "go mod init example.com/todo")
	for _, line := range install {
		shell(t, mod, env, line)
	}
	gomod := readFile(t, filepath.Join(mod, "go.mod"))
	if !strings.Contains(gomod, "\ntool "+modulePath+"/cmd/ambigen") {
		t.Fatalf("go.mod after the README's install command has no tool line for ambigen:\n%s", gomod)
	}
	shell(t, mod, env, "go generate ./...")
	for _, f := range []string{"gen/messages.go", "gen/messages.schema.json", "web/gen/messages.ts", "schema/ambigen.schema.json"} {
		if _, err := os.Stat(filepath.Join(mod, f)); err != nil {
			t.Errorf("go generate did not write %s: %v", f, err)
		}
	}
	if ts := readFile(t, filepath.Join(mod, "web", "gen", "messages.ts")); !strings.Contains(ts, `from "@ambigen/client";`) {
		t.Errorf("the generated TypeScript does not import the npm package by default")
	}
	// tidy must keep the tool and the runtime the program imports, and generation must still run.
	shell(t, mod, env, "go mod tidy")
	shell(t, mod, env, "go generate ./...")
	shell(t, mod, env, "go vet ./...")
	shell(t, mod, env, "go build -o todo .")

	t.Run("go client and server over loopback", func(t *testing.T) {
		cmd := exec.Command(filepath.Join(mod, "todo"), "-selftest")
		cmd.Dir = mod
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("todo -selftest: %v\n%s", err, out)
		}
		for _, want := range []string{"say: go (happy): hello over loopback\n", "1 + 2 = 3\n"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("todo -selftest printed\n%s\nwithout %q", out, want)
			}
		}
	})

	t.Run("typescript front end", func(t *testing.T) {
		tsVersion := pinnedTypeScript(t)
		for _, line := range frontEnd {
			line = strings.ReplaceAll(line, checkoutPlaceholder, checkout)
			if strings.HasPrefix(line, "npm install") {
				// The compiler version ts/ is tested with, from npm's cache when it is there.
				line = strings.Replace(line, " typescript", " typescript@"+tsVersion, 1) + " --prefer-offline --no-audit --no-fund"
			}
			shell(t, mod, env, line)
		}
		tsc := filepath.Join(mod, "node_modules", ".bin", "tsc")
		shell(t, mod, env, tsc+" -p web")
		if _, err := os.Stat(filepath.Join(mod, "static", "app.js")); err != nil {
			t.Fatalf("the README's build command wrote no static/app.js: %v", err)
		}

		// A page that does not type-check is not bundled, whatever the README's build line lacks.
		broken := strings.Replace(readFile(t, filepath.Join(mod, "web", "app.ts")), "text: input.value", "text: 42", 1)
		writeFile(t, filepath.Join(mod, "web", "broken.ts"), broken)
		out, err := shellResult(mod, env, "go tool ambiorixjs build -entry web/broken.ts -out static/broken.js")
		if err == nil || !strings.Contains(out, "TS2322") {
			t.Errorf("a page with a type error: want a failed build naming TS2322, got %v:\n%s", err, out)
		}
		os.Remove(filepath.Join(mod, "web", "broken.ts"))

		// The same page with no npm package at all: ambigen copies the client runtime beside the
		// generated file, in a folder that has no node_modules anywhere above it.
		plain := filepath.Join(t.TempDir(), "plain")
		copyTree(t, filepath.Join("testdata", "ownmodule", "web"), plain)
		shell(t, mod, env, "go tool ambigen -schema schema/messages.yaml -ts-out "+filepath.Join(plain, "gen")+" -ts-runtime-copy")
		if ts := readFile(t, filepath.Join(plain, "gen", "messages.ts")); !strings.Contains(ts, `from "./ambigen-client/index.js";`) {
			t.Errorf("the generated TypeScript does not import the copied runtime")
		}
		shell(t, plain, env, tsc+" -p .")
		shell(t, mod, env, "go tool ambiorixjs build -typecheck require -tsc "+tsc+" -entry "+filepath.Join(plain, "app.ts")+" -out static/app-copy.js")

		chatInBrowser(t, mod)
	})
}

// chatInBrowser starts the program and has the npm page and the copied-runtime page chat with
// each other, and make a call, in headless Chromium.
func chatInBrowser(t *testing.T, mod string) {
	browser := testkit.NewBrowser(t)
	cmd := exec.Command(filepath.Join(mod, "todo"))
	cmd.Dir = mod
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := bufio.NewReader(stdout)
	first, err := lines.ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(first), "listening on ")
	if err != nil || !ok {
		t.Fatalf("the program did not say where it listens: %q, %v", first, err)
	}
	go io.Copy(io.Discard, lines)

	npm := testkit.NewTab(t, browser, url)
	copied := testkit.NewTab(t, browser, url+"copy.html")
	for _, tab := range []context.Context{npm, copied} {
		testkit.WaitFor(t, tab, "the page's connection is open", `document.getElementById("status").textContent === "open"`)
	}
	say := func(tab context.Context, text string) {
		testkit.Do(t, tab, chromedp.SendKeys(chromedp.CSS("#msg"), text), chromedp.Click(chromedp.CSS("#send")))
	}
	say(npm, "hello from the npm page")
	say(copied, "hello from the copied runtime")
	for _, tab := range []context.Context{npm, copied} {
		testkit.WaitFor(t, tab, "the npm page's line arrived", testkit.HasMessage("npm: hello from the npm page"))
		testkit.WaitFor(t, tab, "the copied runtime's line arrived", testkit.HasMessage("copy: hello from the copied runtime"))
		testkit.Do(t, tab, chromedp.Click(chromedp.CSS("#add")))
		testkit.WaitFor(t, tab, "the add call's reply is shown", `document.getElementById("sum").textContent === "3"`)
	}
}

// userEnv is the environment of the user module's go and npm commands: this checkout served as
// a module by a proxy on disk, the rest from this machine's module cache, and a module cache of
// the module's own.
func userEnv(t *testing.T, checkout string) []string {
	t.Helper()
	// Make sure the machine's module cache holds every module of this repository's build list,
	// the ones the user module will need among them (a no-op when it already does). That is
	// "all", not the default of the modules this repository requires: go mod tidy in the user
	// module also wants the modules that tests of its dependencies import (testify, for jx).
	// It runs on a copy of go.mod and go.sum, since it records the checksums of what it
	// downloads and the checkout's go.sum must stay as go mod tidy leaves it.
	modfile := filepath.Join(t.TempDir(), "go.mod")
	for _, f := range []string{"go.mod", "go.sum"} {
		writeFile(t, filepath.Join(filepath.Dir(modfile), f), readFile(t, filepath.Join(checkout, f)))
	}
	download := exec.Command("go", "mod", "download", "-modfile="+modfile, "all")
	download.Dir = checkout
	if out, err := download.CombinedOutput(); err != nil {
		t.Fatalf("go mod download in the checkout: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(strings.TrimSpace(string(out)), "cache", "download")
	proxy := moduleProxy(t, checkout)
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "GOPROXY", "GOMODCACHE", "GOFLAGS", "GONOSUMDB", "GONOPROXY", "GOPRIVATE", "GOSUMDB", "GOTOOLCHAIN", "GOWORK", "GO111MODULE":
		default:
			env = append(env, kv)
		}
	}
	return append(env,
		"GOPROXY=file://"+filepath.ToSlash(proxy)+",file://"+filepath.ToSlash(cache),
		"GOMODCACHE="+filepath.Join(t.TempDir(), "modcache"),
		// The module cache's files are read-only; writable ones can be removed after the test.
		"GOFLAGS=-modcacherw",
		// The checksum database is not reachable here; every module is from the local cache,
		// where the go command verified it when it was downloaded, or from this checkout.
		"GOSUMDB=off",
		"GOTOOLCHAIN=local",
		"GOWORK=off",
	)
}

// moduleProxy writes a module proxy (the GOPROXY protocol, as files) that serves this checkout
// as the latest version of github.com/ambigen/ambigen, and returns its folder. The files are the
// ones git tracks or would track (tracked and untracked ones, less the ignored), as committed
// they would be; the version is a pseudo-version derived from their contents.
func moduleProxy(t *testing.T, checkout string) string {
	t.Helper()
	ls := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	ls.Dir = checkout
	list, err := ls.Output()
	if err != nil {
		t.Fatalf("git ls-files in the checkout: %v", err)
	}
	type entry struct{ name, data string }
	var files []entry
	sum := sha256.New()
	for _, f := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		path := filepath.Join(checkout, f)
		info, err := os.Lstat(path)
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the work tree, or a symbolic link: neither goes into a module
		}
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a file another test made and removed meanwhile
		} else if err != nil {
			t.Fatal(err)
		}
		files = append(files, entry{filepath.ToSlash(f), string(data)})
		fmt.Fprintf(sum, "%s\x00%s\x00", f, data)
	}
	version := fmt.Sprintf("v0.0.0-%s-%x", time.Now().UTC().Format("20060102150405"), sum.Sum(nil)[:6])

	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	for _, f := range files {
		w, err := zw.Create(modulePath + "@" + version + "/" + f.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	at := filepath.Join(dir, filepath.FromSlash(modulePath), "@v")
	info, _ := json.Marshal(map[string]string{"Version": version, "Time": time.Now().UTC().Format(time.RFC3339)})
	writeFile(t, filepath.Join(at, "list"), "")
	writeFile(t, filepath.Join(dir, filepath.FromSlash(modulePath), "@latest"), string(info))
	writeFile(t, filepath.Join(at, version+".info"), string(info))
	writeFile(t, filepath.Join(at, version+".mod"), readFile(t, filepath.Join(checkout, "go.mod")))
	writeFile(t, filepath.Join(at, version+".zip"), zipped.String())
	return dir
}

// pinnedTypeScript is the TypeScript version ts/package.json tests with.
func pinnedTypeScript(t *testing.T) string {
	t.Helper()
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(root, "ts", "package.json"))), &pkg); err != nil {
		t.Fatal(err)
	}
	v := pkg.DevDependencies["typescript"]
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(v) {
		t.Fatalf("ts/package.json pins no exact typescript version: %q", v)
	}
	return v
}

// shell runs a command line of the README (words separated by spaces, no quoting) in dir.
func shell(t *testing.T, dir string, env []string, line string) {
	t.Helper()
	if out, err := shellResult(dir, env, line); err != nil {
		t.Fatalf("%s (in %s): %v\n%s", line, dir, err, out)
	}
}

func shellResult(dir string, env []string, line string) (string, error) {
	words := strings.Fields(line)
	cmd := exec.Command(words[0], words[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		writeFile(t, filepath.Join(to, rel), readFile(t, path))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
