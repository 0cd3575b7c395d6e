package jsclient_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ambigen/ambigen/jsclient"
)

func TestBundlesAreEmbedded(t *testing.T) {
	script, module := jsclient.Script(), jsclient.Module()
	// The script must define the global the original ambiorix.js defines; the module must export the core.
	if !bytes.Contains(script, []byte("globalThis.Ambiorix=")) {
		t.Errorf("ambiorix.js does not assign globalThis.Ambiorix (%d bytes)", len(script))
	}
	if !bytes.Contains(module, []byte("export{")) || !bytes.Contains(module, []byte(" as createTypedClient")) {
		t.Errorf("ambiorix.mjs does not export createTypedClient (%d bytes)", len(module))
	}
	script[0] = 'X' // Script hands out a copy; the served bytes must not change.
	if jsclient.Script()[0] == 'X' {
		t.Error("Script returned the embedded slice itself")
	}
}

// The issue promises a script of a few KB at most; this keeps it so.
func TestScriptStaysSmall(t *testing.T) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(jsclient.Script()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	const limit = 5 << 10
	t.Logf("ambiorix.js: %d bytes minified, %d gzipped", len(jsclient.Script()), buf.Len())
	if buf.Len() > limit {
		t.Errorf("ambiorix.js is %d bytes gzipped, over the %d-byte budget", buf.Len(), limit)
	}
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(jsclient.Handler())
	defer srv.Close()

	get := func(method, path string, header http.Header) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, body
	}

	res, body := get("GET", "/static/ambiorix.js", nil)
	if res.StatusCode != 200 || !bytes.Equal(body, jsclient.Script()) {
		t.Fatalf("GET ambiorix.js: status %d, %d bytes; want 200 and the script", res.StatusCode, len(body))
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("Content-Type %q, want text/javascript", ct)
	}
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}

	res, body = get("GET", "/js/ambiorix.mjs", nil)
	if res.StatusCode != 200 || !bytes.Equal(body, jsclient.Module()) {
		t.Fatalf("GET ambiorix.mjs: status %d, %d bytes; want 200 and the module", res.StatusCode, len(body))
	}
	if res.Header.Get("ETag") == etag {
		t.Error("script and module share an ETag")
	}

	res, body = get("GET", "/static/ambiorix.js", http.Header{"If-None-Match": {etag}})
	if res.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("conditional GET: status %d with %d bytes, want 304 and none", res.StatusCode, len(body))
	}

	res, body = get("HEAD", "/ambiorix.js", nil)
	if res.StatusCode != 200 || len(body) != 0 || res.ContentLength != int64(len(jsclient.Script())) {
		t.Errorf("HEAD: status %d, body %d, length %d", res.StatusCode, len(body), res.ContentLength)
	}

	res, _ = get("POST", "/ambiorix.js", nil)
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: status %d, Allow %q; want 405 and GET, HEAD", res.StatusCode, res.Header.Get("Allow"))
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "static", "js", "ambiorix.js")
	// Like copy_websocket_client, it creates the folder and replaces what is there.
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := jsclient.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, jsclient.Script()) {
		t.Errorf("WriteFile wrote %d bytes, want the %d-byte script", len(got), len(jsclient.Script()))
	}
	mjs := filepath.Join(dir, "new", "ambiorix.mjs")
	if err := jsclient.WriteModuleFile(mjs); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(mjs); !bytes.Equal(got, jsclient.Module()) {
		t.Errorf("WriteModuleFile wrote %d bytes, want the %d-byte module", len(got), len(jsclient.Module()))
	}
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := jsclient.WriteFile(filepath.Join(blocker, "ambiorix.js")); err == nil {
		t.Error("writing below a regular file succeeded")
	}
}

func ExampleWriteFile() {
	// The Go counterpart of ambiorix::copy_websocket_client(path = "static/ambiorix.js").
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	if err := jsclient.WriteFile(filepath.Join(dir, "static", "ambiorix.js")); err != nil {
		panic(err)
	}
	_, err := os.Stat(filepath.Join(dir, "static", "ambiorix.js"))
	fmt.Println(err == nil)
	// Output: true
}
