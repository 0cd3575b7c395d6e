package bench

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// Spread is the median of several repetitions and their range.
type Spread struct{ Median, Min, Max float64 }

// Summarize returns the median and range of xs (the mean of the middle two
// for an even count).
func Summarize(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Spread{Median: m, Min: s[0], Max: s[len(s)-1]}
}

// Unit formats a value for the tables.
type Unit func(float64) string

var (
	Count   Unit = func(v float64) string { return fmt.Sprintf("%.0f", v) }
	Decimal Unit = func(v float64) string { return fmt.Sprintf("%.2f", v) }
	Ratio   Unit = func(v float64) string { return fmt.Sprintf("%.2fx", v) }
	Bytes   Unit = func(v float64) string {
		if v >= 10*1024 || v <= -10*1024 {
			return fmt.Sprintf("%.1f KB", v/1024)
		}
		return fmt.Sprintf("%.0f B", v)
	}
	Duration Unit = func(v float64) string {
		d := time.Duration(v)
		switch {
		case d >= 10*time.Millisecond:
			return fmt.Sprintf("%.1f ms", v/1e6)
		case d >= time.Millisecond:
			return fmt.Sprintf("%.2f ms", v/1e6)
		case d >= 100*time.Microsecond:
			return fmt.Sprintf("%.0f µs", v/1e3)
		case d >= 10*time.Microsecond:
			return fmt.Sprintf("%.1f µs", v/1e3)
		}
		return fmt.Sprintf("%.2f µs", v/1e3)
	}
)

// Format writes "median (min–max)", or the median alone when the range is
// empty.
func (s Spread) Format(u Unit) string {
	if s.Min == s.Max {
		return u(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", u(s.Median), u(s.Min), u(s.Max))
}

// Row is one line of a side-by-side table: the baseline's and ambigen's
// values per repetition, and ambigen/baseline per repetition.
type Row struct {
	Name              string
	Unit              Unit
	Baseline, Ambigen []float64
}

// WriteTable prints rows as a Markdown table with the per-repetition ratio
// ambigen/gorilla summarised in the last column.
func WriteTable(w io.Writer, rows []Row) {
	fmt.Fprintln(w, "| metric | gorilla | ambigen | ambigen / gorilla |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range rows {
		var ratios []float64
		for i := range min(len(r.Baseline), len(r.Ambigen)) {
			if r.Baseline[i] != 0 {
				ratios = append(ratios, r.Ambigen[i]/r.Baseline[i])
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.Name,
			Summarize(r.Baseline).Format(r.Unit), Summarize(r.Ambigen).Format(r.Unit), Summarize(ratios).Format(Ratio))
	}
}
