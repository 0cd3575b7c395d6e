package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/ambigen/ambigen/internal/testkit"
	"github.com/ambigen/ambigen/runtime"
)

// constraintsPage is a page script built on the generated client: it tries
// to send a post whose tag breaks the schema's pattern, then one that is
// fine, and lists what happened, and what the client reports.
const constraintsPage = `
import { connect } from "../../../ts/src/gen/messages.js";

const out = document.getElementById("out")!;
const log = (line: string): void => {
  const li = document.createElement("li");
  li.textContent = line;
  out.appendChild(li);
};
const chat = connect();
chat.client.onerror = (err) => log("error: " + err.message);
chat.on.post((p) => log("post: " + p.text));
chat.client.onopen = () => {
  try {
    chat.send.post({ user: "ann", text: "refused", tags: ["Go!"] });
    log("sent the refused post");
  } catch (err) {
    log("refused: " + (err as Error).message);
  }
  chat.send.post({ user: "ann", text: "accepted", tags: ["go"] });
  chat.send.greeting("send me your posts");
};
`

// A browser runs the generated client's constraint checks both ways: a
// post that breaks one is not sent, and one that arrives breaking one is
// reported and not delivered, with the same words as the Go runtime's.
func TestConstraintsInTheBrowser(t *testing.T) {
	res := api.Build(api.BuildOptions{
		Stdin:    &api.StdinOptions{Contents: constraintsPage, ResolveDir: "web", Sourcefile: "constraints.ts", Loader: api.LoaderTS},
		Bundle:   true,
		Format:   api.FormatIIFE,
		Platform: api.PlatformBrowser,
		Target:   api.ES2020,
		LogLevel: api.LogLevelSilent,
	})
	if len(res.Errors) > 0 || len(res.OutputFiles) != 1 {
		t.Fatalf("bundle the page: %v", api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage}))
	}
	script := res.OutputFiles[0].Contents

	// The server speaks through the untyped runtime, so that it can send a post the
	// generated encoder would refuse, and see every post the page really sent.
	var mu sync.Mutex
	var received []string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><ul id="out"></ul><script src="/page.js"></script>`))
	})
	mux.HandleFunc("GET /page.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(script)
	})
	rt := runtime.NewServer(runtime.Options{Fallback: mux, Logger: quietLogger()})
	if err := runtime.On(rt, "post", runtime.RawJSON, func(_ context.Context, _ *runtime.Conn, raw json.RawMessage) {
		mu.Lock()
		defer mu.Unlock()
		received = append(received, string(raw))
	}); err != nil {
		t.Fatal(err)
	}
	if err := runtime.On(rt, "greeting", runtime.String, func(_ context.Context, c *runtime.Conn, _ string) {
		long := map[string]any{"user": "srv", "text": strings.Repeat("é", 5001), "tags": []string{}}
		badTag := map[string]any{"user": "srv", "text": "bad tag", "tags": []string{"ok", "Bad Tag"}}
		fine := map[string]any{"user": "srv", "text": "from the server", "tags": []string{"ok"}}
		for _, p := range []any{long, badTag, fine} {
			if err := c.Send("post", p); err != nil {
				t.Errorf("send: %v", err)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(rt)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rt.Shutdown(ctx)
		hs.Close()
	})

	browser := testkit.NewBrowser(t)
	tab := testkit.NewTab(t, browser, hs.URL+"/")
	has := func(line string) string {
		return `[...document.querySelectorAll("#out li")].some((li) => li.textContent === ` + testkit.JSString(line) + `)`
	}
	for _, line := range []string{
		`refused: "post" not sent: tags[0]: "Go!" does not match (pattern ^[a-z0-9-]+$)`,
		`error: message "post": invalid payload: text: longer than 5000 characters (maxLength 5000)`,
		`error: message "post": invalid payload: tags[1]: "Bad Tag" does not match (pattern ^[a-z0-9-]+$)`,
		`post: from the server`,
	} {
		testkit.WaitFor(t, tab, line, has(line))
	}
	testkit.WaitFor(t, tab, "nothing else is listed", `document.querySelectorAll("#out li").length === 4`)
	testkit.Eventually(t, 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(received) == 1
	}, "the server never got the accepted post")
	mu.Lock()
	defer mu.Unlock()
	if received[0] != `{"user":"ann","text":"accepted","tags":["go"]}` {
		t.Errorf("the server got %s", received)
	}
}
