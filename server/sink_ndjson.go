package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/eventwire/eventwire/protocol/batch"
)

// NDJSONOptions configures an NDJSONSink. The zero value gives the
// defaults.
type NDJSONOptions struct {
	// Sync makes every Accept call the writer's Sync method (an *os.File's
	// fsync) after writing, so that acknowledged records survive a power
	// failure, not just a crash of the server. Off by default: Accept
	// returns once the records are written to the operating system, which
	// a crash of the process does not lose.
	Sync bool
}

// NDJSONSink is a Sink that writes one JSON object per message, each on a
// line of its own (newline-delimited JSON):
//
//	{"session":"<32 hex digits>","seq":<n>,"type":"text","data":"<the text>"}
//	{"session":"<32 hex digits>","seq":<n>,"type":"binary","data":"<standard base64>"}
//
// Text that is not valid UTF-8 has each invalid byte replaced by U+FFFD,
// as encoding/json does. The records of one Accept call are formatted into
// a buffer and written with a single Write before Accept returns, so an
// acknowledged message is always in the file (see NDJSONOptions.Sync for
// power failures), and records of concurrent calls never interleave. If a
// Write fails part way, the torn line is ended before the next records, so
// that one failure spoils at most one line; the client resends the
// records of the failed call, and readers that must be exact deduplicate
// on (session, seq).
//
// An NDJSONSink is safe for concurrent use.
type NDJSONSink struct {
	opts NDJSONOptions

	mu     sync.Mutex
	w      io.Writer
	file   *os.File // owned: closed by Close
	buf    []byte
	torn   bool // the last Write failed part way through a line
	closed bool
}

// ErrSinkClosed is returned by Accept after Close.
var ErrSinkClosed = errors.New("eventwire/server: sink closed")

// NewNDJSONSink returns a sink that writes to w. Close does not close w.
func NewNDJSONSink(w io.Writer, opts NDJSONOptions) *NDJSONSink {
	return &NDJSONSink{opts: opts, w: w}
}

// OpenNDJSONFile returns a sink that appends to the file at path, created
// with mode 0644 if it does not exist. Close closes the file.
func OpenNDJSONFile(path string, opts NDJSONOptions) (*NDJSONSink, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("failed to open sink file: %w", err)
	}
	s := NewNDJSONSink(f, opts)
	s.file = f
	return s, nil
}

// maxKeptSinkBuffer is the largest formatting buffer an NDJSONSink keeps
// between calls; a larger one, grown for a big batch, is dropped.
const maxKeptSinkBuffer = 256 << 10

// Accept writes one record per message; see NDJSONSink.
func (s *NDJSONSink) Accept(ctx context.Context, session batch.SessionID, firstSeq uint64, msgs []batch.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrSinkClosed
	}
	buf := s.buf[:0]
	if s.torn {
		buf = append(buf, '\n')
	}
	var sess [2 * batch.SessionSize]byte
	hexSession(sess[:], session)
	for i, m := range msgs {
		buf = appendNDJSONRecord(buf, sess[:], firstSeq+uint64(i), m)
	}
	n, err := s.w.Write(buf)
	if err == nil && n < len(buf) {
		err = io.ErrShortWrite
	}
	if err == nil && s.opts.Sync {
		if f, ok := s.w.(interface{ Sync() error }); ok {
			err = f.Sync()
		}
	}
	if n > 0 && n < len(buf) {
		s.torn = buf[n-1] != '\n'
	} else if n == len(buf) {
		s.torn = false
	}
	if cap(buf) <= maxKeptSinkBuffer {
		s.buf = buf[:0]
	} else {
		s.buf = nil
	}
	if err != nil {
		return fmt.Errorf("failed to write records: %w", err)
	}
	return nil
}

// Close stops the sink: later Accept calls fail with ErrSinkClosed. It
// syncs and closes the file of OpenNDJSONFile; the writer given to
// NewNDJSONSink is left open. Records are never held back in memory, so
// there is nothing to flush.
func (s *NDJSONSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.file == nil {
		return nil
	}
	err := s.file.Sync()
	if cerr := s.file.Close(); err == nil {
		err = cerr
	}
	return err
}

// appendNDJSONRecord appends the NDJSON record of one message (see
// NDJSONSink), with its newline, to dst. session is the session id as 32
// lowercase hex digits.
func appendNDJSONRecord(dst, session []byte, seq uint64, m batch.Message) []byte {
	dst = append(dst, `{"session":"`...)
	dst = append(dst, session...)
	dst = append(dst, `","seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	if m.Binary {
		dst = append(dst, `,"type":"binary","data":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, m.Data)
		return append(dst, "\"}\n"...)
	}
	dst = append(dst, `,"type":"text","data":`...)
	dst = appendJSONString(dst, m.Data)
	return append(dst, "}\n"...)
}

// hexSession writes s as 32 lowercase hex digits to dst.
func hexSession(dst []byte, s batch.SessionID) {
	const digits = "0123456789abcdef"
	for i, c := range s {
		dst[2*i], dst[2*i+1] = digits[c>>4], digits[c&15]
	}
}

// appendJSONString appends s as a JSON string the way encoding/json
// encodes a Go string without HTML escaping: quotes, backslashes and
// control characters escaped, each invalid UTF-8 byte replaced by U+FFFD,
// U+2028 and U+2029 escaped for JavaScript.
func appendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&15])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
