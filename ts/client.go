// Package ts holds ambigen's TypeScript client: the package @ambigen/client
// (package.json, src/, and dist/, its compiled JavaScript and declarations,
// committed so that `npm install <checkout>/ts` needs no build step). The Go
// side of this folder only embeds dist/, for `ambigen -ts-runtime-copy`,
// which writes the client next to the generated TypeScript for projects
// that use no npm package at all.
package ts

import (
	"embed"
	"io/fs"
)

//go:embed dist/*.js dist/*.d.ts
var dist embed.FS

// Dist is the compiled client: dist/'s JavaScript modules with their type
// declarations, at the root of the returned file system. index.js is the
// entry point.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is embedded: a missing folder cannot build
	}
	return sub
}
