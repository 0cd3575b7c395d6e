package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ambigen/ambigen/broker/redis"
	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/internal/redistest"
	"github.com/ambigen/ambigen/internal/testkit"
	"github.com/ambigen/ambigen/runtime"
)

// The chat on two nodes joined by a real redis-server, as
// `go run ./examples/chat -addr 127.0.0.1:3001 -redis redis://127.0.0.1:6379` and the same on
// 3002 run it.

// startNode serves the chat on a free loopback port with a broker on r.
func startNode(t *testing.T, r *redistest.Server) *testChat {
	t.Helper()
	b, err := redis.New(r.URL, redis.Options{Channel: "ambigen-chat"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close) // after the server's stop, registered below
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &testChat{t: t, addr: ln.Addr().String(), srv: serve(ln, quietLogger(), config{presenceEvery: defaultPresenceInterval, broker: b})}
	t.Cleanup(c.stop)
	return c
}

// twoNodes starts two chat nodes on one Redis and waits until each hears from the other.
func twoNodes(t *testing.T) (*testChat, *testChat) {
	t.Helper()
	r := redistest.Start(t)
	a, b := startNode(t, r), startNode(t, r)
	testkit.Eventually(t, 10*time.Second, func() bool {
		return a.srv.rt.BrokerStats().Nodes == 1 && b.srv.rt.BrokerStats().Nodes == 1
	}, "the two nodes never heard from each other")
	return a, b
}

func TestBrowserTwoNodes(t *testing.T) {
	browser := testkit.NewBrowser(t)
	a, b := twoNodes(t)
	one := testkit.NewTab(t, browser, a.httpURL()+"?name=ada")
	two := testkit.NewTab(t, browser, b.httpURL()+"?name=bob")
	for _, tab := range []context.Context{one, two} {
		testkit.WaitFor(t, tab, "connection shown as open", textIs("status", "open"))
		testkit.WaitFor(t, tab, "the count is the cluster's", textIs("count", "2"))
	}

	// #general: the documentation's chat, across the nodes.
	say(t, one, sendButton, "hello from node one")
	say(t, two, sendButton, "hello back from node two")
	for i, tab := range []context.Context{one, two} {
		testkit.WaitFor(t, tab, fmt.Sprintf("tab %d shows node one's line", i+1), testkit.HasMessage("hello from node one"))
		testkit.WaitFor(t, tab, fmt.Sprintf("tab %d shows node two's line", i+1), testkit.HasMessage("hello back from node two"))
	}

	// #random: both tabs join; its presence lists them by name on both nodes.
	for _, tab := range []context.Context{one, two} {
		testkit.Do(t, tab, chromedp.Click(chromedp.CSS("#random-toggle")))
	}
	for i, tab := range []context.Context{one, two} {
		testkit.WaitFor(t, tab, fmt.Sprintf("tab %d shows both in #random", i+1), textIs("random-count", "2"))
		testkit.WaitFor(t, tab, fmt.Sprintf("tab %d lists both names", i+1), textIs("random-users", "(ada, bob)"))
	}
	// A third tab, on node one, stays out of #random.
	three := testkit.NewTab(t, browser, a.httpURL())
	testkit.WaitFor(t, three, "the third tab connects", textIs("status", "open"))
	for i, tab := range []context.Context{one, two, three} {
		testkit.WaitFor(t, tab, fmt.Sprintf("tab %d counts three", i+1), textIs("count", "3"))
	}
	testkit.WaitFor(t, three, "the third tab sees who is in #random", textIs("random-count", "2"))

	testkit.Do(t, two, chromedp.SendKeys(chromedp.CSS("#random-msg"), "only for #random"), chromedp.Click(chromedp.CSS("#random-send")))
	hasRandom := fmt.Sprintf(`[...document.querySelectorAll("#random-messages li")].some((li) => li.textContent === %s)`, testkit.JSString("only for #random"))
	for i, tab := range []context.Context{one, two} {
		testkit.WaitFor(t, tab, fmt.Sprintf("member tab %d shows the #random line", i+1), hasRandom)
	}
	// A #general line sent after it reaches the third tab; the #random line never did.
	say(t, one, sendButton, "after the #random line")
	testkit.WaitFor(t, three, "the third tab gets #general", testkit.HasMessage("after the #random line"))
	testkit.WaitFor(t, three, "the third tab has no #random line", `document.querySelectorAll("#random-messages li").length === 0`)
	saveScreenshot(t, "chat-two-nodes.png", one, two)

	// Leaving #random on node two is seen on node one.
	testkit.Do(t, two, chromedp.Click(chromedp.CSS("#random-toggle")))
	testkit.WaitFor(t, one, "node one sees bob leave #random", textIs("random-users", "(ada)"))
}

// The command as the README runs it, twice, on one Redis: chat crosses the nodes and the count
// is the cluster's.
func TestCommandTwoNodes(t *testing.T) {
	r := redistest.Start(t)
	bin := goBuild(t, ".")
	var urls []string
	for range 2 {
		urls = append(urls, startCommand(t, bin, "-addr", "127.0.0.1:0", "-redis", r.URL))
	}
	type client struct {
		cl      *gen.Client
		chat    chan string
		updates chan int64
	}
	var clients []client
	for _, url := range urls {
		c := client{chat: make(chan string, 16), updates: make(chan int64, 64)}
		c.cl = gen.NewClient(runtime.ClientOptions{Logger: quietLogger()})
		c.cl.OnChat(func(_ context.Context, msg string) { c.chat <- msg })
		c.cl.OnUpdate(func(_ context.Context, u gen.Update) { c.updates <- u.Count })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := c.cl.Dial(ctx, url); err != nil {
			t.Fatal(err)
		}
		cancel()
		t.Cleanup(func() { _ = c.cl.Close() })
		clients = append(clients, c)
	}
	for i, c := range clients {
		deadline := time.After(10 * time.Second)
		for n := int64(0); n != 2; {
			select {
			case n = <-c.updates:
			case <-deadline:
				t.Fatalf("client %d never saw the cluster's count of 2 (last %d)", i, n)
			}
		}
	}
	// The nodes must know of each other before a line can cross; the count says they do.
	if err := clients[0].cl.SendChat("across the nodes"); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		if got := recv(t, c.chat, fmt.Sprintf("client %d's chat", i)); got != "across the nodes" {
			t.Errorf("client %d got %q", i, got)
		}
	}
}

// startCommand runs the chat binary with args, waits for the address it prints and returns its
// WebSocket URL; Ctrl-C stops it when the test ends, and it must exit cleanly.
func startCommand(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("%s exited with %v:\n%s", strings.Join(args, " "), err, stderr.String())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("%s did not exit within 10s of Ctrl-C", strings.Join(args, " "))
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/`).FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		return "ws://" + a + "/"
	case <-time.After(10 * time.Second):
		t.Fatalf("the command never printed its address; stderr: %s", stderr.String())
		return ""
	}
}
