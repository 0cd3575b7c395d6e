package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-faster/jx"
	"github.com/gorilla/websocket"
)

// The transcripts were recorded against a live Ambiorix 3.0.0 server; see
// testdata/ambiorix-r/README.md at the repository root.
const transcriptsPath = "../testdata/ambiorix-r/transcripts.jsonl"

type transcriptFrame struct {
	T      string `json:"t"`
	Binary bool   `json:"binary"`
	Data   string `json:"data"`
	Code   int    `json:"code"`
	Reason string `json:"reason"`
	Len    int    `json:"len"`
	Head   string `json:"head"`
	Tail   string `json:"tail"`
}

type transcript struct {
	Case            string            `json:"case"`
	Sent            *string           `json:"sent"`
	Got             []transcriptFrame `json:"got"`
	ReadyStateAfter int               `json:"readyStateAfter"`
	Sender          []transcriptFrame `json:"sender"`
	Other           []transcriptFrame `json:"other"`
	Stale           []transcriptFrame `json:"stale"`
}

func loadTranscripts(t *testing.T) []transcript {
	t.Helper()
	f, err := os.Open(transcriptsPath)
	if err != nil {
		t.Fatalf("the reference transcripts are required: %v", err)
	}
	defer f.Close()
	var out []transcript
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var tr transcript
		if err := json.Unmarshal(sc.Bytes(), &tr); err != nil {
			t.Fatalf("transcripts: %v", err)
		}
		out = append(out, tr)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 90 {
		t.Fatalf("only %d transcripts", len(out))
	}
	return out
}

// referenceHandlers registers on s the handlers the reference server had
// (see the transcripts' README).
func referenceHandlers(s *Server) {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(On(s, "greeting", Any, func(ctx context.Context, c *Conn, _ any) {
		_ = Send(c, "greeting", String, "Hello from the server!")
	}))
	must(s.Handle("chat", func(ctx context.Context, c *Conn, p json.RawMessage) error {
		s.Broadcast("chat", json.RawMessage(canonical(p)))
		return nil
	}))
	must(s.Handle("echo", func(ctx context.Context, c *Conn, p json.RawMessage) error {
		return c.Send("echo", json.RawMessage(canonical(p)))
	}))
	must(s.Handle("onearg", func(ctx context.Context, c *Conn, p json.RawMessage) error {
		s.Broadcast("onearg-ran", json.RawMessage(canonical(p)))
		return nil
	}))
	must(s.Handle("dots", func(ctx context.Context, c *Conn, p json.RawMessage) error {
		s.Broadcast("dots-ran", 1)
		return nil
	}))
	must(s.Handle("boom", func(ctx context.Context, c *Conn, p json.RawMessage) error {
		return errors.New("boom")
	}))
	must(s.Handle("count", func(ctx context.Context, c *Conn, p json.RawMessage) error {
		return Send(c, "count", Int, int64(s.Len()))
	}))
	must(s.Handle("1", func(ctx context.Context, c *Conn, p json.RawMessage) error {
		return c.Send("one", json.RawMessage(canonical(p)))
	}))
	must(s.Handle("TRUE", func(ctx context.Context, c *Conn, p json.RawMessage) error {
		return c.Send("true", json.RawMessage(canonical(p)))
	}))
	// PROTOCOL.md part B item 5: a second registration is refused.
	if err := s.Handle("greeting", func(context.Context, *Conn, json.RawMessage) error { return nil }); !errors.Is(err, ErrDuplicateHandler) {
		panic("second greeting handler accepted")
	}
}

// Where part B deliberately differs from the reference, the expected
// outcome is part B's: no frame, the connection open, and the error hook
// called with this kind (0: silently ignored and counted).
var partB = map[string]ErrorKind{
	// B1: only isAmbiorix: true is handled.
	`isAmbiorix false`:                     0,
	`isAmbiorix 0`:                         0,
	`isAmbiorix "no"`:                      0,
	`partial match isAmbiorixYes/messages`: 0, // and no partial key matching
	// B3: bad input is reported and the connection stays open.
	`malformed JSON`:                KindMalformed,
	`empty text frame`:              KindMalformed,
	`trailing garbage`:              KindMalformed,
	`name missing`:                  KindBadName,
	`name null`:                     KindBadName,
	`name ["greeting","x"]`:         KindBadName,
	`name ["greeting"]`:             KindBadName, // no unboxing of a name
	`name {} `:                      KindBadName,
	`name 1 (receiver "1")`:         KindBadName, // names are strings, no R coercion
	`name true (receiver "TRUE")`:   KindBadName,
	`name 5 (no receiver)`:          KindBadName,
	`partial match nameX`:           KindBadName, // exact keys only
	`ambiguous partial nameA/nameB`: KindBadName,
	`top-level number`:              KindNotObject,
	`top-level string`:              KindNotObject,
	`top-level null`:                KindNotObject,
	`top-level true`:                KindNotObject,
	`top-level [1,2]`:               KindNotObject,
	`top-level ["a",1]`:             KindNotObject,
	`top-level []`:                  KindNotObject,
	`top-level [obj] 1 row`:         KindNotObject, // no data-frame reading of arrays
	`top-level [obj,obj] 2 rows`:    KindNotObject,
	`binary frame w/ valid JSON`:    KindBinary,
	`invalid UTF-8 text frame`:      KindInvalidUTF8,
	`handler error (boom)`:          KindHandler,
}

// rValues are echo cases where R changed the value on its way back
// (unboxing, integers as strings, NUL cutting a string, 1e2 as 100.0): that
// is R's serialisation of R values, not the protocol. A Go handler echoes
// the value it received.
var rValues = map[string]bool{
	`nul in string`: true, `echo ["a"]`: true, `echo -0`: true, `echo 1e2`: true,
	`echo [1.0,2]`: true, `echo [1]`: true, `echo [true]`: true, `echo {"a":[1]}`: true,
	`echo [{"a":1},{"b":2}]`: true, `echo [{"a":[1,2]},{"a":[3]}]`: true, `echo [1,[2]]`: true,
	`echo 3000000000`: true, `echo -2147483648`: true, `echo 9007199254740993`: true,
}

const probe = `{"name":"greeting","message":"probe","isAmbiorix":true}`
const greetingReply = `{"name":"greeting","message":"Hello from the server!","isAmbiorix":true}`

// wireFrame turns a transcript's "sent" into what goes on the wire.
func wireFrame(tr transcript) (int, []byte) {
	s := *tr.Sent
	switch {
	case tr.Case == "invalid UTF-8 text frame":
		// The recorder printed the bytes lossily; the frame was a text
		// frame holding an invalid byte.
		return websocket.TextMessage, []byte("{\"\xff\"}")
	case strings.HasPrefix(s, "<binary ") && strings.HasSuffix(s, ">"):
		return websocket.BinaryMessage, []byte(s[len("<binary ") : len(s)-1])
	}
	return websocket.TextMessage, []byte(s)
}

func TestTranscripts(t *testing.T) {
	trs := loadTranscripts(t)
	errs := newErrorLog()
	ts := startServer(t, Options{OnError: errs.hook}, referenceHandlers)
	strictErrs := newErrorLog()
	strict := startServer(t, Options{OnError: strictErrs.hook, Strict: true}, referenceHandlers)

	seen := map[string]bool{}
	for _, tr := range trs {
		if tr.Sent == nil {
			continue
		}
		seen[tr.Case] = true
		t.Run(tr.Case, func(t *testing.T) {
			if tr.Case == "types (R values -> JSON)" {
				t.Skip("a table of R values: what R writes for its own types, nothing a Go server sends")
			}
			mt, frame := wireFrame(tr)
			kind, differs := partB[tr.Case]
			var want []string
			switch {
			case differs:
			case rValues[tr.Case]:
				var msg jx.Raw
				_ = jx.DecodeBytes(frame).Obj(func(d *jx.Decoder, key string) error {
					if key == "message" {
						r, err := d.Raw()
						msg = append(jx.Raw(nil), r...)
						return err
					}
					return d.Skip()
				})
				want = []string{`{"name":"echo","message":` + string(canonical(msg)) + `,"isAmbiorix":true}`}
				if want[0] == tr.Got[0].Data {
					t.Fatalf("listed as an R value change, but the reference sent the same bytes")
				}
			default:
				if tr.ReadyStateAfter != 1 {
					t.Fatalf("reference closed the socket (%v) and part B lists no difference", tr.Got)
				}
				for _, g := range tr.Got {
					want = append(want, g.Data)
				}
			}

			ws := dialRaw(t, ts.url)
			if err := ws.WriteMessage(mt, frame); err != nil {
				t.Fatal(err)
			}
			if kind == KindInvalidUTF8 {
				// RFC 6455 (section 8.1) has the connection failed on invalid
				// UTF-8, so it closes with 1007 in every mode; the reference
				// closes too, with 1011.
				if tr.ReadyStateAfter == 1 {
					t.Fatal("the reference kept the socket open")
				}
				if code, _ := closeCode(t, ws, 5*time.Second); code != websocket.CloseInvalidFramePayloadData {
					t.Fatalf("closed with %d, want 1007", code)
				}
				if me := errs.next(t); me.Kind != kind {
					t.Fatalf("error hook got %v, want kind %v", me, kind)
				}
				return
			}
			send(t, ws, probe)
			for _, w := range want {
				if got := readText(t, ws, 5*time.Second); got != w {
					t.Fatalf("got  %s\nwant %s", got, w)
				}
			}
			// The probe's answer comes next: nothing else was sent and the
			// connection is still open.
			if got := readText(t, ws, 5*time.Second); got != greetingReply {
				t.Fatalf("after the expected frames got %s, want the probe's reply", got)
			}
			if kind != 0 {
				if me := errs.next(t); me.Kind != kind {
					t.Fatalf("error hook got %v, want kind %v", me, kind)
				}
			}
			errs.none(t)

			if kind == 0 {
				return
			}
			// Strict mode closes with the kind's precise code.
			sws := dialRaw(t, strict.url)
			if err := sws.WriteMessage(mt, frame); err != nil {
				t.Fatal(err)
			}
			if code, _ := closeCode(t, sws, 5*time.Second); code != kind.CloseCode() {
				t.Fatalf("strict: closed with %d, want %d", code, kind.CloseCode())
			}
			if me := strictErrs.next(t); me.Kind != kind {
				t.Fatalf("strict: error hook got %v, want kind %v", me, kind)
			}
		})
	}
	for name := range partB {
		if !seen[name] {
			t.Errorf("part B case %q is not in the transcripts", name)
		}
	}
	for name := range rValues {
		if !seen[name] {
			t.Errorf("R value case %q is not in the transcripts", name)
		}
	}
}

func findTranscript(t *testing.T, name string) transcript {
	for _, tr := range loadTranscripts(t) {
		if tr.Case == name {
			return tr
		}
	}
	t.Fatalf("transcript %q missing", name)
	return transcript{}
}

// The reference keeps closed clients in its list (count 88 there); part B
// item 4 keeps only live ones. The chat frames themselves must match.
func TestTranscriptBroadcastAndStaleClient(t *testing.T) {
	tr := findTranscript(t, "chat broadcast, 2 clients, + stale client")
	ts := startServer(t, Options{}, referenceHandlers)

	stale := dialRaw(t, ts.url)
	stale.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	closeCode(t, stale, 5*time.Second)
	sender := dialRaw(t, ts.url)
	other := dialRaw(t, ts.url)
	waitFor(t, func() bool { return ts.Len() == 2 })

	chat := tr.Sender[0].Data
	send(t, sender, chat) // the reference's server sends back what it got
	if got := readText(t, sender, 5*time.Second); got != chat {
		t.Fatalf("sender got %s, want %s", got, chat)
	}
	if got := readText(t, other, 5*time.Second); got != tr.Other[0].Data {
		t.Fatalf("other got %s, want %s", got, tr.Other[0].Data)
	}
	send(t, sender, `{"name":"count","message":null,"isAmbiorix":true}`)
	if got, want := readText(t, sender, 5*time.Second), `{"name":"count","message":2,"isAmbiorix":true}`; got != want {
		t.Fatalf("count: got %s, want %s (live clients only)", got, want)
	}
}

func TestTranscriptPipelinedOrder(t *testing.T) {
	tr := findTranscript(t, "pipelined order")
	ts := startServer(t, Options{}, referenceHandlers)
	ws := dialRaw(t, ts.url)
	for i := range tr.Got {
		send(t, ws, `{"name":"echo","message":`+itoa(int64(i))+`,"isAmbiorix":true}`)
	}
	for _, g := range tr.Got {
		if got := readText(t, ws, 5*time.Second); got != g.Data {
			t.Fatalf("got %s, want %s", got, g.Data)
		}
	}
}

func TestTranscriptFragmented(t *testing.T) {
	tr := findTranscript(t, "fragmented text message")
	ts := startServer(t, Options{}, referenceHandlers)
	// A 16-byte write buffer makes gorilla split the message into frames.
	d := websocket.Dialer{WriteBufferSize: 16}
	ws, _, err := d.Dial(ts.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	w, err := ws.NextWriter(websocket.TextMessage)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{`{"name":"echo",`, `"message":"frag",`, `"isAmbiorix":true}`} {
		if _, err := w.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, ws, 5*time.Second); got != tr.Got[0].Data {
		t.Fatalf("got %s, want %s", got, tr.Got[0].Data)
	}
}

func TestTranscriptPingPong(t *testing.T) {
	tr := findTranscript(t, "ping -> pong")
	ts := startServer(t, Options{}, referenceHandlers)
	ws := dialRaw(t, ts.url)
	pong := make(chan string, 1)
	ws.SetPongHandler(func(s string) error { pong <- s; return nil })
	if err := ws.WriteControl(websocket.PingMessage, []byte(tr.Got[0].Data), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	send(t, ws, probe)
	readText(t, ws, 5*time.Second) // control frames are read on the way
	select {
	case got := <-pong:
		if got != tr.Got[0].Data {
			t.Fatalf("pong %q, want %q", got, tr.Got[0].Data)
		}
	default:
		t.Fatal("no pong before the probe's reply")
	}
}

// The reference never answers a client's close frame (clients see 1006);
// part B item 9 completes the handshake with the client's code.
func TestTranscriptClientClose(t *testing.T) {
	findTranscript(t, `client close 4000 "bye"`)
	findTranscript(t, `client close no code`)
	ts := startServer(t, Options{}, referenceHandlers)
	for _, tc := range []struct {
		payload []byte
		want    int
	}{
		{websocket.FormatCloseMessage(4000, "bye"), 4000},
		{nil, websocket.CloseNoStatusReceived},
	} {
		ws := dialRaw(t, ts.url)
		if err := ws.WriteControl(websocket.CloseMessage, tc.payload, time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if code, _ := closeCode(t, ws, 5*time.Second); code != tc.want {
			t.Fatalf("close answered with %d, want %d", code, tc.want)
		}
	}
	waitFor(t, func() bool { return ts.Len() == 0 })
}

// Any path upgrades, no subprotocol is chosen and no compression is
// negotiated, as with the reference; a foreign Origin is refused (part B
// item 8), where the reference accepted it.
func TestTranscriptPathOriginSubprotocol(t *testing.T) {
	findTranscript(t, "path /some/path?x=1 + Origin evil + subprotocol")
	ts := startServer(t, Options{}, referenceHandlers)
	base := strings.TrimSuffix(ts.url, "/")

	d := websocket.Dialer{Subprotocols: []string{"chat.v1"}, EnableCompression: true}
	ws, resp, err := d.Dial(base+"/some/path?x=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if ws.Subprotocol() != "" || resp.Header.Get("Sec-WebSocket-Extensions") != "" {
		t.Fatalf("negotiated %q / %q, want nothing", ws.Subprotocol(), resp.Header.Get("Sec-WebSocket-Extensions"))
	}
	send(t, ws, `{"name":"greeting","message":"hi","isAmbiorix":true}`)
	if got := readText(t, ws, 5*time.Second); got != greetingReply {
		t.Fatalf("got %s", got)
	}

	_, resp, err = websocket.DefaultDialer.Dial(base+"/some/path?x=1", http.Header{"Origin": {"http://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign Origin: err %v, resp %v; want 403", err, resp)
	}
}

// The reference has no size limit; part B item 7 has a 1 MiB default. The
// 6 MiB echo goes through once the limit is raised, with the reference's
// exact length, head and tail.
func TestTranscriptLargeMessage(t *testing.T) {
	tr := findTranscript(t, "large message 6MB echo")
	want := tr.Got[0]
	frame := `{"name":"echo","message":"` + strings.Repeat("x", 6<<20) + `","isAmbiorix":true}`

	errs := newErrorLog()
	ts := startServer(t, Options{OnError: errs.hook}, referenceHandlers)
	ws := dialRaw(t, ts.url)
	send(t, ws, frame)
	send(t, ws, probe)
	if got := readText(t, ws, 10*time.Second); got != greetingReply {
		t.Fatalf("got %.80s, want the probe's reply", got)
	}
	if me := errs.next(t); me.Kind != KindTooBig {
		t.Fatalf("error hook: %v, want KindTooBig", me)
	}

	big := startServer(t, Options{ReadLimit: 8 << 20}, referenceHandlers)
	ws = dialRaw(t, big.url)
	send(t, ws, frame)
	got := readText(t, ws, 10*time.Second)
	if len(got) != want.Len || !strings.HasPrefix(got, want.Head) || !strings.HasSuffix(got, want.Tail) {
		t.Fatalf("got %d bytes %.40s...%s, want %d bytes %s...%s", len(got), got, got[len(got)-20:], want.Len, want.Head, want.Tail)
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
