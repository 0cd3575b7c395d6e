package runtime

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-faster/jx"
)

// checkBoth decodes raw with c and encodes the value raw stands for (read
// with encoding/json) with c, and returns both errors' texts: every rule
// must refuse a value in both directions alike.
func checkBoth[T any](t *testing.T, c Codec[T], raw string) (dec, enc string) {
	t.Helper()
	_, derr := DecodePayload(c, []byte(raw))
	if derr != nil {
		var pe *PayloadError
		if !errors.As(derr, &pe) {
			t.Errorf("%s: decode error %v is not a *PayloadError", raw, derr)
		}
		dec = derr.Error()
	}
	var v T
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	out, eerr := AppendPayload([]byte("prefix"), c, v)
	if eerr != nil {
		var ee *EncodeError
		if !errors.As(eerr, &ee) {
			t.Errorf("%s: encode error %v is not an *EncodeError", raw, eerr)
		}
		if string(out) != "prefix" {
			t.Errorf("%s: a refused value left %q", raw, out)
		}
		enc = eerr.Error()
	}
	return dec, enc
}

func TestRules(t *testing.T) {
	title := Checked(String, MinLength(1), MaxLength(5))
	slug := Checked(String, Pattern(`^[a-z]+$`, `^[a-z]+$`))
	count := Checked(Int, Min[int64](0), Max[int64](10))
	ratio := Checked(Float, ExclusiveMin[float64](0), ExclusiveMax[float64](1))
	tags := Checked(List(Checked(String, MaxLength(2))), MinItems[string](1), MaxItems[string](2))
	labels := Checked(Map(Int), MinEntries[int64](1), MaxEntries[int64](1))
	type obj struct {
		Title string `json:"title"`
	}
	fields := NewFields(Field{Name: "title", Required: true})
	object := Codec[obj]{
		Encode: func(w *jx.Writer, v obj) error {
			w.RawStr(`{"title":`)
			if err := title.Encode(w, v.Title); err != nil {
				return EncodeErrorAt("title", err)
			}
			w.RawStr("}")
			return nil
		},
		Decode: func(d *Decoder) (v obj, err error) {
			err = d.Object(fields, func(d *Decoder, i int) (err error) {
				v.Title, err = title.Decode(d)
				return err
			})
			return v, err
		},
	}
	long := strings.Repeat("x", 100)
	tests := []struct {
		name string
		run  func() (string, string)
		want string
	}{
		{"length ok", func() (string, string) { return checkBoth(t, title, `"héllo"`) }, ""},
		{"length counts code points", func() (string, string) { return checkBoth(t, title, `"😀😀😀😀😀"`) }, ""},
		{"too long", func() (string, string) { return checkBoth(t, title, `"😀😀😀😀😀😀"`) }, "longer than 5 characters (maxLength 5)"},
		{"too short", func() (string, string) { return checkBoth(t, title, `""`) }, "shorter than 1 character (minLength 1)"},
		{"pattern", func() (string, string) { return checkBoth(t, slug, `"Ab"`) }, `"Ab" does not match (pattern ^[a-z]+$)`},
		{"pattern quotes short", func() (string, string) { return checkBoth(t, slug, `"`+long+`!"`) }, `"` + long[:64] + `"... (101 bytes in all) does not match (pattern ^[a-z]+$)`},
		{"min", func() (string, string) { return checkBoth(t, count, `-1`) }, "-1 is less than 0 (min 0)"},
		{"max", func() (string, string) { return checkBoth(t, count, `11`) }, "11 is more than 10 (max 10)"},
		{"in range", func() (string, string) { return checkBoth(t, count, `10`) }, ""},
		{"exclusiveMin", func() (string, string) { return checkBoth(t, ratio, `0`) }, "0 is not more than 0 (exclusiveMin 0)"},
		{"exclusiveMax", func() (string, string) { return checkBoth(t, ratio, `1`) }, "1 is not less than 1 (exclusiveMax 1)"},
		{"float in range", func() (string, string) { return checkBoth(t, ratio, `0.5`) }, ""},
		{"tiny float", func() (string, string) { return checkBoth(t, ratio, `-1e-7`) }, "-1e-7 is not more than 0 (exclusiveMin 0)"},
		{"element", func() (string, string) { return checkBoth(t, tags, `["a","abc"]`) }, "[1]: longer than 2 characters (maxLength 2)"},
		{"too many items", func() (string, string) { return checkBoth(t, tags, `["a","b","c"]`) }, "more than 2 items (maxItems 2)"},
		{"too few items", func() (string, string) { return checkBoth(t, tags, `[]`) }, "fewer than 1 item (minItems 1)"},
		{"too many entries", func() (string, string) { return checkBoth(t, labels, `{"a":1,"b":2}`) }, "more than 1 entry (maxEntries 1)"},
		{"too few entries", func() (string, string) { return checkBoth(t, labels, `{}`) }, "fewer than 1 entry (minEntries 1)"},
		{"at its field", func() (string, string) { return checkBoth(t, object, `{"title":"toolong"}`) }, "title: longer than 5 characters (maxLength 5)"},
	}
	for _, tt := range tests {
		dec, enc := tt.run()
		if dec != tt.want || enc != tt.want {
			t.Errorf("%s: decode says %q, encode %q; want %q", tt.name, dec, enc, tt.want)
		}
	}

	// A single value where a list is expected is a one-element list, as
	// ever, and checked as one.
	if _, err := DecodePayload(tags, []byte(`"abc"`)); err == nil || err.Error() != "expected array: longer than 2 characters (maxLength 2)" {
		t.Errorf("a single value too long: %v", err)
	}
	if v, err := DecodePayload(tags, []byte(`"ab"`)); err != nil || len(v) != 1 {
		t.Errorf("a single value: %v, %v", v, err)
	}
	// A nil list has no items.
	if _, err := AppendPayload(nil, tags, nil); err == nil || err.Error() != "fewer than 1 item (minItems 1)" {
		t.Errorf("nil list: %v", err)
	}
	// R writes big integers as strings; they are checked as numbers.
	if _, err := DecodePayload(count, []byte(`"3000000000"`)); err == nil || err.Error() != "3000000000 is more than 10 (max 10)" {
		t.Errorf("an integer as a string: %v", err)
	}
	// A NaN meets no bound and breaks none; Float refuses it.
	if _, err := AppendPayload(nil, ratio, math.NaN()); err == nil || !strings.Contains(err.Error(), "NaN is not a JSON number") {
		t.Errorf("NaN: %v", err)
	}
}

// Invalid UTF-8 is written as one U+FFFD per bad byte, and counted so.
func TestLengthOfInvalidUTF8(t *testing.T) {
	c := Checked(String, MaxLength(3))
	if _, err := AppendPayload(nil, c, "ab\xff"); err != nil {
		t.Errorf("three characters on the wire: %v", err)
	}
	if _, err := AppendPayload(nil, c, "a\xff\xfe\xfd"); err == nil {
		t.Error("four characters on the wire passed maxLength 3")
	}
	min := Checked(String, MinLength(2))
	for s, ok := range map[string]bool{"é": false, "éé": true, "\xff\xfe": true, "😀": false, "ab": true} {
		if _, err := AppendPayload(nil, min, s); (err == nil) != ok {
			t.Errorf("minLength 2 on %q: %v", s, err)
		}
	}
}

// A check costs the value nothing: a string decoded through a checked codec
// allocates what the plain codec does.
func TestRulesAllocateNothing(t *testing.T) {
	c := Checked(String, MinLength(1), MaxLength(100), Pattern(`^[a-z ]+$`, `^[a-z ]+$`))
	payload := []byte(`"hello world"`)
	plain := testing.AllocsPerRun(100, func() { _, _ = DecodePayload(String, payload) })
	checked := testing.AllocsPerRun(100, func() { _, _ = DecodePayload(c, payload) })
	if checked > plain {
		t.Errorf("a checked string costs %.1f allocations, a plain one %.1f", checked, plain)
	}
}

// jsNumber writes numbers as JavaScript's String does, which node tells.
func TestJSNumber(t *testing.T) {
	fixed := map[float64]string{
		0: "0", math.Copysign(0, -1): "0", 1: "1", -1.5: "-1.5", 0.1: "0.1", 1e21: "1e+21", 1e20: "100000000000000000000",
		123456789012345680000: "123456789012345680000", 1e-7: "1e-7", 1.5e-7: "1.5e-7", 0.000001: "0.000001",
		5e-324: "5e-324", math.MaxFloat64: "1.7976931348623157e+308", math.Inf(1): "Infinity", math.Inf(-1): "-Infinity",
	}
	for f, want := range fixed {
		if got := jsNumber(f); got != want {
			t.Errorf("jsNumber(%v) = %q, want %q", f, got, want)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node not found")
		}
		t.Skip("SKIPPED, NOT PASSED: node not found; the fixed cases passed")
	}
	r := rand.New(rand.NewPCG(1, 2))
	var fs []float64
	for i := 0; i < 2000; i++ {
		switch i % 4 {
		case 0:
			fs = append(fs, math.Float64frombits(r.Uint64()))
		case 1:
			fs = append(fs, r.NormFloat64()*math.Pow(10, float64(r.IntN(50)-25)))
		case 2:
			fs = append(fs, float64(r.Int64N(1<<53))*math.Pow(10, float64(r.IntN(20))))
		default:
			fs = append(fs, math.Round(r.Float64()*1e6)/1e3)
		}
	}
	var finite []float64
	var bits []string
	for _, f := range fs {
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			finite = append(finite, f)
			bits = append(bits, strconv.FormatUint(math.Float64bits(f), 16))
		}
	}
	input, _ := json.Marshal(bits)
	cmd := exec.Command(node, "-e", `
let text = "";
process.stdin.on("data", (c) => (text += c));
process.stdin.on("end", () => {
  const view = new DataView(new ArrayBuffer(8));
  const out = JSON.parse(text).map((h) => {
    view.setBigUint64(0, BigInt("0x" + h));
    return String(view.getFloat64(0));
  });
  process.stdout.write(JSON.stringify(out));
});`)
	cmd.Stdin = strings.NewReader(string(input))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var js []string
	if err := json.Unmarshal(out, &js); err != nil {
		t.Fatal(err)
	}
	for i, f := range finite {
		if got := jsNumber(f); got != js[i] {
			t.Errorf("jsNumber(%v) = %q, JavaScript writes %q", f, got, js[i])
		}
	}
}

// The loop that checks patterns such as ^[a-z0-9-]+$ matches what the
// regexp matches, on strings built from the characters that matter.
func TestClassRunsMatchTheRegexp(t *testing.T) {
	runs := []string{
		`^[a-z0-9\-]+$`, `^[a-z]*$`, `^[a-z]?$`, `^x$`, `^[a-c]{2,3}$`, `^[a-c]{2}$`, `^[a-c]{2,}$`,
		`^[^\n\r\x{2028}\x{2029}]{1,4}$`, `^\p{L}+$`, `^\d{4}$`, `^[\x{1F600}-\x{1F64F}]+$`,
	}
	others := []string{`^(?i:k)+$`, `[a-z]+`, `^[a-z]+`, `^(?:ab)+$`, `^a+b$`, `^(?i)k$`, `^$`, `^[a-z]+$|^x$`}
	alphabet := []string{"a", "b", "c", "k", "K", "\u212a", "x", "0", "9", "-", "\n", "\r", "\u2028", "é", "Ж", "😀", "🚀", "\xff", ""}
	r := rand.New(rand.NewPCG(3, 4))
	for _, expr := range append(runs, others...) {
		run, ok := runOf(expr)
		want := false
		for _, x := range runs {
			want = want || x == expr
		}
		if ok != want {
			t.Errorf("runOf(%q) recognised: %v, want %v", expr, ok, want)
			continue
		}
		if !ok {
			continue
		}
		re := regexp.MustCompile(expr)
		for i := 0; i < 3000; i++ {
			var b strings.Builder
			for n := r.IntN(7); n > 0; n-- {
				b.WriteString(alphabet[r.IntN(len(alphabet))])
			}
			if s := b.String(); run.match(s) != re.MatchString(s) {
				t.Errorf("%s on %q: the loop says %v, the regexp %v", expr, s, run.match(s), re.MatchString(s))
			}
		}
	}
}
