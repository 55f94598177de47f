package server

import (
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// staticTypes are the content types Static sets by file extension, ahead
// of the mime package (which, for one, calls .ts an MPEG transport stream).
var staticTypes = map[string]string{
	".wasm": "application/wasm",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".map":  "application/json",
	".json": "application/json",
	".ts":   "text/plain; charset=utf-8",
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".txt":  "text/plain; charset=utf-8",
	".svg":  "image/svg+xml",
}

// encodings are the precompressed variants Static looks for, best first.
var encodings = []struct{ name, suffix string }{
	{"br", ".br"},
	{"gzip", ".gz"},
}

// Static returns a handler that serves the files of fsys (for the server
// binary, os.DirFS of the dist directory), by the request path relative to
// the root of fsys; mount it with http.StripPrefix.
//
//   - Content-Type by extension: application/wasm for .wasm,
//     text/javascript for .js and .mjs, then the mime package.
//   - When the request's Accept-Encoding allows it and a sibling file
//     NAME.br or NAME.gz exists, that file is sent with Content-Encoding br
//     (preferred) or gzip and its own Content-Length and ETag. Every file
//     response carries Vary: Accept-Encoding. Range requests are honoured
//     for the identity encoding only.
//   - Cache-Control: no-cache with a strong ETag and Last-Modified, so
//     browsers revalidate (304) rather than run a stale build: the file
//     names carry no content hash.
//   - Directories serve their index.html, or 404; there are no listings.
//
// Only GET and HEAD are allowed.
func Static(fsys fs.FS) http.Handler {
	return &static{fsys: fsys}
}

type static struct{ fsys fs.FS }

func (s *static) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "."
	}
	if !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	info, err := fs.Stat(s.fsys, name)
	if err == nil && info.IsDir() {
		name = path.Join(name, "index.html")
		info, err = fs.Stat(s.fsys, name)
	}
	if err != nil || !info.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}

	hdr := w.Header()
	hdr.Add("Vary", "Accept-Encoding")
	ext := path.Ext(name)
	ctype, ok := staticTypes[ext]
	if !ok {
		if ctype = mime.TypeByExtension(ext); ctype == "" {
			ctype = "application/octet-stream"
		}
	}
	hdr.Set("Content-Type", ctype)
	hdr.Set("Cache-Control", "no-cache")

	accept := r.Header.Get("Accept-Encoding")
	for _, enc := range encodings {
		if !acceptsEncoding(accept, enc.name) {
			continue
		}
		cinfo, err := fs.Stat(s.fsys, name+enc.suffix)
		if err != nil || !cinfo.Mode().IsRegular() {
			continue
		}
		if s.serveEncoded(w, r, name+enc.suffix, cinfo, enc.name) {
			return
		}
	}

	f, err := s.fsys.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	hdr.Set("ETag", etag(info, ""))
	if rs, ok := f.(io.ReadSeeker); ok {
		http.ServeContent(w, r, name, info.ModTime(), rs)
		return
	}
	// An fs.File that cannot seek: no ranges.
	if notModified(r, info, hdr.Get("ETag")) {
		writeNotModified(w)
		return
	}
	hdr.Set("Last-Modified", info.ModTime().UTC().Format(http.TimeFormat))
	hdr.Set("Content-Length", strconv.FormatInt(info.Size(), 10))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, f)
	}
}

// serveEncoded sends a precompressed variant. It reports false, having
// written nothing, when the file cannot be opened.
func (s *static) serveEncoded(w http.ResponseWriter, r *http.Request, name string, info fs.FileInfo, encoding string) bool {
	f, err := s.fsys.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	hdr := w.Header()
	tag := etag(info, "-"+encoding)
	hdr.Set("ETag", tag)
	if notModified(r, info, tag) {
		writeNotModified(w)
		return true
	}
	hdr.Set("Content-Encoding", encoding)
	hdr.Set("Last-Modified", info.ModTime().UTC().Format(http.TimeFormat))
	hdr.Set("Content-Length", strconv.FormatInt(info.Size(), 10))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, f)
	}
	return true
}

func etag(info fs.FileInfo, suffix string) string {
	return `"` + strconv.FormatInt(info.ModTime().UnixNano(), 36) + "-" +
		strconv.FormatInt(info.Size(), 36) + suffix + `"`
}

// notModified evaluates If-None-Match, or else If-Modified-Since.
func notModified(r *http.Request, info fs.FileInfo, tag string) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || strings.TrimPrefix(t, "W/") == tag {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !info.ModTime().Truncate(time.Second).After(t)
	}
	return false
}

func writeNotModified(w http.ResponseWriter) {
	hdr := w.Header()
	hdr.Del("Content-Type")
	hdr.Del("Content-Length")
	hdr.Del("Content-Encoding")
	w.WriteHeader(http.StatusNotModified)
}

// acceptsEncoding reports whether an Accept-Encoding header value allows
// the content coding enc (q > 0 for enc itself, or else for "*").
func acceptsEncoding(header, enc string) bool {
	star := false
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.TrimSpace(coding)
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					q = 0
				} else {
					q = f
				}
			}
		}
		switch {
		case strings.EqualFold(coding, enc):
			return q > 0
		case coding == "*":
			star = q > 0
		}
	}
	return star
}
