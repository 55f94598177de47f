package server

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"testing/fstest"
	"time"
)

func TestStatic(t *testing.T) {
	mod := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	fsys := fstest.MapFS{
		"eventwire.wasm":    {Data: []byte("\x00asm-identity-bytes"), ModTime: mod},
		"eventwire.wasm.br": {Data: []byte("BR"), ModTime: mod},
		"eventwire.wasm.gz": {Data: []byte("GZIP"), ModTime: mod},
		"eventwire.js":      {Data: []byte("export {}"), ModTime: mod},
		"eventwire.js.gz":   {Data: []byte("gz-js"), ModTime: mod},
		"types.d.ts":        {Data: []byte("export {}"), ModTime: mod},
		"sub/index.html":    {Data: []byte("<p>hi"), ModTime: mod},
	}
	mux := http.NewServeMux()
	mux.Handle("/dist/", http.StripPrefix("/dist", Static(fsys)))
	do := func(method, path, ae string, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, nil)
		if ae != "" {
			r.Header.Set("Accept-Encoding", ae)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}
	for _, tc := range []struct {
		path, ae, body, ctype, enc string
	}{
		{"/dist/eventwire.wasm", "gzip, deflate, br, zstd", "BR", "application/wasm", "br"},
		{"/dist/eventwire.wasm", "gzip, deflate", "GZIP", "application/wasm", "gzip"},
		{"/dist/eventwire.wasm", "br;q=0, gzip", "GZIP", "application/wasm", "gzip"},
		{"/dist/eventwire.wasm", "*", "BR", "application/wasm", "br"},
		{"/dist/eventwire.wasm", "*, br;q=0", "GZIP", "application/wasm", "gzip"},
		{"/dist/eventwire.wasm", "", "\x00asm-identity-bytes", "application/wasm", ""},
		{"/dist/eventwire.wasm", "identity", "\x00asm-identity-bytes", "application/wasm", ""},
		{"/dist/eventwire.js", "br", "export {}", "text/javascript; charset=utf-8", ""},
		{"/dist/eventwire.js", "br, gzip", "gz-js", "text/javascript; charset=utf-8", "gzip"},
		{"/dist/types.d.ts", "", "export {}", "text/plain; charset=utf-8", ""},
		{"/dist/sub/", "", "<p>hi", "text/html; charset=utf-8", ""},
	} {
		w := do("GET", tc.path, tc.ae)
		h := w.Header()
		if w.Code != 200 || w.Body.String() != tc.body || h.Get("Content-Type") != tc.ctype ||
			h.Get("Content-Encoding") != tc.enc || h.Get("Vary") != "Accept-Encoding" ||
			h.Get("Content-Length") != strconv.Itoa(len(tc.body)) || h.Get("Cache-Control") != "no-cache" ||
			h.Get("ETag") == "" {
			t.Errorf("GET %s (Accept-Encoding %q): %d %q %v", tc.path, tc.ae, w.Code, w.Body, h)
		}
	}
	// Variants have their own ETags, and revalidation works for each.
	br := do("GET", "/dist/eventwire.wasm", "br").Header().Get("ETag")
	id := do("GET", "/dist/eventwire.wasm", "").Header().Get("ETag")
	if br == id {
		t.Errorf("same ETag %s for br and identity", br)
	}
	if w := do("GET", "/dist/eventwire.wasm", "br", "If-None-Match", br); w.Code != 304 || w.Body.Len() != 0 || w.Header().Get("Content-Encoding") != "" {
		t.Errorf("If-None-Match br: %d %v", w.Code, w.Header())
	}
	if w := do("GET", "/dist/eventwire.wasm", "", "If-None-Match", id); w.Code != 304 {
		t.Errorf("If-None-Match identity: %d", w.Code)
	}
	if w := do("GET", "/dist/eventwire.wasm", "br", "If-None-Match", id); w.Code != 200 || w.Body.String() != "BR" {
		t.Errorf("identity ETag against br: %d", w.Code)
	}
	// HEAD: headers only.
	if w := do("HEAD", "/dist/eventwire.wasm", "br"); w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "2" {
		t.Errorf("HEAD: %d %v", w.Code, w.Header())
	}
	// Ranges on the identity encoding.
	if w := do("GET", "/dist/eventwire.wasm", "", "Range", "bytes=1-3"); w.Code != 206 || w.Body.String() != "asm" {
		t.Errorf("Range: %d %q", w.Code, w.Body)
	}
	for _, p := range []string{"/dist/missing.wasm", "/dist/"} {
		if w := do("GET", p, "br"); w.Code != 404 {
			t.Errorf("GET %s: %d", p, w.Code)
		}
	}
	// Paths never leave the file system (ServeMux would redirect these).
	for _, p := range []string{"/../eventwire.js", "/sub/../../eventwire.js", "/../../etc/passwd"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = p
		w := httptest.NewRecorder()
		Static(fsys).ServeHTTP(w, r)
		if want := 200; p == "/../../etc/passwd" && w.Code != 404 || p != "/../../etc/passwd" && w.Code != want {
			t.Errorf("GET %s: %d", p, w.Code)
		}
	}
	if w := do("POST", "/dist/eventwire.wasm", ""); w.Code != 405 {
		t.Errorf("POST: %d", w.Code)
	}
}

func TestAcceptsEncoding(t *testing.T) {
	for _, tc := range []struct {
		header, enc string
		want        bool
	}{
		{"br", "br", true},
		{"BR", "br", true},
		{"gzip;q=0.5, br;q=1.0", "br", true},
		{"br;q=0", "br", false},
		{"br; q=0.000", "br", false},
		{"br;q=bogus", "br", false},
		{"*;q=0.1", "br", true},
		{"*;q=0", "br", false},
		{"gzip", "br", false},
		{"", "gzip", false},
	} {
		if got := acceptsEncoding(tc.header, tc.enc); got != tc.want {
			t.Errorf("acceptsEncoding(%q, %q) = %v", tc.header, tc.enc, got)
		}
	}
}
