package eventsource

import "time"

// ReadyState is the EventSource readyState.
type ReadyState int32

// The readyState values, as in the EventSource interface.
const (
	Connecting ReadyState = 0
	Open       ReadyState = 1
	Closed     ReadyState = 2
)

func (s ReadyState) String() string {
	switch s {
	case Connecting:
		return "CONNECTING"
	case Open:
		return "OPEN"
	case Closed:
		return "CLOSED"
	}
	return "ReadyState(?)"
}

// Reason says why an error event fired. It is the reason string of the
// error event the page sees.
type Reason string

// The reasons of error events.
const (
	// ReasonNetwork: the transport reported a network error (Err says which);
	// the Client reconnects with backoff.
	ReasonNetwork Reason = "network error"
	// ReasonEndOfStream: the response ended normally; the Client reconnects
	// after the reconnection time (the spec's reestablish).
	ReasonEndOfStream Reason = "end of stream"
	// ReasonHeartbeat: nothing arrived for Options.HeartbeatTimeout.
	ReasonHeartbeat Reason = "heartbeat timeout"
	// ReasonPollTimeout: a poll received nothing for Options.LongPollTimeout.
	ReasonPollTimeout Reason = "poll timeout"
	// ReasonHeaders: Options.HeaderFunc returned an error (Err).
	ReasonHeaders Reason = "headers callback failed"
	// ReasonStatus: the response status was not 200; fails for good.
	ReasonStatus Reason = "bad status"
	// ReasonContentType: the response was not text/event-stream; fails for
	// good.
	ReasonContentType Reason = "bad content type"
	// ReasonScheme: the URL is not http or https; fails for good.
	ReasonScheme Reason = "unsupported URL scheme"
	// ReasonEventTooLarge: a line or an event exceeded
	// Options.MaxEventSize; fails for good.
	ReasonEventTooLarge Reason = "event too large"
)

// OpenInfo describes an announced connection.
type OpenInfo struct {
	URL      string    // final URL after redirects
	Origin   string    // its origin, serialized ("https://example.com:8443")
	Response *Response // the accepted response
}

// ErrorInfo describes an error event.
type ErrorInfo struct {
	// State is the readyState the page must see with the event: Connecting
	// (a new request follows after Delay) or Closed (for good).
	State  ReadyState
	Reason Reason
	// Err is the underlying error, if any (network error, headers callback,
	// *sse.EventTooLargeError).
	Err error
	// Response is the HTTP response that caused the error (bad status or
	// content type), else nil. Error events expose its Status and headers.
	Response *Response
	// Delay is the wait before the next request when State is Connecting.
	Delay time.Duration
}

// Sink receives what the page must see. The Client calls it from one
// goroutine at a time, never under a lock, and never concurrently with
// itself. A Sink method may call Client.Close (it takes effect after the
// call returns; the Sink must stop dispatching the rest of a batch itself
// once the page has called close()).
type Sink interface {
	// Open: set readyState to OPEN, then fire "open".
	Open(info *OpenInfo)
	// Events: dispatch each event in order as a MessageEvent with the given
	// origin, stopping if readyState has become CLOSED. It is called once
	// per network chunk with every event decoded from it (never with none).
	// The Batch, and the chunk it views, are reused after the call returns;
	// origin is the same string value for every call of one response, so a
	// binding may compare it with == to reuse its JS string.
	Events(origin string, events *Batch)
	// Error: set readyState to info.State, then fire "error".
	Error(info *ErrorInfo)
}
