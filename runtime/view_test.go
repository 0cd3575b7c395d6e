package runtime

import (
	"sync"
	"testing"
)

type viewA struct{ c *Conn }
type viewB struct{ c *Conn }

func TestViewIsBuiltOncePerConnection(t *testing.T) {
	c := &Conn{}
	builds := 0
	build := func(c *Conn) *viewA { builds++; return &viewA{c} }
	first := View(c, build)
	if first.c != c {
		t.Fatal("the view does not wrap its connection")
	}
	for range 3 {
		if View(c, build) != first {
			t.Fatal("a second View of the same connection is a different value")
		}
	}
	if builds != 1 {
		t.Fatalf("built %d times, want 1", builds)
	}
	if other := View(&Conn{}, build); other == first {
		t.Fatal("two connections share a view")
	}
	// A view of another type still works; it is not cached over the first.
	if b := View(c, func(c *Conn) *viewB { return &viewB{c} }); b.c != c {
		t.Fatal("a view of another type does not wrap its connection")
	}
	if View(c, build) != first {
		t.Fatal("a view of another type replaced the first")
	}
}

func TestViewRace(t *testing.T) {
	c := &Conn{}
	var wg sync.WaitGroup
	got := make([]*viewA, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = View(c, func(c *Conn) *viewA { return &viewA{c} })
		}()
	}
	wg.Wait()
	for _, v := range got {
		if v != got[0] {
			t.Fatal("racing Views of one connection returned different values")
		}
	}
}
