package jsclient_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ambigen/ambigen/internal/testkit"
	"github.com/ambigen/ambigen/jsclient"
	"github.com/ambigen/ambigen/runtime"
)

// refusalPage starts the client of the built ES module against the WebSocket at ?ws= (the
// page's own host by default), retrying every 50 ms, and records what it is told.
const refusalPage = `<!doctype html>
<title>refusal</title>
<script type="module">
import { Client } from "/static/ambiorix.mjs";
const ws = new URLSearchParams(location.search).get("ws");
const client = new Client({ ...(ws ? { url: ws } : {}), reconnect: { initialDelay: 50, maxDelay: 50 } });
window.refusals = [];
window.opens = 0;
client.onrefused = (r) => window.refusals.push(r);
client.onopen = () => window.opens++;
client.onerror = () => {};
window.client = client;
client.start();
</script>`

func pageMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", jsclient.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, refusalPage)
	})
	return mux
}

// In Chromium, whose WebSocket API shows no HTTP status, the client learns that the server
// refused it, with the status and the reason: 401 from Authenticate (and it connects once the
// page has logged in and starts it again), and 403 from the Origin check for a page of another
// origin. Either way it stops instead of retrying in a loop.
func TestRefusedInChromium(t *testing.T) {
	var upgrades atomic.Int64
	rt := runtime.NewServer(runtime.Options{
		Fallback: pageMux(),
		Authenticate: func(r *http.Request) (any, error) {
			if !r.URL.Query().Has(runtime.ProbeQuery) {
				upgrades.Add(1)
			}
			if c, err := r.Cookie("session"); err == nil && c.Value == "ok" {
				return "ann", nil
			}
			return nil, runtime.Refuse(http.StatusUnauthorized, "log in first")
		},
	})
	srv := httptest.NewServer(rt)
	defer srv.Close()
	defer rt.Shutdown(context.Background())

	browser := testkit.NewBrowser(t)
	tab := testkit.NewTab(t, browser, srv.URL+"/")
	testkit.WaitFor(t, tab, "the refusal", `window.refusals && window.refusals.length === 1 && window.client.status === "refused"`)
	got := eval[refusal](t, tab, `window.refusals[0]`)
	if got.Status != 401 || got.Reason != "log in first" {
		t.Fatalf("refusal %+v", got)
	}
	n := upgrades.Load()
	// A loop at 50 ms would make a dozen attempts in this time.
	time.Sleep(700 * time.Millisecond)
	if m := upgrades.Load(); m != n || n > 2 {
		t.Fatalf("upgrade attempts: %d at the refusal, %d later", n, m)
	}
	// The page logs in and starts the client again.
	eval[bool](t, tab, `document.cookie = "session=ok", window.client.start(), true`)
	testkit.WaitFor(t, tab, "the connection after logging in", `window.client.status === "open" && window.opens === 1 && window.client.refusal === null`)
	testkit.Eventually(t, 5*time.Second, func() bool { return rt.Len() == 1 }, "the server never saw the client")

	// A page of another origin (another port) is refused by the Origin check.
	other := httptest.NewServer(pageMux())
	defer other.Close()
	ws := "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
	tab2 := testkit.NewTab(t, browser, other.URL+"/?ws="+ws)
	testkit.WaitFor(t, tab2, "the foreign origin's refusal", `window.refusals && window.refusals.length === 1 && window.client.status === "refused"`)
	got = eval[refusal](t, tab2, `window.refusals[0]`)
	if got.Status != 403 || got.Reason != "origin not allowed" {
		t.Fatalf("foreign origin: refusal %+v", got)
	}
}

// refusal is the Refusal the page's onrefused was given.
type refusal struct {
	Status int    `json:"status"`
	Reason string `json:"reason"`
}

// eval evaluates a JavaScript expression in the tab.
func eval[T any](t *testing.T, tab context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, testkit.UITimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}
