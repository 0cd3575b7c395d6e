package compat

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ambigen/ambigen/internal/testkit"
)

// The browser test drives Debian's Chromium with internal/testkit, as examples/chat does, but
// the page, the script and the socket all come from the R server.

func TestAmbiorixPageServedByR(t *testing.T) {
	r := startR(t) // before the browser, so R is still up while Chromium shuts down
	browser := testkit.NewBrowser(t)
	// The documentation's page shows no connection state, and Ambiorix.send needs an open socket.
	// A raw socket opened first watches R's update broadcasts instead: R announces the length of
	// its client list on every open, so 3 means both tabs have connected.
	raw := dialRaw(t, r)
	one := testkit.NewTab(t, browser, r.httpURL())
	two := testkit.NewTab(t, browser, r.httpURL())
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
	testkit.Do(t, one,
		chromedp.SendKeys(chromedp.CSS("#msg"), line),
		chromedp.Click(chromedp.CSS(`button[onclick="sendMessage()"]`)),
	)
	for i, tab := range []context.Context{one, two} {
		testkit.WaitFor(t, tab, fmt.Sprintf("tab %d shows the message", i+1), testkit.HasMessage(line))
	}
	testkit.WaitFor(t, one, "the page cleared its input after sending", `document.getElementById("msg").value === ""`)

	// The raw socket is in R's list too, so it got the same broadcast, byte for byte as R writes it.
	want := `{"name":"chat","message":"hello from a browser tab, via R","isAmbiorix":true}`
	if got := rawNext(t, raw, "chat"); got != want {
		t.Errorf("R broadcast %s, want %s", got, want)
	}
}
