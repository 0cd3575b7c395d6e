package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ambigen/ambigen/gen"
	v1 "github.com/ambigen/ambigen/internal/oldchat/v1"
	v2 "github.com/ambigen/ambigen/internal/oldchat/v2"
)

// The version-skew tests (examples/chat/skew_test.go) run clients of two earlier releases of the
// chat schema against today's server, which lists v1's fingerprint as compatible and not v2's.
// That is right only if `ambigen breaking` agrees, which is what a user is told to check before
// listing a fingerprint; this test runs the check.
func TestOldChatReleasesAreWhatTheySay(t *testing.T) {
	for _, c := range []struct {
		release, fingerprint string
		breaks               bool
	}{
		{"v1", v1.Fingerprint, false},
		{"v2", v2.Fingerprint, true},
	} {
		t.Run(c.release, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			old := "../../internal/oldchat/" + c.release + "/messages.yaml"
			code := run([]string{"breaking", old, "../../schema/messages.yaml"}, &stdout, &stderr)
			if got, want := code != 0, c.breaks; got != want {
				t.Fatalf("ambigen breaking %s: exit %d, want a break: %v\n%s%s", old, code, want, &stdout, &stderr)
			}
			if c.breaks && !strings.Contains(stdout.String(), "breaks old clients") {
				t.Errorf("%s breaks, but not old clients:\n%s", c.release, &stdout)
			}
			// The fingerprints the check prints are the ones the generated packages declare.
			want := "fingerprints " + c.fingerprint + " (old), " + gen.Fingerprint + " (new)"
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("summary %q does not name %q", stderr.String(), want)
			}
		})
	}
}
