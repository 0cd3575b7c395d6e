package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	goruntime "runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ambigen/ambigen/runtime"
)

// RaiseFileLimit lifts the soft limit on open files to the hard limit, as
// 10,000 connections need (Go does this at start-up too, but the harness
// must not depend on it).
func RaiseFileLimit() error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return fmt.Errorf("raise RLIMIT_NOFILE: %w", err)
		}
	}
	return nil
}

// ChildCPUs, when set, is the CPU list (taskset -c) the client processes
// run on. With the server process held on the other CPUs (taskset -c on
// ambibench itself) the two no longer share cores, and single-client
// figures stop moving with where the scheduler puts each thread.
var ChildCPUs string

// child is a running client process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // stdout, line by line; closed at EOF
}

// startChild runs the clients described by spec in a new process and waits
// until they are connected.
func startChild(spec childSpec, timeout time.Duration) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(spec)
	cmd := exec.Command(exe)
	if ChildCPUs != "" {
		cmd = exec.Command("taskset", "-c", ChildCPUs, exe)
	}
	cmd.Env = append(os.Environ(), ChildEnv+"="+string(raw))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	if _, err := c.expect("ready", timeout); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// next returns the child's next line, failing on an "error:" line, on EOF
// and after timeout.
func (c *child) next(timeout time.Duration) (string, error) {
	select {
	case l, ok := <-c.lines:
		if !ok {
			return "", errors.New("client process exited early")
		}
		if strings.HasPrefix(l, "error:") {
			return "", errors.New("client process: " + l)
		}
		return l, nil
	case <-time.After(timeout):
		return "", errors.New("client process: timed out")
	}
}

func (c *child) expect(prefix string, timeout time.Duration) (string, error) {
	l, err := c.next(timeout)
	if err == nil && !strings.HasPrefix(l, prefix) {
		err = fmt.Errorf("client process said %q, want %q", l, prefix)
	}
	return l, err
}

func (c *child) send(cmd string) { _, _ = io.WriteString(c.stdin, cmd+"\n") }

// stop closes stdin, which ends the child, and reaps it.
func (c *child) stop() {
	_ = c.stdin.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// waitConns waits until the server has n connections.
// connectChild starts the client process for spec against s and waits until s holds all of its
// spec.N connections; the caller stops the child.
func connectChild(s *server, spec childSpec) (*child, error) {
	spec.URL = s.url
	ch, err := startChild(spec, setupTimeout(spec.N))
	if err != nil {
		return nil, err
	}
	if err := waitConns(s, spec.N, setupTimeout(spec.N)); err != nil {
		ch.stop()
		return nil, err
	}
	return ch, nil
}

func waitConns(s *server, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for s.conns() < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %d of %d clients connected", s.kind, s.conns(), n)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// usage is the server process's resource counters at one moment.
type usage struct {
	cpu            time.Duration // user + system
	mallocs, bytes uint64
	syscw, syscr   int64 // write and read syscalls, from /proc/self/io
	switches       int64 // context switches of all threads, voluntary and not
}

func readUsage() usage {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	return usage{
		cpu:      time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		switches: ru.Nvcsw + ru.Nivcsw,
		mallocs:  m.Mallocs,
		bytes:    m.TotalAlloc,
		syscw:    procIO("syscw"),
		syscr:    procIO("syscr"),
	}
}

// procIO reads one field of /proc/self/io; -1 when unavailable.
func procIO(field string) int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+": "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return -1
}

// EchoResult is one echo run.
type EchoResult struct {
	Kind         Kind
	Clients      int
	RoundTrips   int64
	PerSecond    float64       // round trips per second
	P50, P99     time.Duration // client-side latency of one round trip
	CPUPerMsg    time.Duration // server CPU per round trip (getrusage)
	AllocsPerMsg float64       // server heap allocations per round trip
	BytesPerMsg  float64
	// SyscrPerMsg and SyscwPerMsg are the server process's read and write
	// system calls per round trip (/proc/self/io), the Go runtime's own
	// (epoll_wait, wake-ups) included.
	SyscrPerMsg, SyscwPerMsg float64
	// SwitchesPerMsg is the server process's context switches per round
	// trip (getrusage): a thread that sleeps and is woken counts one.
	SwitchesPerMsg float64
}

// Echo has clients clients each send a post and wait for the echo, for d.
func Echo(kind Kind, clients int, d time.Duration) (EchoResult, error) {
	res := EchoResult{Kind: kind, Clients: clients}
	s, err := startServer(kind, runtime.Options{}, 0)
	if err != nil {
		return res, err
	}
	defer s.close()
	ch, err := connectChild(s, childSpec{Mode: "echo", N: clients, Frame: postFrame, Duration: d})
	if err != nil {
		return res, err
	}
	defer ch.stop()
	goruntime.GC()
	before := readUsage()
	ch.send("go")
	line, err := ch.next(d + time.Minute)
	after := readUsage()
	if err != nil {
		return res, err
	}
	var er echoResult
	if err := json.Unmarshal([]byte(line), &er); err != nil {
		return res, fmt.Errorf("client result %q: %w", line, err)
	}
	if er.Err != "" {
		return res, errors.New("client: " + er.Err)
	}
	if er.Mismatch != 0 {
		return res, fmt.Errorf("%s: %d replies differ from the frame sent", kind, er.Mismatch)
	}
	if er.Count == 0 {
		return res, errors.New("no round trip completed")
	}
	n := float64(er.Count)
	res.RoundTrips = er.Count
	res.PerSecond = n / er.Elapsed.Seconds()
	res.P50, res.P99 = er.P50, er.P99
	res.CPUPerMsg = time.Duration(float64(after.cpu-before.cpu) / n)
	res.AllocsPerMsg = float64(after.mallocs-before.mallocs) / n
	res.BytesPerMsg = float64(after.bytes-before.bytes) / n
	res.SyscrPerMsg = float64(after.syscr-before.syscr) / n
	res.SyscwPerMsg = float64(after.syscw-before.syscw) / n
	res.SwitchesPerMsg = float64(after.switches-before.switches) / n
	return res, nil
}

// BroadcastResult is one fan-out run: rounds broadcasts to the same
// clients, one at a time.
type BroadcastResult struct {
	Kind    Kind
	Clients int
	Rounds  int
	// Time from the call until the last client has the frame: median and
	// the range over the rounds.
	Median, Min, Max time.Duration
	CPUPerRound      time.Duration
	// SyscwPerClient is the /proc/self/io write-syscall delta of the whole
	// server process per recipient, which includes the Go runtime's own
	// (netpoller wake-ups): one per recipient is one write per frame.
	SyscwPerClient float64
	BytesPerClient float64 // server heap bytes allocated per recipient
}

// Broadcast sends rounds broadcasts of a post to clients clients, waiting
// for every client to have each before the next.
func Broadcast(kind Kind, clients, rounds int) (BroadcastResult, error) {
	res := BroadcastResult{Kind: kind, Clients: clients, Rounds: rounds}
	if err := RaiseFileLimit(); err != nil {
		return res, err
	}
	s, err := startServer(kind, runtime.Options{}, 0)
	if err != nil {
		return res, err
	}
	defer s.close()
	ch, err := connectChild(s, childSpec{Mode: "listen", N: clients, Rounds: rounds})
	if err != nil {
		return res, err
	}
	defer ch.stop()
	goruntime.GC()
	lat := make([]time.Duration, 0, rounds)
	before := readUsage()
	for k := range rounds {
		t0 := time.Now()
		s.broadcast()
		d, err := ch.roundDone(k, t0)
		if err != nil {
			return res, err
		}
		lat = append(lat, d)
	}
	after := readUsage()
	recipients := float64(clients * rounds)
	res.SyscwPerClient = float64(after.syscw-before.syscw) / recipients
	res.BytesPerClient = float64(after.bytes-before.bytes) / recipients
	res.CPUPerRound = (after.cpu - before.cpu) / time.Duration(rounds)
	slices.Sort(lat)
	res.Median, res.Min, res.Max = lat[len(lat)/2], lat[0], lat[len(lat)-1]
	return res, nil
}

// IdleResult is the server's memory per idle connection.
type IdleResult struct {
	Kind  Kind
	Conns int
	// Heap in use plus stacks, after two GCs, relative to the server before
	// any client connected: fresh, and after every client dispatched one
	// message and got its reply.
	FreshPerConn, AfterPerConn float64
	// Resident set deltas over the same moments (the Go runtime keeps
	// freed memory a while, so RSS is an upper bound).
	RSSFreshPerConn, RSSAfterPerConn float64
}

// Idle connects conns clients, then has each dispatch one greeting.
func Idle(kind Kind, conns int) (IdleResult, error) {
	res := IdleResult{Kind: kind, Conns: conns}
	if err := RaiseFileLimit(); err != nil {
		return res, err
	}
	s, err := startServer(kind, runtime.Options{}, 0)
	if err != nil {
		return res, err
	}
	defer s.close()
	heap0, rss0 := serverMemory()
	ch, err := connectChild(s, childSpec{Mode: "idle", N: conns, Frame: greetingFrame})
	if err != nil {
		return res, err
	}
	defer ch.stop()
	heap1, rss1 := serverMemory()
	ch.send("dispatch")
	if _, err := ch.expect("dispatched", setupTimeout(conns)); err != nil {
		return res, err
	}
	heap2, rss2 := serverMemory()
	n := float64(conns)
	res.FreshPerConn = float64(heap1-heap0) / n
	res.AfterPerConn = float64(heap2-heap0) / n
	res.RSSFreshPerConn = float64(rss1-rss0) / n
	res.RSSAfterPerConn = float64(rss2-rss0) / n
	return res, nil
}

// serverMemory is heap in use plus stacks after the garbage is collected,
// and the resident set size.
func serverMemory() (heapStack, rss int64) {
	var m goruntime.MemStats
	// FreeOSMemory collects and hands freed pages back to the kernel, so
	// that what earlier scenarios left behind does not blur the RSS deltas.
	debug.FreeOSMemory()
	goruntime.GC()
	goruntime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse), residentBytes()
}

func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(string(f[1]), 10, 64)
	return pages * int64(os.Getpagesize())
}

// SlowOptions shape the slow-consumer scenario.
type SlowOptions struct {
	Clients, Rounds int
	Interval        time.Duration // between broadcasts
	// TextSize is the length of the broadcast post's text, so that the
	// slow client's socket buffers fill within the run.
	TextSize int
	// SendBuffer is the server's per-connection send buffer in bytes
	// (runtime.Options); zero keeps the runtime's default of 4 MiB.
	SendBuffer int
	// SocketBuffer fixes the server sockets' kernel send buffer; zero
	// leaves Linux to autotune it (up to 4 MB, which would take the slow
	// client minutes to fill at a steady rate).
	SocketBuffer int
}

// SlowResult compares broadcast delivery to the readers with and without a
// client that never reads.
type SlowResult struct {
	SlowOptions
	// Time from each broadcast until the last reader has it, median and
	// 99th percentile over the rounds, without and with the slow client.
	Median, P99         time.Duration
	SlowMedian, SlowP99 time.Duration
	// SlowClosed says whether the slow client was closed with 1008 within
	// the run (its kernel buffers must fill first).
	SlowClosed bool
}

// SlowConsumer broadcasts a post every interval, rounds times, to clients
// clients of an ambigen server, once with all reading and once with one
// that never reads.
func SlowConsumer(o SlowOptions) (SlowResult, error) {
	res := SlowResult{SlowOptions: o}
	var err error
	res.Median, res.P99, _, err = steadyBroadcast(o, false)
	if err != nil {
		return res, err
	}
	res.SlowMedian, res.SlowP99, res.SlowClosed, err = steadyBroadcast(o, true)
	return res, err
}

func steadyBroadcast(o SlowOptions, slow bool) (med, p99 time.Duration, slowClosed bool, err error) {
	clients, rounds, interval := o.Clients, o.Rounds, o.Interval
	if err := RaiseFileLimit(); err != nil {
		return 0, 0, false, err
	}
	s, err := startServer(Ambigen, runtime.Options{SendBuffer: o.SendBuffer}, o.SocketBuffer)
	if err != nil {
		return 0, 0, false, err
	}
	defer s.close()
	ch, err := connectChild(s, childSpec{Mode: "listen", N: clients, Rounds: rounds, Slow: slow})
	if err != nil {
		return 0, 0, false, err
	}
	defer ch.stop()
	msg := postMessage
	msg.Text = strings.Repeat("x", o.TextSize)
	sent := make([]int64, rounds)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for k := range rounds {
		<-tick.C
		sent[k] = time.Now().UnixNano()
		s.api.BroadcastPost(msg)
	}
	lat := make([]time.Duration, 0, rounds)
	for range rounds {
		line, err := ch.expect("round ", 30*time.Second)
		if err != nil {
			return 0, 0, false, err
		}
		var k int
		var last int64
		if _, err := fmt.Sscanf(line, "round %d %d", &k, &last); err != nil || k < 0 || k >= rounds {
			return 0, 0, false, fmt.Errorf("client process said %q", line)
		}
		lat = append(lat, time.Duration(last-sent[k]))
	}
	slices.Sort(lat)
	return lat[len(lat)/2], percentile(lat, 0.99), s.rt.Stats().SlowConsumers > 0, nil
}

// roundDone waits for the child to report that every client has round k's
// broadcast, and returns the time from t0 (when it was sent) until the last
// client had it; both processes read CLOCK_REALTIME.
func (c *child) roundDone(k int, t0 time.Time) (time.Duration, error) {
	line, err := c.expect("round ", 30*time.Second)
	if err != nil {
		return 0, err
	}
	var got int
	var last int64
	if _, err := fmt.Sscanf(line, "round %d %d", &got, &last); err != nil || got != k {
		return 0, fmt.Errorf("client process said %q in round %d", line, k)
	}
	return time.Duration(last - t0.UnixNano()), nil
}

// setupTimeout bounds connecting n clients.
func setupTimeout(n int) time.Duration { return 30*time.Second + time.Duration(n)*2*time.Millisecond }
