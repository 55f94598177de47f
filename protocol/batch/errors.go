package batch

import (
	"errors"
	"strconv"
)

// Error classes, for errors.Is. Each maps to a close code (see CloseFor).
var (
	// ErrMalformed matches every error about a frame that breaks the
	// format: truncated, trailing bytes, unknown or unexpected type,
	// non-minimal varint or message header, zero session, sequence number
	// out of range, invalid close code or reason. Close code 1002.
	ErrMalformed = errors.New("batch: malformed frame")
	// ErrVersion matches *VersionError. Close code 4000.
	ErrVersion = errors.New("batch: unsupported version")
	// ErrLimit matches *LimitError. Close code 1009.
	ErrLimit = errors.New("batch: limit exceeded")
)

// LimitError reports a frame that exceeds one of the decoder's Limits.
type LimitError struct {
	// What names the limit: "frame size", "message count" or
	// "message size".
	What string
	// Limit is the limit in force; Got is what the frame has or declares.
	// Got is a lower bound for the message count, as the decoder stops
	// counting at the first message over the limit.
	Limit, Got uint64
}

func (e *LimitError) Error() string {
	b := append([]byte("batch: "), e.What...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, e.Got, 10)
	b = append(b, " exceeds limit "...)
	b = strconv.AppendUint(b, e.Limit, 10)
	return string(b)
}

// Is makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// VersionError reports a frame of a protocol version this package does not
// speak.
type VersionError struct {
	// Got is the frame's version byte.
	Got byte
}

func (e *VersionError) Error() string {
	b := strconv.AppendUint([]byte("batch: unsupported version "), uint64(e.Got), 10)
	b = append(b, " (supported: "...)
	b = strconv.AppendInt(b, Version, 10)
	return string(append(b, ')'))
}

// Is makes errors.Is(err, ErrVersion) true.
func (e *VersionError) Is(target error) bool { return target == ErrVersion }

// malformedError details ErrMalformed without allocating.
type malformedError string

func (e malformedError) Error() string        { return "batch: malformed frame: " + string(e) }
func (e malformedError) Is(target error) bool { return target == ErrMalformed }

const (
	errTruncated   malformedError = "truncated"
	errTrailing    malformedError = "trailing bytes"
	errUnknownType malformedError = "unknown frame type"
	errWrongType   malformedError = "unexpected frame type"
	errVarint      malformedError = "varint overflows 64 bits"
	errNonMinimal  malformedError = "non-minimal varint"
	errLongText    malformedError = "text under 128 bytes with a long message header"
	errZeroSession malformedError = "zero session id"
	errSeqRange    malformedError = "sequence number out of range"
	errAckedRange  malformedError = "acked sequence number not below the first"
	errLimitRange  malformedError = "limit out of range"
	errCloseCode   malformedError = "invalid close code"
	errReasonSize  malformedError = "close reason longer than 123 bytes"
	errReasonUTF8  malformedError = "close reason is not UTF-8"
)
