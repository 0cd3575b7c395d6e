package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ambigen/ambigen/gen"
)

// TestBot builds the bot, runs it against the example server as a user would, and checks what it
// prints, what the room sees from it, and that Ctrl-C ends it cleanly.
func TestBot(t *testing.T) {
	bin := goBuild(t, "./bot")

	chat := startChat(t)
	roomChat := make(chan string, 16)
	room := dialChat(t, chat, func(cl *gen.Client) {
		cl.OnChat(func(_ context.Context, msg string) { roomChat <- msg })
	})

	cmd := exec.Command(bin, "-url", chat.wsURL(), "-name", "testbot")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	printed := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			printed <- sc.Text()
		}
		close(printed)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})

	var seen []string
	expect := func(want string) {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case line, ok := <-printed:
				if !ok {
					t.Fatalf("bot exited before printing %q; it printed %q; stderr: %s", want, seen, stderr.String())
				}
				seen = append(seen, line)
				if line == want {
					return
				}
			case <-timeout:
				t.Fatalf("bot never printed %q; it printed %q", want, seen)
			}
		}
	}

	expect("joined " + chat.wsURL() + " as testbot")
	expect("server says: " + greetingReply)
	expect("add: 2 + 3 = 5")
	if got := recv(t, roomChat, "the bot's hello in the room"); got != "testbot: hello, everyone!" {
		t.Errorf("the room got %q from the bot", got)
	}

	if err := room.SendChat("hi, bot"); err != nil {
		t.Fatal(err)
	}
	expect("chat: hi, bot")

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	expect("leaving")
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("bot exited with %v after Ctrl-C; stderr: %s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		t.Fatal("bot did not exit within 10s of Ctrl-C")
	}
}
