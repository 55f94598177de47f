package batchsocket

import (
	"errors"

	"github.com/eventwire/eventwire/protocol/batch"
)

// The client's half of the batch protocol (protocol/batch/PROTOCOL.md):
// encoders for HELLO, BATCH headers and ACK, and a parser for what the
// server sends. It is written here, in a few lines, on top of
// protocol/batch's uvarint and message header helpers, rather than with its
// frame decoders, which bring typed errors, UTF-8 validation and iterators
// that cost several KB of gzipped wasm; wire_test.go checks that both agree
// byte for byte.

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
		f.seq, k, err = batch.Uvarint(r)
		if err == nil && k == len(r) && f.seq <= batch.MaxSeq {
			return f, nil
		}
	case batch.TypePush:
		a, i, err1 := batch.Uvarint(r)
		if err1 != nil {
			break
		}
		first, j, err2 := batch.Uvarint(r[i:])
		if err2 == nil && first > a && first <= batch.MaxSeq {
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

// appendHello appends a HELLO with the default limits and no flags.
//
//go:noinline
func appendHello(dst []byte, s *[16]byte, acked, received uint64) []byte {
	dst = append(append(dst, batch.Version, byte(batch.TypeHello)), s[:]...)
	return append(batch.AppendUvarint(batch.AppendUvarint(dst, acked), received), 0, 0, 0, 0)
}

// appendBatch appends the header of a BATCH frame; its messages follow.
//
//go:noinline
func appendBatch(dst []byte, s *[16]byte, acked, first uint64) []byte {
	dst = append(append(dst, batch.Version, byte(batch.TypeBatch)), s[:]...)
	return batch.AppendUvarint(batch.AppendUvarint(dst, acked), first)
}

//go:noinline
func appendAck(dst []byte, seq uint64) []byte {
	return batch.AppendUvarint(append(dst, batch.Version, byte(batch.TypeAck)), seq)
}
