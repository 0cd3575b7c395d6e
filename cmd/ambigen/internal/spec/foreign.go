package spec

import (
	"fmt"
	"strings"
)

// People write types the way their other languages spell them. These tables
// map those spellings (TypeScript, JSON Schema, Go, R and a few common
// others) to the schema's own, so that the diagnostic can say what to write
// instead of guessing by edit distance.
var foreignScalars = map[string]string{
	// bool
	"boolean": "bool", "Boolean": "bool", "logical": "bool",
	// int
	"integer": "int", "int32": "int", "int64": "int", "uint": "int", "uint32": "int", "uint64": "int",
	"long": "int", "bigint": "int", "Int": "int",
	// float
	"number": "float", "Number": "float", "numeric": "float", "double": "float",
	"float32": "float", "float64": "float", "real": "float",
	// string
	"character": "string", "str": "string", "String": "string", "text": "string",
	// timestamp
	"datetime": "timestamp", "DateTime": "timestamp", "date-time": "timestamp", "Date": "timestamp",
	"date": "timestamp", "time.Time": "timestamp", "POSIXct": "timestamp", "Instant": "timestamp",
	// bytes
	"[]byte": "bytes", "Uint8Array": "bytes", "raw": "bytes", "binary": "bytes", "blob": "bytes",
	// any
	"unknown": "any", "interface{}": "any", "json": "any",
}

// foreignNotes add a word where the translation is a choice.
var foreignNotes = map[string]string{
	"number":  ` "int" holds whole numbers`,
	"Number":  ` "int" holds whole numbers`,
	"numeric": ` "int" holds whole numbers`,
	"date":    ` there is no date-only type`,
}

// foreignType translates s from another language's spelling into the
// schema's, recursing into element types. It returns "" when s is not such a
// spelling.
func foreignType(s string) string {
	s = strings.TrimSpace(s)
	if t, ok := foreignScalars[s]; ok {
		return t
	}
	elem := func(inner string) string {
		inner = strings.TrimSpace(inner)
		if t := foreignType(inner); t != "" {
			return t
		}
		return inner
	}
	for _, list := range []struct{ prefix, suffix string }{
		{"Array<", ">"}, {"array<", ">"}, {"List<", ">"}, {"list[", "]"}, {"vector<", ">"}, {"Vec<", ">"},
		{"ReadonlyArray<", ">"}, {"Set<", ">"},
	} {
		if strings.HasPrefix(s, list.prefix) && strings.HasSuffix(s, list.suffix) {
			return "list<" + elem(s[len(list.prefix):len(s)-len(list.suffix)]) + ">"
		}
	}
	switch {
	case strings.HasSuffix(s, "[]") && len(s) > 2:
		return "list<" + elem(s[:len(s)-2]) + ">"
	case strings.HasPrefix(s, "[]") && len(s) > 2:
		return "list<" + elem(s[2:]) + ">"
	case strings.HasPrefix(s, "map[string]"):
		return "map<" + elem(s[len("map[string]"):]) + ">"
	}
	for _, m := range []struct{ prefix, suffix string }{
		{"Record<", ">"}, {"Map<", ">"}, {"map<", ">"}, {"dict[", "]"}, {"Dict[", "]"},
	} {
		if strings.HasPrefix(s, m.prefix) && strings.HasSuffix(s, m.suffix) {
			key, val, ok := strings.Cut(s[len(m.prefix):len(s)-len(m.suffix)], ",")
			if ok && isStringKey(key) {
				return "map<" + elem(val) + ">"
			}
		}
	}
	return ""
}

// isStringKey reports whether k names the string type in some language.
func isStringKey(k string) bool {
	k = strings.TrimSpace(k)
	return k == "string" || foreignScalars[k] == "string"
}

// optionalSpelling recognises the ways other languages write "T or
// nothing" (T?, *T, Optional<T>, T | null) and returns T.
func optionalSpelling(s string) (string, bool) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasSuffix(s, "?") && len(s) > 1:
		return s[:len(s)-1], true
	case strings.HasPrefix(s, "*") && len(s) > 1:
		return s[1:], true
	case strings.HasPrefix(s, "Optional<") && strings.HasSuffix(s, ">"):
		return s[len("Optional<") : len(s)-1], true
	}
	for _, null := range []string{"null", "undefined", "NULL"} {
		if t, ok := strings.CutSuffix(s, "|"+null); ok {
			return strings.TrimSpace(t), true
		}
		if t, ok := strings.CutSuffix(s, " | "+null); ok {
			return strings.TrimSpace(t), true
		}
	}
	return "", false
}

// unknownTypeHint is the tail of an "unknown type" diagnostic for s: what to
// write instead when s is another language's spelling of a schema type, and
// "" when it is not. valid says whether a suggested spelling resolves.
func unknownTypeHint(s string, valid func(string) bool) string {
	if t := foreignType(s); t != "" && valid(t) {
		return fmt.Sprintf(" (did you mean %q?%s)", t, foreignNotes[s])
	}
	if inner, ok := optionalSpelling(s); ok {
		t := inner
		if f := foreignType(inner); f != "" {
			t = f
		}
		if valid(t) {
			return fmt.Sprintf("; a field that may be absent is written {type: %s, optional: true}", t)
		}
	}
	return ""
}
