// Package sse implements the text/event-stream format of WHATWG HTML,
// section "Server-sent events": an incremental decoder that follows the
// parsing and interpretation rules exactly, and an encoder for servers.
//
// Clients feed network chunks to a Decoder (or read an io.Reader with a
// Reader); servers write with AppendEvent, AppendComment and AppendRetry.
// The same code runs in the browser (compiled to WebAssembly) and on the
// server, so both sides agree on every byte. The package has no
// dependencies beyond the standard library and does not use fmt.
package sse

import "time"

// Event is one server-sent event.
type Event struct {
	// Type is the event type. Empty means "message" when encoding; the
	// decoder always reports the dispatched type ("message" by default).
	Type string
	// Data is the payload. Lines are joined with "\n".
	Data string
	// ID is the event ID. The encoder writes an id field when ID is not
	// empty. The decoder reports the last event ID in force when the event
	// was dispatched (the spec's lastEventId), which may come from an
	// earlier block.
	ID string
	// Retry is the reconnection time. The encoder writes a retry field when
	// Retry is positive (in whole milliseconds). The decoder reports the
	// value of a valid retry field seen in this event's block, or zero.
	Retry time.Duration
}
