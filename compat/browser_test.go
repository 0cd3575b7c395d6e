package compat

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser test drives Debian's Chromium through chromedp, the way examples/chat does, but
// the page, the script and the socket all come from the R server.

// uiTimeout bounds every wait on a page; generous for a shared machine, never reached when
// things work.
const uiTimeout = 15 * time.Second

// requireChromium returns the browser's path: $CHROMIUM, else chromium on PATH; a failure under
// CI and a loud skip elsewhere when there is none.
func requireChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "Chromium not found ($CHROMIUM unset, no chromium on PATH): run scripts/install-deps"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED, NOT PASSED: the browser compatibility test did not run: " + msg)
	return ""
}

// startBrowser launches a headless Chromium with a fresh profile; it stops when the test ends.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path := requireChromium(t)
	profile := t.TempDir() // registered first, so it is removed after Chromium has exited
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // CI runs as root, where Chromium will not start sandboxed
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// The second tab is in the background; its timers and sockets must not be throttled.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
	)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	// Launch with the browser's own context: a context with a timeout would end Chromium with it.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return browser
}

// openTab opens a tab in the browser and loads url.
func openTab(t *testing.T, browser context.Context, url string) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	act(t, tab, chromedp.Navigate(url))
	return tab
}

// act performs actions on a tab within uiTimeout.
func act(t *testing.T, tab context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, uiTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// pollPage waits until a JavaScript expression is truthy in the tab, showing the page's text if
// it never is.
func pollPage(t *testing.T, tab context.Context, what, expr string) {
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

// listed is true once the page's #messages list has an item whose text is exactly text.
func listed(text string) string {
	q, _ := json.Marshal(text)
	return fmt.Sprintf(`[...document.querySelectorAll("#messages li")].some((li) => li.textContent === %s)`, q)
}

func TestAmbiorixPageServedByR(t *testing.T) {
	r := startR(t) // before the browser, so R is still up while Chromium shuts down
	browser := startBrowser(t)
	// The documentation's page shows no connection state, and Ambiorix.send needs an open socket.
	// A raw socket opened first watches R's update broadcasts instead: R announces the length of
	// its client list on every open, so 3 means both tabs have connected.
	raw := dialRaw(t, r)
	one := openTab(t, browser, r.httpURL())
	two := openTab(t, browser, r.httpURL())
	for count := 0; count != 3; {
		var update struct {
			Message struct{ Count int } `json:"message"`
		}
		if err := json.Unmarshal([]byte(rawNext(t, raw, "update")), &update); err != nil {
			t.Fatal(err)
		}
		count = update.Message.Count
	}

	const line = "hello from a browser tab, via R"
	act(t, one,
		chromedp.SendKeys(chromedp.CSS("#msg"), line),
		chromedp.Click(chromedp.CSS(`button[onclick="sendMessage()"]`)),
	)
	for i, tab := range []context.Context{one, two} {
		pollPage(t, tab, fmt.Sprintf("tab %d shows the message", i+1), listed(line))
	}
	pollPage(t, one, "the page cleared its input after sending", `document.getElementById("msg").value === ""`)

	// The raw socket is in R's list too, so it got the same broadcast, byte for byte as R writes it.
	want := `{"name":"chat","message":"hello from a browser tab, via R","isAmbiorix":true}`
	if got := rawNext(t, raw, "chat"); got != want {
		t.Errorf("R broadcast %s, want %s", got, want)
	}
}
