package bench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	"github.com/ambigen/ambigen/runtime"
)

// The scenarios in this file put the servers under pressure: a burst of
// chat lines fanned out to every reader, a storm of connections on the chat
// example, and a crowd of connections each holding an unfinished message.
// They report what held (who was disconnected, what arrived in order, how
// much memory was taken) beside the usual costs.

// burstLine is the i-th chat line of a burst, exactly as both servers send
// it on.
func burstLine(i int) []byte {
	return []byte(`{"name":"chat","message":"line ` + strconv.Itoa(i) + `","isAmbiorix":true}`)
}

// BurstResult is one burst: one client pipelines Lines chat lines while
// Readers other clients (and the sender itself) read every line.
type BurstResult struct {
	Kind           Kind
	Readers, Lines int
	// Complete is how many of the Readers+1 clients got every line in
	// order; Closed how many the server disconnected.
	Complete, Closed int
	// Elapsed runs from the first line written until the last client has
	// the last line (or gave up).
	Elapsed time.Duration
	CPU     time.Duration // server CPU over the burst
	// RateLimited counts lines the server refused (ambigen); zero with the
	// default limits, whose burst allowance is 1,000 messages.
	RateLimited uint64
}

// burstReport is the child's side of a burst.
type burstReport struct {
	Complete, Closed int
	Elapsed          time.Duration
	Err              string
}

// Burst runs one burst against a server of kind.
func Burst(kind Kind, readers, lines int) (BurstResult, error) {
	res := BurstResult{Kind: kind, Readers: readers, Lines: lines}
	if err := RaiseFileLimit(); err != nil {
		return res, err
	}
	s, err := startServer(kind, runtime.Options{}, 0)
	if err != nil {
		return res, err
	}
	defer s.close()
	ch, err := connectChild(s, childSpec{Mode: "burst", N: readers + 1, Rounds: lines})
	if err != nil {
		return res, err
	}
	defer ch.stop()
	goruntime.GC()
	before := readUsage()
	ch.send("go")
	line, err := ch.next(5 * time.Minute)
	after := readUsage()
	if err != nil {
		return res, err
	}
	var rep burstReport
	if err := json.Unmarshal([]byte(line), &rep); err != nil {
		return res, fmt.Errorf("client result %q: %w", line, err)
	}
	res.Complete, res.Closed, res.Elapsed = rep.Complete, rep.Closed, rep.Elapsed
	res.CPU = after.cpu - before.cpu
	if s.rt != nil {
		res.RateLimited = s.rt.Stats().RateLimited
	}
	return res, nil
}

// HoldResult is one crowd of connections, each holding an unfinished
// message of Size bytes (all but its last fragment), answering pings.
type HoldResult struct {
	Kind        Kind
	Conns, Size int
	// Heap in use plus stacks, and RSS, after the crowd sent its data,
	// less the same before it connected.
	Heap, RSS int64
	// What the server did with the connections: still open, closed with
	// 1013 (try again later), closed otherwise.
	Open, TryLater, OtherClosed int
	// Budget is the server's MessageMemory (ambigen).
	Budget int64
}

// holdReport is the child's side of a hold.
type holdReport struct {
	Open, TryLater, OtherClosed int
	Err                         string
}

// Hold connects conns clients that each send size bytes of a message they
// never finish, and measures what the server holds for them.
func Hold(kind Kind, conns, size int) (HoldResult, error) {
	res := HoldResult{Kind: kind, Conns: conns, Size: size}
	if err := RaiseFileLimit(); err != nil {
		return res, err
	}
	opts := runtime.Options{ReadLimit: int64(size) + 1<<10}
	s, err := startServer(kind, opts, 0)
	if err != nil {
		return res, err
	}
	defer s.close()
	if s.rt != nil {
		res.Budget = runtime.DefaultMessageMemory
	}
	heap0, rss0 := serverMemory()
	ch, err := connectChild(s, childSpec{Mode: "hold", N: conns, Size: size})
	if err != nil {
		return res, err
	}
	defer ch.stop()
	ch.send("go")
	if _, err := ch.expect("held", 5*time.Minute); err != nil {
		return res, err
	}
	// Let the server take in what is on its way.
	time.Sleep(time.Second)
	heap1, rss1 := serverMemory()
	res.Heap, res.RSS = heap1-heap0, rss1-rss0
	ch.send("report")
	line, err := ch.next(time.Minute)
	if err != nil {
		return res, err
	}
	var rep holdReport
	if err := json.Unmarshal([]byte(line), &rep); err != nil {
		return res, fmt.Errorf("client result %q: %w", line, err)
	}
	if rep.Err != "" {
		return res, errors.New("client: " + rep.Err)
	}
	res.Open, res.TryLater, res.OtherClosed = rep.Open, rep.TryLater, rep.OtherClosed
	return res, nil
}

// StormResult is one storm of connections on the chat example.
type StormResult struct {
	Clients, Batch int
	// PresenceEvery is the chat's -presence-interval: 0 announces the
	// count on every join and leave, as the Ambiorix documentation does.
	PresenceEvery time.Duration
	// Connected clients, handshakes that failed, clients the server
	// closed (by close code), and the count updates all clients received.
	Connected, DialErrors, Closed int
	CloseCodes                    map[int]int
	Updates                       int64
	Elapsed                       time.Duration // dialling all of them
	CPU                           time.Duration // the chat process's CPU over the storm
}

type stormReport struct {
	Connected, DialErrors, Closed int
	CloseCodes                    map[int]int
	Updates                       int64
	Elapsed                       time.Duration
}

// BuildChat builds examples/chat into dir and returns the binary's path.
func BuildChat(dir string) (string, error) {
	bin := filepath.Join(dir, "chat")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/ambigen/ambigen/examples/chat").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build examples/chat: %v\n%s", err, out)
	}
	return bin, nil
}

// Storm starts the chat binary and dials clients clients, batch at a time,
// every client reading all the while; then it reports who was closed.
func Storm(chatBin string, clients, batch int, presenceEvery time.Duration) (StormResult, error) {
	res := StormResult{Clients: clients, Batch: batch, PresenceEvery: presenceEvery}
	if err := RaiseFileLimit(); err != nil {
		return res, err
	}
	cmd := exec.Command(chatBin, "-addr", "127.0.0.1:0", "-presence-interval", presenceEvery.String())
	cmd.Stderr = io.Discard
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return res, err
	}
	if err := cmd.Start(); err != nil {
		return res, err
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return res, fmt.Errorf("chat: %w", err)
	}
	// "chat: open http://127.0.0.1:PORT/ in two browser tabs ..."
	f := strings.Fields(line)
	if len(f) < 3 || !strings.HasPrefix(f[2], "http://") {
		return res, fmt.Errorf("chat said %q", line)
	}
	url := "ws://" + strings.TrimPrefix(f[2], "http://")
	cpu0 := processCPU(cmd.Process.Pid)
	ch, err := startChild(childSpec{Mode: "storm", URL: url, N: clients, Batch: batch}, setupTimeout(clients))
	if err != nil {
		return res, err
	}
	defer ch.stop()
	ch.send("go")
	rl, err := ch.next(5 * time.Minute)
	cpu1 := processCPU(cmd.Process.Pid)
	if err != nil {
		return res, err
	}
	var rep stormReport
	if err := json.Unmarshal([]byte(rl), &rep); err != nil {
		return res, fmt.Errorf("client result %q: %w", rl, err)
	}
	res.Connected, res.DialErrors, res.Closed = rep.Connected, rep.DialErrors, rep.Closed
	res.CloseCodes, res.Updates, res.Elapsed = rep.CloseCodes, rep.Updates, rep.Elapsed
	res.CPU = cpu1 - cpu0
	return res, nil
}

// processCPU is user plus system time of process pid, from /proc.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; the fields after it do not.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticks
}
