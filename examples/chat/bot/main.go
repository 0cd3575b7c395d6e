// Command bot joins the chat example with the Go client generated from schema/messages.yaml:
// it greets the server, says hello to the room, asks the server to add two numbers with a typed
// call, and prints every chat line it receives until Ctrl-C.
//
// Usage:
//
//	go run ./examples/chat/bot [-url ws://127.0.0.1:3000/] [-name bot]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/runtime"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:3000/", "WebSocket address of the chat server")
	name := flag.String("name", "bot", "name the bot introduces itself with")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *url, *name, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bot:", err)
		os.Exit(1)
	}
}

// run is the bot's whole life: it returns nil when ctx ends or the server goes away.
func run(ctx context.Context, url, name string, stdout io.Writer) error {
	out := &lines{w: stdout}
	c := gen.NewClient(runtime.ClientOptions{})
	// Handlers are registered before Dial, so the update the server sends on join is not missed.
	c.OnChat(func(_ context.Context, msg string) { out.printf("chat: %s", msg) })
	c.OnGreeting(func(_ context.Context, msg string) { out.printf("server says: %s", msg) })
	c.OnUpdate(func(_ context.Context, u gen.Update) { out.printf("%d connected", u.Count) })
	c.OnPost(func(_ context.Context, m gen.ChatMessage) { out.printf("post from %s: %s", m.User, m.Text) })

	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := c.Dial(dctx, url)
	cancel()
	if err != nil {
		return fmt.Errorf("join %s: %w", url, err)
	}
	defer c.Close()
	out.printf("joined %s as %s", url, name)

	if err := c.SendGreeting("Hello from the Go bot!"); err != nil {
		return err
	}
	if err := c.SendChat(fmt.Sprintf("%s: hello, everyone!", name)); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	sum, err := c.Add(cctx, gen.AddRequest{A: 2, B: 3})
	cancel()
	if err != nil {
		return fmt.Errorf("add: %w", err)
	}
	out.printf("add: 2 + 3 = %d", sum)

	select {
	case <-ctx.Done():
		out.printf("leaving")
	case <-c.Runtime().Conn().Done():
		out.printf("the server closed the connection")
	}
	if err := c.Close(); err != nil && !errors.Is(err, runtime.ErrClosed) {
		return err
	}
	return nil
}

// lines serialises output: handlers run on the client's reader goroutine, the rest on run's.
type lines struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lines) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", args...)
}
