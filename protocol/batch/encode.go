package batch

// The encoders write exactly the values they are given. A frame decodes
// only if the values follow the rules documented on each field (nonzero
// session, sequence numbers in range, valid close code); Hello limits and
// the Close reason are clamped so that they always do.

// AppendHello appends a HELLO frame to dst. Limits are clamped to
// 0..2³¹−1, negative values becoming 0 (the default).
func AppendHello(dst []byte, h Hello) []byte {
	dst = append(dst, Version, byte(TypeHello))
	dst = append(dst, h.Session[:]...)
	dst = appendUvarint(dst, h.Acked)
	dst = appendUvarint(dst, h.Received)
	dst = appendUvarint(dst, clampLimit(h.Limits.MaxFrame))
	dst = appendUvarint(dst, clampLimit(h.Limits.MaxMessages))
	dst = appendUvarint(dst, clampLimit(h.Limits.MaxMessage))
	return appendUvarint(dst, h.Flags)
}

// AppendAck appends an ACK frame to dst.
func AppendAck(dst []byte, a Ack) []byte {
	return appendUvarint(append(dst, Version, byte(TypeAck)), a.Seq)
}

// AppendClose appends a CLOSE frame to dst. The reason is made valid UTF-8
// (invalid bytes become U+FFFD) and cut at a character boundary to at most
// MaxReason bytes.
func AppendClose(dst []byte, c Close) []byte {
	dst = append(dst, Version, byte(TypeClose), byte(c.Code>>8), byte(c.Code))
	return append(dst, clampReason(c.Reason)...)
}

// Writer builds one BATCH or PUSH frame, appending each message to a
// growing buffer as it comes. It knows the frame's size and message count
// at every step, so a client can flush by size or by count, and it never
// copies a message more than once.
//
// Typical use on the client:
//
//	w.StartBatch(buf, session, acked, nextSeq)
//	for each message m {
//		if w.Count() == maxCount || w.Len()+batch.MessageSize(len(m), isBinary) > maxBytes {
//			flush(w.Bytes()) // and start the next frame
//		}
//		w.Add(m, isBinary)
//	}
//
// The zero Writer is ready for StartBatch or StartPush; a Writer must be
// started before messages are added.
type Writer struct {
	buf []byte
	n   int
}

// StartBatch begins a BATCH frame for session: acked is the highest
// sequence number the client knows the server has accepted, and firstSeq
// the sequence number of the frame's first message (see Batch). The frame
// is written over buf[:0], reusing buf's capacity; buf may be nil.
func (w *Writer) StartBatch(buf []byte, session SessionID, acked, firstSeq uint64) {
	buf = append(buf[:0], Version, byte(TypeBatch))
	buf = append(buf, session[:]...)
	w.start(buf, acked, firstSeq)
}

// StartPush begins a PUSH frame like StartBatch: acked is the highest
// sequence number the server knows the client has accepted, and firstSeq
// that of the frame's first message (see Push).
func (w *Writer) StartPush(buf []byte, acked, firstSeq uint64) {
	w.start(append(buf[:0], Version, byte(TypePush)), acked, firstSeq)
}

func (w *Writer) start(buf []byte, acked, firstSeq uint64) {
	w.buf, w.n = appendUvarint(appendUvarint(buf, acked), firstSeq), 0
}

// Add appends a message: binary data, or UTF-8 text when binary is false.
// Its encoded size is MessageSize(len(data), binary).
func (w *Writer) Add(data []byte, binary bool) {
	w.buf = append(AppendHeader(w.buf, len(data), binary), data...)
	w.n++
}

// AddString appends a text message. Its encoded size is
// MessageSize(len(text), false).
func (w *Writer) AddString(text string) {
	w.buf = append(AppendHeader(w.buf, len(text), false), text...)
	w.n++
}

// Len returns the size in bytes of the frame so far.
func (w *Writer) Len() int { return len(w.buf) }

// Count returns the number of messages added since the frame was started.
func (w *Writer) Count() int { return w.n }

// Bytes returns the frame. It is the buffer given to the last Start, grown
// as needed, and stays valid until that buffer is reused.
func (w *Writer) Bytes() []byte { return w.buf }

// appendUvarint appends v in 7-bit groups, least significant first, with
// the high bit set on every byte but the last (LEB128, as Go's
// encoding/binary.AppendUvarint). The encoding is always minimal.
func appendUvarint(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func clampLimit(v int) uint64 {
	return uint64(min(max(v, 0), maxLimit))
}
