//go:build js && wasm

package jsbind

import (
	"errors"
	"strings"
	"sync"

	"github.com/eventwire/eventwire/wasm/eventsource"
)

// What a JavaScript request driver reports through ESTransport.Deliver, as
// its kind argument.
const (
	// NetResponse: (status, contentType, url, headers). contentType is a
	// string or null, url the final URL after redirects, headers a Headers
	// object or the XHR's getAllResponseHeaders() string (kept opaque for
	// error events).
	NetResponse = 0
	// NetChunk: the next piece of the body. It never comes through
	// Deliver: the shell writes it into the inbox and calls the export
	// esChunk, which hands it to Chunk (see inbox.go).
	NetChunk = 1
	// NetEnd: the orderly end of the body.
	NetEnd = 2
	// NetFail: (message), a network error.
	NetFail = 3
	// NetHeadersFail: (message), the page's headers function failed.
	NetHeadersFail = 4
	// NetRenew: the driver's memory grows with the response (XHR
	// responseText): replace the request at the next event boundary.
	NetRenew = 5
)

// ESTransport is the browser's eventsource.Transport. The HTTP mechanics run
// in a small JavaScript driver (js/src/transport.js): fetch with a
// ReadableStream reader, XHR streaming, whole responses for polls, the
// page's headers function. Go keeps the protocol (readyState, reconnection,
// backoff, proxy detection, parsing). The split is for size: the same
// mechanics written against safejs cost about 38 KB of gzipped wasm, twice
// what the budget (GUIDE.md §4) leaves for the whole EventSource; and it
// needs no js.Func per request, since the driver reports through one export
// (esNet in wasm/cmd/eventwire) that calls Deliver.
//
// The driver object has two methods:
//
//	open(id, url, method, headers, longPoll)
//	    Start request id. headers is "name\nvalue\nname\nvalue..." (names and
//	    values cannot hold line breaks: fetch and XHR reject them). The
//	    driver adds the body, credentials, cache and redirect modes, the
//	    page's headers function's result, and picks fetch or XHR; it reports
//	    in order: NetResponse once through Deliver, the body's chunks
//	    through Chunk (the export esChunk), then NetEnd, or NetFail /
//	    NetHeadersFail at any point, through Deliver.
//	abort(id)
//	    Give up request id: abort it, report nothing more.
//
// Deliver and Chunk run inside the driver's call and process the Client's input at
// once (the Client never blocks), so chunks keep their order and events
// reach the page within the same task.
type ESTransport struct {
	driver Value

	mu      sync.Mutex
	next    int
	streams map[int]*eventsource.Stream // live requests (one, two during a renewal)
}

// NewESTransport returns a Transport that drives requests through driver.
func NewESTransport(driver Value) *ESTransport {
	return &ESTransport{driver: driver, streams: make(map[int]*eventsource.Stream, 2)}
}

// Open implements eventsource.Transport.
func (t *ESTransport) Open(req *eventsource.Request, s *eventsource.Stream) (abort func()) {
	t.mu.Lock()
	t.next++
	id := t.next
	t.streams[id] = s
	t.mu.Unlock()
	var h strings.Builder
	for i, f := range req.Header {
		if i > 0 {
			h.WriteByte('\n')
		}
		h.WriteString(f.Name)
		h.WriteByte('\n')
		h.WriteString(f.Value)
	}
	if _, err := t.driver.Call("open", id, req.URL, req.Method, h.String(), req.LongPoll); err != nil {
		t.drop(id)
		s.Fail(err)
		return nil
	}
	return func() {
		if t.drop(id) {
			_, _ = t.driver.Call("abort", id)
		}
	}
}

// drop forgets request id, reporting whether it was live.
func (t *ESTransport) drop(id int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.streams[id]
	delete(t.streams, id)
	return ok
}

// Chunk passes the next piece of request id's body to its Stream (the
// export esChunk calls it with the inbox). The Client does not keep p.
func (t *ESTransport) Chunk(id int, p []byte) {
	t.mu.Lock()
	s := t.streams[id]
	t.mu.Unlock()
	if s != nil {
		s.Chunk(p)
	}
}

// Deliver passes a report of the driver about request id to its Stream.
// Reports about a request that ended or was aborted are ignored.
func (t *ESTransport) Deliver(id, kind int, args []Value) error {
	t.mu.Lock()
	s := t.streams[id]
	t.mu.Unlock()
	if s == nil {
		return nil
	}
	switch kind {
	case NetResponse:
		var r eventsource.Response
		st, err := arg(args, 0).Float()
		if err != nil {
			return err
		}
		r.Status = int(st)
		if ct := arg(args, 1); ct.IsString() {
			r.ContentType, _ = ct.String()
		}
		if u := arg(args, 2); u.IsString() {
			r.URL, _ = u.String()
		}
		r.Raw = arg(args, 3)
		s.Response(r)
	case NetEnd:
		t.drop(id)
		s.End()
	case NetFail, NetHeadersFail:
		t.drop(id)
		msg, _ := arg(args, 0).String()
		err := errors.New(msg)
		if kind == NetHeadersFail {
			err = &eventsource.HeadersError{Err: err}
		}
		s.Fail(err)
	case NetRenew:
		s.Renew()
	default:
		return TypeError("eventwire: unknown transport report")
	}
	return nil
}
