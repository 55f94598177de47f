// Package eventsource is the pure-Go core of eventwire's EventSource
// polyfill: the readyState machine, reconnection, backoff, heartbeat,
// long-polling and buffering-proxy detection of WHATWG HTML "Server-sent
// events", with parsing done by protocol/sse. It touches no JavaScript and
// no network: the JS binding gives it a Transport (fetch, XHR, ...) and a
// Sink (the EventTarget the page sees), and it builds and tests natively
// with fakes. It imports neither fmt, net/http nor encoding/json, to keep
// the wasm small.
//
// # Seam
//
// Go owns the protocol state; JS owns the DOM objects. A Client is driven by
// its Transport through a Stream (response headers, body chunks, end,
// failure) and by timers of its Clock; it answers with one Sink call per
// network chunk carrying every event decoded from it, never one per event.
// That call hands over a Batch: the events in a layout the JS shell reads in
// place, where the data of most events is still the bytes of the chunk,
// never copied in Go.
//
// # States
//
//	from        input                                      to          page sees
//	CONNECTING  valid response (200, text/event-stream)    OPEN        open
//	CONNECTING  network error, heartbeat timeout,          CONNECTING  error, then a
//	            poll timeout, headers callback failed                  new request
//	                                                                   after backoff
//	OPEN        same failures                              CONNECTING  error, backoff
//	OPEN        end of stream (streaming)                  CONNECTING  error, then a new
//	                                                                   request after r
//	OPEN        end of a poll, Stream.Renew, switch to     OPEN        nothing (the next
//	            long-polling                                           request at once)
//	CONNECTING  switch to long-polling (no byte yet)       CONNECTING  nothing
//	any         bad status, bad content type, event too    CLOSED      error (for good)
//	            large (and, at Start, a non-http(s) URL)
//	any         Close (close())                            CLOSED      nothing
//
// Every Sink call that changes readyState carries the new state: Open means
// OPEN, Error carries CONNECTING (a reconnection follows after
// ErrorInfo.Delay) or CLOSED (failed for good). Close sets CLOSED without a
// Sink call, as close() fires no event. There are no other changes.
//
// # Spec rules
//
//   - The request carries Accept: text/event-stream, Last-Event-ID when the
//     last event ID is not empty, cache mode no-store, credentials per
//     Options.WithCredentials; redirects are followed by the transport.
//   - A response whose status is not 200 (204 included) or whose Content-Type
//     essence is not text/event-stream (parameters allowed, any case) fails
//     the connection: an error event, then CLOSED, for good.
//   - A valid response announces the connection (OPEN and an open event) as
//     soon as its headers arrive, before the first body byte.
//   - A network error or an end of the stream reestablishes the connection:
//     readyState CONNECTING, an error event, a wait, a new request with
//     Last-Event-ID. An event not finished by a blank line is discarded.
//   - The wait after an orderly end of the stream is the reconnection time:
//     3 s unless the stream set another with retry:.
//   - A URL that is not http(s) fails the connection at Start.
//   - After a redirect, reconnections and polls go to the final URL (as
//     browsers do; the spec's request keeps its URL list), with
//     Options.LastEventIDParam and the long-poll parameter set again.
//
// # Extensions
//
//   - Backoff: after a failure (network error, heartbeat or poll timeout,
//     failed headers callback) the wait is drawn uniformly from
//     [r, min(BackoffMax, max(r, 1 s)·2ⁿ)] for the n-th failure in a row, r
//     being the reconnection time (the 1 s floor of the growth keeps
//     "retry: 0" from making a busy loop). The spec's mandatory wait r is
//     the floor; the jitter is its optional "wait some more". n resets when
//     a response is accepted. An orderly end of the stream waits r exactly.
//     With the defaults: [3, 6] s, [3, 12] s, [3, 24] s, then [3, 30] s.
//   - HeartbeatTimeout: in streaming mode, when nothing at all (not even a
//     comment byte, nor the response headers) arrives for this long after the
//     request was sent, the request is aborted and retried as a failure,
//     with ErrorInfo.Reason "heartbeat timeout". In ModeAuto the heartbeat
//     starts with the first body byte: before it, silence is the proxy
//     detection's business (below), whatever the two timeouts.
//   - Long-polling (ModeLongPoll, or ModeAuto after a switch): each response
//     is one poll, decoded incrementally like a stream. The page sees a
//     continuously open EventSource: one open event at the first accepted
//     poll; when a poll ends normally the next one starts at once with the
//     last event ID, with no error event and readyState staying OPEN (a poll
//     that brought no event waits until r has passed since it started, so a
//     server that answers empty at once is not hammered). Failures of a poll
//     behave as in streaming mode (error event, CONNECTING, backoff, then
//     open again). A poll that receives nothing for LongPollTimeout is
//     aborted as a failure with reason "poll timeout"; HeartbeatTimeout does
//     not apply, since a long-poll server holds the request silently.
//   - Buffering-proxy detection (ModeAuto): when a streaming request has
//     delivered no body byte BufferingTimeout after it was sent (headers
//     or not, since a proxy that buffers whole responses holds them too),
//     the client assumes a buffering proxy, aborts the request and switches
//     to long-polling for the life of the Client: no error event, readyState
//     unchanged. This relies on the server flushing at once when a stream
//     opens (eventwire's server sends a comment); use ModeStream for servers
//     that do not.
//   - Renewal: a transport whose response grows in memory (XHR responseText)
//     calls Stream.Renew; the Client replaces the request at the next event
//     boundary, invisibly to the page.
//   - An event larger than MaxEventSize fails the connection for good
//     (reason "event too large"): reconnecting would replay the same event
//     forever.
//
// # Concurrency
//
// All inputs (Stream calls, timer fires, Start, Close) go through one
// serializing queue: the caller that finds the Client idle processes its
// input and everything queued meanwhile, in order, before returning; a
// caller that finds it busy (another goroutine, or a Sink call re-entering
// Close) appends and returns at once. No input ever blocks beyond a short
// mutex, so the binding may call in from JS callbacks, and event order is
// kept. Sink and Transport calls are made from the processing caller, never
// under a lock, one at a time.
package eventsource
