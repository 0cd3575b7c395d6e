package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// 500 clients each send 200 numbered messages without waiting; the server
// echoes each; every client must get all 200 back, in order.
func TestOrderingManyClients(t *testing.T) {
	const clients, perClient = 500, 200
	ts := startServer(t, Options{}, func(s *Server) {
		if err := s.Handle("n", func(ctx context.Context, c *Conn, p json.RawMessage) error {
			return c.Send("n", p)
		}); err != nil {
			t.Fatal(err)
		}
	})
	start := time.Now()
	var wg sync.WaitGroup
	errc := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- orderedClient(ts.url, i, perClient)
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d clients x %d messages echoed in %v", clients, perClient, time.Since(start))
	st := ts.Stats()
	if st.MessagesIn < clients*perClient || st.MessagesOut < clients*perClient {
		t.Errorf("stats %+v", st)
	}
}

func orderedClient(url string, id, n int) error {
	c := NewClient(ClientOptions{})
	got := make(chan int64, n)
	if err := On(c, "n", Int, func(ctx context.Context, _ *Conn, v int64) { got <- v }); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.Dial(ctx, url); err != nil {
		return err
	}
	defer c.Close()
	for i := range n {
		if err := Send(c.Conn(), "n", Int, int64(i)); err != nil {
			return fmt.Errorf("client %d send %d: %w", id, i, err)
		}
	}
	for i := range n {
		select {
		case v := <-got:
			if v != int64(i) {
				return fmt.Errorf("client %d: message %d arrived as number %d", id, i, v)
			}
		case <-ctx.Done():
			// Say where the messages stopped: the client's counts and
			// whether its connection is still up.
			state := "open"
			select {
			case <-c.Conn().Done():
				state = "closed"
			default:
			}
			return fmt.Errorf("client %d: only %d of %d replies (connection %s, client stats %+v)", id, i, n, state, c.Stats())
		}
	}
	return nil
}

// One client stops reading: the broadcaster never waits on it, the others
// get every message, and the stalled one is closed with 1008, counted, and
// leaves the registry.
func TestBroadcastStalledReader(t *testing.T) {
	disconnected := make(chan error, 8)
	ts := startServer(t, Options{
		SendBuffer:   2 << 20,
		WriteTimeout: 5 * time.Second,
		OnDisconnect: func(c *Conn, err error) { disconnected <- err },
	}, nil)

	stalled := dialRaw(t, ts.url)
	const others = 3
	var readers []*websocket.Conn
	for range others {
		readers = append(readers, dialRaw(t, ts.url))
	}
	waitFor(t, func() bool { return ts.Len() == others+1 })

	// Big enough frames that the stalled peer's socket buffers fill.
	payload := make([]byte, 32<<10)
	for i := range payload {
		payload[i] = 'z'
	}
	const rounds = 400
	var wg sync.WaitGroup
	errc := make(chan error, others+rounds)
	for _, ws := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws.SetReadDeadline(time.Now().Add(20 * time.Second))
			for i := range rounds {
				_, b, err := ws.ReadMessage()
				if err != nil {
					errc <- fmt.Errorf("reader lost message %d: %w", i, err)
					return
				}
				if want := fmt.Sprintf(`{"name":"tick","message":{"i":%d,`, i); !strings.HasPrefix(string(b), want) {
					errc <- fmt.Errorf("message %d: got %.40s", i, b)
					return
				}
			}
		}()
	}
	type msg struct {
		I   int    `json:"i"`
		Pad string `json:"pad"`
	}
	broadcastDone := make(chan struct{})
	go func() {
		defer close(broadcastDone)
		for i := range rounds {
			begin := time.Now()
			Broadcast(ts.Server, "tick", JSON[msg](), msg{I: i, Pad: string(payload)}, nil)
			if d := time.Since(begin); d > 2*time.Second {
				errc <- fmt.Errorf("broadcast %d waited %v", i, d)
			}
			// Pace the broadcaster so that only the stalled peer falls behind.
			time.Sleep(time.Millisecond)
		}
	}()

	// Once the server has given up on the stalled peer, the peer reads
	// again: it drains what was buffered and then finds the 1008 close
	// frame, written after the frames already on their way.
	waitFor(t, func() bool { return ts.Stats().SlowConsumers == 1 })
	if code, reason := closeCode(t, stalled, 10*time.Second); code != websocket.ClosePolicyViolation {
		t.Fatalf("stalled peer closed with %d %q, want 1008", code, reason)
	}
	<-broadcastDone
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	select {
	case err := <-disconnected:
		if !errors.Is(err, ErrSlowConsumer) {
			t.Fatalf("disconnect cause %v, want ErrSlowConsumer", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stalled reader was not disconnected")
	}
	if st := ts.Stats(); st.SlowConsumers != 1 {
		t.Fatalf("SlowConsumers = %d, want 1", st.SlowConsumers)
	}
	if n := ts.Len(); n != others {
		t.Fatalf("registry lists %d connections, want %d", n, others)
	}
	for _, c := range ts.Clients() {
		select {
		case <-c.Done():
			t.Fatal("registry lists a closed connection")
		default:
		}
	}
}
