package eventsource

import "strings"

// This file holds the small URL, header and MIME helpers the Client needs,
// written here because net/url and mime bring fmt into the wasm.

// newRequest builds the request for the current connection attempt.
func (c *Client) newRequest(lastID string, extra []Header) *Request {
	cfg := &c.cfg
	u := c.base
	if cfg.idName != "" {
		if lastID != "" {
			u = setQueryParam(u, cfg.idEsc, escapeQuery(lastID))
		} else {
			u = setQueryParam(u, cfg.idEsc, "") // drop one the URL carried
		}
	}
	if c.longPoll && cfg.pollName != "" {
		u = setQueryParam(u, cfg.pollName, cfg.pollVal)
	}
	h := make([]Header, 0, 2+len(cfg.Header)+len(extra))
	h = append(h, Header{"Accept", "text/event-stream"})
	h = mergeHeaders(h, cfg.Header)
	h = mergeHeaders(h, extra)
	if lastID != "" {
		h = append(h, Header{"Last-Event-ID", lastID})
	}
	return &Request{
		URL:             u,
		Method:          cfg.Method,
		Header:          h,
		Body:            cfg.Body,
		WithCredentials: cfg.WithCredentials,
		LongPoll:        c.longPoll,
	}
}

// mergeHeaders appends add to h, a name already in h (any case) taking the
// new value in place. Last-Event-ID is the Client's own and is skipped.
func mergeHeaders(h, add []Header) []Header {
next:
	for _, a := range add {
		if equalFold(a.Name, "Last-Event-ID") {
			continue
		}
		for i := range h {
			if equalFold(h[i].Name, a.Name) {
				h[i] = a
				continue next
			}
		}
		h = append(h, a)
	}
	return h
}

// setQueryParam returns u with every query parameter named name removed
// and, when value is not empty, name=value appended (name and value already
// escaped). A fragment stays last.
func setQueryParam(u, name, value string) string {
	base, frag := u, ""
	if i := strings.IndexByte(u, '#'); i >= 0 {
		base, frag = u[:i], u[i:]
	}
	path, query := base, ""
	if i := strings.IndexByte(base, '?'); i >= 0 {
		path, query = base[:i], base[i+1:]
	}
	// (Byte loops rather than strings.Cut and strings.Builder: this file is
	// compiled into the wasm, where every helper package function counts.)
	b := make([]byte, 0, len(u)+len(name)+len(value)+3)
	b = append(b, path...)
	sep := byte('?')
	removed := false
	for query != "" {
		kv := query
		if i := strings.IndexByte(query, '&'); i >= 0 {
			kv, query = query[:i], query[i+1:]
		} else {
			query = ""
		}
		k := kv
		if i := strings.IndexByte(kv, '='); i >= 0 {
			k = kv[:i]
		}
		if k == name {
			removed = true
			continue
		}
		if kv == "" {
			continue
		}
		b = append(b, sep)
		b = append(b, kv...)
		sep = '&'
	}
	if value == "" && !removed {
		return u // nothing added or removed: keep the URL as written
	}
	if value != "" {
		b = append(b, sep)
		b = append(b, name...)
		b = append(b, '=')
		b = append(b, value...)
	}
	b = append(b, frag...)
	return string(b)
}

// escapeQuery percent-encodes s for a query component: every byte but the
// unreserved ones (ALPHA DIGIT - . _ ~) becomes %XX.
func escapeQuery(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// httpScheme reports whether u is an http or https URL (any case).
func httpScheme(u string) bool {
	i := strings.IndexByte(u, ':')
	return i >= 0 && (equalFold(u[:i], "http") || equalFold(u[:i], "https"))
}

// Origin returns the serialized origin of an absolute http(s) URL as a
// browser would ("https://example.com", "http://[::1]:8080"): scheme and
// host lower-cased, user info dropped, the scheme's default port omitted.
// It returns "null" for other URLs. The URL is expected to be normalized
// already (as fetch's response.url is); Origin does not validate it.
func Origin(u string) string {
	i := strings.IndexByte(u, ':')
	if i < 0 || len(u) < i+3 || u[i+1] != '/' || u[i+2] != '/' {
		return "null"
	}
	scheme, rest := asciiLower(u[:i]), u[i+3:]
	var def string
	switch scheme {
	case "http":
		def = "80"
	case "https":
		def = "443"
	default:
		return "null"
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c == '/' || c == '?' || c == '#' {
			rest = rest[:i]
			break
		}
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && strings.IndexByte(rest[i:], ']') < 0 {
		host, port = rest[:i], rest[i+1:]
	}
	if host == "" {
		return "null"
	}
	s := scheme + "://" + asciiLower(host)
	if port != "" && port != def {
		s += ":" + port
	}
	return s
}

// isEventStream reports whether a Content-Type value has the MIME essence
// text/event-stream, parameters allowed, in any case. For a combined value
// ("a, b", as Headers.get joins repeated headers) the last parsable type
// that is not */* counts, as in Fetch's "extract a MIME type".
func isEventStream(ct string) bool {
	essence := ""
	for ct != "" {
		var v string
		v, ct = cutUnquoted(ct, ',')
		if e, ok := mimeEssence(v); ok && e != "*/*" {
			essence = e
		}
	}
	return equalFold(essence, "text/event-stream")
}

// cutUnquoted splits s at the first sep outside a quoted string.
func cutUnquoted(s string, sep byte) (before, after string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case c == '\\' && quoted:
			i++
		case c == sep && !quoted:
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// mimeEssence parses "type/subtype[;params]" (Fetch's MIME type parser,
// without the parameters) and returns "type/subtype" as written.
func mimeEssence(v string) (string, bool) {
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	v = trimHTTPSpace(v)
	i := strings.IndexByte(v, '/')
	if i < 0 || !isToken(v[:i]) || !isToken(v[i+1:]) {
		return "", false
	}
	return v, true
}

// trimHTTPSpace trims HTTP whitespace (space, tab, CR, LF) at both ends.
func trimHTTPSpace(s string) string {
	for s != "" && httpSpace(s[0]) {
		s = s[1:]
	}
	for s != "" && httpSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func httpSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// isToken reports whether s is a non-empty HTTP token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		switch c {
		case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		default:
			return false
		}
	}
	return true
}

// equalFold is strings.EqualFold for ASCII, which is all HTTP names and
// schemes need (strings.EqualFold brings Unicode case folding).
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// asciiLower lower-cases ASCII letters only, as URL hosts and schemes are
// (a browser has already turned a Unicode host into punycode).
func asciiLower(s string) string { return mapASCII(s, 'A', 'Z', 'a'-'A') }

// asciiUpper upper-cases ASCII letters only, as fetch normalizes methods.
func asciiUpper(s string) string { return mapASCII(s, 'a', 'z', 'A'-'a') }

func mapASCII(s string, lo, hi byte, delta int) string {
	i := 0
	for i < len(s) && (s[i] < lo || s[i] > hi) {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if lo <= b[i] && b[i] <= hi {
			b[i] = byte(int(b[i]) + delta)
		}
	}
	return string(b)
}
