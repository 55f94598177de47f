package sse

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Errors returned by the encoder for fields that would break the stream.
var (
	// ErrInvalidID is returned for an ID that contains CR, LF or NUL.
	ErrInvalidID = errors.New("sse: event id contains CR, LF or NUL")
	// ErrInvalidType is returned for a type that contains CR, LF or NUL.
	ErrInvalidType = errors.New("sse: event type contains CR, LF or NUL")
)

// AppendEvent appends e in event-stream form to dst: an id field when ID is
// set, an event field when Type is set, a retry field when Retry is positive,
// one data field per line of Data (split on CR, LF and CRLF; at least one,
// so an empty Data still dispatches an event), and the blank line that
// dispatches the event. It returns dst unchanged and ErrInvalidID or
// ErrInvalidType when ID or Type contain CR, LF or NUL.
//
// An empty ID writes no id field, so clients keep the previous last event
// ID. Text should be valid UTF-8: clients decode invalid bytes as U+FFFD.
// Decoding the result gives e back, except that Type "" reads as "message",
// CR and CRLF in Data read as LF, and Retry is in whole milliseconds.
func AppendEvent(dst []byte, e Event) ([]byte, error) {
	if strings.ContainsAny(e.ID, "\r\n\x00") {
		return dst, ErrInvalidID
	}
	if strings.ContainsAny(e.Type, "\r\n\x00") {
		return dst, ErrInvalidType
	}
	if e.ID != "" {
		dst = appendField(dst, "id", e.ID)
	}
	if e.Type != "" {
		dst = appendField(dst, "event", e.Type)
	}
	if e.Retry > 0 {
		dst = AppendRetry(dst, e.Retry)
	}
	dst = appendLines(dst, "data", e.Data)
	return append(dst, '\n'), nil
}

// AppendComment appends text as comment lines (one per line of text, split
// on CR, LF and CRLF). Comments are ignored by clients; servers send them as
// heartbeats that keep proxies and idle timers from closing the stream.
func AppendComment(dst []byte, text string) []byte {
	return appendLines(dst, "", text)
}

// AppendRetry appends a retry field that sets the client's reconnection
// time to d, rounded down to whole milliseconds (negative counts as zero).
func AppendRetry(dst []byte, d time.Duration) []byte {
	dst = append(dst, "retry:"...)
	dst = strconv.AppendInt(dst, max(d.Milliseconds(), 0), 10)
	return append(dst, '\n')
}

// appendLines writes one "name: line" per line of value, splitting on CR,
// LF and CRLF. A value with no line break still yields one field.
func appendLines(dst []byte, name, value string) []byte {
	hasCR := strings.IndexByte(value, '\r') >= 0
	for {
		var i int
		if hasCR {
			i = strings.IndexAny(value, "\r\n")
		} else {
			i = strings.IndexByte(value, '\n') // the common case, vectorized
		}
		if i < 0 {
			return appendField(dst, name, value)
		}
		dst = appendField(dst, name, value[:i])
		if value[i] == '\r' && i+1 < len(value) && value[i+1] == '\n' {
			i++
		}
		value = value[i+1:]
	}
}

// appendField writes "name: value\n". The space after the colon is always
// written so that a value starting with a space survives the decoder's
// removal of one leading space.
func appendField(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':', ' ')
	dst = append(dst, value...)
	return append(dst, '\n')
}
