//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package runtime

import "net"

// nonblocking is unavailable on this platform: every batch goes to a writer
// goroutine with blocking writes.
type nonblocking struct{}

func (nb *nonblocking) init(net.Conn) {}

func (nb *nonblocking) write(*net.Buffers) error { return errWouldBlock }
