package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
	Mode     string        // "echo", "listen" or "idle"
	URL      string        // ws://127.0.0.1:port/
	N        int           // connections
	Frame    []byte        // what each client sends (echo, idle)
	Duration time.Duration // echo: how long to send
	Rounds   int           // listen: broadcasts to expect
	Slow     bool          // listen: connection 0 never reads
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
	conns, err := dialAll(spec.URL, spec.N, spec.Slow)
	if err != nil {
		return err
	}
	in := bufio.NewScanner(os.Stdin)
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

// dialAll opens n connections, a few at a time so that the server's accept
// queue is not overrun. With slow set, connection 0 asks for a tiny receive
// buffer, so that its kernel buffers fill quickly once it stops reading.
func dialAll(url string, n int, slow bool) ([]*websocket.Conn, error) {
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
				if slow && i == 0 {
					d.NetDial = func(network, addr string) (net.Conn, error) {
						c, err := net.Dial(network, addr)
						if tc, ok := c.(*net.TCPConn); ok {
							_ = tc.SetReadBuffer(4096)
						}
						return c, err
					}
				}
				ws, _, err := d.Dial(url, nil)
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
