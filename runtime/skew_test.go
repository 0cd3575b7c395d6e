package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
)

// Fingerprints for the runtime's own tests. Tests of real generated clients
// from earlier schemas are in internal/oldchat and examples/chat.
const (
	fpServer = "00112233445566778899aabbccddeeff" // the server's own
	fpOlder  = "0123456789abcdef0123456789abcdef" // an earlier schema it still serves
	fpOther  = "ffeeddccbbaa99887766554433221100" // a schema it does not serve
)

// skewServer serves fpServer and fpOlder; each connection is greeted with a
// "hello" from OnConnect, so a test can see what comes before it.
func skewServer(t *testing.T, opts Options) *testServer {
	t.Helper()
	opts.OnConnect = func(c *Conn) { _ = c.Send("hello", "from OnConnect") }
	if opts.CompatibleFingerprints == nil {
		opts.CompatibleFingerprints = []string{fpOlder}
	}
	return startServer(t, opts, func(s *Server) { s.SetFingerprint(fpServer) })
}

func dialAnnouncing(t *testing.T, url, fp string) *websocket.Conn {
	t.Helper()
	return dialRaw(t, url+"?"+HandshakeQuery+"="+fp)
}

const helloFrame = `{"name":"hello","message":"from OnConnect","isAmbiorix":true}`

func verdictFrame(status VersionStatus) string {
	return `{"name":"ambigen:version","message":{"status":"` + string(status) + `","fingerprint":"` + fpServer + `"},"isAmbiorix":true}`
}

func TestVerdictIsTheFirstFrame(t *testing.T) {
	s := skewServer(t, Options{})
	for _, tc := range []struct {
		announce string
		want     VersionStatus
	}{
		{fpServer, VersionCompatible},
		{fpOlder, VersionCompatible},
		{fpOther, VersionReload},
		{"not-a-fingerprint", VersionReload},
		{strings.ToUpper(fpServer), VersionReload}, // fingerprints are printed lower-case
		{"", VersionReload},
	} {
		t.Run(tc.announce, func(t *testing.T) {
			ws := dialAnnouncing(t, s.url, tc.announce)
			if got, want := readText(t, ws, 5*time.Second), verdictFrame(tc.want); got != want {
				t.Fatalf("first frame:\n got %s\nwant %s", got, want)
			}
			if got := readText(t, ws, 5*time.Second); got != helloFrame {
				t.Fatalf("second frame: got %s, want OnConnect's %s", got, helloFrame)
			}
		})
	}
}

func TestNoVerdictWithoutAnnouncement(t *testing.T) {
	s := skewServer(t, Options{})
	// Another query parameter, as a page may have, is not an announcement.
	ws := dialRaw(t, s.url+"?room=1&ambigen-fingerprin=x")
	if got := readText(t, ws, 5*time.Second); got != helloFrame {
		t.Fatalf("first frame: got %s, want OnConnect's %s (no verdict for a client that announced nothing)", got, helloFrame)
	}
}

func TestNoVerdictFromServerWithoutFingerprint(t *testing.T) {
	versions := make(chan Version, 1)
	s := startServer(t, Options{OnConnect: func(c *Conn) {
		versions <- c.Version()
		_ = c.Send("hello", "from OnConnect")
	}}, nil)
	ws := dialAnnouncing(t, s.url, fpOther)
	if got := readText(t, ws, 5*time.Second); got != helloFrame {
		t.Fatalf("first frame: got %s, want OnConnect's (a server that does not know its schema cannot judge)", got)
	}
	if got, want := <-versions, (Version{Status: VersionUnknown, Fingerprint: fpOther}); got != want {
		t.Fatalf("Conn.Version = %+v, want %+v", got, want)
	}
}

func TestServerConnVersion(t *testing.T) {
	versions := make(chan Version, 1)
	s := startServer(t, Options{
		CompatibleFingerprints: []string{fpOlder},
		OnConnect:              func(c *Conn) { versions <- c.Version() },
	}, func(s *Server) { s.SetFingerprint(fpServer) })
	for _, tc := range []struct {
		query string
		want  Version
	}{
		{"", Version{Status: VersionUnknown}},
		{"?" + HandshakeQuery + "=" + fpOlder, Version{VersionCompatible, fpOlder}},
		{"?a=1&" + HandshakeQuery + "=" + fpOther + "&b=2", Version{VersionReload, fpOther}},
		// A value that is not a fingerprint is not kept: it is whatever the peer sent.
		{"?" + HandshakeQuery + "=%3Cscript%3E", Version{Status: VersionReload}},
	} {
		dialRaw(t, s.url+tc.query)
		if got := <-versions; got != tc.want {
			t.Errorf("query %q: Conn.Version = %+v, want %+v", tc.query, got, tc.want)
		}
	}
}

// versionsEventually waits until s.Versions() is want.
func versionsEventually(t *testing.T, s *Server, want []VersionCount) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := s.Versions()
		diff := cmp.Diff(want, got)
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Versions (-want +got):\n%s", diff)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestVersionsCountsLiveConnections(t *testing.T) {
	s := skewServer(t, Options{})
	var socks []*websocket.Conn
	for _, q := range []string{
		"", "",
		"?" + HandshakeQuery + "=" + fpServer,
		"?" + HandshakeQuery + "=" + fpServer,
		"?" + HandshakeQuery + "=" + fpServer,
		"?" + HandshakeQuery + "=" + fpOlder,
		"?" + HandshakeQuery + "=" + fpOther,
		"?" + HandshakeQuery + "=bad",
	} {
		socks = append(socks, dialRaw(t, s.url+q))
	}
	versionsEventually(t, s.Server, []VersionCount{
		{fpServer, VersionCompatible, 3},
		{"", VersionUnknown, 2},
		{"", VersionReload, 1},
		{fpOlder, VersionCompatible, 1},
		{fpOther, VersionReload, 1},
	})
	// Connections that close leave the counts, and a row that reaches
	// zero leaves the table.
	for _, i := range []int{0, 2, 6} {
		socks[i].Close()
	}
	versionsEventually(t, s.Server, []VersionCount{
		{fpServer, VersionCompatible, 2},
		{"", VersionReload, 1},
		{"", VersionUnknown, 1},
		{fpOlder, VersionCompatible, 1},
	})
	if n, sum := s.Len(), sumConns(s.Versions()); n != sum {
		t.Errorf("Len = %d, but Versions adds up to %d", n, sum)
	}
}

func sumConns(rows []VersionCount) int {
	n := 0
	for _, r := range rows {
		n += r.Conns
	}
	return n
}

// A client can announce any well-formed fingerprint; it must not be able
// to grow the server's table without bound.
func TestVersionsTableIsBounded(t *testing.T) {
	s := skewServer(t, Options{})
	const strangers = maxStrangers + 8
	for i := range strangers {
		dialAnnouncing(t, s.url, fmt.Sprintf("%032x", 1000+i))
	}
	dialAnnouncing(t, s.url, fpServer)
	deadline := time.Now().Add(5 * time.Second)
	for s.Len() < strangers+1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	rows := s.Versions()
	if got, want := len(rows), maxStrangers+2; got != want {
		t.Fatalf("%d rows, want %d: %d strangers one by one, the rest together, and the server's own", got, want, maxStrangers)
	}
	if rows[0] != (VersionCount{"", VersionReload, strangers - maxStrangers}) {
		t.Errorf("first row %+v, want the %d strangers over the bound counted together", rows[0], strangers-maxStrangers)
	}
	if sum := sumConns(rows); sum != strangers+1 {
		t.Errorf("rows add up to %d, want %d", sum, strangers+1)
	}
}

func TestCompatibleFingerprintsAreChecked(t *testing.T) {
	defer func() {
		v := recover()
		if v == nil || !strings.Contains(fmt.Sprint(v), `CompatibleFingerprints[1] = "B9D5"`) {
			t.Fatalf("NewServer with a malformed fingerprint: recovered %v, want a panic naming it", v)
		}
	}()
	NewServer(Options{CompatibleFingerprints: []string{fpOlder, "B9D5"}})
}

func TestSetFingerprintTwiceServesBoth(t *testing.T) {
	s := startServer(t, Options{}, func(s *Server) {
		s.SetFingerprint(fpServer)
		s.SetFingerprint(fpOlder) // a second generated package on the same server
		s.SetFingerprint(fpServer)
	})
	for _, fp := range []string{fpServer, fpOlder} {
		ws := dialAnnouncing(t, s.url, fp)
		if got, want := readText(t, ws, 5*time.Second), verdictFrame(VersionCompatible); got != want {
			t.Errorf("announcing %s: got %s, want %s", fp, got, want)
		}
	}
}

func TestReservedNamesCannotBeRegistered(t *testing.T) {
	for _, r := range []Registrar{NewServer(Options{}), NewClient(ClientOptions{})} {
		if err := r.Handle(HandshakeMessage, func(context.Context, *Conn, json.RawMessage) error { return nil }); err == nil {
			t.Errorf("%T.Handle(%q) succeeded", r, HandshakeMessage)
		}
		if err := r.HandleCall("ambigen:anything", func(context.Context, *Conn, json.RawMessage) ([]byte, error) { return nil, nil }); err == nil {
			t.Errorf("%T.HandleCall(\"ambigen:anything\") succeeded", r)
		}
	}
}

// A client that sends the server a message with the verdict's name gets
// nowhere: it is dropped as a message nobody handles.
func TestServerIgnoresVerdictFromClient(t *testing.T) {
	s := skewServer(t, Options{})
	ws := dialAnnouncing(t, s.url, fpOther)
	readText(t, ws, 5*time.Second) // the verdict
	readText(t, ws, 5*time.Second) // hello
	send(t, ws, `{"name":"ambigen:version","message":{"status":"compatible","fingerprint":"`+fpServer+`"},"isAmbiorix":true}`)
	send(t, ws, `{"name":"ambigen:version","message":null,"isAmbiorix":true,"id":"7"}`)
	if got, want := readText(t, ws, 5*time.Second), `{"name":"ambigen:version","message":null,"isAmbiorix":true,"replyTo":"7","error":{"code":"unimplemented","message":"no handler for \"ambigen:version\""}}`; got != want {
		t.Fatalf("a call to the reserved name: got %s, want %s", got, want)
	}
	conns := s.Clients()
	if len(conns) != 1 || conns[0].Version() != (Version{VersionReload, fpOther}) {
		t.Fatalf("the server's record of the client changed: %+v", conns[0].Version())
	}
	if st := s.Stats(); st.Ignored != 1 {
		t.Errorf("Stats.Ignored = %d, want 1 (the client's verdict)", st.Ignored)
	}
}

// verdictRecorder is a Client whose OnVersion calls arrive on a channel.
type verdictRecorder struct {
	*Client
	verdicts chan Version
	errs     *errorLog
}

func newVerdictRecorder(fp string) *verdictRecorder {
	r := &verdictRecorder{verdicts: make(chan Version, 4), errs: newErrorLog()}
	r.Client = NewClient(ClientOptions{
		Fingerprint: fp,
		OnError:     r.errs.hook,
		OnVersion:   func(_ *Conn, v Version) { r.verdicts <- v },
	})
	return r
}

func (r *verdictRecorder) next(t *testing.T) Version {
	t.Helper()
	select {
	case v := <-r.verdicts:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("OnVersion did not run")
		return Version{}
	}
}

func TestClientGetsVerdict(t *testing.T) {
	s := skewServer(t, Options{})
	for _, tc := range []struct {
		fp   string
		want VersionStatus
	}{{fpServer, VersionCompatible}, {fpOlder, VersionCompatible}, {fpOther, VersionReload}} {
		t.Run(tc.fp, func(t *testing.T) {
			c := newVerdictRecorder(tc.fp)
			// The message after the verdict finds the verdict settled.
			seen := make(chan Version, 1)
			if err := On(c, "hello", String, func(_ context.Context, conn *Conn, _ string) { seen <- conn.Version() }); err != nil {
				t.Fatal(err)
			}
			if got := c.Version(); got.Status != VersionUnknown {
				t.Fatalf("before Dial: %+v", got)
			}
			if err := c.Dial(context.Background(), s.url); err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			want := Version{tc.want, fpServer}
			if got := c.next(t); got != want {
				t.Errorf("OnVersion got %+v, want %+v", got, want)
			}
			select {
			case got := <-seen:
				if got != want {
					t.Errorf("the hello handler saw %+v, want %+v", got, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("hello never arrived")
			}
			if got := c.Version(); got != want {
				t.Errorf("Client.Version = %+v, want %+v", got, want)
			}
			if st := c.Stats(); st.Ignored != 0 || st.Rejected != 0 {
				t.Errorf("the verdict was counted as ignored (%d) or rejected (%d)", st.Ignored, st.Rejected)
			}
			c.errs.none(t)
			// And the server knows what the client announced.
			if rows := s.Versions(); !containsRow(rows, tc.fp, tc.want) {
				t.Errorf("Versions = %+v, want a row for %s", rows, tc.fp)
			}
		})
	}
}

func containsRow(rows []VersionCount, fp string, st VersionStatus) bool {
	for _, r := range rows {
		if r.Fingerprint == fp && r.Status == st {
			return true
		}
	}
	return false
}

// scriptedServer upgrades on any path, records the URL of each upgrade,
// and writes frames as the first messages of every connection.
func scriptedServer(t *testing.T, frames ...string) (url string, urls <-chan string) {
	t.Helper()
	seen := make(chan string, 8)
	var wg sync.WaitGroup
	up := websocket.Upgrader{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.URL.String()
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer ws.Close()
		for _, f := range frames {
			_ = ws.WriteMessage(websocket.TextMessage, []byte(f))
		}
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		wg.Wait()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http"), seen
}

func TestClientVerdictsItDoesNotUnderstand(t *testing.T) {
	url, _ := scriptedServer(t,
		`{"name":"ambigen:version","message":{"status":"upgrade","fingerprint":"`+fpServer+`"},"isAmbiorix":true}`,
		`{"name":"ambigen:version","message":"compatible","isAmbiorix":true}`,
		`{"name":"ambigen:version","message":{"status":7},"isAmbiorix":true}`,
		// Another reserved name is nobody's message.
		`{"name":"ambigen:news","message":{"status":"compatible"},"isAmbiorix":true}`,
		`{"name":"hello","message":"after","isAmbiorix":true}`,
	)
	c := newVerdictRecorder(fpServer)
	got := make(chan Version, 1)
	On(c, "hello", String, func(_ context.Context, conn *Conn, _ string) { got <- conn.Version() })
	if err := c.Dial(context.Background(), url); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case v := <-got:
		if v != (Version{Status: VersionUnknown}) {
			t.Errorf("after verdicts it cannot read, Version = %+v, want unknown", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("hello never arrived")
	}
	select {
	case v := <-c.verdicts:
		t.Errorf("OnVersion ran with %+v", v)
	default:
	}
	c.errs.none(t)
}

func TestClientAnnouncesInTheURL(t *testing.T) {
	url, urls := scriptedServer(t)
	for _, tc := range []struct {
		fp, path, want string
	}{
		{fpOlder, "", "/?ambigen-fingerprint=" + fpOlder},
		{fpOlder, "room/7?a=1&b=x%20y", "/room/7?a=1&b=x%20y&ambigen-fingerprint=" + fpOlder},
		{fpOlder, "?ambigen-fingerprint=stale&a=1", "/?a=1&ambigen-fingerprint=" + fpOlder},
		{"", "?a=1", "/?a=1"}, // nothing to announce: the URL as given
	} {
		c := NewClient(ClientOptions{Fingerprint: tc.fp})
		if err := c.Dial(context.Background(), url+"/"+tc.path); err != nil {
			t.Fatal(err)
		}
		if got := <-urls; got != tc.want {
			t.Errorf("dialling %q with %q: the server saw %q, want %q", tc.path, tc.fp, got, tc.want)
		}
		c.Close()
	}
}

func TestWithFingerprint(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ws://h/", "ws://h/?ambigen-fingerprint=F"},
		{"ws://h", "ws://h?ambigen-fingerprint=F"},
		{"ws://h/?", "ws://h/?ambigen-fingerprint=F"},
		{"ws://h/x?a=1&&b", "ws://h/x?a=1&b&ambigen-fingerprint=F"},
		{"ws://h/?ambigen-fingerprint=1&ambigen-fingerprint=2", "ws://h/?ambigen-fingerprint=F"},
		{"ws://h/?a=1#frag", "ws://h/?a=1&ambigen-fingerprint=F#frag"},
	} {
		if got := withFingerprint(tc.in, "F"); got != tc.want {
			t.Errorf("withFingerprint(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIsFingerprint(t *testing.T) {
	for s, want := range map[string]bool{
		fpServer:                            true,
		"b9d5da01931570b8a61aab9c22d78a92":  true,
		"b9d5da01931570b8a61aab9c22d78a9":   false,
		"b9d5da01931570b8a61aab9c22d78a920": false,
		"B9D5DA01931570B8A61AAB9C22D78A92":  false,
		"g9d5da01931570b8a61aab9c22d78a92":  false,
		"":                                  false,
	} {
		if got := IsFingerprint(s); got != want {
			t.Errorf("IsFingerprint(%q) = %v", s, got)
		}
	}
}

func TestNilConnVersion(t *testing.T) {
	var c *Conn
	if got := c.Version(); got.Status != VersionUnknown {
		t.Fatalf("nil Conn: %+v", got)
	}
	if got := NewClient(ClientOptions{}).Version(); got.Status != VersionUnknown {
		t.Fatalf("client before Dial: %+v", got)
	}
}

// A connection joins the registry only after its verdict is queued, so a
// broadcast running while clients connect never comes first.
func TestVerdictPrecedesBroadcasts(t *testing.T) {
	s := skewServer(t, Options{})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				s.Broadcast("tick", 1)
			}
		}
	}()
	defer func() {
		close(stop)
		<-done
	}()
	for i := range 20 {
		ws := dialAnnouncing(t, s.url, fpOlder)
		if got, want := readText(t, ws, 5*time.Second), verdictFrame(VersionCompatible); got != want {
			t.Fatalf("client %d: first frame %s, want the verdict", i, got)
		}
	}
}
