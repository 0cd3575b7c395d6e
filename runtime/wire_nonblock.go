//go:build linux || darwin || freebsd || netbsd || openbsd

package runtime

import (
	"net"
	"syscall"
	"unsafe"
)

// nonblocking writes to a socket without waiting: Go keeps its sockets in
// non-blocking mode, so a write system call issued through the socket's
// RawConn takes what fits in the kernel's send buffer and reports EAGAIN
// for the rest, where net.Conn.Write would park the goroutine. A
// broadcaster or a handler can then write to an idle connection itself, in
// one system call and without a writer goroutine, and leave only the rest
// of a batch, if any, to one.
type nonblocking struct {
	rc   syscall.RawConn // nil: not a plain socket; every tryWrite would block
	fn   func(fd uintptr) bool
	bufs *net.Buffers // the batch of the write in progress
	err  error
	iov  []syscall.Iovec
}

// maxIovecs bounds one writev; the kernel's limit (IOV_MAX) is 1024.
const maxIovecs = 1024

// keepIovecs is the largest iovec array kept between writes, so that an
// idle connection does not hold a large one.
const keepIovecs = 16

func (nb *nonblocking) init(conn net.Conn) {
	nb.rc = rawConnOf(conn)
	if nb.rc != nil {
		// A method value made once: RawConn.Write takes a func, and a
		// closure made per write would be an allocation per write.
		nb.fn = nb.writeFD
	}
}

func (nb *nonblocking) write(bufs *net.Buffers) error {
	if nb.rc == nil {
		return errWouldBlock
	}
	nb.bufs, nb.err = bufs, nil
	if err := nb.rc.Write(nb.fn); err != nil {
		// The socket is closed, or a deadline set by a blocking write has
		// passed; the caller's blocking path deals with either.
		nb.bufs = nil
		return errWouldBlock
	}
	nb.bufs = nil
	if cap(nb.iov) > keepIovecs {
		nb.iov = nil
	}
	return nb.err
}

// writeFD runs under the socket's write lock; it always returns true,
// which tells the runtime not to wait for the socket to become writable.
func (nb *nonblocking) writeFD(fd uintptr) bool {
	bufs := nb.bufs
	for len(*bufs) > 0 {
		var n uintptr
		var errno syscall.Errno
		if len(*bufs) == 1 {
			b := (*bufs)[0]
			if len(b) == 0 {
				*bufs = (*bufs)[:0]
				break
			}
			n, _, errno = syscall.Syscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		} else {
			iov := nb.iov[:0]
			for _, b := range *bufs {
				if len(b) == 0 {
					continue
				}
				v := syscall.Iovec{Base: &b[0]}
				v.SetLen(len(b))
				iov = append(iov, v)
				if len(iov) == maxIovecs {
					break
				}
			}
			nb.iov = iov
			if len(iov) == 0 {
				*bufs = (*bufs)[:0]
				break
			}
			n, _, errno = syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
			clear(iov) // the frames are not pinned by a kept array
		}
		switch errno {
		case 0:
			consume(bufs, int(n))
		case syscall.EINTR:
		case syscall.EAGAIN:
			nb.err = errWouldBlock
			return true
		default:
			nb.err = errno
			return true
		}
	}
	return true
}
