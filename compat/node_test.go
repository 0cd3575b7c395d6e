package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evanw/esbuild/pkg/api"
	"github.com/google/go-cmp/cmp"

	"github.com/ambigen/ambigen/internal/testkit"
)

// nodeTimeout bounds the whole Node run; it takes well under a second when things work.
const nodeTimeout = 30 * time.Second

// requireNode returns the path of node, failing under CI and skipping loudly elsewhere.
func requireNode(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("node")
	if err != nil {
		msg := "node not found on PATH: install Node.js 20 or newer"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPED, NOT PASSED: the Node compatibility test did not run: " + msg)
	}
	return path
}

// bundleGenerated turns the generated TypeScript client (ts/src/gen/messages.ts) into an ES
// module that imports the committed jsclient/ambiorix.mjs instead of ts/src: the generated
// descriptor and decoders run on exactly the runtime bundle that ships.
func bundleGenerated(t *testing.T, root string) string {
	t.Helper()
	shipped := filepath.Join(root, "jsclient", "ambiorix.mjs")
	toShipped := api.Plugin{
		Name: "shipped-runtime",
		Setup: func(b api.PluginBuild) {
			// The generated file's only import of the runtime.
			b.OnResolve(api.OnResolveOptions{Filter: `^\.\./index\.js$`}, func(api.OnResolveArgs) (api.OnResolveResult, error) {
				return api.OnResolveResult{Path: shipped, External: true}, nil
			})
		},
	}
	out := filepath.Join(t.TempDir(), "messages.mjs")
	res := api.Build(api.BuildOptions{
		EntryPoints: []string{filepath.Join(root, "ts", "src", "gen", "messages.ts")},
		Outfile:     out,
		Bundle:      true,
		Write:       true,
		Format:      api.FormatESModule,
		Platform:    api.PlatformNeutral,
		Target:      api.ES2020,
		Plugins:     []api.Plugin{toShipped},
		LogLevel:    api.LogLevelSilent,
	})
	if len(res.Errors) > 0 {
		t.Fatalf("bundle the generated client:\n%s", strings.Join(api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage}), ""))
	}
	return out
}

// nodeReport is what compat/node/r-peer.mjs prints.
type nodeReport struct {
	Greeting    *string         `json:"greeting"`
	BothOpen    bool            `json:"bothOpen"`
	ChatSender  *string         `json:"chatSender"`
	ChatOther   *string         `json:"chatOther"`
	PostTwoTags json.RawMessage `json:"postTwoTags"`
	PostOneTag  json.RawMessage `json:"postOneTag"`
	// Checked in Node, so that what the handler got is known before any JSON round trip.
	PostOneTagIsArray bool     `json:"postOneTagIsArray"`
	ErrorsBefore      []string `json:"errorsBefore"`
	ErrorsOther       []string `json:"errorsOther"`
	// The version handshake, which R does not know.
	Opened      []string          `json:"opened"`
	Fingerprint string            `json:"fingerprint"`
	Versions    []string          `json:"versions"`
	Verdicts    []json.RawMessage `json:"verdicts"`
}

func TestTypeScriptClientInNodeAgainstR(t *testing.T) {
	node := requireNode(t)
	r := startR(t)
	root := testkit.RepoRoot(t)
	genModule := bundleGenerated(t, root)

	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--experimental-websocket", "--no-warnings=ExperimentalWarning",
		filepath.Join(root, "compat", "node", "r-peer.mjs"), r.wsURL(), genModule)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	var got nodeReport
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("node's report: %v\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}

	str := func(p *string) string {
		if p == nil {
			return "<nothing>"
		}
		return *p
	}
	if want := "Hello from the server!"; str(got.Greeting) != want {
		t.Errorf("greeting = %q, want %q", str(got.Greeting), want)
	}
	if !got.BothOpen {
		t.Errorf("the two typed clients never both showed status open")
	}
	const line = "hello from Node, via R — ünïcödé & <b>"
	if str(got.ChatSender) != line || str(got.ChatOther) != line {
		t.Errorf("chat reached sender as %q and other as %q, want %q for both", str(got.ChatSender), str(got.ChatOther), line)
	}
	wantTwo := map[string]any{"user": "ann", "text": "two tags", "tags": []any{"r", "ts"}, "sentAt": "2026-11-27T15:04:05Z", "mood": "happy"}
	var gotTwo any
	if err := json.Unmarshal(got.PostTwoTags, &gotTwo); err != nil || gotTwo == nil {
		t.Errorf("post with two tags never arrived (%s, %v)", got.PostTwoTags, err)
	} else if diff := cmp.Diff(wantTwo, gotTwo); diff != "" {
		t.Errorf("post with two tags (-sent +got):\n%s", diff)
	}
	if len(got.ErrorsBefore) > 0 {
		t.Errorf("the clients reported errors: %q", got.ErrorsBefore)
	}

	t.Run("the announced fingerprint changes nothing for R", func(t *testing.T) {
		want := r.wsURL() + "?ambigen-fingerprint=" + got.Fingerprint
		if len(got.Opened) != 2 || got.Opened[0] != want || got.Opened[1] != want {
			t.Errorf("the clients opened %q, want %q twice", got.Opened, want)
		}
		if !cmp.Equal(got.Versions, []string{"unknown", "unknown"}) || len(got.Verdicts) != 0 {
			t.Errorf("version statuses %q, verdicts %s; want unknown and none from R", got.Versions, got.Verdicts)
		}
	})

	// R unboxes ["r"] to "r". The typed client's generated decoder reads the scalar as the
	// one-element list that ChatMessage.tags declares, as the Go client does (goclient_test.go).
	t.Run("one-element list unboxed by R", func(t *testing.T) {
		if len(got.ErrorsOther) > 0 {
			t.Errorf("the receiving client reported errors: %q", got.ErrorsOther)
		}
		var gotOne any
		if err := json.Unmarshal(got.PostOneTag, &gotOne); err != nil || gotOne == nil {
			t.Fatalf("post with one tag never reached the handler (%s, %v)", got.PostOneTag, err)
		}
		want := map[string]any{"user": "ann", "text": "one tag", "tags": []any{"r"}}
		if diff := cmp.Diff(want, gotOne); diff != "" {
			t.Errorf("post with one tag (-sent +got):\n%s", diff)
		}
		if !got.PostOneTagIsArray {
			t.Errorf("the handler's tags is not an array: %s", got.PostOneTag)
		}
	})
}
