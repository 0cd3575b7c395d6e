package spec

import (
	"fmt"
	"sort"
	"strings"
)

// Diagnostic is one problem in a schema.
type Diagnostic struct {
	File string
	Pos  Pos
	Msg  string
}

func (d Diagnostic) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Pos.Line, d.Pos.Col, d.Msg)
}

// Errors is every problem found in a schema, sorted by position.
type Errors []Diagnostic

func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, d := range e {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// diags collects diagnostics during one Load; it is a value owned by that
// call, never shared.
type diags struct {
	file string
	list Errors
}

func (d *diags) add(p Pos, format string, args ...any) {
	d.list = append(d.list, Diagnostic{File: d.file, Pos: p, Msg: fmt.Sprintf(format, args...)})
}

func (d *diags) sorted() Errors {
	sort.SliceStable(d.list, func(i, j int) bool {
		a, b := d.list[i], d.list[j]
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		return a.Msg < b.Msg
	})
	// The same problem can be reached twice (a type used by two messages);
	// report it once.
	out := d.list[:0]
	for i, x := range d.list {
		if i > 0 && x == d.list[i-1] {
			continue
		}
		out = append(out, x)
	}
	return out
}

// suggest returns ` (did you mean "X"?)` for the candidate closest to got,
// or "" when none is close enough to be a plausible misspelling.
func suggest(got string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		d := distance(strings.ToLower(got), strings.ToLower(c))
		limit := max(2, len(c)/2)
		if d <= limit && (bestDist < 0 || d < bestDist) {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein edit distance between a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
