package runtime

// View returns the typed view of c that build makes, building it once per connection and
// handing out the same value from then on. Generated code wraps each *Conn in its own Conn type
// with the typed Send methods; keeping that wrapper here means a handler receives the same
// *gen.Conn for a connection every time (so it can key a map or be compared), and dispatching a
// message allocates no wrapper. Safe from any goroutine; if two goroutines race to build the
// first view, one value wins and both get it.
func View[T any](c *Conn, build func(*Conn) *T) *T {
	if v, ok := c.view.Load().(*T); ok {
		return v
	}
	if c.view.Load() != nil {
		// A view of another type (two generated packages over one server) takes the slot
		// first: still correct, just built afresh each time.
		return build(c)
	}
	v := build(c)
	if c.view.CompareAndSwap(nil, v) {
		return v
	}
	if w, ok := c.view.Load().(*T); ok {
		return w
	}
	return v
}
