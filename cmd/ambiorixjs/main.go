// Command ambiorixjs builds and copies ambigen's browser client.
//
//	ambiorixjs copy [-module] <path>
//		Write the client script (ambiorix.js, or with -module ambiorix.mjs) to
//		path: the counterpart of Ambiorix's copy_websocket_client(path).
//	ambiorixjs build [-check] [-root dir]
//		Bundle ts/src with esbuild into jsclient/ambiorix.js (a minified
//		<script> that defines the global Ambiorix) and jsclient/ambiorix.mjs
//		(the whole client as a minified ES module). jsclient's go:generate
//		line runs it.
//	ambiorixjs build [-check] -entry x.ts -out y.js [-format iife|esm] [-minify=false]
//		Bundle any entry point, such as a page script that imports the
//		generated typed client. The format defaults to esm for a .mjs output
//		and to iife otherwise.
//
// build type-checks each entry point with tsc --noEmit first (the nearest
// tsconfig.json above it, else strict defaults), because esbuild only strips
// types. The compiler is -tsc, or node_modules/.bin/tsc in the entry's
// folder or above, or tsc on PATH. Without one it bundles and says plainly
// that nothing was checked; -typecheck=require makes that an error and
// -typecheck=off skips the check.
//
// With -check, build writes nothing and exits 1 when a committed bundle
// differs from a fresh build. Exit status: 0 success, 1 failure, 2 usage.
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

	"github.com/evanw/esbuild/pkg/api"

	"github.com/ambigen/ambigen/jsclient"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  ambiorixjs copy [-module] <path>
  ambiorixjs build [-check] [-root dir] [-typecheck auto|require|off] [-tsc path]
  ambiorixjs build [-check] -entry x.ts -out y.js [-format iife|esm] [-minify=false] [-typecheck auto|require|off] [-tsc path]
`

// errUsage marks mistakes in the command line, which exit with status 2.
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "copy":
		err = copyCmd(args[1:], stderr)
	case "build":
		err = buildCmd(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "ambiorixjs: %v\n%s", err, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "ambiorixjs: %v\n", err)
		return 1
	}
}

func copyCmd(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	module := fs.Bool("module", false, "write the ES module (ambiorix.mjs) instead of the <script> bundle")
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: copy takes one path", errUsage)
	}
	if *module {
		return jsclient.WriteModuleFile(fs.Arg(0))
	}
	return jsclient.WriteFile(fs.Arg(0))
}

func buildCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("check", false, "write nothing; fail when a committed bundle is not what a build produces")
	root := fs.String("root", "", "the module root holding ts/ and jsclient/ (default: found from the working directory)")
	entry := fs.String("entry", "", "bundle this entry point instead of the client")
	out := fs.String("out", "", "output file for -entry")
	format := fs.String("format", "", "iife or esm for -entry (default: esm for .mjs, else iife)")
	minify := fs.Bool("minify", true, "minify the -entry bundle")
	typecheck := fs.String("typecheck", typecheckAuto, "run tsc --noEmit before bundling: auto (when a compiler is found, else say so), require (a missing compiler is an error) or off")
	tsc := fs.String("tsc", "", "the TypeScript compiler to run (default: node_modules/.bin/tsc in the entry's folder or above, else tsc on PATH)")
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	tc, err := newTypeChecker(*typecheck, *tsc, stderr)
	if err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: build takes no arguments, got %q", errUsage, fs.Args())
	}
	var jobs []job
	if *entry != "" || *out != "" {
		if *entry == "" || *out == "" {
			return fmt.Errorf("%w: -entry and -out go together", errUsage)
		}
		f, err := parseFormat(*format, *out)
		if err != nil {
			return err
		}
		jobs = []job{{entry: *entry, out: *out, format: f, minify: *minify}}
	} else {
		if *format != "" {
			return fmt.Errorf("%w: -format applies only with -entry", errUsage)
		}
		dir := *root
		if dir == "" {
			var err error
			if dir, err = moduleRoot(); err != nil {
				return err
			}
		}
		jobs = clientJobs(dir)
	}
	stale := 0
	for _, j := range jobs {
		if err := tc.check(j.entry); err != nil {
			return err
		}
		built, err := bundle(j)
		if err != nil {
			return err
		}
		current, err := os.ReadFile(j.out)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if bytes.Equal(current, built) {
			continue
		}
		if *check {
			fmt.Fprintf(stderr, "%s is stale (%d bytes on disk, %d bytes built): rebuild it with ambiorixjs build (go generate)\n", display(j.out), len(current), len(built))
			stale++
			continue
		}
		// Written only when the bytes changed, so timestamps and go:embed caches stay put.
		if err := os.WriteFile(j.out, built, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%d bytes)\n", display(j.out), len(built))
	}
	if stale > 0 {
		return fmt.Errorf("%d bundle(s) stale", stale)
	}
	return nil
}

// display shortens path to one relative to the working directory when it lies below it.
func display(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, abs); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

func usageErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return fmt.Errorf("%w: %v", errUsage, err)
}

// job is one bundle to produce.
type job struct {
	entry, out string
	format     api.Format
	minify     bool
	banner     string
}

func parseFormat(s, out string) (api.Format, error) {
	switch s {
	case "iife":
		return api.FormatIIFE, nil
	case "esm":
		return api.FormatESModule, nil
	case "":
		if strings.HasSuffix(out, ".mjs") {
			return api.FormatESModule, nil
		}
		return api.FormatIIFE, nil
	}
	return 0, fmt.Errorf("%w: -format must be iife or esm, not %q", errUsage, s)
}

// clientJobs are the two bundles that jsclient embeds.
func clientJobs(root string) []job {
	const note = "Code generated by ambiorixjs build from ts/src. DO NOT EDIT."
	return []job{
		{
			entry:  filepath.Join(root, "ts", "src", "browser.ts"),
			out:    filepath.Join(root, "jsclient", jsclient.ScriptName),
			format: api.FormatIIFE,
			minify: true,
			banner: "// ambiorix.js: the Ambiorix browser client of ambigen (global Ambiorix). " + note,
		},
		{
			entry:  filepath.Join(root, "ts", "src", "index.ts"),
			out:    filepath.Join(root, "jsclient", jsclient.ModuleName),
			format: api.FormatESModule,
			minify: true,
			banner: "// ambiorix.mjs: ambigen's client as an ES module. " + note,
		},
	}
}

// bundle runs esbuild in memory. The output depends only on the sources and
// the esbuild version in go.mod: no paths, times or host details, so a
// committed bundle can be checked for staleness byte for byte.
func bundle(j job) ([]byte, error) {
	entry, err := filepath.Abs(j.entry)
	if err != nil {
		return nil, err
	}
	out, err := filepath.Abs(j.out)
	if err != nil {
		return nil, err
	}
	opts := api.BuildOptions{
		EntryPoints:       []string{entry},
		Outfile:           out,
		AbsWorkingDir:     filepath.Dir(entry),
		Bundle:            true,
		Write:             false,
		Format:            j.format,
		Platform:          api.PlatformBrowser,
		Target:            api.ES2020,
		MinifyWhitespace:  j.minify,
		MinifyIdentifiers: j.minify,
		MinifySyntax:      j.minify,
		LegalComments:     api.LegalCommentsNone,
		Charset:           api.CharsetUTF8,
		LogLevel:          api.LogLevelSilent,
	}
	if j.banner != "" {
		opts.Banner = map[string]string{"js": j.banner}
	}
	res := api.Build(opts)
	if len(res.Errors) > 0 {
		msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		return nil, fmt.Errorf("bundle %s:\n%s", j.entry, strings.Join(msgs, ""))
	}
	for _, f := range res.OutputFiles {
		if f.Path == out {
			return f.Contents, nil
		}
	}
	return nil, fmt.Errorf("bundle %s: esbuild produced no %s", j.entry, out)
}

// moduleRoot walks up from the working directory to the go.mod of this module.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/ambigen/ambigen\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the ambigen module root (go.mod); pass -root")
		}
		dir = parent
	}
}
