package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's Chromium through chromedp: real pages, real WebSockets, the
// committed bundle and ambiorix.js exactly as a user's browser loads them.

// uiTimeout bounds every wait on the page; generous because the machine is shared, and never
// reached when things work.
const uiTimeout = 15 * time.Second

// chromiumPath finds the browser: $CHROMIUM, else chromium on PATH. Without one the browser tests
// cannot run: under CI that is a failure, elsewhere a loud skip.
func chromiumPath(t *testing.T) string {
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
	t.Skip("SKIPPING THE BROWSER TESTS: " + msg)
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile and returns the context of its
// first tab; the browser stops when the test ends.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	profile := t.TempDir() // registered before the browser so it is removed after Chromium exits
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // CI runs as root, where Chromium refuses to start sandboxed
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Tabs that are not in front must keep their timers running, or the reconnect of a
		// background tab after the server restart would be throttled to a crawl.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.WindowSize(640, 520),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
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

// newTab opens another tab in the browser of first and loads url in it.
func newTab(t *testing.T, first context.Context, url string) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(first)
	t.Cleanup(cancel)
	// As with the browser, the tab belongs to the context of the action that opens it.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	do(t, tab, chromedp.Navigate(url))
	return tab
}

// do performs actions on a tab, failing the test if they do not finish within uiTimeout.
func do(t *testing.T, tab context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, uiTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// waitFor polls a JavaScript expression in the tab until it is truthy.
func waitFor(t *testing.T, tab context.Context, what, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, uiTimeout)
	defer cancel()
	poll := chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(uiTimeout))
	if err := chromedp.Do(ctx, poll); err != nil {
		pctx, cancel := context.WithTimeout(tab, time.Second)
		defer cancel()
		page, _ := chromedp.Run(pctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("%s: %q never held (%v); the page shows:\n%s", what, expr, err, page)
	}
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// hasMessage is true once the page's list of messages contains an item with exactly text.
func hasMessage(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#messages li")].some((li) => li.textContent === %s)`, jsString(text))
}

// textIs is true once the element's text is exactly text.
func textIs(id, text string) string {
	return fmt.Sprintf(`document.getElementById(%s)?.textContent === %s`, jsString(id), jsString(text))
}

// Both pages have the documentation's text box #msg; their Send buttons differ, since the
// documentation's button has no id.
const (
	sendButton         = "#send"
	ambiorixSendButton = `button[onclick="sendMessage()"]`
)

// say types text into the message box and clicks Send, as a person would.
func say(t *testing.T, tab context.Context, send, text string) {
	t.Helper()
	do(t, tab,
		chromedp.SendKeys(chromedp.CSS("#msg"), text),
		chromedp.Click(chromedp.CSS(send)),
	)
}

func TestBrowser(t *testing.T) {
	browser := newBrowser(t)

	t.Run("two tabs chat", func(t *testing.T) {
		chat := startChat(t)
		one := newTab(t, browser, chat.httpURL())
		two := newTab(t, browser, chat.httpURL())
		for _, tab := range []context.Context{one, two} {
			waitFor(t, tab, "connection shown as open", textIs("status", "open"))
			waitFor(t, tab, "client count shown", textIs("count", "2"))
		}

		say(t, one, sendButton, "hello from tab one")
		say(t, two, sendButton, "and hello back from tab two")
		for i, tab := range []context.Context{one, two} {
			waitFor(t, tab, fmt.Sprintf("tab %d shows tab one's message", i+1), hasMessage("hello from tab one"))
			waitFor(t, tab, fmt.Sprintf("tab %d shows tab two's message", i+1), hasMessage("and hello back from tab two"))
		}
		waitFor(t, one, "the input is cleared after sending", `document.getElementById("msg").value === ""`)
		saveScreenshot(t, "chat-two-tabs.png", one, two)
	})

	t.Run("greeting round trip and typed call", func(t *testing.T) {
		chat := startChat(t)
		tab := newTab(t, browser, chat.httpURL())
		waitFor(t, tab, "connection shown as open", textIs("status", "open"))

		do(t, tab, chromedp.Click(chromedp.CSS("#greet")))
		waitFor(t, tab, "the server's greeting is shown", textIs("greeting", greetingReply))

		do(t, tab,
			chromedp.SetValue(chromedp.CSS("#a"), "40"),
			chromedp.SetValue(chromedp.CSS("#b"), "2"),
			chromedp.Click(chromedp.CSS("#add")),
		)
		waitFor(t, tab, "the sum from the add call is shown", textIs("sum", "42"))

		// The server's error reply reaches the page as a CallError with its code: 2^62 is exact
		// in a JavaScript number, and twice it overflows the schema's 64-bit int.
		do(t, tab,
			chromedp.SetValue(chromedp.CSS("#a"), "4611686018427387904"),
			chromedp.SetValue(chromedp.CSS("#b"), "4611686018427387904"),
			chromedp.Click(chromedp.CSS("#add")),
		)
		waitFor(t, tab, "the call's error code is shown", textIs("sum", "error: invalid_argument"))
	})

	t.Run("tabs reconnect after a server restart", func(t *testing.T) {
		chat := startChat(t)
		one := newTab(t, browser, chat.httpURL())
		two := newTab(t, browser, chat.httpURL())
		for _, tab := range []context.Context{one, two} {
			waitFor(t, tab, "connection shown as open", textIs("status", "open"))
		}
		say(t, one, sendButton, "before the restart")
		waitFor(t, two, "chat works before the restart", hasMessage("before the restart"))

		chat.stop()
		for _, tab := range []context.Context{one, two} {
			waitFor(t, tab, "the page notices the server is gone", `document.getElementById("status").textContent !== "open"`)
		}
		chat.restart()
		for _, tab := range []context.Context{one, two} {
			waitFor(t, tab, "the page reconnects by itself", textIs("status", "open"))
		}
		eventually(t, uiTimeout, func() bool { return chat.clients() == 2 }, "the new server never saw both tabs (has %d)", chat.clients())

		say(t, two, sendButton, "after the restart")
		for i, tab := range []context.Context{one, two} {
			waitFor(t, tab, fmt.Sprintf("tab %d gets chat after the restart", i+1), hasMessage("after the restart"))
		}
	})

	t.Run("the Ambiorix documentation page, unchanged", func(t *testing.T) {
		chat := startChat(t)
		one := newTab(t, browser, chat.httpURL()+"ambiorix")
		two := newTab(t, browser, chat.httpURL()+"ambiorix")
		// Ambiorix.send throws until its socket is open and the page shows no status, so wait
		// until the server holds both sockets.
		eventually(t, uiTimeout, func() bool { return chat.clients() == 2 }, "both pages never connected (server has %d)", chat.clients())

		say(t, one, ambiorixSendButton, "hello from the unchanged page")
		for i, tab := range []context.Context{one, two} {
			waitFor(t, tab, fmt.Sprintf("tab %d shows the message", i+1), hasMessage("hello from the unchanged page"))
		}

		// The same room holds a page on the generated client: both kinds of page talk to each other.
		typed := newTab(t, browser, chat.httpURL())
		waitFor(t, typed, "typed page open", textIs("status", "open"))
		say(t, typed, sendButton, "typed page to Ambiorix pages")
		for i, tab := range []context.Context{one, two} {
			waitFor(t, tab, fmt.Sprintf("Ambiorix tab %d shows the typed page's message", i+1), hasMessage("typed page to Ambiorix pages"))
		}
	})
}

// saveScreenshot puts the tabs' screenshots side by side into artifacts/<name> at the repository
// root, for a person to look at; the folder is gitignored.
func saveScreenshot(t *testing.T, name string, tabs ...context.Context) {
	t.Helper()
	var shots []image.Image
	width, height := 0, 0
	for _, tab := range tabs {
		ctx, cancel := context.WithTimeout(tab, uiTimeout)
		buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		cancel()
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		img, err := png.Decode(bytes.NewReader(buf))
		if err != nil {
			t.Fatalf("decode screenshot: %v", err)
		}
		shots = append(shots, img)
		width += img.Bounds().Dx()
		height = max(height, img.Bounds().Dy())
	}
	const gap = 8
	width += gap * (len(shots) - 1)
	sheet := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(sheet, sheet.Bounds(), image.Black, image.Point{}, draw.Src)
	x := 0
	for _, img := range shots {
		r := image.Rect(x, 0, x+img.Bounds().Dx(), img.Bounds().Dy())
		draw.Draw(sheet, r, img, img.Bounds().Min, draw.Src)
		x = r.Max.X + gap
	}

	dir := filepath.Join(repoRoot(t), "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := png.Encode(&out, sheet); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of %d tabs: %s", len(tabs), path)
}

// repoRoot is the nearest folder above the test's working directory that holds go.mod.
func repoRoot(t *testing.T) string {
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
