package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ambigen/ambigen/cmd/ambigen/internal/evolve"
	"github.com/ambigen/ambigen/cmd/ambigen/internal/spec"
)

const breakingUsage = `Usage: ambigen breaking [-level wire|source] OLD NEW
       ambigen breaking [-level wire|source] -against REF NEW

ambigen breaking compares two versions of a schema and prints every change
that breaks old clients (tabs loaded before a deploy, talking to a new
server), old servers (new clients talking to a server not yet redeployed)
or, with -level source, code compiled against the old generated API: one
line per change, file:line:col: kind: explanation. Removals point into OLD.

With -against, OLD is NEW's file as it is at the git REF (git show), for
example: ambigen breaking -against origin/main schema/messages.yaml

Exit codes: 0 nothing breaks at the level, 1 something does (or a schema
does not load, or git fails), 2 usage.

Flags:
`

// runBreaking is `ambigen breaking`.
func runBreaking(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ambigen breaking", flag.ContinueOnError)
	fs.SetOutput(stderr)
	against := fs.String("against", "", "read OLD from this git `ref`, at NEW's path")
	level := fs.String("level", "wire", "what counts: `wire` (old peers fail) or source (also code built on the old generated API)")
	fs.Usage = func() {
		fmt.Fprint(stderr, breakingUsage)
		fs.PrintDefaults()
	}
	// Flags may come before or after the files.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	var counts evolve.Breaks
	switch *level {
	case "wire":
		counts = evolve.Wire
	case "source":
		counts = evolve.Wire | evolve.Source
	default:
		fmt.Fprintf(stderr, "ambigen breaking: -level is %q; it must be wire or source\n", *level)
		return 2
	}
	want := 2
	if *against != "" {
		want = 1
	}
	if len(files) != want {
		fmt.Fprintf(stderr, "ambigen breaking: want %d schema files, got %d\n", want, len(files))
		fs.Usage()
		return 2
	}
	newPath := files[len(files)-1]

	var oldName string
	var oldSrc []byte
	var err error
	if *against != "" {
		oldName, oldSrc, err = gitShow(*against, newPath)
	} else {
		oldName = files[0]
		oldSrc, err = os.ReadFile(oldName)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ambigen breaking: %v\n", err)
		return 1
	}
	newSrc, err := os.ReadFile(newPath)
	if err != nil {
		fmt.Fprintf(stderr, "ambigen breaking: %v\n", err)
		return 1
	}
	oldModel, oldErr := spec.Load(oldName, oldSrc)
	newModel, newErr := spec.Load(newPath, newSrc)
	if oldErr != nil || newErr != nil {
		for _, e := range []error{oldErr, newErr} {
			if e != nil {
				fmt.Fprintln(stderr, e)
			}
		}
		return 1
	}

	n := 0
	for _, ch := range evolve.Compare(oldModel, newModel) {
		if ch.Breaks&counts != 0 {
			fmt.Fprintln(stdout, ch)
			n++
		}
	}
	// The fingerprints let a server list the old schema as compatible
	// for the version handshake when nothing breaks old clients.
	prints := fmt.Sprintf("fingerprints %s (old), %s (new)", oldModel.Fingerprint, newModel.Fingerprint)
	if n == 0 {
		fmt.Fprintf(stderr, "ambigen breaking: nothing breaks at the %s level; %s\n", *level, prints)
		return 0
	}
	s := "s"
	if n == 1 {
		s = ""
	}
	fmt.Fprintf(stderr, "ambigen breaking: %d breaking change%s at the %s level; %s\n", n, s, *level, prints)
	return 1
}

// gitShow reads path as it is at ref in its git repository. The name it
// returns, ref:path-from-the-repository-root, says which version a
// diagnostic points into.
func gitShow(ref, path string) (name string, src []byte, err error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	prefix, err := git(dir, "rev-parse", "--show-prefix")
	if err != nil {
		return "", nil, err
	}
	src, err = git(dir, "show", ref+":./"+base)
	if err != nil {
		return "", nil, err
	}
	return ref + ":" + strings.TrimSpace(string(prefix)) + base, src, nil
}

func git(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(errOut.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s: %s", strings.Join(args, " "), msg)
	}
	return out, nil
}
