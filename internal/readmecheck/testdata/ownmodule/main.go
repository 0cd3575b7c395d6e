// Command todo is a chat server built on ambigen's generated API: it serves static/ and the
// WebSocket on one address, and with -selftest also talks to itself through the generated Go
// client and prints what came back.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/ambigen/ambigen/runtime"

	"example.com/todo/gen"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	selftest := flag.Bool("selftest", false, "chat with the server from the generated Go client, print what came back, and exit")
	flag.Parse()

	rt := runtime.NewServer(runtime.Options{Fallback: http.FileServer(http.Dir("static"))})
	api := gen.Serve(rt)
	api.OnSay(func(ctx context.Context, from *gen.Conn, line gen.Line) {
		api.BroadcastSay(line)
	})
	api.HandleAdd(func(ctx context.Context, from *gen.Conn, req gen.AddRequest) (int64, error) {
		return req.A + req.B, nil
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s/\n", ln.Addr())
	if !*selftest {
		log.Fatal(http.Serve(ln, rt))
	}
	go http.Serve(ln, rt)
	if err := talk("ws://" + ln.Addr().String() + "/"); err != nil {
		log.Fatal(err)
	}
}

// talk sends a line and makes a call through the generated client, printing the answers.
func talk(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	heard := make(chan gen.Line, 1)
	c := gen.NewClient(runtime.ClientOptions{})
	c.OnSay(func(ctx context.Context, line gen.Line) { heard <- line })
	if err := c.Dial(ctx, url); err != nil {
		return err
	}
	defer c.Close()
	happy := gen.MoodHappy
	if err := c.SendSay(gen.Line{Who: "go", Text: "hello over loopback", Mood: &happy}); err != nil {
		return err
	}
	select {
	case line := <-heard:
		fmt.Printf("say: %s (%s): %s\n", line.Who, *line.Mood, line.Text)
	case <-ctx.Done():
		return ctx.Err()
	}
	sum, err := c.Add(ctx, gen.AddRequest{A: 1, B: 2})
	if err != nil {
		return err
	}
	fmt.Println("1 + 2 =", sum)
	return nil
}
