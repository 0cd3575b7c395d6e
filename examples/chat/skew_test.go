package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/evanw/esbuild/pkg/api"
	"github.com/google/go-cmp/cmp"

	"github.com/ambigen/ambigen/gen"
	v1 "github.com/ambigen/ambigen/internal/oldchat/v1"
	v2 "github.com/ambigen/ambigen/internal/oldchat/v2"
	"github.com/ambigen/ambigen/internal/testkit"
	"github.com/ambigen/ambigen/runtime"
)

// Version skew: clients of two earlier releases of the schema (internal/oldchat) meet today's
// chat, which lists v1's fingerprint with -compatible. `ambigen breaking` says v1's clients are
// still served and v2's are not (cmd/ambigen/oldchat_test.go checks it).

// verdicts records what a Go client's OnVersion hook is told.
type verdicts chan runtime.Version

func (v verdicts) hook(_ *runtime.Conn, got runtime.Version) { v <- got }

func dialOpts(v verdicts, errs chan<- error) runtime.ClientOptions {
	return runtime.ClientOptions{
		Logger:    quietLogger(),
		OnVersion: v.hook,
		OnError: func(_ *runtime.Conn, err error) {
			select {
			case errs <- err:
			default:
			}
		},
	}
}

func dialCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestOldGoClientsAgainstTodaysServer(t *testing.T) {
	chat := chatOn(t, listenLoopback(t), []string{v1.Fingerprint})
	errs := make(chan error, 16)

	// Today's client, which the server serves as its own.
	todayV := make(verdicts, 1)
	today := gen.NewClient(dialOpts(todayV, errs))
	if err := today.Dial(dialCtx(t), chat.wsURL()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = today.Close() })

	// v1, from before post: listed as compatible, and it chats with today's client.
	oldV := make(verdicts, 1)
	old := v1.NewClient(dialOpts(oldV, errs))
	oldChat := make(chan string, 4)
	old.OnChat(func(_ context.Context, msg string) { oldChat <- msg })
	if err := old.Dial(dialCtx(t), chat.wsURL()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = old.Close() })

	// v2, whose Mood lacks neutral: not listed, so told to reload.
	staleV := make(verdicts, 1)
	staleErrs := make(chan error, 4)
	stale := v2.NewClient(dialOpts(staleV, staleErrs))
	stalePosts := make(chan v2.ChatMessage, 4)
	stale.OnPost(func(_ context.Context, msg v2.ChatMessage) { stalePosts <- msg })
	if err := stale.Dial(dialCtx(t), chat.wsURL()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stale.Close() })

	for _, c := range []struct {
		who  string
		got  verdicts
		rt   *runtime.Client
		want runtime.VersionStatus
	}{
		{"today's client", todayV, today.Runtime(), runtime.VersionCompatible},
		{"v1 client", oldV, old.Runtime(), runtime.VersionCompatible},
		{"v2 client", staleV, stale.Runtime(), runtime.VersionReload},
	} {
		want := runtime.Version{Status: c.want, Fingerprint: gen.Fingerprint}
		if got := recv(t, c.got, c.who+"'s verdict"); got != want {
			t.Errorf("%s: OnVersion got %+v, want %+v", c.who, got, want)
		}
		if got := c.rt.Version(); got != want {
			t.Errorf("%s: Version() = %+v, want %+v", c.who, got, want)
		}
	}

	// The server counts them by the fingerprint each announced. A connection is counted when
	// it joins the registry, just after its verdict is queued, so the count may lag the verdict.
	wantRows := []runtime.VersionCount{
		{Fingerprint: v2.Fingerprint, Status: runtime.VersionReload, Conns: 1},
		{Fingerprint: v1.Fingerprint, Status: runtime.VersionCompatible, Conns: 1},
		{Fingerprint: gen.Fingerprint, Status: runtime.VersionCompatible, Conns: 1},
	}
	sortRows(wantRows)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		gotRows := chat.srv.rt.Versions()
		sortRows(gotRows)
		diff := cmp.Diff(wantRows, gotRows)
		if diff == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Versions (-want +got):\n%s", diff)
		}
	}

	// Compatible means it: the v1 client's chat line reaches everyone, itself included.
	if err := old.SendChat("hello from release 1"); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, oldChat, "the v1 client's own chat line"); got != "hello from release 1" {
		t.Errorf("v1 client got %q", got)
	}

	// And reload means it: a post with today's neutral mood is one v2 cannot read.
	neutral := gen.MoodNeutral
	if err := today.SendPost(gen.ChatMessage{User: "ann", Text: "meh", Tags: []string{}, Mood: &neutral}); err != nil {
		t.Fatal(err)
	}
	var me *runtime.MessageError
	if err := recv(t, staleErrs, "the v2 client's error"); !errors.As(err, &me) || me.Kind != runtime.KindPayload || me.Name != "post" {
		t.Errorf("the v2 client reported %v, want a payload error for post", err)
	}
	select {
	case p := <-stalePosts:
		t.Errorf("the v2 client's handler got a post it cannot represent: %+v", p)
	default:
	}
	select {
	case err := <-errs:
		t.Errorf("a compatible client reported: %v", err)
	default:
	}
}

// sortRows orders rows by fingerprint: Versions orders by count first, and here all count one.
func sortRows(rows []runtime.VersionCount) {
	slices.SortFunc(rows, func(a, b runtime.VersionCount) int { return strings.Compare(a.Fingerprint, b.Fingerprint) })
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// oldRelease serves an earlier release of the chat: that release's generated server (which
// declares its own fingerprint), and the chat page with web/app.ts bundled against that
// release's generated TypeScript, as the release shipped it.
func oldRelease(t *testing.T, ln net.Listener, release string) (stop func()) {
	t.Helper()
	script := bundleRelease(t, release)
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", page("templates/chat.html"))
	mux.HandleFunc("GET /static/app.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(script)
	})
	rt := runtime.NewServer(runtime.Options{Fallback: mux, Logger: quietLogger()})
	switch release {
	case "v1":
		api := v1.Serve(rt)
		api.OnChat(func(_ context.Context, _ *v1.Conn, msg string) { api.BroadcastChat(msg) })
	case "v2":
		api := v2.Serve(rt)
		api.OnChat(func(_ context.Context, _ *v2.Conn, msg string) { api.BroadcastChat(msg) })
	default:
		t.Fatalf("no release %q", release)
	}
	hs := &http.Server{Handler: rt, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = hs.Serve(ln)
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := rt.Shutdown(ctx); err != nil {
			t.Errorf("shut the old release down: %v", err)
		}
		_ = hs.Close()
		<-served
	}
	t.Cleanup(stop)
	return stop
}

// bundleRelease bundles web/app.ts, the page's script, with its import of today's generated
// client replaced by the given release's generated client.
func bundleRelease(t *testing.T, release string) []byte {
	t.Helper()
	generated := filepath.Join(testkit.RepoRoot(t), "internal", "oldchat", release, "messages.ts")
	toRelease := api.Plugin{
		Name: "old-release",
		Setup: func(b api.PluginBuild) {
			b.OnResolve(api.OnResolveOptions{Filter: `/gen/messages\.js$`}, func(api.OnResolveArgs) (api.OnResolveResult, error) {
				return api.OnResolveResult{Path: generated}, nil
			})
		},
	}
	res := api.Build(api.BuildOptions{
		EntryPoints: []string{"web/app.ts"},
		Bundle:      true,
		Format:      api.FormatIIFE,
		Platform:    api.PlatformBrowser,
		Target:      api.ES2020,
		Plugins:     []api.Plugin{toRelease},
		LogLevel:    api.LogLevelSilent,
	})
	if len(res.Errors) > 0 {
		t.Fatalf("bundle the %s page:\n%s", release, strings.Join(api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage}), ""))
	}
	if len(res.OutputFiles) != 1 {
		t.Fatalf("bundle the %s page: %d output files", release, len(res.OutputFiles))
	}
	// The bundle must really hold the release's client, not today's.
	want := map[string]string{"v1": v1.Fingerprint, "v2": v2.Fingerprint}[release]
	if js := string(res.OutputFiles[0].Contents); !strings.Contains(js, want) || strings.Contains(js, gen.Fingerprint) {
		t.Fatalf("the %s bundle does not carry %s's fingerprint alone", release, release)
	}
	return res.OutputFiles[0].Contents
}

// versionIs is true once the page shows the server's verdict v.
func versionIs(v string) string {
	return `document.getElementById("status")?.dataset.version === ` + testkit.JSString(v)
}

const reloadShown = `document.getElementById("reload")?.hidden === false`

// A tab loaded from an earlier release stays open across a deploy of today's chat, reconnects by
// itself, and learns from the new server whether it may go on.
func TestOldTabAfterDeploy(t *testing.T) {
	browser := testkit.NewBrowser(t)
	for _, c := range []struct {
		release     string
		fingerprint string
		want        runtime.VersionStatus
	}{
		{"v1", v1.Fingerprint, runtime.VersionCompatible},
		{"v2", v2.Fingerprint, runtime.VersionReload},
	} {
		t.Run(c.release, func(t *testing.T) {
			ln := listenLoopback(t)
			addr := ln.Addr().String()
			stopOld := oldRelease(t, ln, c.release)
			tab := testkit.NewTab(t, browser, "http://"+addr+"/")
			testkit.WaitFor(t, tab, "the old page connects to its own release", textIs("status", "open"))
			testkit.WaitFor(t, tab, "its own release serves it", versionIs("compatible"))

			// The deploy: the old release goes, today's chat comes up on the same address,
			// listing v1 as compatible.
			stopOld()
			testkit.WaitFor(t, tab, "the page notices the server is gone", `document.getElementById("status").textContent !== "open"`)
			chat := chatOn(t, listenAgain(t, addr), []string{v1.Fingerprint})
			testkit.WaitFor(t, tab, "the old page reconnects to today's server", textIs("status", "open"))
			testkit.WaitFor(t, tab, "the old page shows today's verdict", versionIs(string(c.want)))

			if c.want == runtime.VersionReload {
				testkit.WaitFor(t, tab, "the old page asks its user to reload", reloadShown)
			} else {
				ctx, cancel := context.WithTimeout(tab, testkit.UITimeout)
				hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("reload").hidden`))
				cancel()
				if err != nil || !hidden {
					t.Errorf("a compatible page asks its user to reload (hidden %v, %v)", hidden, err)
				}
			}
			testkit.Eventually(t, 5*time.Second, func() bool { return hasRow(chat.srv.rt.Versions(), c.fingerprint, c.want) },
				"Versions never counted the old tab under %s as %s", c.fingerprint, c.want)

			// Either way the old page goes on working until its user reloads: its chat line
			// reaches a tab of today's page, which the server serves as its own.
			fresh := testkit.NewTab(t, browser, chat.httpURL())
			testkit.WaitFor(t, fresh, "today's page is compatible", versionIs("compatible"))
			line := "from a tab of release " + c.release
			say(t, tab, sendButton, line)
			testkit.WaitFor(t, fresh, "today's tab shows the old tab's line", testkit.HasMessage(line))
		})
	}
}

func hasRow(rows []runtime.VersionCount, fp string, st runtime.VersionStatus) bool {
	for _, r := range rows {
		if r.Fingerprint == fp && r.Status == st && r.Conns > 0 {
			return true
		}
	}
	return false
}
