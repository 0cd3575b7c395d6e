package runtime

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-faster/jx"
)

// chat is shaped like the schema's ChatMessage, with the codec ambigen
// generates for it, so that the decoding benchmarks measure the generated
// path: a field list, Decoder.Object, the builtin codecs.
type chat struct {
	User, Text string
	SentAt     *time.Time
	Tags       []string
	Mood       *string
}

var chatFields = NewFields(
	Field{Name: "user", Required: true},
	Field{Name: "text", Required: true},
	Field{Name: "sentAt"},
	Field{Name: "tags", Required: true},
	Field{Name: "mood"},
)

var (
	optionalTimestamp = Optional(Timestamp)
	optionalString    = Optional(String)
	listString        = List(String)
)

var chatCodec = Codec[chat]{
	Encode: func(w *jx.Writer, v chat) error { return nil },
	Decode: func(d *Decoder) (chat, error) {
		var v chat
		err := d.Object(chatFields, func(d *Decoder, i int) (err error) {
			switch i {
			case 0:
				v.User, err = String.Decode(d)
			case 1:
				v.Text, err = String.Decode(d)
			case 2:
				v.SentAt, err = optionalTimestamp.Decode(d)
			case 3:
				v.Tags, err = listString.Decode(d)
			case 4:
				v.Mood, err = optionalString.Decode(d)
			}
			return err
		})
		return v, err
	},
}

// keysPayload is a chat message padded to size with distinct unknown keys:
// the input that cost seconds when duplicate keys were found by a scan.
func keysPayload(size int) ([]byte, int) {
	var b strings.Builder
	b.WriteString(`{"user":"ada","text":"hello","tags":["a"]`)
	n := 0
	for b.Len() < size-16 {
		fmt.Fprintf(&b, `,"k%s":0`, strconv.FormatInt(int64(n), 36))
		n++
	}
	b.WriteString(`}`)
	return []byte(b.String()), n
}

// stringPayload is a chat message of the same size whose text is one long
// string: the cost of reading that many bytes at all.
func stringPayload(size int) []byte {
	head, tail := `{"user":"ada","text":"`, `","tags":["a"]}`
	return []byte(head + strings.Repeat("x", size-len(head)-len(tail)) + tail)
}

// BenchmarkDecodeKeysVsString decodes a 1 MiB chat message of ~112k
// distinct unknown keys and one of a 1 MiB string, side by side, and
// reports the ratio of their times (keys/string); issue 9 asks for at most
// 10.
func BenchmarkDecodeKeysVsString(b *testing.B) {
	keys, n := keysPayload(1 << 20)
	str := stringPayload(1 << 20)
	var tKeys, tStr time.Duration
	b.SetBytes(int64(len(keys) + len(str)))
	for b.Loop() {
		start := time.Now()
		if _, err := DecodePayload(chatCodec, keys); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if _, err := DecodePayload(chatCodec, str); err != nil {
			b.Fatal(err)
		}
		tKeys += mid.Sub(start)
		tStr += time.Since(mid)
	}
	b.ReportMetric(float64(n), "keys")
	b.ReportMetric(float64(tKeys.Nanoseconds())/float64(b.N), "ns-keys/op")
	b.ReportMetric(float64(tStr.Nanoseconds())/float64(b.N), "ns-string/op")
	b.ReportMetric(float64(tKeys)/float64(tStr), "keys/string")
}

// BenchmarkDecode1MiB has the two payloads of BenchmarkDecodeKeysVsString
// as separate benchmarks, for benchstat.
func BenchmarkDecode1MiB(b *testing.B) {
	keys, _ := keysPayload(1 << 20)
	for _, bc := range []struct {
		name    string
		payload []byte
	}{{"keys", keys}, {"string", stringPayload(1 << 20)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.payload)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodePayload(chatCodec, bc.payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeMapInt decodes a map<int> of 10k and of 100k keys; the
// time per key (ns/key) stays flat when decoding is linear.
func BenchmarkDecodeMapInt(b *testing.B) {
	codec := Map(Int)
	for _, n := range []int{10_000, 100_000} {
		var sb strings.Builder
		sb.WriteString("{")
		for i := range n {
			if i > 0 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, `"key%d":%d`, i, i)
		}
		sb.WriteString("}")
		payload := []byte(sb.String())
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				m, err := DecodePayload(codec, payload)
				if err != nil || len(m) != n {
					b.Fatalf("%d keys, %v", len(m), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/key")
		})
	}
}

// The benchmark payloads decode to what they hold, so the benchmarks
// measure real work.
func TestBenchmarkPayloads(t *testing.T) {
	keys, n := keysPayload(1 << 20)
	if n < 100_000 || len(keys) > 1<<20 {
		t.Fatalf("%d keys in %d bytes", n, len(keys))
	}
	v, err := DecodePayload(chatCodec, keys)
	if err != nil || v.User != "ada" || v.Text != "hello" || len(v.Tags) != 1 {
		t.Fatalf("keys payload: %+v, %v", v, err)
	}
	str := stringPayload(1 << 20)
	v, err = DecodePayload(chatCodec, str)
	if err != nil || len(str) != 1<<20 || len(v.Text) != 1<<20-len(`{"user":"ada","text":"","tags":["a"]}`) {
		t.Fatalf("string payload: %d bytes of text, %v", len(v.Text), err)
	}
}
