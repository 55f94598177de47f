package eventsource

// Request is one HTTP request the Client asks its Transport to make. The
// Transport owns it after Open (the Client makes a new one per request).
type Request struct {
	// URL is absolute, with Options.LastEventIDParam and, for a poll,
	// Options.LongPollQuery applied.
	URL string
	// Method is "GET" unless Options.Method says otherwise.
	Method string
	// Header starts with Accept: text/event-stream (unless Options.Header
	// or HeaderFunc set Accept), then the user's headers, then
	// Last-Event-ID when the last event ID is not empty.
	Header []Header
	// Body is Options.Body, unchanged.
	Body any
	// WithCredentials selects fetch credentials "include" (true) or
	// "same-origin" (false); for XHR, xhr.withCredentials.
	WithCredentials bool
	// LongPoll is true for a poll: the response is expected to end, and the
	// transport need not stream it (it may deliver the whole body as one
	// chunk).
	LongPoll bool
}

// The cache mode of every request is "no-store" (fetch cache option; XHR
// cannot set it and relies on the server's Cache-Control).
const CacheMode = "no-store"

// Response describes the HTTP response of a Request, after redirects.
type Response struct {
	// Status is the HTTP status code (0 for an opaque response).
	Status int
	// ContentType is the Content-Type header value, "" when absent. Several
	// values may be given joined with ", " as fetch's Headers.get does.
	ContentType string
	// URL is the final URL after redirects ("" means the request URL). The
	// origin of events is taken from it.
	URL string
	// Header optionally lists the response headers, for error events. A
	// transport that can hand the page its own headers object cheaply puts
	// that in Raw instead and leaves Header nil.
	Header []Header
	// Raw is opaque to the Client and comes back in ErrorInfo and OpenInfo;
	// the JS binding may keep its Response or Headers object here so that
	// error events can expose them without copying.
	Raw any
}

// Transport makes HTTP requests for a Client.
//
// (The abort is a plain func rather than a context.Context: context and the
// select machinery it needs cost about 17 KB of gzipped wasm.)
type Transport interface {
	// Open starts req and returns at once: it must not block, and may be
	// called from a JS callback. The outcome is reported through s, from any
	// goroutine, in this order: s.Response exactly once when the headers
	// arrive (after following redirects), then s.Chunk for each piece of the
	// body, then s.End at the orderly end of the body; or s.Fail at any point
	// for a network error.
	//
	// The Client calls the returned abort (if not nil) at most once, when it
	// gives up the request (close, timeout, switch, renewal, or after End or
	// Fail); the transport then aborts the request (AbortController.abort,
	// xhr.abort) and releases what it holds. abort must not block and may be
	// called before Open's own reports have been processed. Calls on s after
	// abort, End or Fail are ignored.
	Open(req *Request, s *Stream) (abort func())
}

// Stream receives the outcome of one Request. Its methods never block
// beyond a short mutex, are safe from any goroutine and from JS callbacks,
// and keep their order when called from one goroutine.
type Stream struct {
	c   *Client
	gen uint64
}

// Response reports the response headers. It must come before any Chunk.
func (s *Stream) Response(r Response) {
	s.c.post(msg{kind: msgResponse, gen: s.gen, resp: &r})
}

// Chunk reports the next piece of the body. The Client does not keep p
// after Chunk returns, so the transport may reuse its buffer.
func (s *Stream) Chunk(p []byte) {
	if len(p) > 0 {
		s.c.postChunk(s.gen, p)
	}
}

// End reports the orderly end of the body.
func (s *Stream) End() { s.c.post(msg{kind: msgEnd, gen: s.gen}) }

// Fail reports a network error: before the response, or while the body
// was being read. A *HeadersError reports instead that the transport's own
// headers callback failed (reason "headers callback failed").
func (s *Stream) Fail(err error) { s.c.post(msg{kind: msgFail, gen: s.gen, err: err}) }

// HeadersError is given to Stream.Fail by a transport that computes request
// headers itself (the JS binding calls the page's headers function there)
// when that failed: the error event then has reason "headers callback
// failed", as for Options.HeaderFunc.
type HeadersError struct{ Err error }

func (e *HeadersError) Error() string { return "headers callback failed: " + e.Err.Error() }
func (e *HeadersError) Unwrap() error { return e.Err }

// Renew asks the Client to replace this request with a new one at the next
// event boundary (at once if the body so far ends at one), without any
// event or readyState change: for a transport whose memory grows with the
// response, such as XHR's responseText. Renewal relies on the body ending
// each event with a blank line written in one piece ("\n\n"), as eventwire's
// server does; otherwise the request is never renewed.
func (s *Stream) Renew() { s.c.post(msg{kind: msgRenew, gen: s.gen}) }
