// Package jsclient ships ambigen's TypeScript client to browsers that have no
// Node toolchain behind them: the bundles built from ts/src are embedded in
// the Go binary, served by Handler and written out by WriteFile, the
// counterpart of Ambiorix's copy_websocket_client(path).
//
// ambiorix.js is a minified script for a <script> tag that defines the global
// Ambiorix class of Ambiorix's own ambiorix.js, so existing pages work
// unchanged; ambiorix.mjs is the whole client (Client, Ambiorix,
// createTypedClient, CallError...) as a minified ES module.
package jsclient

//go:generate go run ../cmd/ambiorixjs build

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Names of the embedded bundles, also the names Handler answers to.
const (
	ScriptName = "ambiorix.js"
	ModuleName = "ambiorix.mjs"
)

//go:embed ambiorix.js ambiorix.mjs
var bundles embed.FS

var script, module = mustRead(ScriptName), mustRead(ModuleName)

func mustRead(name string) []byte {
	b, err := bundles.ReadFile(name)
	if err != nil {
		panic(err) // the embed directive above guarantees both files
	}
	return b
}

// Script returns the <script>-tag bundle (ambiorix.js).
func Script() []byte { return bytes.Clone(script) }

// Module returns the ES module bundle (ambiorix.mjs).
func Module() []byte { return bytes.Clone(module) }

// Handler serves the bundles: a path ending in ".mjs" gets the ES module,
// any other path the <script> bundle, so it can be mounted at any path
// ("/static/ambiorix.js", "/js/client.mjs") without http.StripPrefix. Only
// GET and HEAD are allowed. Responses carry an ETag and ask browsers to
// revalidate, so a rebuilt server never leaves a page on a stale client.
func Handler() http.Handler {
	js, mjs := newAsset(ScriptName, script), newAsset(ModuleName, module)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		a := js
		if strings.HasSuffix(r.URL.Path, ".mjs") {
			a = mjs
		}
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
	})
}

type asset struct {
	name, etag string
	body       []byte
}

func newAsset(name string, body []byte) asset {
	sum := sha256.Sum256(body)
	return asset{name: name, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, body: body}
}

// WriteFile writes the <script> bundle to path, creating missing parent
// directories, like Ambiorix's copy_websocket_client(path). An existing file
// is replaced.
func WriteFile(path string) error { return write(path, script) }

// WriteModuleFile writes the ES module bundle to path, like WriteFile.
func WriteModuleFile(path string) error { return write(path, module) }

func write(path string, body []byte) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(path, body, 0o644)
}
