package sse

import (
	"io"
	"time"
)

// DefaultReadBufferSize is the read buffer size of NewReader: 4 KiB.
const DefaultReadBufferSize = 4 << 10

// Reader reads events from an event stream, such as an HTTP response body.
// It is meant for Go clients, tests and load generators: its memory is its
// read buffer (fixed), the Decoder's buffers (bounded by MaxEventSize) and
// the events of the last read not yet returned by Next.
type Reader struct {
	r    io.Reader
	d    Decoder
	buf  []byte
	q    []Event // decoded events not yet returned
	qi   int     // next event of q to return
	err  error   // returned once q is drained
	emit func(Event)
}

// NewReader returns a Reader that decodes r with a DefaultReadBufferSize
// read buffer.
func NewReader(r io.Reader, opts DecoderOptions) *Reader {
	return NewReaderSize(r, DefaultReadBufferSize, opts)
}

// NewReaderSize returns a Reader whose read buffer has the given size (at
// least 16 bytes). A smaller buffer saves memory when holding many idle
// streams, at the cost of more Read calls on busy ones.
func NewReaderSize(r io.Reader, size int, opts DecoderOptions) *Reader {
	rd := &Reader{r: r, d: Decoder{max: opts.MaxEventSize}, buf: make([]byte, max(size, 16))}
	rd.emit = func(e Event) { rd.q = append(rd.q, e) }
	return rd
}

// Next returns the next event. At the end of the stream it returns io.EOF,
// discarding an unfinished event; a stream that breaks gives the read error,
// and a line or event over MaxEventSize an *EventTooLargeError. Events
// decoded before an error are returned first. After an error, Next keeps
// returning it until Reset.
func (r *Reader) Next() (Event, error) {
	for empty := 0; ; {
		if r.qi < len(r.q) {
			e := r.q[r.qi]
			r.q[r.qi] = Event{} // do not pin the strings
			r.qi++
			return e, nil
		}
		r.q, r.qi = r.q[:0], 0
		if r.err != nil {
			return Event{}, r.err
		}
		n, err := r.r.Read(r.buf)
		if n > 0 {
			empty = 0
			if ferr := r.d.Feed(r.buf[:n], r.emit); ferr != nil {
				r.err = ferr
				continue
			}
		}
		switch {
		case err == io.EOF:
			r.d.End()
			r.err = err
		case err != nil:
			r.err = err
		case n == 0:
			if empty++; empty >= 100 {
				r.err = io.ErrNoProgress
			}
		}
	}
}

// Reset makes r read a new stream from src, as after a reconnection: the
// decoder state is ended (End) but LastEventID and Retry are kept, and any
// error or undelivered event is dropped.
func (r *Reader) Reset(src io.Reader) {
	clear(r.q)
	r.q, r.qi = r.q[:0], 0
	r.r, r.err = src, nil
	r.d.End()
}

// LastEventID returns the last event ID of the stream (Decoder.LastEventID),
// to send as Last-Event-ID when reconnecting.
func (r *Reader) LastEventID() string { return r.d.LastEventID() }

// Retry returns the reconnection time the stream asked for, or 0 when it
// sent no valid retry field (Decoder.Retry).
func (r *Reader) Retry() time.Duration { return r.d.Retry() }
