package server

import (
	"net/http"
	"strings"
)

// CORS request and response headers allowed and sent by the CORS handler.
const (
	corsAllowMethods = "GET, POST"
	corsAllowHeaders = "Last-Event-ID, Authorization, Content-Type, Cache-Control"
	corsMaxAge       = "600"
)

// CORS wraps h with cross-origin resource sharing for an allow-list of
// origins ("https://app.example.com", compared case-insensitively; a
// trailing slash is ignored).
//
// For a request whose Origin is listed, it echoes that origin in
// Access-Control-Allow-Origin with Access-Control-Allow-Credentials: true,
// so that cookies and EventSource's withCredentials work. It answers
// preflight requests (OPTIONS with Access-Control-Request-Method) itself
// with 204, allowing the methods GET and POST and the request headers
// Last-Event-ID, Authorization, Content-Type and Cache-Control for 10
// minutes; a preflight from another origin gets 204 without CORS headers,
// which the browser treats as a refusal. Requests from origins not listed
// pass through without CORS headers. Every response carries Vary: Origin.
//
// The entry "*" allows every origin, but then as a public resource:
// Access-Control-Allow-Origin: * and never credentials (browsers refuse the
// combination, and echoing any origin with credentials would expose users'
// cookies to every site). Listed origins still get credentials.
func CORS(allowed []string, h http.Handler) http.Handler {
	c := &cors{origins: make(map[string]bool, len(allowed)), next: h}
	for _, o := range allowed {
		o = normalizeOrigin(o)
		if o == "*" {
			c.any = true
		} else if o != "" {
			c.origins[o] = true
		}
	}
	return c
}

type cors struct {
	origins map[string]bool
	any     bool
	next    http.Handler
}

func normalizeOrigin(o string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o), "/"))
}

func (c *cors) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if preflight {
		hdr.Add("Vary", "Access-Control-Request-Method")
		hdr.Add("Vary", "Access-Control-Request-Headers")
	}
	credentials := origin != "" && c.origins[normalizeOrigin(origin)]
	switch {
	case credentials:
		hdr.Set("Access-Control-Allow-Origin", origin)
		hdr.Set("Access-Control-Allow-Credentials", "true")
	case origin != "" && c.any:
		hdr.Set("Access-Control-Allow-Origin", "*")
	default:
		if preflight {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		c.next.ServeHTTP(w, r)
		return
	}
	if preflight {
		hdr.Set("Access-Control-Allow-Methods", corsAllowMethods)
		hdr.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		hdr.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	c.next.ServeHTTP(w, r)
}
