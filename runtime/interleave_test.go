package runtime

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestPongsDoNotInterleaveWithFrames: a server connection writes its data frames straight to the
// socket while gorilla answers pings on the reader goroutine. A client that pings as fast as it
// can while the server streams frames must still read every frame whole and in order, and get
// its pongs. (Pings count against the rate limit, which is off here.)
func TestPongsDoNotInterleaveWithFrames(t *testing.T) {
	const frames = 3000
	ts := startServer(t, Options{SendBuffer: 64 << 20, RateLimit: RateLimit{Messages: -1}}, func(s *Server) {
		// The frames are sent from another goroutine, so that a writer goroutine streams them
		// while the connection's reader is free to answer pings: the two write at once.
		s.Handle("go", func(ctx context.Context, c *Conn, _ json.RawMessage) error {
			go func() {
				for i := range frames {
					if c.Send("n", i) != nil {
						return
					}
					if i%64 == 0 {
						time.Sleep(time.Millisecond)
					}
				}
			}()
			return nil
		})
	})
	ws := dialRaw(t, ts.url)
	var pongs atomic.Int64
	ws.SetPongHandler(func(string) error { pongs.Add(1); return nil })
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"name":"go","message":null,"isAmbiorix":true}`)); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	pinged := make(chan int)
	go func() {
		n := 0
		defer func() { pinged <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			// gorilla's own writes are serialised; WriteControl may run beside ReadMessage.
			if err := ws.WriteControl(websocket.PingMessage, []byte("p"+strconv.Itoa(n)), time.Now().Add(time.Second)); err != nil {
				return
			}
			n++
		}
	}()
	for i := range frames {
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			close(stop)
			t.Fatalf("frame %d: %v", i, err)
		}
		want := `{"name":"n","message":` + strconv.Itoa(i) + `,"isAmbiorix":true}`
		if string(data) != want {
			close(stop)
			t.Fatalf("frame %d = %s, want %s", i, data, want)
		}
	}
	close(stop)
	n := <-pinged
	if n == 0 {
		t.Fatal("the client sent no pings while the frames streamed")
	}
	// Pongs are read with the frames; the last ones may still be on their way.
	if pongs.Load() == 0 {
		t.Fatalf("%d pings, no pong read among the frames", n)
	}
	t.Logf("%d frames whole and in order, %d pings sent, %d pongs read among them", frames, n, pongs.Load())
}
