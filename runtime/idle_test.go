package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	goruntime "runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The idle-memory benchmark runs its clients in a child process (this test
// binary again), so that only the server's memory is counted.
const idleChildEnv = "AMBIGEN_IDLE_CHILD"

func init() {
	url := os.Getenv(idleChildEnv)
	if url == "" {
		return
	}
	n, _ := strconv.Atoi(os.Getenv(idleChildEnv + "_N"))
	conns := make([]*websocket.Conn, 0, n)
	for range n {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			fmt.Println("dial:", err)
			os.Exit(1)
		}
		// One dispatch each, as a chat client does, then idle.
		if err := ws.WriteMessage(websocket.TextMessage, []byte(probe)); err != nil {
			os.Exit(1)
		}
		if _, _, err := ws.ReadMessage(); err != nil {
			os.Exit(1)
		}
		conns = append(conns, ws)
	}
	fmt.Println("ready")
	// Stay connected until the parent closes stdin.
	bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}

// BenchmarkIdleMemory reports the server's heap and stack per idle
// connection after one dispatch each.
func BenchmarkIdleMemory(b *testing.B) {
	const n = 1000
	ts := startServer(b, Options{}, func(s *Server) {
		s.Handle("greeting", func(ctx context.Context, c *Conn, _ json.RawMessage) error {
			return Send(c, "greeting", String, "Hello from the server!")
		})
	})
	for b.Loop() {
	}
	b.StopTimer()
	before := serverMemory()
	// One measurement whatever b.N is: each costs a thousand connections,
	// and -benchtime is set for the other benchmarks of the package.
	for range 1 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), idleChildEnv+"="+ts.url, idleChildEnv+"_N="+strconv.Itoa(n))
		stdin, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		if line != "ready\n" {
			b.Fatalf("child: %q", line)
		}
		for ts.Len() < n {
			time.Sleep(time.Millisecond)
		}
		after := serverMemory()
		b.ReportMetric(float64(after-before)/n, "B/idle-conn")
		var m goruntime.MemStats
		goruntime.ReadMemStats(&m)
		b.Logf("heap %d stack %d goroutines %d", m.HeapInuse, m.StackInuse, goruntime.NumGoroutine())
		if f := os.Getenv("IDLE_HEAP_PROFILE"); f != "" {
			w, _ := os.Create(f)
			pprof.WriteHeapProfile(w)
			w.Close()
		}
		stdin.Close()
		cmd.Wait()
		for ts.Len() > 0 {
			time.Sleep(time.Millisecond)
		}
	}
}

func serverMemory() uint64 {
	var m goruntime.MemStats
	for range 2 {
		goruntime.GC()
	}
	goruntime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}
