// Command ambigen generates typed Go and TypeScript APIs and JSON Schema
// from an ambigen schema (schema/messages.yaml) describing the messages of
// an Ambiorix WebSocket application.
//
// It is the only part of the generator that touches the disk: the pipeline
// (spec -> golang, typescript, jsonschema) renders every file in memory, and
// files are written only once all of them rendered, and only when their
// bytes changed.
//
// Exit codes: 0 success, 1 schema or generation error (or stale output with
// -check), 2 usage error.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ambigen/ambigen/cmd/ambigen/internal/diff"
	"github.com/ambigen/ambigen/cmd/ambigen/internal/golang"
	"github.com/ambigen/ambigen/cmd/ambigen/internal/jsonschema"
	"github.com/ambigen/ambigen/cmd/ambigen/internal/spec"
	"github.com/ambigen/ambigen/cmd/ambigen/internal/typescript"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the flags say.
type config struct {
	schema, goOut, goPackage, goName     string
	tsOut, tsRuntime, jsonOut, formatOut string
	check, tsCopy                        bool
}

// file is one rendered output.
type file struct {
	path string
	data []byte
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "breaking" {
		return runBreaking(args[1:], stdout, stderr)
	}
	var c config
	fs := flag.NewFlagSet("ambigen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.schema, "schema", "schema/messages.yaml", "the schema `file` to read")
	fs.StringVar(&c.goOut, "go-out", "", "write the Go file (<schema name>.go) into this `dir`; empty skips Go")
	fs.StringVar(&c.goPackage, "go-package", "", "import `path` of the Go package; defaults to the path of -go-out in its module")
	fs.StringVar(&c.goName, "go-name", "", "Go package `name`; defaults to the last element of -go-package")
	fs.StringVar(&c.tsOut, "ts-out", "", "write the TypeScript file (<schema name>.ts) into this `dir`; empty skips TypeScript")
	fs.StringVar(&c.tsRuntime, "ts-runtime-import", defaultRuntimeImport, "`module` specifier the TypeScript file imports the client runtime from (the npm package ts/ of this repository)")
	fs.BoolVar(&c.tsCopy, "ts-runtime-copy", false, "write the client runtime into "+runtimeCopyDir+"/ beside the TypeScript file and import it from there, for projects without the npm package")
	fs.StringVar(&c.jsonOut, "jsonschema-out", "", "write the JSON Schema of every message's payload and reply to this `file`; empty skips it")
	fs.StringVar(&c.formatOut, "format-schema-out", "", "write the JSON Schema of the schema format itself (for editors) to this `file`; empty skips it")
	fs.BoolVar(&c.check, "check", false, "write nothing; when any output differs from what is on disk, print a unified diff of it and exit 1")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ambigen [flags]\n       ambigen breaking [-level wire|source] OLD NEW | -against REF NEW\n\nambigen reads an Ambiorix message schema and generates typed Go and\nTypeScript APIs and JSON Schema for it.\n\nExit codes: 0 success, 1 schema or generation error (or stale output with -check), 2 usage.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ambigen: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return 2
	}
	if c.goOut == "" && c.tsOut == "" && c.jsonOut == "" && c.formatOut == "" {
		fmt.Fprintln(stderr, "ambigen: nothing to do: give at least one of -go-out, -ts-out, -jsonschema-out, -format-schema-out")
		return 2
	}

	if c.tsCopy {
		explicit := false
		fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "ts-runtime-import" })
		if explicit || c.tsOut == "" {
			fmt.Fprintln(stderr, "ambigen: -ts-runtime-copy needs -ts-out and replaces -ts-runtime-import")
			return 2
		}
		c.tsRuntime = runtimeCopyImport
	}

	files, err := render(c)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if c.check {
		stale := false
		for _, f := range files {
			old, err := os.ReadFile(f.path)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(stderr, "ambigen: %v\n", err)
				return 1
			}
			if !bytes.Equal(old, f.data) {
				stale = true
				fmt.Fprintf(stderr, "ambigen: %s is stale; run go generate ./...\n", f.path)
				// a/ and b/ as git writes them, so that patch -p1 takes the output.
				name := strings.TrimPrefix(filepath.ToSlash(filepath.Clean(f.path)), "/")
				fmt.Fprint(stdout, diff.Unified("a/"+name, "b/"+name, old, f.data))
			}
		}
		if stale {
			return 1
		}
		return 0
	}
	if err := write(files); err != nil {
		fmt.Fprintf(stderr, "ambigen: %v\n", err)
		return 1
	}
	return 0
}

// render runs the whole pipeline in memory.
func render(c config) ([]file, error) {
	src, err := os.ReadFile(c.schema)
	if err != nil {
		return nil, fmt.Errorf("ambigen: %w", err)
	}
	m, err := spec.Load(c.schema, src)
	if err != nil {
		return nil, err
	}
	// The header names the schema relative to its module so that output is
	// the same whichever directory ambigen runs in.
	m.Source = moduleRelative(c.schema)
	base := strings.TrimSuffix(filepath.Base(c.schema), filepath.Ext(c.schema))

	var files []file
	if c.goOut != "" {
		pkgPath := c.goPackage
		if pkgPath == "" {
			if pkgPath, err = importPath(c.goOut); err != nil {
				return nil, fmt.Errorf("ambigen: -go-package not given and %v", err)
			}
		}
		name := c.goName
		if name == "" {
			name = pkgPath[strings.LastIndex(pkgPath, "/")+1:]
		}
		out, err := golang.Generate(m, pkgPath, name)
		if err != nil {
			return nil, fmt.Errorf("ambigen: %w", err)
		}
		files = append(files, file{filepath.Join(c.goOut, base+".go"), out})
	}
	if c.tsOut != "" {
		files = append(files, file{filepath.Join(c.tsOut, base+".ts"), typescript.Generate(m, c.tsRuntime)})
		if c.tsCopy {
			copies, err := runtimeCopy(c.tsOut)
			if err != nil {
				return nil, fmt.Errorf("ambigen: %w", err)
			}
			files = append(files, copies...)
		}
	}
	if c.jsonOut != "" {
		out, err := jsonschema.Messages(m)
		if err != nil {
			return nil, fmt.Errorf("ambigen: %w", err)
		}
		files = append(files, file{c.jsonOut, out})
	}
	if c.formatOut != "" {
		out, err := jsonschema.Format()
		if err != nil {
			return nil, fmt.Errorf("ambigen: %w", err)
		}
		files = append(files, file{c.formatOut, out})
	}
	return files, nil
}

// write stores files whose bytes changed, each through a temporary file
// and a rename so that a reader never sees half a file.
func write(files []file) error {
	for _, f := range files {
		if old, err := os.ReadFile(f.path); err == nil && bytes.Equal(old, f.data) {
			continue
		}
		dir := filepath.Dir(f.path)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		tmp, err := os.CreateTemp(dir, ".ambigen-*")
		if err != nil {
			return err
		}
		_, werr := tmp.Write(f.data)
		cerr := tmp.Close()
		if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o644)); err != nil {
			os.Remove(tmp.Name())
			return err
		}
		if err := os.Rename(tmp.Name(), f.path); err != nil {
			os.Remove(tmp.Name())
			return err
		}
	}
	return nil
}

// findModule returns the directory holding the go.mod above dir, and the
// module path it declares.
func findModule(dir string) (root, modPath string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
					return d, strings.Trim(f[1], `"`), nil
				}
			}
			return "", "", fmt.Errorf("%s/go.mod declares no module", d)
		}
		if filepath.Dir(d) == d {
			return "", "", fmt.Errorf("no go.mod above %s", abs)
		}
	}
}

func importPath(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	root, mod, err := findModule(abs)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return "", err
	}
	if rel == "." {
		return mod, nil
	}
	return mod + "/" + filepath.ToSlash(rel), nil
}

// moduleRelative is path relative to the module root above it, with
// forward slashes; path itself when there is no module.
func moduleRelative(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.ToSlash(path)
	}
	root, _, err := findModule(filepath.Dir(abs))
	if err != nil {
		return filepath.ToSlash(path)
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(rel)
}
