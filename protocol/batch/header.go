package batch

// Message headers (PROTOCOL.md §5.6). A message's header is one minimal
// uvarint h:
//
//	h < 128   UTF-8 text of h bytes (the short form: 1 byte)
//	h ≥ 128   v = h − 128: length v >> 1, kind v & 1 (0 text, 1 binary)
//
// Text under 128 bytes MUST use the short form, so that every message has
// exactly one encoding. Header sizes: 1 byte for text under 128 bytes;
// 2 bytes for binary under 8,128 bytes and text of 128 to 8,127 bytes;
// 3 bytes up to about 1 MiB.

// shortText is the length below which a text message has the 1-byte
// header.
const shortText = 128

// headerValue returns the uvarint of the header of a message of n bytes.
func headerValue(n int, binary bool) uint64 {
	if !binary && n < shortText {
		return uint64(n)
	}
	h := shortText + uint64(n)<<1
	if binary {
		h |= 1
	}
	return h
}

// HeaderSize returns the size of the header of a message of n bytes
// (n ≥ 0): 1 byte for text under 128 bytes, 2 for binary under 8,128 bytes
// and text under 8,128 bytes, 3 under about 1 MiB.
func HeaderSize(n int, binary bool) int {
	if !binary && n < shortText {
		return 1
	}
	return uvarintLen(headerValue(n, binary))
}

// MessageSize returns the encoded size of a message of n bytes: n plus
// HeaderSize(n, binary).
func MessageSize(n int, binary bool) int { return HeaderSize(n, binary) + n }

// AppendHeader appends the header of a message of n bytes (n ≥ 0) to dst;
// the n bytes of data follow it.
func AppendHeader(dst []byte, n int, binary bool) []byte {
	if !binary && n < shortText {
		return append(dst, byte(n))
	}
	return appendUvarint(dst, headerValue(n, binary))
}

// ReadHeader decodes the message header at the start of p: the data's
// length n, its kind, and the size of the header. It fails with a
// malformed-frame error (ErrMalformed) when p is empty or ends inside the
// header, when the uvarint is not minimal or overflows, and when text
// under 128 bytes uses the long form. It does not check that n bytes
// follow.
func ReadHeader(p []byte) (n uint64, binary bool, size int, err error) {
	if len(p) > 0 && p[0] < 0x80 {
		return uint64(p[0]), false, 1, nil // short text
	}
	var h uint64
	if len(p) > 1 && p[1]-1 < 0x7f { // 0x01 to 0x7f: a minimal last byte
		h, size = uint64(p[0]&0x7f)|uint64(p[1])<<7, 2
	} else if h, size, err = uvarint(p); err != nil {
		return 0, false, 0, err
	}
	// A minimal uvarint of two bytes or more is at least 128.
	v := h - shortText
	n, binary = v>>1, v&1 == 1
	if !binary && n < shortText {
		return 0, false, 0, errLongText
	}
	return n, binary, size, nil
}

// AppendUvarint appends v to dst as a minimal uvarint (PROTOCOL.md §3):
// 7 bits per byte, least significant group first, the high bit set on every
// byte but the last (LEB128, as encoding/binary.AppendUvarint).
//
// AppendUvarint and Uvarint are never inlined: the WebAssembly client calls
// them from several places, and each inlined copy would add to its size.
//
//go:noinline
func AppendUvarint(dst []byte, v uint64) []byte { return appendUvarint(dst, v) }

// Uvarint decodes the uvarint at the start of p and returns it with its
// size in bytes. It fails with a malformed-frame error (ErrMalformed) when
// p ends inside it, when it is not minimal (a last byte of 0x00 after the
// first), or when it overflows 64 bits.
//
//go:noinline
func Uvarint(p []byte) (v uint64, size int, err error) { return uvarint(p) }
