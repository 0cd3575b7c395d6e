package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// esbuild removes TypeScript's types without checking them, so a bundle
// built from code that does not compile would go out silently. build
// therefore runs the TypeScript compiler first whenever it can find one,
// says so when it cannot, and with -typecheck=require refuses to bundle
// unchecked code.

// Type-check modes of the -typecheck flag.
const (
	typecheckAuto    = "auto"    // check when a compiler is found, else say that nothing was checked
	typecheckRequire = "require" // a missing compiler is an error
	typecheckOff     = "off"     // do not check
)

// typeChecker runs tsc over the entry points of a build.
type typeChecker struct {
	mode   string
	tsc    string // -tsc, or "" to search
	stderr io.Writer
	done   map[string]bool // the tsc runs already made, by command line
}

func newTypeChecker(mode, tsc string, stderr io.Writer) (*typeChecker, error) {
	switch mode {
	case typecheckAuto, typecheckRequire, typecheckOff:
	default:
		return nil, fmt.Errorf("%w: -typecheck must be auto, require or off, not %q", errUsage, mode)
	}
	if tsc != "" && mode == typecheckOff {
		return nil, fmt.Errorf("%w: -tsc with -typecheck=off", errUsage)
	}
	return &typeChecker{mode: mode, tsc: tsc, stderr: stderr, done: map[string]bool{}}, nil
}

// check type-checks entry, with the nearest tsconfig.json above it when
// there is one (its settings and files are the project's), or else with
// strict settings for a bundled browser script.
func (tc *typeChecker) check(entry string) error {
	if tc.mode == typecheckOff {
		return nil
	}
	entry, err := filepath.Abs(entry)
	if err != nil {
		return err
	}
	compiler, err := tc.compiler(filepath.Dir(entry))
	if err != nil {
		return err
	}
	if compiler == "" {
		if tc.mode == typecheckRequire {
			return fmt.Errorf("%s: not type-checked and -typecheck=require: no TypeScript compiler found (no node_modules/.bin/tsc in %s or above, no tsc on PATH); install typescript (npm install --save-dev typescript) or pass -tsc", display(entry), display(filepath.Dir(entry)))
		}
		fmt.Fprintf(tc.stderr, "ambiorixjs: %s: NOT type-checked: no TypeScript compiler found (no node_modules/.bin/tsc in %s or above, no tsc on PATH); esbuild strips types without checking them. Install typescript (npm install --save-dev typescript), pass -tsc, or -typecheck=require to make this an error.\n",
			display(entry), display(filepath.Dir(entry)))
		return nil
	}
	args := []string{"--noEmit"}
	if cfg := findUp(filepath.Dir(entry), "tsconfig.json"); cfg != "" {
		args = append(args, "-p", cfg)
	} else {
		args = append(args, "--strict", "--target", "ES2020", "--module", "ESNext", "--moduleResolution", "bundler",
			"--lib", "ES2020,DOM,DOM.Iterable", "--skipLibCheck", entry)
	}
	key := compiler + " " + strings.Join(args, " ")
	if tc.done[key] {
		return nil
	}
	tc.done[key] = true
	cmd := exec.Command(compiler, args...)
	cmd.Dir = filepath.Dir(entry)
	out, err := cmd.CombinedOutput()
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return fmt.Errorf("running %s: %w", compiler, err)
		}
		return fmt.Errorf("%s does not type-check (tsc %s); nothing was written:\n%s", display(entry), strings.Join(args, " "), out)
	}
	return nil
}

// compiler is -tsc, else the tsc of the nearest node_modules above dir,
// else tsc on PATH; "" when there is none.
func (tc *typeChecker) compiler(dir string) (string, error) {
	if tc.tsc != "" {
		p, err := exec.LookPath(tc.tsc)
		if err != nil {
			return "", fmt.Errorf("-tsc %s: %w", tc.tsc, err)
		}
		// tsc runs in the entry's folder: a relative -tsc is the caller's.
		return filepath.Abs(p)
	}
	if p := findUp(dir, filepath.Join("node_modules", ".bin", "tsc")); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("tsc"); err == nil {
		return p, nil
	}
	return "", nil
}

// findUp returns the first dir/name, walking from dir to the root, that
// exists; "" when none does.
func findUp(dir, name string) string {
	for {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
