package server

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

func TestCORS(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Next", r.Method)
	})
	h := CORS([]string{"https://app.example", "http://LOCALHOST:3000/"}, next)
	do := func(method, origin string, hdr map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/events/t", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	vary := func(w *httptest.ResponseRecorder) []string { return w.Header().Values("Vary") }

	t.Run("allowed", func(t *testing.T) {
		for _, o := range []string{"https://app.example", "http://localhost:3000"} {
			w := do("GET", o, nil)
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != o {
				t.Errorf("%s: Allow-Origin %q", o, got)
			}
			if w.Header().Get("Access-Control-Allow-Credentials") != "true" {
				t.Errorf("%s: no credentials", o)
			}
			if w.Header().Get("X-Next") != "GET" || !slices.Contains(vary(w), "Origin") {
				t.Errorf("%s: headers %v", o, w.Header())
			}
		}
	})
	t.Run("denied", func(t *testing.T) {
		for _, o := range []string{"https://evil.example", "https://app.example.evil", "null", ""} {
			w := do("GET", o, nil)
			for k := range w.Header() {
				if len(k) > 14 && k[:14] == "Access-Control" {
					t.Errorf("%q: CORS header %s", o, k)
				}
			}
			if w.Header().Get("X-Next") != "GET" || !slices.Contains(vary(w), "Origin") {
				t.Errorf("%q: headers %v", o, w.Header())
			}
		}
	})
	t.Run("preflight", func(t *testing.T) {
		w := do("OPTIONS", "https://app.example", map[string]string{
			"Access-Control-Request-Method":  "GET",
			"Access-Control-Request-Headers": "last-event-id",
		})
		hd := w.Header()
		if w.Code != http.StatusNoContent || hd.Get("X-Next") != "" {
			t.Errorf("status %d, next ran: %q", w.Code, hd.Get("X-Next"))
		}
		if hd.Get("Access-Control-Allow-Origin") != "https://app.example" ||
			hd.Get("Access-Control-Allow-Credentials") != "true" ||
			hd.Get("Access-Control-Allow-Methods") != "GET, POST" ||
			hd.Get("Access-Control-Max-Age") == "" {
			t.Errorf("headers %v", hd)
		}
		allowed := hd.Get("Access-Control-Allow-Headers")
		for _, want := range []string{"Last-Event-ID", "Authorization", "Content-Type"} {
			if !containsToken(allowed, want) {
				t.Errorf("Allow-Headers %q lacks %s", allowed, want)
			}
		}
		w = do("OPTIONS", "https://evil.example", map[string]string{"Access-Control-Request-Method": "GET"})
		if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "" || w.Header().Get("X-Next") != "" {
			t.Errorf("denied preflight: %d %v", w.Code, w.Header())
		}
		// A plain OPTIONS (no Access-Control-Request-Method) is not a preflight.
		if w = do("OPTIONS", "https://app.example", nil); w.Header().Get("X-Next") != "OPTIONS" {
			t.Errorf("plain OPTIONS not passed on: %v", w.Header())
		}
	})
	t.Run("never wildcard with credentials", func(t *testing.T) {
		h := CORS([]string{"*", "https://app.example"}, next)
		for _, o := range []string{"https://any.example", "https://app.example"} {
			for _, m := range []string{"GET", "OPTIONS"} {
				r := httptest.NewRequest(m, "/", nil)
				r.Header.Set("Origin", o)
				r.Header.Set("Access-Control-Request-Method", "GET")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				ao, ac := w.Header().Get("Access-Control-Allow-Origin"), w.Header().Get("Access-Control-Allow-Credentials")
				if ao == "*" && ac != "" {
					t.Errorf("%s %s: wildcard with credentials", m, o)
				}
				if o == "https://any.example" && (ao != "*" || ac != "") {
					t.Errorf("%s %s: %q %q, want public access", m, o, ao, ac)
				}
				if o == "https://app.example" && (ao != o || ac != "true") {
					t.Errorf("%s %s: %q %q, want credentials", m, o, ao, ac)
				}
			}
		}
		// Without an Origin header nothing is added.
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if w.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Error("CORS headers without Origin")
		}
	})
}

func containsToken(list, tok string) bool {
	for _, s := range splitComma(list) {
		if http.CanonicalHeaderKey(s) == http.CanonicalHeaderKey(tok) {
			return true
		}
	}
	return false
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			f := s[start:i]
			for len(f) > 0 && f[0] == ' ' {
				f = f[1:]
			}
			out = append(out, f)
			start = i + 1
		}
	}
	return out
}
