// Package diff writes the difference between two texts as a unified diff,
// the format of `diff -u` and `git diff`, for ambigen -check to show what a
// regeneration would change.
package diff

import (
	"fmt"
	"strings"
)

// context is how many unchanged lines surround each change, as in diff -u.
const context = 3

// maxCells bounds the table of the line matcher (one int per pair of
// changed lines). Two versions of a generated file usually share all but a
// few lines, which are trimmed first; past the bound the changed middle is
// shown as removed and added whole, which is still a correct diff.
const maxCells = 1 << 22

// Unified returns the unified diff that turns old into new, with the file
// names oldName and newName in its header, or "" when they are equal.
func Unified(oldName, newName string, old, new []byte) string {
	if string(old) == string(new) {
		return ""
	}
	a, b := lines(string(old)), lines(string(new))
	ops := edits(a, b)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", oldName, newName)
	for _, h := range hunks(ops) {
		writeHunk(&out, h, a, b)
	}
	return out.String()
}

// lines splits s after each newline; a last line without one keeps no
// terminator, which writeLine marks as diff does.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	l := strings.SplitAfter(s, "\n")
	if l[len(l)-1] == "" {
		l = l[:len(l)-1]
	}
	return l
}

// op is one step of the edit script: keep, delete from a, or insert from b.
type op struct {
	kind byte // ' ', '-' or '+'
	i, j int  // the line of a (for ' ' and '-') and of b (for ' ' and '+')
}

// edits is a shortest edit script from a to b, in order.
func edits(a, b []string) []op {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []op
	for k := 0; k < pre; k++ {
		ops = append(ops, op{' ', k, k})
	}
	ops = append(ops, middle(a, b, pre, len(a)-suf, pre, len(b)-suf)...)
	for k := suf; k > 0; k-- {
		ops = append(ops, op{' ', len(a) - k, len(b) - k})
	}
	return ops
}

// middle matches a[a0:a1] against b[b0:b1] by longest common subsequence.
func middle(a, b []string, a0, a1, b0, b1 int) []op {
	n, m := a1-a0, b1-b0
	var ops []op
	if n*m > maxCells || n == 0 || m == 0 {
		for i := a0; i < a1; i++ {
			ops = append(ops, op{'-', i, b0})
		}
		for j := b0; j < b1; j++ {
			ops = append(ops, op{'+', a1, j})
		}
		return ops
	}
	// lcs[i][j] is the length of the longest common subsequence of the
	// suffixes a[a0+i:a1] and b[b0+j:b1].
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[a0+i] == b[b0+j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[a0+i] == b[b0+j]:
			ops = append(ops, op{' ', a0 + i, b0 + j})
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] > lcs[i+1][j]):
			ops = append(ops, op{'+', a0 + i, b0 + j})
			j++
		default:
			ops = append(ops, op{'-', a0 + i, b0 + j})
			i++
		}
	}
	return ops
}

// hunks groups the script into runs of changes with their context; changes
// closer than twice the context share a hunk.
func hunks(ops []op) [][]op {
	var out [][]op
	start, end := -1, -1
	for k, o := range ops {
		if o.kind == ' ' {
			continue
		}
		lo, hi := max(0, k-context), min(len(ops), k+context+1)
		switch {
		case start < 0:
			start, end = lo, hi
		case lo <= end:
			end = hi
		default:
			out = append(out, ops[start:end])
			start, end = lo, hi
		}
	}
	if start >= 0 {
		out = append(out, ops[start:end])
	}
	return out
}

func writeHunk(out *strings.Builder, h []op, a, b []string) {
	aStart, bStart, aLen, bLen := h[0].i, h[0].j, 0, 0
	for _, o := range h {
		if o.kind != '+' {
			aLen++
		}
		if o.kind != '-' {
			bLen++
		}
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", span(aStart, aLen), span(bStart, bLen))
	for _, o := range h {
		line := ""
		if o.kind == '+' {
			line = b[o.j]
		} else {
			line = a[o.i]
		}
		out.WriteByte(o.kind)
		out.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			out.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// span writes a hunk range as diff -u does: 1-based start and length, the
// length left out when it is 1, and the line before the hunk when empty.
func span(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}
