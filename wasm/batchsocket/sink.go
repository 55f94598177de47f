package batchsocket

import "time"

// State is the readyState of a BatchSocket, with the WebSocket's values.
type State uint8

// The readyState values.
const (
	Connecting State = 0 // before the first open, and while reconnecting
	Open       State = 1 // a transport is connected
	Closing    State = 2 // unused by the core; the JS shell's close() in progress
	Closed     State = 3 // closed for good
)

// Kind names a transport in events and Stats.
type Kind uint8

// The transports.
const (
	KindNone      Kind = 0
	KindWebSocket Kind = 1
	KindHTTP      Kind = 2
)

// String returns "websocket", "http" or "".
func (k Kind) String() string {
	switch k {
	case KindWebSocket:
		return "websocket"
	case KindHTTP:
		return "http"
	}
	return ""
}

// Reason says why an error event fired.
type Reason string

// The reasons of error events.
const (
	ReasonConnect  Reason = "connect failed"    // a WebSocket did not open, or a POST failed
	ReasonProtocol Reason = "protocol error"    // the server sent something invalid
	ReasonRejected Reason = "rejected"          // the server closed with an error code
	ReasonTooBig   Reason = "message too big"   // a message never fits the server's limits; dropped
	ReasonTimeout  Reason = "heartbeat timeout" // nothing arrived for three heartbeat intervals
	ReasonStore    Reason = "persistence failed"
	ReasonSession  Reason = "invalid session"
)

// CloseInfo describes a close event: a connection that was open ended, or
// the Socket closed for good.
type CloseInfo struct {
	_        [0]func() // not comparable: no equality code in the wasm
	Code     int
	Reason   string
	WasClean bool
	// Final is true when the Socket is closed for good; otherwise a
	// reconnection follows after Delay (or when the browser is online
	// again).
	Final bool
	Delay time.Duration
}

// ErrorInfo describes an error event.
type ErrorInfo struct {
	_      [0]func()
	Reason Reason
	// Code is the close code or HTTP status involved, 0 if none.
	Code int
	// Err is the underlying error, if any.
	Err error
	// Final is true when the Socket has closed for good because of it.
	Final bool
}

// Stats are the Socket's counters. Message counts are of messages held by
// the Socket (the JS shell adds the ones it has not handed over yet).
type Stats struct {
	_          [0]func()
	State      State
	Transport  Kind   // the current transport, KindNone while disconnected
	Queued     int    // messages not yet written on the current connection
	InFlight   int    // messages written, not yet acknowledged
	HeldBytes  int    // encoded bytes of the messages held (queued + in flight)
	Acked      uint64 // messages acknowledged by the server
	Batches    uint64 // BATCH frames sent with at least one message
	Bytes      uint64 // bytes of all frames sent
	Reconnects uint64 // connections opened after the first
	Dropped    uint64 // messages given up: drop-oldest, or too big for the server
	LastSeq    uint64 // sequence number of the last message pushed
	AckedSeq   uint64 // every message up to it is acknowledged or dropped
}

// Sink receives what the page must see. The Socket calls it from one
// goroutine at a time, never under a lock, and never concurrently with
// itself. A Sink method may call the Socket's methods.
type Sink interface {
	// Open: a transport connected (readyState OPEN), "open".
	Open(k Kind)
	// Close: "close"; readyState CONNECTING, or CLOSED when info.Final.
	Close(info *CloseInfo)
	// Error: "error".
	Error(info *ErrorInfo)
	// Messages: server messages, in order, each once: n messages framed as
	// in a PUSH frame (PROTOCOL.md §5.6). p is only valid during the call.
	Messages(p []byte, n int)
	// Stats: the counters changed (called at most once per batch of inputs).
	Stats(st *Stats)
}
