package compat

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/ambigen/ambigen/internal/testkit"
)

// transcriptCase is one line of testdata/ambiorix-r/transcripts.jsonl: a frame sent to the real
// Ambiorix server and what came back.
type transcriptCase struct {
	Case string          `json:"case"`
	Sent *string         `json:"sent"`
	Got  []transcriptGot `json:"got"`
}

type transcriptGot struct {
	T      string `json:"t"`
	Data   string `json:"data,omitempty"`
	Code   int    `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// jsonliteDiffers names the recorded cases where server.R answers differently from the
// reference because jsonlite, not yyjsonr, turns JSON into R values and back (README.md has the
// details). Every other replayed case must match byte for byte.
var jsonliteDiffers = map[string]string{
	"echo 1.0":              "jsonlite writes a whole double without .0",
	"echo -0.0":             "jsonlite writes a whole double without .0",
	"echo 1e2":              "jsonlite writes a whole double without .0",
	"echo [1.0,2]":          "jsonlite writes a whole double without .0",
	"echo 1e-7":             "jsonlite writes 1e-07",
	"echo 3000000000":       "jsonlite reads integers beyond int32 as doubles, yyjsonr as strings",
	"echo 9007199254740993": "jsonlite reads integers beyond int32 as doubles, yyjsonr as strings",
	"echo -2147483648":      "yyjsonr reads R's integer NA there (null), jsonlite a double",
	"echo [null]":           "jsonlite reads [null] as NA, written unboxed as null",
	"echo [1,\"a\",true]":   "jsonlite coerces a mixed array to a character vector, yyjsonr keeps a list",
	"top-level [\"a\",1]":   "jsonlite coerces a mixed array to a character vector, on which $ fails (1011); yyjsonr's list has no flag (ignored)",
}

// handlersOfTheRecording are receivers the recording server had and server.R does not (it has the
// chat's handlers and echo only); frames for them are not replayed.
var handlersOfTheRecording = []string{"onearg", "dots", "boom", "count", "1", "TRUE", "types"}

// TestTranscriptsReplayed sends server.R the frames recorded against the real Ambiorix server
// and compares the answers, so that the stand-in's fidelity is measured, not assumed.
func TestTranscriptsReplayed(t *testing.T) {
	path := filepath.Join(testkit.RepoRoot(t), "testdata", "ambiorix-r", "transcripts.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := startR(t)

	var cases []transcriptCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c transcriptCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	replayed, matched := 0, 0
	for i, c := range cases {
		// Multi-client and control-frame cases have no single sent frame.
		if c.Sent == nil || recordedHandler(*c.Sent) {
			continue
		}
		replayed++
		t.Run(c.Case, func(t *testing.T) {
			got := replay(t, r, *c.Sent, i)
			if why, ok := jsonliteDiffers[c.Case]; ok {
				if cmp.Equal(c.Got, got) {
					t.Errorf("expected a difference (%s), but the answers are equal: update jsonliteDiffers", why)
				}
				t.Logf("differs as documented (%s): reference %v, server.R %v", why, c.Got, got)
				return
			}
			if diff := cmp.Diff(c.Got, got); diff != "" {
				t.Errorf("server.R answered differently from Ambiorix (-reference +server.R):\n%s", diff)
				return
			}
			matched++
		})
	}
	t.Logf("replayed %d recorded cases; %d match byte for byte, %d differ as documented", replayed, matched, len(jsonliteDiffers))
}

// recordedHandler reports whether the frame routes to a receiver server.R does not have.
func recordedHandler(sent string) bool {
	var env struct {
		Name any `json:"name"`
	}
	if json.Unmarshal([]byte(sent), &env) != nil {
		return false
	}
	name := fmt.Sprint(env.Name)
	for _, h := range handlersOfTheRecording {
		if name == h {
			return true
		}
	}
	return name == "1" || name == "true" // the receivers "1" and "TRUE", reached through R's ==
}

// replay sends one recorded frame on a fresh socket and collects the answers. A sentinel echo sent
// right after marks the end: R handles frames in order, so everything the recorded frame caused
// has arrived once the sentinel is back, unless the socket was closed first.
func replay(t *testing.T, r *rServer, sent string, n int) []transcriptGot {
	t.Helper()
	c := dialRaw(t, r)
	kind := websocket.TextMessage
	payload := sent
	if inner, ok := strings.CutPrefix(sent, "<binary "); ok {
		kind, payload = websocket.BinaryMessage, strings.TrimSuffix(inner, ">")
	}
	sentinel := fmt.Sprintf(`{"name":"echo","message":"sentinel %d","isAmbiorix":true}`, n)
	if err := c.WriteMessage(kind, []byte(payload)); err != nil {
		t.Fatal(err)
	}
	// R may already have closed the socket over the first frame; the close is then read below.
	_ = c.WriteMessage(websocket.TextMessage, []byte(sentinel))
	_ = c.SetReadDeadline(time.Now().Add(waitTimeout))
	got := []transcriptGot{}
	for {
		mt, data, err := c.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return append(got, transcriptGot{T: "close", Code: ce.Code, Reason: ce.Text})
		}
		if err != nil {
			t.Fatalf("reading the answer: %v (so far %v)", err, got)
		}
		s := string(data)
		switch {
		case mt != websocket.TextMessage:
			t.Fatalf("R sent a frame of type %d", mt)
		case s == `{"name":"echo","message":"sentinel `+fmt.Sprint(n)+`","isAmbiorix":true}`:
			return got
		case strings.HasPrefix(s, `{"name":"update",`):
			// server.R's chat count on open, which the recording server did not have.
		default:
			got = append(got, transcriptGot{T: "msg", Data: s})
		}
	}
}
