package server

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/eventwire/eventwire/protocol/batch"
)

// Sink receives the messages an IngestHandler accepts: each client message
// once, in the order of its session's sequence numbers.
//
// Accept stores msgs, the messages of session numbered firstSeq,
// firstSeq+1, … in order; msgs is never empty. The handler acknowledges
// them to the client only after Accept returns nil, so a Sink that returns
// only once its records are durable (as durable as it needs: written to the
// operating system, synced to disk, committed to a database) never loses a
// message that a client was told is safe: a crash between Accept and the
// acknowledgement only makes the client resend what is then dropped as a
// duplicate.
//
// An error means that none of msgs was accepted: the handler does not
// acknowledge them, closes the WebSocket with code 1011 (1013 when the
// error matches ErrSinkOverloaded), or answers HTTP 500 (503), and the
// client resends them later from its last acknowledgement. A Sink that
// fails after storing part of msgs will see that part again; make Accept
// all or nothing, or deduplicate on (session, seq), which every message
// carries, if that matters.
//
// Aliasing: msgs and each msgs[i].Data alias the received frame and are
// valid only during the call. Copy what must outlive it.
//
// Calls for one session never overlap (the handler holds the session's
// lock), but calls for different sessions run concurrently, so a Sink must
// be safe for concurrent use. Over a WebSocket, ctx is cancelled when the
// connection ends (the client resends what was not acknowledged); over
// HTTP it carries the request's values but is not cancelled when the
// client goes away, so that a closing page's final flush is stored even
// though nobody waits for its ACK.
type Sink interface {
	Accept(ctx context.Context, session batch.SessionID, firstSeq uint64, msgs []batch.Message) error
}

// SinkFunc adapts a function to the Sink interface.
type SinkFunc func(ctx context.Context, session batch.SessionID, firstSeq uint64, msgs []batch.Message) error

// Accept calls f.
func (f SinkFunc) Accept(ctx context.Context, session batch.SessionID, firstSeq uint64, msgs []batch.Message) error {
	return f(ctx, session, firstSeq, msgs)
}

// ErrSinkOverloaded is the error (or the target of a wrapped error) a Sink
// returns to ask clients to come back later: the WebSocket is closed with
// 1013 (try again later) and HTTP answers 503, instead of 1011 and 500.
var ErrSinkOverloaded = errors.New("eventwire/server: sink overloaded")

// Discard is a Sink that accepts everything and keeps nothing.
var Discard Sink = discard{}

type discard struct{}

func (discard) Accept(context.Context, batch.SessionID, uint64, []batch.Message) error { return nil }

// OpenSink returns the Sink named by spec, as the eventwire-server flag
// -ingest-sink takes it:
//
//	stdout       NDJSON records on standard output (NewNDJSONSink)
//	stderr       NDJSON records on standard error
//	file:PATH    NDJSON records appended to the file PATH, created if needed
//	none         Discard
//
// opts configures the NDJSON sinks, which implement io.Closer: close them
// after the server has shut down (Close leaves the standard streams open).
func OpenSink(spec string, opts NDJSONOptions) (Sink, error) {
	switch {
	case spec == "none":
		return Discard, nil
	case spec == "stdout":
		return NewNDJSONSink(os.Stdout, opts), nil
	case spec == "stderr":
		return NewNDJSONSink(os.Stderr, opts), nil
	case strings.HasPrefix(spec, "file:") && len(spec) > len("file:"):
		return OpenNDJSONFile(strings.TrimPrefix(spec, "file:"), opts)
	}
	return nil, errors.New(`eventwire/server: unknown sink "` + spec + `" (want stdout, stderr, file:PATH or none)`)
}
