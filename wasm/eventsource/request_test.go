package eventsource

import "testing"

func TestSetQueryParam(t *testing.T) {
	for _, tc := range []struct {
		u, name, value, want string
	}{
		{"https://h/p", "id", "5", "https://h/p?id=5"},
		{"https://h/p?", "id", "5", "https://h/p?id=5"},
		{"https://h/p?a=1", "id", "5", "https://h/p?a=1&id=5"},
		{"https://h/p?id=1&a=1&id=2", "id", "5", "https://h/p?a=1&id=5"},
		{"https://h/p?id&a=1", "id", "5", "https://h/p?a=1&id=5"},
		{"https://h/p?idx=1", "id", "5", "https://h/p?idx=1&id=5"},
		{"https://h/p?a=1#x?id=1", "id", "5", "https://h/p?a=1&id=5#x?id=1"},
		{"https://h/p?a=1&id=3", "id", "", "https://h/p?a=1"},
		{"https://h/p?a=1&&b", "z", "", "https://h/p?a=1&&b"}, // untouched
		{"https://h/p#f", "id", "", "https://h/p#f"},
	} {
		if got := setQueryParam(tc.u, tc.name, tc.value); got != tc.want {
			t.Errorf("setQueryParam(%q, %q, %q) = %q, want %q", tc.u, tc.name, tc.value, got, tc.want)
		}
	}
}

func TestEscapeQuery(t *testing.T) {
	for in, want := range map[string]string{
		"":           "",
		"abc-._~09":  "abc-._~09",
		"a b&c=d/e?": "a%20b%26c%3Dd%2Fe%3F",
		"é😀":         "%C3%A9%F0%9F%98%80",
		"%+#":        "%25%2B%23",
	} {
		if got := escapeQuery(in); got != want {
			t.Errorf("escapeQuery(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.com/events":            "https://example.com",
		"https://example.com":                   "https://example.com",
		"https://example.com:443/x":             "https://example.com",
		"http://example.com:80/x":               "http://example.com",
		"http://example.com:443/x":              "http://example.com:443",
		"https://EXAMPLE.com:8443?x":            "https://example.com:8443",
		"HTTP://u:p@Host.Example:81/#f":         "http://host.example:81",
		"http://[::1]:8080/events":              "http://[::1]:8080",
		"http://[::1]/events":                   "http://[::1]",
		"https://a@b@c.example/":                "https://c.example",
		"ftp://example.com/":                    "null",
		"data:text/event-stream,x":              "null",
		"https:///nohost":                       "null",
		"https://example.com:443#frag:with:col": "https://example.com",
	} {
		if got := Origin(in); got != want {
			t.Errorf("Origin(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsEventStream(t *testing.T) {
	for ct, want := range map[string]bool{
		"text/event-stream":                         true,
		"TEXT/EVENT-STREAM":                         true,
		"text/event-stream;charset=utf-8":           true,
		"text/event-stream ; charset=utf-8":         true,
		"\ttext/event-stream\t":                     true,
		`text/event-stream; x="a,b"`:                true,
		"text/plain, text/event-stream":             true,
		"text/event-stream, */*":                    true, // */* is skipped
		"text/event-stream, bogus":                  true, // unparsable is skipped
		"text/event-stream, text/plain":             false,
		"":                                          false,
		"text/event-stream-x":                       false,
		"text /event-stream":                        false,
		"text/event stream":                         false,
		"event-stream":                              false,
		"application/octet-stream":                  false,
		"text/event-stream;":                        true,
		`text/plain; x="text/event-stream, y", z=1`: false,
	} {
		if got := isEventStream(ct); got != want {
			t.Errorf("isEventStream(%q) = %v", ct, got)
		}
	}
}

func TestHTTPScheme(t *testing.T) {
	for u, want := range map[string]bool{
		"http://a": true, "https://a": true, "HtTpS://a": true,
		"ftp://a": false, "blob:https://a/x": false, "": false, "https": false, "ws://a": false,
	} {
		if got := httpScheme(u); got != want {
			t.Errorf("httpScheme(%q) = %v", u, got)
		}
	}
}
