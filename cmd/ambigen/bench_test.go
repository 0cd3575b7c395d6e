package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ambigen/ambigen/cmd/ambigen/internal/golang"
	"github.com/ambigen/ambigen/cmd/ambigen/internal/jsonschema"
	"github.com/ambigen/ambigen/cmd/ambigen/internal/spec"
	"github.com/ambigen/ambigen/cmd/ambigen/internal/typescript"
)

// bigSchema returns a schema of n messages in every shape (plain, inline
// object, named object, call), with n/5 object types.
func bigSchema(n int) []byte {
	var b strings.Builder
	b.WriteString("messages:\n")
	froms := []string{"client", "server", "both"}
	for i := 0; i < n; i++ {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "  msg-%d: {from: %s, payload: list<string>, doc: Message %d.}\n", i, froms[i%3], i)
		case 1:
			fmt.Fprintf(&b, "  msg-%d: {from: %s, payload: {a: int, b: {type: T%d, optional: true}}}\n", i, froms[i%3], i%(n/5))
		case 2:
			fmt.Fprintf(&b, "  msg-%d: {from: %s, payload: T%d}\n", i, froms[i%3], i%(n/5))
		case 3:
			fmt.Fprintf(&b, "  msg-%d: {from: %s, payload: {q: string}, reply: map<T%d>}\n", i, froms[i%2], i%(n/5))
		}
	}
	b.WriteString("types:\n")
	for i := 0; i < n/5; i++ {
		fmt.Fprintf(&b, "  T%d: {doc: Type %d., fields: {s: string, t: timestamp, l: list<T%d>, e: {type: E, optional: true}}}\n", i, i, (i+1)%(n/5))
	}
	b.WriteString("  E: {enum: [x, y, z]}\n")
	return []byte(b.String())
}

// BenchmarkGenerate500 runs the whole pipeline, in memory, on a schema of
// 500 messages.
func BenchmarkGenerate500(b *testing.B) {
	src := bigSchema(500)
	for b.Loop() {
		m, err := spec.Load("big.yaml", src)
		if err != nil {
			b.Fatal(err)
		}
		goSrc, err := golang.Generate(m, "example.com/big", "big")
		if err != nil {
			b.Fatal(err)
		}
		ts := typescript.Generate(m, "../index.js")
		js, err := jsonschema.Messages(m)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(goSrc)+len(ts)+len(js)), "bytes/op-out")
	}
}

// TestBigSchemaIsValid keeps the benchmark honest: its schema must check.
func TestBigSchemaIsValid(t *testing.T) {
	m, err := spec.Load("big.yaml", bigSchema(500))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Messages) != 500 {
		t.Fatalf("%d messages, want 500", len(m.Messages))
	}
}
