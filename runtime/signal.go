package runtime

// signal is a one-time event whose channel is made only when someone asks
// for it: a connection's Done, and its outbox's end, are waited for by few
// of the connections that have them, and an unused channel would cost 96
// bytes on every idle connection. The owner's mutex guards it.
type signal struct {
	ch    chan struct{}
	fired bool
}

// wait returns a channel that is closed once the event has happened.
func (s *signal) wait() <-chan struct{} {
	if s.fired {
		return closedChan
	}
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// fire records the event; firing twice is harmless.
func (s *signal) fire() {
	if s.fired {
		return
	}
	s.fired = true
	if s.ch != nil {
		close(s.ch)
	}
}

// closedChan is a channel that is always closed.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()
