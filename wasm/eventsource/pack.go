package eventsource

import "github.com/eventwire/eventwire/protocol/sse"

// Same marks, in a packed length field, a Type or ID equal to the previous
// event's in the same batch; its text is then not repeated.
const Same = 0xFFFFFFFF

// AppendPacked appends a batch of events to dst in the layout the JS shell
// decodes with one copy into a Uint8Array and one TextDecoder call, which is
// far cheaper than creating three JS strings per event from Go (GUIDE §3):
//
//	u32 n                          number of events
//	n × (u32 type, u32 data, u32 id) lengths in UTF-16 code units, or Same
//	text                           UTF-8: per event type, data, id
//	                               (type and id left out when Same)
//
// All integers are little-endian; the text starts at byte 4+12n, so the
// header can be read with a Uint32Array over a 4-aligned buffer. Lengths
// count UTF-16 code units (what String.prototype.slice counts), so the JS
// side decodes the text once and slices it:
//
//	const text = decoder.decode(u8.subarray(4 + 12 * n, end));
//	let at = 0, type, id;
//	for (let i = 0; i < n; i++) {
//	  const [tl, dl, il] = header.subarray(1 + 3 * i, 4 + 3 * i);
//	  if (tl !== SAME) type = text.slice(at, (at += tl));
//	  const data = text.slice(at, (at += dl));
//	  if (il !== SAME) id = text.slice(at, (at += il));
//	  ...
//	}
//
// The events must hold valid UTF-8, as protocol/sse's decoder guarantees
// (it replaces ill-formed input as TextDecoder does).
func AppendPacked(dst []byte, events []sse.Event) []byte {
	head := len(dst)
	size := 4 + 12*len(events)
	for i := range events {
		size += len(events[i].Data) + len(events[i].Type) + len(events[i].ID)
	}
	dst = grow(dst, size)
	dst = dst[:head+4+12*len(events)]
	putU32(dst[head:], uint32(len(events)))
	h := dst[head+4:]
	for i := range events {
		e := &events[i]
		tl, il := uint32(Same), uint32(Same)
		if i == 0 || e.Type != events[i-1].Type {
			tl = uint32(utf16Len(e.Type))
			dst = append(dst, e.Type...)
		}
		dst = append(dst, e.Data...)
		if i == 0 || e.ID != events[i-1].ID {
			il = uint32(utf16Len(e.ID))
			dst = append(dst, e.ID...)
		}
		putU32(h[12*i:], tl)
		putU32(h[12*i+4:], uint32(utf16Len(e.Data)))
		putU32(h[12*i+8:], il)
	}
	return dst
}

// grow makes room for n more bytes.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		return nb
	}
	return b
}

// utf16Len returns the length of valid UTF-8 s in UTF-16 code units: one
// per rune, two for runes outside the BMP (4-byte sequences).
func utf16Len(s string) int {
	n := len(s)
	for len(s) >= 8 {
		// One 8-byte load (the compiler combines these on amd64 and wasm).
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		if w&0x8080808080808080 != 0 {
			for i := range 8 {
				n += utf16Delta(s[i])
			}
		}
		s = s[8:]
	}
	for i := range len(s) {
		n += utf16Delta(s[i])
	}
	return n
}

// utf16Delta is what byte b adds to len(s) to count UTF-16 code units: -1
// for a continuation byte, +1 for the lead of a 4-byte sequence.
func utf16Delta(b byte) int {
	switch {
	case b < 0x80:
		return 0
	case b < 0xC0:
		return -1
	case b >= 0xF0:
		return 1
	}
	return 0
}

// putU32 writes v little-endian (encoding/binary would bring reflect).
func putU32(b []byte, v uint32) {
	_ = b[3]
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
