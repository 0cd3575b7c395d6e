package gen

import (
	"os"
	"syscall"
	"testing"

	"github.com/ambigen/ambigen/runtime"
)

// postPayload is the payload of the benchmarks' "post" echo (bench/server.go).
var postPayload = []byte(`{"user":"ada","text":"hello, world","tags":["a","b"]}`)

// echoPost decodes the post payload into a ChatMessage and encodes it again
// into buf, as an echo handler does.
func echoPost(buf []byte) ([]byte, error) {
	v, err := runtime.DecodePayload(codecChatMessage, postPayload)
	if err != nil {
		return nil, err
	}
	return runtime.AppendPayload(buf[:0], codecChatMessage, v)
}

// Decoding the post payload costs two allocations, the string arena that
// holds "ada", "hello, world", "a" and "b", and the tags slice; encoding it
// again into a buffer costs none.
func TestEchoAllocations(t *testing.T) {
	buf := make([]byte, 0, 256)
	out, err := echoPost(buf)
	if err != nil || string(out) != string(postPayload) {
		t.Fatalf("echo wrote %s, %v; want %s", out, err, postPayload)
	}
	decode := steadyAllocs(func() {
		if _, err := runtime.DecodePayload(codecChatMessage, postPayload); err != nil {
			t.Fatal(err)
		}
	})
	echo := steadyAllocs(func() {
		if _, err := echoPost(buf); err != nil {
			t.Fatal(err)
		}
	})
	if decode > 2 || echo > 2 {
		t.Errorf("%.1f allocations to decode the post payload and %.1f to echo it; want at most 2 each", decode, echo)
	}
}

// steadyAllocs is the number of allocations f makes once the runtime's pools
// are warm: the least of many single runs. Without -race every run makes
// that many; under -race sync.Pool drops a quarter of what is put back, at
// random, so some runs also allocate a pooled object anew.
func steadyAllocs(f func()) float64 {
	least := testing.AllocsPerRun(1, f)
	for range 100 {
		least = min(least, testing.AllocsPerRun(1, f))
	}
	return least
}

func BenchmarkEchoPost(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(postPayload)))
	for b.Loop() {
		if _, err := echoPost(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEchoPostAfterWrite measures what a system call before it does
// to the cost of the post's decode and encode: "write" is a one-byte
// write(2) to /dev/null, "echo" is echoPost alone, "write+echo" both in
// turn, as a server does them (a read, the handler, a write). On a kernel
// whose system calls flush the TLB (page-table isolation without PCID, as
// on many virtual machines), write+echo costs more than write and echo
// apart: the user code after each call finds its pages and cache lines
// cold. docs/PERFORMANCE.md reports the factor.
func BenchmarkEchoPostAfterWrite(b *testing.B) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer null.Close()
	fd := int(null.Fd())
	one := []byte{'x'}
	buf := make([]byte, 0, 256)
	for _, mode := range []string{"write", "echo", "write+echo"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				if mode != "echo" {
					if _, err := syscall.Write(fd, one); err != nil {
						b.Fatal(err)
					}
				}
				if mode != "write" {
					if _, err := echoPost(buf); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
