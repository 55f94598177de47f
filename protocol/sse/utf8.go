package sse

import "unicode/utf8"

// AppendUTF8 appends src to dst decoded as the WHATWG Encoding Standard's
// UTF-8 decoder does (as TextDecoder does): valid text is copied as is and
// each maximal subpart of an ill-formed sequence becomes one U+FFFD. This
// differs from ranging over a Go string, which replaces every bad byte: for
// example "\xF0\x9F\x98" (a truncated emoji) is one U+FFFD here, three there.
//
// src is decoded as a whole: a sequence cut at its end is ill-formed. The
// decoder cuts its input at ASCII bytes, which always end any sequence
// before them.
func AppendUTF8(dst, src []byte) []byte {
	if utf8.Valid(src) {
		return append(dst, src...)
	}
	return appendReplacing(dst, src)
}

// appendReplacing is AppendUTF8 for src known to be ill-formed.
func appendReplacing(dst, src []byte) []byte {
	for len(src) > 0 {
		i := 0
		for i < len(src) {
			if src[i] < utf8.RuneSelf {
				i++
				continue
			}
			r, n := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		dst = append(dst, src[:i]...)
		if i == len(src) {
			break
		}
		dst = append(dst, "\uFFFD"...)
		src = src[i+invalidLen(src[i:]):]
	}
	return dst
}

// invalidLen returns the length of the maximal subpart of the ill-formed
// sequence at the start of p: the longest prefix that starts a well-formed
// sequence (Unicode 3.9, table 3-7), or 1.
func invalidLen(p []byte) int {
	lo, hi := byte(0x80), byte(0xBF) // range of the second byte
	need := 0                        // continuation bytes the lead byte needs
	switch b := p[0]; {
	case b >= 0xC2 && b <= 0xDF:
		need = 1
	case b == 0xE0:
		need, lo = 2, 0xA0
	case b == 0xED:
		need, hi = 2, 0x9F
	case b >= 0xE1 && b <= 0xEF:
		need = 2
	case b == 0xF0:
		need, lo = 3, 0x90
	case b == 0xF4:
		need, hi = 3, 0x8F
	case b >= 0xF1 && b <= 0xF3:
		need = 3
	default:
		return 1
	}
	n := 1
	for n <= need && n < len(p) && lo <= p[n] && p[n] <= hi {
		lo, hi = 0x80, 0xBF
		n++
	}
	return min(n, need) // a complete sequence is never ill-formed; be safe
}

// UTF16Len returns the length in UTF-16 code units (what a JavaScript
// string's length counts) of p decoded as AppendUTF8 and TextDecoder do:
// one unit per code point, two above U+FFFF, one per U+FFFD replacing an
// ill-formed part.
func UTF16Len(p []byte) int {
	n := 0
	for len(p) > 0 {
		if len(p) >= 16 && (load64(p)|load64(p[8:]))&0x8080808080808080 == 0 {
			n, p = n+16, p[16:] // ASCII, sixteen bytes at a time
			continue
		}
		if len(p) >= 8 && load64(p)&0x8080808080808080 == 0 {
			n, p = n+8, p[8:]
			continue
		}
		if p[0] < utf8.RuneSelf {
			n, p = n+1, p[1:]
			continue
		}
		r, size := utf8.DecodeRune(p)
		switch {
		case r == utf8.RuneError && size == 1:
			n, p = n+1, p[invalidLen(p):]
		case r > 0xFFFF:
			n, p = n+2, p[size:]
		default:
			n, p = n+1, p[size:]
		}
	}
	return n
}

// load64 reads eight bytes little-endian (one load on amd64 and wasm).
func load64(p []byte) uint64 {
	_ = p[7]
	return uint64(p[0]) | uint64(p[1])<<8 | uint64(p[2])<<16 | uint64(p[3])<<24 |
		uint64(p[4])<<32 | uint64(p[5])<<40 | uint64(p[6])<<48 | uint64(p[7])<<56
}

// validUTF16Len reports whether p is valid UTF-8 and, if so, its UTF16Len,
// in one pass over ASCII text. It runs for every data line; its ASCII loop
// is written out rather than shared with UTF16Len, which as a call costs
// ~10% of the browser's decoding time.
func validUTF16Len(p []byte) (int, bool) {
	n := 0
	for len(p) >= 16 && (load64(p)|load64(p[8:]))&0x8080808080808080 == 0 {
		n, p = n+16, p[16:]
	}
	for len(p) > 0 && p[0] < utf8.RuneSelf {
		n, p = n+1, p[1:]
	}
	if len(p) == 0 {
		return n, true
	}
	if !utf8.Valid(p) {
		return 0, false
	}
	return n + UTF16Len(p), true
}
