package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ambigen/ambigen/cmd/ambigen/internal/spec"
	"github.com/ambigen/ambigen/runtime"
)

// The runtimes cannot import the generator's packages, so each carries its own
// copy of the handshake's names (runtime/skew.go, ts/src/skew.ts). This test is
// what keeps the three equal.
func TestHandshakeNamesMatchTheRuntimes(t *testing.T) {
	for _, c := range []struct{ what, runtime, spec string }{
		{"reserved prefix", runtime.ReservedPrefix, spec.ReservedWirePrefix},
		{"verdict message", runtime.HandshakeMessage, spec.HandshakeMessage},
		{"query parameter", runtime.HandshakeQuery, spec.HandshakeQuery},
	} {
		if c.runtime != c.spec {
			t.Errorf("%s: the Go runtime says %q, the generator %q", c.what, c.runtime, c.spec)
		}
	}

	ts, err := os.ReadFile(filepath.Join("..", "..", "ts", "src", "skew.ts"))
	if err != nil {
		t.Fatal(err)
	}
	for _, decl := range []string{
		`export const reservedPrefix = "` + spec.ReservedWirePrefix + `";`,
		`export const handshakeMessage = "` + spec.HandshakeMessage + `";`,
		`export const handshakeQuery = "` + spec.HandshakeQuery + `";`,
	} {
		if !strings.Contains(string(ts), "\n"+decl+"\n") {
			t.Errorf("ts/src/skew.ts does not declare %s", decl)
		}
	}
}

// A fingerprint the generator prints is one the runtime accepts: the
// server's check of what a client announces must not refuse real ones.
func TestRuntimeAcceptsTheGeneratorsFingerprints(t *testing.T) {
	for _, path := range []string{"../../schema/messages.yaml", "testdata/cases/everything/schema.yaml", "testdata/cases/minimal/schema.yaml"} {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := spec.Load(path, src)
		if err != nil {
			t.Fatal(err)
		}
		if fp := spec.Fingerprint(m); !runtime.IsFingerprint(fp) {
			t.Errorf("%s: runtime.IsFingerprint(%q) is false", path, fp)
		}
	}
}
