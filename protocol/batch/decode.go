package batch

import "unicode/utf8"

// Peek returns the type of frame p after checking its version. It fails
// with a *VersionError when the version is not Version, and with
// ErrMalformed when p is shorter than 2 bytes or the type is unknown.
func Peek(p []byte) (Type, error) {
	if len(p) == 0 {
		return 0, errTruncated
	}
	if p[0] != Version {
		return 0, &VersionError{Got: p[0]}
	}
	if len(p) < 2 {
		return 0, errTruncated
	}
	switch t := Type(p[1]); t {
	case TypeHello, TypeBatch, TypeAck, TypePush, TypeClose:
		return t, nil
	}
	return 0, errUnknownType
}

// DecodeHello decodes a HELLO frame.
func DecodeHello(p []byte) (Hello, error) {
	var h Hello
	r, err := body(p, TypeHello)
	if err == nil {
		h.Session, r, err = readSession(r)
	}
	if err == nil {
		h.Acked, r, err = readSeq(r, 0)
	}
	if err == nil {
		h.Received, r, err = readSeq(r, 0)
	}
	if err == nil {
		h.Limits.MaxFrame, r, err = readLimit(r)
	}
	if err == nil {
		h.Limits.MaxMessages, r, err = readLimit(r)
	}
	if err == nil {
		h.Limits.MaxMessage, r, err = readLimit(r)
	}
	if err == nil {
		h.Flags, r, err = readUvarint(r)
	}
	if err == nil && len(r) > 0 {
		err = errTrailing
	}
	if err != nil {
		return Hello{}, err
	}
	return h, nil
}

// DecodeBatch decodes a BATCH frame within lim (zero fields: defaults),
// validating every message without copying or allocating. The result
// aliases p (see the package documentation).
func DecodeBatch(p []byte, lim Limits) (Batch, error) {
	var b Batch
	lim = lim.Normalize()
	r, err := sized(p, TypeBatch, lim)
	if err == nil {
		b.Session, r, err = readSession(r)
	}
	if err == nil {
		b.Acked, b.FirstSeq, b.Messages, err = readMessages(r, lim)
	}
	if err != nil {
		return Batch{}, err
	}
	return b, nil
}

// DecodePush decodes a PUSH frame within lim, like DecodeBatch. The result
// aliases p.
func DecodePush(p []byte, lim Limits) (Push, error) {
	var m Push
	lim = lim.Normalize()
	r, err := sized(p, TypePush, lim)
	if err == nil {
		m.Acked, m.FirstSeq, m.Messages, err = readMessages(r, lim)
	}
	if err != nil {
		return Push{}, err
	}
	return m, nil
}

// DecodeAck decodes an ACK frame.
func DecodeAck(p []byte) (Ack, error) {
	r, err := body(p, TypeAck)
	if err != nil {
		return Ack{}, err
	}
	seq, r, err := readSeq(r, 0)
	if err == nil && len(r) > 0 {
		err = errTrailing
	}
	if err != nil {
		return Ack{}, err
	}
	return Ack{Seq: seq}, nil
}

// DecodeClose decodes a CLOSE frame. The reason is copied.
func DecodeClose(p []byte) (Close, error) {
	r, err := body(p, TypeClose)
	if err != nil {
		return Close{}, err
	}
	if len(r) < 2 {
		return Close{}, errTruncated
	}
	c := Code(r[0])<<8 | Code(r[1])
	switch r = r[2:]; {
	case !c.Valid():
		return Close{}, errCloseCode
	case len(r) > MaxReason:
		return Close{}, errReasonSize
	case !utf8.Valid(r):
		return Close{}, errReasonUTF8
	}
	return Close{Code: c, Reason: string(r)}, nil
}

// body checks the version and type of p and returns what follows them.
func body(p []byte, want Type) ([]byte, error) {
	t, err := Peek(p)
	if err != nil {
		return nil, err
	}
	if t != want {
		return nil, errWrongType
	}
	return p[2:], nil
}

// sized is body followed by the frame size limit. The version comes
// first, so that a frame of another version always gets CodeVersion.
func sized(p []byte, want Type, lim Limits) ([]byte, error) {
	r, err := body(p, want)
	if err == nil && len(p) > lim.MaxFrame {
		return nil, &LimitError{What: "frame size", Limit: uint64(lim.MaxFrame), Got: uint64(len(p))}
	}
	return r, err
}

// readMessages reads the acked and first sequence numbers that start r and
// validates the messages that fill the rest against lim. Every declared
// length is checked against lim and against the bytes that remain before
// it is used, so nothing is ever allocated.
func readMessages(r []byte, lim Limits) (acked, first uint64, m Messages, err error) {
	if acked, r, err = readSeq(r, 0); err != nil {
		return
	}
	if first, r, err = readSeq(r, 1); err != nil {
		return
	}
	if acked >= first {
		return 0, 0, Messages{}, errAckedRange
	}
	n := 0
	for p := r; len(p) > 0; n++ {
		size, _, i, err := ReadHeader(p)
		if err != nil {
			return 0, 0, Messages{}, err
		}
		if n == lim.MaxMessages {
			return 0, 0, Messages{}, &LimitError{What: "message count", Limit: uint64(lim.MaxMessages), Got: uint64(n) + 1}
		}
		if size > uint64(lim.MaxMessage) {
			return 0, 0, Messages{}, &LimitError{What: "message size", Limit: uint64(lim.MaxMessage), Got: size}
		}
		if size > uint64(len(p)-i) {
			return 0, 0, Messages{}, errTruncated
		}
		p = p[i+int(size):]
	}
	if n > 0 && uint64(n-1) > MaxSeq-first {
		return 0, 0, Messages{}, errSeqRange
	}
	return acked, first, Messages{data: r, n: n}, nil
}

func readSession(r []byte) (SessionID, []byte, error) {
	var s SessionID
	if len(r) < SessionSize {
		return s, nil, errTruncated
	}
	copy(s[:], r)
	if s.IsZero() {
		return s, nil, errZeroSession
	}
	return s, r[SessionSize:], nil
}

// readSeq reads a sequence number in lo..MaxSeq.
func readSeq(r []byte, lo uint64) (uint64, []byte, error) {
	v, r, err := readUvarint(r)
	if err == nil && (v < lo || v > MaxSeq) {
		err = errSeqRange
	}
	return v, r, err
}

// readLimit reads a Limits field, at most 2³¹−1.
func readLimit(r []byte) (int, []byte, error) {
	v, r, err := readUvarint(r)
	if err == nil && v > maxLimit {
		err = errLimitRange
	}
	return int(v), r, err
}

func readUvarint(r []byte) (uint64, []byte, error) {
	v, n, err := uvarint(r)
	if err != nil {
		return 0, nil, err
	}
	return v, r[n:], nil
}

// uvarint decodes a minimal LEB128 varint from the start of p and returns
// it with its length. Unlike encoding/binary.Uvarint it rejects non-minimal
// encodings (a last byte of 0x00 after the first), so that every value has
// exactly one encoding and frames round-trip byte for byte.
func uvarint(p []byte) (uint64, int, error) {
	var v uint64
	for i, b := range p {
		if i == 9 && b > 1 { // the 10th byte may only hold bit 63
			return 0, 0, errVarint
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			if b == 0 && i > 0 {
				return 0, 0, errNonMinimal
			}
			return v, i + 1, nil
		}
	}
	return 0, 0, errTruncated
}
