package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ambigen/ambigen/internal/testkit"
)

// The browser tests drive Debian's Chromium through chromedp: real pages, real WebSockets, the
// committed bundle and ambiorix.js exactly as a user's browser loads them.

// textIs is true once the element's text is exactly text.
func textIs(id, text string) string {
	return fmt.Sprintf(`document.getElementById(%s)?.textContent === %s`, testkit.JSString(id), testkit.JSString(text))
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
	testkit.Do(t, tab,
		chromedp.SendKeys(chromedp.CSS("#msg"), text),
		chromedp.Click(chromedp.CSS(send)),
	)
}

func TestBrowser(t *testing.T) {
	browser := testkit.NewBrowser(t)

	t.Run("two tabs chat", func(t *testing.T) {
		chat := startChat(t)
		one := testkit.NewTab(t, browser, chat.httpURL())
		two := testkit.NewTab(t, browser, chat.httpURL())
		for _, tab := range []context.Context{one, two} {
			testkit.WaitFor(t, tab, "connection shown as open", textIs("status", "open"))
			testkit.WaitFor(t, tab, "client count shown", textIs("count", "2"))
		}

		say(t, one, sendButton, "hello from tab one")
		say(t, two, sendButton, "and hello back from tab two")
		for i, tab := range []context.Context{one, two} {
			testkit.WaitFor(t, tab, fmt.Sprintf("tab %d shows tab one's message", i+1), testkit.HasMessage("hello from tab one"))
			testkit.WaitFor(t, tab, fmt.Sprintf("tab %d shows tab two's message", i+1), testkit.HasMessage("and hello back from tab two"))
		}
		testkit.WaitFor(t, one, "the input is cleared after sending", `document.getElementById("msg").value === ""`)
		saveScreenshot(t, "chat-two-tabs.png", one, two)
	})

	t.Run("greeting round trip and typed call", func(t *testing.T) {
		chat := startChat(t)
		tab := testkit.NewTab(t, browser, chat.httpURL())
		testkit.WaitFor(t, tab, "connection shown as open", textIs("status", "open"))

		testkit.Do(t, tab, chromedp.Click(chromedp.CSS("#greet")))
		testkit.WaitFor(t, tab, "the server's greeting is shown", textIs("greeting", greetingReply))

		testkit.Do(t, tab,
			chromedp.SetValue(chromedp.CSS("#a"), "40"),
			chromedp.SetValue(chromedp.CSS("#b"), "2"),
			chromedp.Click(chromedp.CSS("#add")),
		)
		testkit.WaitFor(t, tab, "the sum from the add call is shown", textIs("sum", "42"))

		// The server's error reply reaches the page as a CallError with its code: 2^62 is exact
		// in a JavaScript number, and twice it overflows the schema's 64-bit int.
		testkit.Do(t, tab,
			chromedp.SetValue(chromedp.CSS("#a"), "4611686018427387904"),
			chromedp.SetValue(chromedp.CSS("#b"), "4611686018427387904"),
			chromedp.Click(chromedp.CSS("#add")),
		)
		testkit.WaitFor(t, tab, "the call's error code is shown", textIs("sum", "error: invalid_argument"))
	})

	t.Run("tabs reconnect after a server restart", func(t *testing.T) {
		chat := startChat(t)
		one := testkit.NewTab(t, browser, chat.httpURL())
		two := testkit.NewTab(t, browser, chat.httpURL())
		for _, tab := range []context.Context{one, two} {
			testkit.WaitFor(t, tab, "connection shown as open", textIs("status", "open"))
		}
		say(t, one, sendButton, "before the restart")
		testkit.WaitFor(t, two, "chat works before the restart", testkit.HasMessage("before the restart"))

		chat.stop()
		for _, tab := range []context.Context{one, two} {
			testkit.WaitFor(t, tab, "the page notices the server is gone", `document.getElementById("status").textContent !== "open"`)
		}
		chat.restart()
		for _, tab := range []context.Context{one, two} {
			testkit.WaitFor(t, tab, "the page reconnects by itself", textIs("status", "open"))
		}
		testkit.Eventually(t, testkit.UITimeout, func() bool { return chat.clients() == 2 }, "the new server never saw both tabs (has %d)", chat.clients())

		say(t, two, sendButton, "after the restart")
		for i, tab := range []context.Context{one, two} {
			testkit.WaitFor(t, tab, fmt.Sprintf("tab %d gets chat after the restart", i+1), testkit.HasMessage("after the restart"))
		}
	})

	t.Run("the Ambiorix documentation page, unchanged", func(t *testing.T) {
		chat := startChat(t)
		one := testkit.NewTab(t, browser, chat.httpURL()+"ambiorix")
		two := testkit.NewTab(t, browser, chat.httpURL()+"ambiorix")
		// Ambiorix.send throws until its socket is open and the page shows no status, so wait
		// until the server holds both sockets.
		testkit.Eventually(t, testkit.UITimeout, func() bool { return chat.clients() == 2 }, "both pages never connected (server has %d)", chat.clients())

		say(t, one, ambiorixSendButton, "hello from the unchanged page")
		for i, tab := range []context.Context{one, two} {
			testkit.WaitFor(t, tab, fmt.Sprintf("tab %d shows the message", i+1), testkit.HasMessage("hello from the unchanged page"))
		}

		// The same room holds a page on the generated client: both kinds of page talk to each other.
		typed := testkit.NewTab(t, browser, chat.httpURL())
		testkit.WaitFor(t, typed, "typed page open", textIs("status", "open"))
		say(t, typed, sendButton, "typed page to Ambiorix pages")
		for i, tab := range []context.Context{one, two} {
			testkit.WaitFor(t, tab, fmt.Sprintf("Ambiorix tab %d shows the typed page's message", i+1), testkit.HasMessage("typed page to Ambiorix pages"))
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
		ctx, cancel := context.WithTimeout(tab, testkit.UITimeout)
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

	dir := filepath.Join(testkit.RepoRoot(t), "artifacts")
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
