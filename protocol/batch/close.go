package batch

import (
	"errors"
	"unicode/utf8"
)

// Code is a close code. Codes below 4000 mean what they mean for a
// WebSocket (RFC 6455, section 7.4.1), so a server closes the WebSocket with
// the same code; 4000 and up are eventwire's.
type Code uint16

// Close codes.
const (
	CodeNormal      Code = 1000 // the session is over
	CodeGoingAway   Code = 1001 // server shutting down; page leaving
	CodeProtocol    Code = 1002 // malformed frame, or a frame not allowed here
	CodeUnsupported Code = 1003 // a WebSocket text message, or wrong Content-Type
	CodePolicy      Code = 1008 // origin not allowed, authentication failed
	CodeTooBig      Code = 1009 // a frame exceeds the receiver's Limits
	CodeInternal    Code = 1011 // the receiver failed (for example, the Sink)
	CodeTryAgain    Code = 1013 // overloaded: reconnect after a backoff
	CodeVersion     Code = 4000 // unsupported protocol version
	CodeSuperseded  Code = 4001 // a newer connection took over the session
)

// Valid reports whether c may be sent: 1000 to 4999, except 1004, 1005,
// 1006 and 1015, which a WebSocket close frame must not carry.
func (c Code) Valid() bool {
	switch c {
	case 1004, 1005, 1006, 1015:
		return false
	}
	return c >= 1000 && c <= 4999
}

// HTTPStatus returns the HTTP status of a response whose body is a CLOSE
// frame with code c: 400 for protocol and version errors, 403 for policy,
// 413 for too big, 415 for unsupported data, 503 for try again and going
// away, 500 otherwise.
func (c Code) HTTPStatus() int {
	switch c {
	case CodeProtocol, CodeVersion:
		return 400
	case CodePolicy:
		return 403
	case CodeTooBig:
		return 413
	case CodeUnsupported:
		return 415
	case CodeTryAgain, CodeGoingAway:
		return 503
	}
	return 500
}

// CloseFor returns the Close that answers err: CodeNormal for nil,
// CodeTooBig for ErrLimit, CodeVersion for ErrVersion and CodeProtocol for
// ErrMalformed, each with the error's text as the reason; CodeInternal with
// the reason "internal error" for anything else, so that internal details
// do not leak to clients.
func CloseFor(err error) Close {
	var c Code
	switch {
	case err == nil:
		return Close{Code: CodeNormal}
	case errors.Is(err, ErrLimit):
		c = CodeTooBig
	case errors.Is(err, ErrVersion):
		c = CodeVersion
	case errors.Is(err, ErrMalformed):
		c = CodeProtocol
	default:
		return Close{Code: CodeInternal, Reason: "internal error"}
	}
	return Close{Code: c, Reason: clampReason(err.Error())}
}

// clampReason returns s as valid UTF-8 (invalid bytes become U+FFFD) cut
// at a character boundary to at most MaxReason bytes.
func clampReason(s string) string {
	if len(s) <= MaxReason && utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, MaxReason)
	for _, r := range s { // yields utf8.RuneError for invalid bytes
		if len(b)+utf8.RuneLen(r) > MaxReason {
			break
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}
