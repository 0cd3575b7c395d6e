// Package testkit holds what several test suites of this repository need alike: finding the
// repository root, and driving Debian's Chromium through chromedp for the browser tests (the
// chat example's, and the compatibility tests' against an R server).
//
// A browser test needs a real Chromium. Without one it fails when the CI environment variable is
// set and is skipped, loudly, elsewhere; scripts/install-deps installs Debian's chromium.
package testkit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// UITimeout bounds every wait on a page; generous because the machine is shared, and never
// reached when things work.
const UITimeout = 15 * time.Second

// RepoRoot is the nearest folder above the test's working directory that holds go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// Chromium finds the browser: $CHROMIUM, else chromium on PATH.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "Chromium not found ($CHROMIUM unset, no chromium on PATH): install Debian's chromium (scripts/install-deps)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED, NOT PASSED: the browser tests did not run: " + msg)
	return ""
}

// NewBrowser starts a headless Chromium with a fresh profile and returns the context of its
// first tab; the browser stops when the test ends.
func NewBrowser(t testing.TB) context.Context {
	t.Helper()
	path := Chromium(t)
	profile := t.TempDir() // registered before the browser so it is removed after Chromium exits
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // CI runs as root, where Chromium refuses to start sandboxed
		chromedp.DisableGPU,
		// The machines have no network but loopback: keep Chromium from trying.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Tabs that are not in front must keep their timers running, or the reconnect of a
		// background tab after a server restart would be throttled to a crawl.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.WindowSize(640, 520),
	)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	// The first action launches the browser and ties it to the context it is given, so it gets
	// the browser's own context: one with a timeout would kill Chromium when the timeout ends.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return browser
}

// NewTab opens another tab in browser and loads url in it.
func NewTab(t testing.TB, browser context.Context, url string) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	// As with the browser, the tab belongs to the context of the action that opens it.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	Do(t, tab, chromedp.Navigate(url))
	return tab
}

// Do performs actions on a tab, failing the test if they do not finish within UITimeout.
func Do(t testing.TB, tab context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, UITimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// WaitFor polls a JavaScript expression in the tab until it is truthy; if it never is within
// UITimeout, the test fails with what the page shows.
func WaitFor(t testing.TB, tab context.Context, what, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, UITimeout)
	defer cancel()
	poll := chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(UITimeout))
	if err := chromedp.Do(ctx, poll); err != nil {
		pctx, cancel := context.WithTimeout(tab, time.Second)
		defer cancel()
		page, _ := chromedp.Run(pctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("%s: %q never held (%v); the page shows:\n%s", what, expr, err, page)
	}
}

// JSString quotes s for a JavaScript expression.
func JSString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// HasMessage is a JavaScript expression that is true once the page's #messages list (the chat
// pages' list) has an item whose text is exactly text.
func HasMessage(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#messages li")].some((li) => li.textContent === %s)`, JSString(text))
}

// Eventually polls cond until it holds, failing the test after timeout with the message format
// and args, which say what never happened.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: "+format, append([]any{timeout}, args...)...)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
