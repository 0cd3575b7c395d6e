package main

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ambigen/ambigen/gen"
	"github.com/ambigen/ambigen/runtime"
)

// A crowd that joins at once costs a few count updates, not one per join: an observer connected
// before the crowd sees far fewer updates than joins, and the last one it sees is the crowd's
// full size.
func TestPresenceIsCoalesced(t *testing.T) {
	const crowd = 60
	chat := startChat(t)
	var updates atomic.Int64
	last := make(chan int64, 256)
	dialChat(t, chat, func(cl *gen.Client) {
		cl.OnUpdate(func(_ context.Context, u gen.Update) {
			updates.Add(1)
			last <- u.Count
		})
	})
	if n := recv(t, last, "the observer's own update"); n != 1 {
		t.Fatalf("first update %d, want 1", n)
	}
	updates.Store(0)

	var wg sync.WaitGroup
	for range crowd {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := gen.NewClient(runtime.ClientOptions{Logger: quietLogger()})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := cl.Dial(ctx, chat.wsURL()); err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(func() { _ = cl.Close() })
		}()
	}
	wg.Wait()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case n := <-last:
			if n != crowd+1 {
				continue
			}
			// The burst of joins took a few intervals at most.
			if got := updates.Load(); got > crowd/4 {
				t.Fatalf("%d updates for %d joins", got, crowd)
			}
			return
		case <-deadline:
			t.Fatalf("the count never reached %d (%d updates)", crowd+1, updates.Load())
		}
	}
}
