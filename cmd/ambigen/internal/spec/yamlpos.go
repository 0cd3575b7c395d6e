package spec

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// yamlMessage splits a yaml.v3 error into the line it names (0 when none)
// and the bare message.
var yamlMessage = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

func splitYAMLError(err error) (line int, msg string) {
	m := yamlMessage.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, err.Error()
	}
	line, _ = strconv.Atoi(m[1])
	return line, m[2]
}

// maxLocateLines bounds the work of locateSyntaxError, which parses the
// schema once per line: past this size the line yaml.v3 gives is kept.
const maxLocateLines = 5000

// locateSyntaxError finds where in src the YAML syntax error msg happens.
//
// yaml.v3 reports the line where the enclosing block started (for a badly
// indented field deep in `types:`, the line of `types:` or of the file's
// first mapping) and never a column. The parser stops at the first problem
// and reads the file front to back, so the shortest prefix of src that
// already fails with the same message ends at the offending character: find
// the first line whose prefix fails that way, then the first character on
// it. A prefix can also fail only because it was cut short (an unclosed
// `{`); the message then differs, unless the cut is the problem, and that
// case points at the unclosed bracket or quote, which is what needs fixing.
// ok is false when no prefix reproduces msg.
func locateSyntaxError(src []byte, msg string) (p Pos, ok bool) {
	lines := strings.SplitAfter(string(src), "\n")
	if len(lines) > maxLocateLines {
		return Pos{}, false
	}
	failsLike := func(prefix string) bool {
		var n yaml.Node
		err := yaml.Unmarshal([]byte(prefix), &n)
		if err == nil {
			return false
		}
		_, m := splitYAMLError(err)
		return m == msg
	}
	var before strings.Builder
	for i, line := range lines {
		if failsLike(before.String() + line) {
			col := 1
			for c := range line {
				if c == 0 {
					continue
				}
				if failsLike(before.String() + line[:c]) {
					break
				}
				col++
			}
			// Only the line break (or the end of the file) completed the
			// error: point just past the line's last character.
			col = min(col, utf8.RuneCountInString(strings.TrimRight(line, "\r\n"))+1)
			return Pos{Line: i + 1, Col: col}, true
		}
		before.WriteString(line)
	}
	return Pos{}, false
}
