package batchsocket

import (
	"errors"

	"github.com/eventwire/eventwire/protocol/batch"
)

// The client's half of the batch protocol (protocol/batch/PROTOCOL.md):
// encoders for HELLO, BATCH headers and ACK, and a lenient parser for what
// the server sends. It is written here, in a few lines, rather than taken
// from protocol/batch, whose decoders bring typed errors, UTF-8 validation
// and iterators that cost several KB of gzipped wasm; wire_test.go checks
// that both agree byte for byte.

// errMalformed reports a frame from the server that breaks the format.
var errMalformed = errors.New("batchsocket: malformed frame from the server")

// frame is a parsed server frame.
type frame struct {
	typ    batch.Type
	seq    uint64 // ACK: the sequence number; PUSH: the first one
	acked  uint64 // PUSH
	msgs   []byte // PUSH: the messages, framed
	n      int    // PUSH: their count
	code   int    // CLOSE
	reason string // CLOSE
}

// parseFrame parses an ACK, PUSH or CLOSE frame.
func parseFrame(p []byte) (f frame, err error) {
	if len(p) < 2 || p[0] != batch.Version {
		return f, errMalformed
	}
	f.typ = batch.Type(p[1])
	r := p[2:]
	switch f.typ {
	case batch.TypeAck:
		var k int
		f.seq, k = uvarint(r)
		if k == len(r) && k > 0 && f.seq <= batch.MaxSeq {
			return f, nil
		}
	case batch.TypePush:
		a, i := uvarint(r)
		first, j := uvarint(r[i:])
		if i > 0 && j > 0 && first > a && first <= batch.MaxSeq {
			f.acked, f.seq, f.msgs = a, first, r[i+j:]
			if f.n, err = scan(f.msgs, -1, batch.DefaultMaxMessage); err == nil {
				return f, nil
			}
		}
	case batch.TypeClose:
		if len(r) >= 2 {
			f.code, f.reason = int(r[0])<<8|int(r[1]), string(r[2:])
			return f, nil
		}
	}
	return f, errMalformed
}

//go:noinline
func appendUvarint(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// appendHello appends a HELLO with the default limits and no flags.
//
//go:noinline
func appendHello(dst []byte, s *[16]byte, acked, received uint64) []byte {
	dst = append(append(dst, batch.Version, byte(batch.TypeHello)), s[:]...)
	return append(appendUvarint(appendUvarint(dst, acked), received), 0, 0, 0, 0)
}

// appendBatch appends the header of a BATCH frame; its messages follow.
//
//go:noinline
func appendBatch(dst []byte, s *[16]byte, acked, first uint64) []byte {
	dst = append(append(dst, batch.Version, byte(batch.TypeBatch)), s[:]...)
	return appendUvarint(appendUvarint(dst, acked), first)
}

//go:noinline
func appendAck(dst []byte, seq uint64) []byte {
	return appendUvarint(append(dst, batch.Version, byte(batch.TypeAck)), seq)
}
