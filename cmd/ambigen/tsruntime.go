package main

import (
	"io/fs"
	"path/filepath"

	"github.com/ambigen/ambigen/ts"
)

// The client runtime that generated TypeScript imports. By default it is the
// npm package; with -ts-runtime-copy ambigen writes the package's compiled
// files into a folder beside the generated file and imports them from there.
const (
	defaultRuntimeImport = "@ambigen/client"
	runtimeCopyDir       = "ambigen-client"
	runtimeCopyImport    = "./" + runtimeCopyDir + "/index.js"
)

// runtimeCopyHeader starts every copied file, so that nobody edits a copy
// that the next go generate overwrites.
const runtimeCopyHeader = "// Copied by ambigen -ts-runtime-copy from @ambigen/client. DO NOT EDIT.\n"

// runtimeCopy renders the files of the client runtime into dir/ambigen-client.
func runtimeCopy(dir string) ([]file, error) {
	var files []file
	dist := ts.Dist()
	err := fs.WalkDir(dist, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(dist, path)
		if err != nil {
			return err
		}
		files = append(files, file{filepath.Join(dir, runtimeCopyDir, filepath.FromSlash(path)), append([]byte(runtimeCopyHeader), data...)})
		return nil
	})
	return files, err
}
