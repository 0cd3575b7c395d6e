package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	goruntime "runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// ChildEnv carries the child's job (a JSON childSpec). Its presence is what
// makes a process a client child.
const ChildEnv = "AMBIBENCH_CHILD"

// childSpec is what a child is asked to do. The child talks to its parent
// over stdin (commands) and stdout (one line per event or result).
type childSpec struct {
	Mode     string        // "echo", "listen", "idle", "burst", "hold" or "storm"
	URL      string        // ws://127.0.0.1:port/
	URLs     []string      // several servers: connection i dials URLs[i%len(URLs)] instead of URL
	N        int           // connections
	Frame    []byte        // what each client sends (echo, idle)
	Duration time.Duration // echo: how long to send
	Rounds   int           // listen: broadcasts to expect; burst: lines
	Slow     bool          // listen: connection 0 never reads
	Size     int           // hold: bytes of the unfinished message
	Batch    int           // storm: clients dialled at once
}

// echoResult is the child's report of an echo run.
type echoResult struct {
	Count    int64         // round trips completed
	Elapsed  time.Duration // from "go" to the last client stopping
	P50, P99 time.Duration
	Mismatch int64  // replies whose bytes differ from the frame sent
	Err      string // the first client failure, if any
}

// RunChildIfRequested runs the client side of a scenario and exits when
// ChildEnv is set; otherwise it returns at once. Call it first in main and
// in TestMain.
func RunChildIfRequested() {
	raw := os.Getenv(ChildEnv)
	if raw == "" {
		return
	}
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		fmt.Println("error: bad spec:", err)
		os.Exit(2)
	}
	// The child may hold 10,000 sockets.
	if err := RaiseFileLimit(); err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	if err := runChild(spec); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runChild(spec childSpec) error {
	in := bufio.NewScanner(os.Stdin)
	if spec.Mode == "storm" {
		// The storm's dialling is the scenario itself.
		fmt.Println("ready")
		if !in.Scan() {
			return errors.New("parent went away")
		}
		conns := runStorm(spec)
		for in.Scan() {
		}
		goruntime.KeepAlive(conns)
		return nil
	}
	urls := spec.URLs
	if len(urls) == 0 {
		urls = []string{spec.URL}
	}
	conns, err := dialAll(urls, spec.N, spec.Slow, spec.Mode == "hold")
	if err != nil {
		return err
	}
	fmt.Println("ready")
	switch spec.Mode {
	case "echo":
		if !in.Scan() {
			return errors.New("parent went away")
		}
		res := runEcho(conns, spec.Frame, spec.Duration)
		b, _ := json.Marshal(res)
		fmt.Println(string(b))
	case "listen":
		runListen(conns, spec.Rounds, spec.Slow)
	case "idle":
		if !in.Scan() {
			return errors.New("parent went away")
		}
		if err := dispatchOnce(conns, spec.Frame); err != nil {
			return err
		}
		fmt.Println("dispatched")
	case "burst":
		if !in.Scan() {
			return errors.New("parent went away")
		}
		b, _ := json.Marshal(runBurst(conns, spec.Rounds))
		fmt.Println(string(b))
	case "hold":
		if !in.Scan() {
			return errors.New("parent went away")
		}
		watch := runHold(conns, spec.Size)
		fmt.Println("held")
		if !in.Scan() {
			return errors.New("parent went away")
		}
		b, _ := json.Marshal(watch.report())
		fmt.Println(string(b))
	default:
		return fmt.Errorf("unknown mode %q", spec.Mode)
	}
	// Stay connected until the parent has measured and closes stdin. The
	// connections must stay reachable until then: a collected net.Conn is
	// closed by its finalizer, which would drop the slow and idle clients.
	for in.Scan() {
	}
	goruntime.KeepAlive(conns)
	return nil
}

// dialAll opens n connections, spread over urls, a few at a time so that
// the servers' accept queues are not overrun. With slow set, connection 0
// asks for a tiny receive buffer, so that its kernel buffers fill quickly
// once it stops reading;
// big gives every connection a large write buffer, so that a long message
// goes out in few frames.
func dialAll(urls []string, n int, slow, big bool) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	const parallel = 8
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				d := websocket.Dialer{ReadBufferSize: 1024, WriteBufferSize: 1024, HandshakeTimeout: 30 * time.Second}
				if big {
					d.WriteBufferSize = 64 << 10
				}
				if slow && i == 0 {
					d.NetDial = func(network, addr string) (net.Conn, error) {
						c, err := net.Dial(network, addr)
						if tc, ok := c.(*net.TCPConn); ok {
							_ = tc.SetReadBuffer(4096)
						}
						return c, err
					}
				}
				ws, _, err := d.Dial(urls[i%len(urls)], nil)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("dial %d: %w", i, err)
					}
					mu.Unlock()
					return
				}
				conns[i] = ws
			}
		}()
	}
	wg.Wait()
	return conns, firstErr
}

// runEcho has every connection send frame and wait for the reply, over and
// over, until d has passed.
func runEcho(conns []*websocket.Conn, frame []byte, d time.Duration) echoResult {
	var res echoResult
	var mu sync.Mutex
	var wg sync.WaitGroup
	lat := make([][]time.Duration, len(conns))
	start := time.Now()
	deadline := start.Add(d)
	for i, ws := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			var mismatch int64
			for {
				t := time.Now()
				if !t.Before(deadline) {
					break
				}
				err := ws.WriteMessage(websocket.TextMessage, frame)
				var reply []byte
				if err == nil {
					_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
					_, reply, err = ws.ReadMessage()
				}
				if err != nil {
					mu.Lock()
					if res.Err == "" {
						res.Err = err.Error()
					}
					mu.Unlock()
					break
				}
				mine = append(mine, time.Since(t))
				if !bytes.Equal(reply, frame) {
					mismatch++
				}
			}
			lat[i] = mine
			mu.Lock()
			res.Mismatch += mismatch
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	res.Count = int64(len(all))
	res.P50 = percentile(all, 0.50)
	res.P99 = percentile(all, 0.99)
	return res
}

// runListen reads broadcasts on every connection (except the slow one) and
// prints "round k t" when every reader has its k-th message, t being the
// latest arrival in Unix nanoseconds (the parent's clock is the same
// CLOCK_REALTIME). It prints "end" after the last round.
func runListen(conns []*websocket.Conn, rounds int, slow bool) {
	readers := len(conns)
	if slow {
		readers--
	}
	latest := make([]atomic.Int64, rounds)
	got := make([]atomic.Int64, rounds)
	var out sync.Mutex
	var wg sync.WaitGroup
	for i, ws := range conns {
		if slow && i == 0 {
			continue // it never reads: the slow consumer
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range rounds {
				if _, _, err := ws.ReadMessage(); err != nil {
					out.Lock()
					fmt.Println("error: read:", err)
					out.Unlock()
					return
				}
				now := time.Now().UnixNano()
				for {
					old := latest[k].Load()
					if now <= old || latest[k].CompareAndSwap(old, now) {
						break
					}
				}
				if got[k].Add(1) == int64(readers) {
					out.Lock()
					fmt.Println("round", k, latest[k].Load())
					out.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	out.Lock()
	fmt.Println("end")
	out.Unlock()
}

// dispatchOnce has every connection send frame and read one reply.
func dispatchOnce(conns []*websocket.Conn, frame []byte) error {
	for i, ws := range conns {
		if err := ws.WriteMessage(websocket.TextMessage, frame); err != nil {
			return fmt.Errorf("conn %d: %w", i, err)
		}
		_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, _, err := ws.ReadMessage(); err != nil {
			return fmt.Errorf("conn %d: %w", i, err)
		}
		_ = ws.SetReadDeadline(time.Time{})
	}
	return nil
}

// percentile of sorted samples, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

// runBurst has the last connection write lines chat lines without waiting
// while every connection, the sender included, reads them all; it reports
// how many got every line in order and how many the server closed.
func runBurst(conns []*websocket.Conn, lines int) burstReport {
	var rep burstReport
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for _, ws := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = ws.SetReadDeadline(time.Now().Add(2 * time.Minute))
			for i := range lines {
				_, b, err := ws.ReadMessage()
				if err != nil {
					mu.Lock()
					var ce *websocket.CloseError
					if errors.As(err, &ce) {
						rep.Closed++
					} else if rep.Err == "" {
						rep.Err = fmt.Sprintf("line %d: %v", i, err)
					}
					mu.Unlock()
					return
				}
				if !bytes.Equal(b, burstLine(i)) {
					mu.Lock()
					if rep.Err == "" {
						rep.Err = fmt.Sprintf("line %d arrived as %.60s", i, b)
					}
					mu.Unlock()
					return
				}
			}
			mu.Lock()
			rep.Complete++
			mu.Unlock()
		}()
	}
	sender := conns[len(conns)-1]
	for i := range lines {
		if err := sender.WriteMessage(websocket.TextMessage, burstLine(i)); err != nil {
			mu.Lock()
			rep.Err = fmt.Sprintf("send line %d: %v", i, err)
			mu.Unlock()
			break
		}
	}
	wg.Wait()
	rep.Elapsed = time.Since(start)
	return rep
}

// holdWatch follows the connections of a hold: each reads (answering the
// server's pings) until the server closes it.
type holdWatch struct {
	mu                          sync.Mutex
	open, tryLater, otherClosed int
	err                         string
}

func (w *holdWatch) report() holdReport {
	w.mu.Lock()
	defer w.mu.Unlock()
	return holdReport{Open: w.open, TryLater: w.tryLater, OtherClosed: w.otherClosed, Err: w.err}
}

// runHold has every connection write size bytes of a message and never
// finish it, a few connections at a time; it returns once all have written.
func runHold(conns []*websocket.Conn, size int) *holdWatch {
	w := &holdWatch{open: len(conns)}
	head := `{"name":"post","message":"`
	body := bytes.Repeat([]byte{'x'}, size-len(head))
	for _, ws := range conns {
		go func() {
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					w.mu.Lock()
					w.open--
					var ce *websocket.CloseError
					if errors.As(err, &ce) && ce.Code == websocket.CloseTryAgainLater {
						w.tryLater++
					} else {
						w.otherClosed++
					}
					w.mu.Unlock()
					return
				}
			}
		}()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(conns) {
					return
				}
				// The writer is never closed: the message stays unfinished.
				mw, err := conns[i].NextWriter(websocket.TextMessage)
				if err == nil {
					_, err = io.WriteString(mw, head)
				}
				if err == nil {
					_, err = mw.Write(body)
				}
				_ = err // a connection the server closed fails here; the reader counts it
			}
		}()
	}
	wg.Wait()
	return w
}

// runStorm dials spec.N clients, spec.Batch at a time, each reading until
// the server closes it, then waits for things to settle and reports.
func runStorm(spec childSpec) []*websocket.Conn {
	var rep stormReport
	rep.CloseCodes = map[int]int{}
	var mu sync.Mutex
	var updates atomic.Int64
	conns := make([]*websocket.Conn, 0, spec.N)
	start := time.Now()
	for done := 0; done < spec.N; {
		k := min(spec.Batch, spec.N-done)
		var wg sync.WaitGroup
		for range k {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := websocket.Dialer{ReadBufferSize: 1024, WriteBufferSize: 1024, HandshakeTimeout: 10 * time.Second}
				ws, _, err := d.Dial(spec.URL, nil)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					rep.DialErrors++
					return
				}
				rep.Connected++
				conns = append(conns, ws)
				go func() {
					for {
						if _, _, err := ws.ReadMessage(); err != nil {
							mu.Lock()
							rep.Closed++
							var ce *websocket.CloseError
							if errors.As(err, &ce) {
								rep.CloseCodes[ce.Code]++
							} else {
								rep.CloseCodes[1006]++
							}
							mu.Unlock()
							return
						}
						updates.Add(1)
					}
				}()
			}()
		}
		wg.Wait()
		done += k
	}
	mu.Lock()
	rep.Elapsed = time.Since(start)
	mu.Unlock()
	// Let the last announcements and any slow-consumer closes happen.
	time.Sleep(2 * time.Second)
	mu.Lock()
	rep.Updates = updates.Load()
	b, _ := json.Marshal(rep)
	mu.Unlock()
	fmt.Println(string(b))
	return conns
}
