package eventsource

import (
	"bytes"
	"unicode/utf16"

	"github.com/eventwire/eventwire/protocol/sse"
)

// Same marks, in a Batch header, a type or ID equal to the previous event's
// in the same batch (its text is not repeated), or a data that is in the
// extra text rather than in the chunk's.
const Same = 0xFFFFFFFF

// Batch holds the events of one network chunk, packed for the JavaScript
// shell: it turns them into strings with at most two TextDecoder calls and
// then only slices, which is far cheaper than creating strings per event
// from Go (GUIDE §3). In the common case an event's data is not copied at
// all: it is a view of the chunk (sse.EventView.DataAt), and the shell
// decodes the part of the chunk from the first such data to the last one.
//
// Header, four uint32 per event, lengths and offsets in UTF-16 code units
// (what String.prototype.slice counts):
//
//	type   length of the type, or Same
//	data   length of the data
//	id     length of the ID (the last event ID in force), or Same
//	at     offset of the data in the chunk's text, or Same when it is next
//	       in the extra text
//
// The chunk's text is Chunk() decoded as UTF-8; the extra text is Extra()
// decoded, holding per event its type, its data when not in the chunk's
// text, and its ID, each only when present above. The shell reads it so:
//
//	const chunk = decode(chunkBytes), extra = decode(extraBytes);
//	let x = 0, type, id;
//	for (let h = 0; h < 4 * n; h += 4) {
//	  if (head[h] !== SAME) type = extra.slice(x, (x += head[h]));
//	  const data = head[h + 3] === SAME ? extra.slice(x, (x += head[h + 1]))
//	    : chunk.slice(head[h + 3], head[h + 3] + head[h + 1]);
//	  if (head[h + 2] !== SAME) id = extra.slice(x, (x += head[h + 2]));
//	}
//
// A Batch is filled while the decoder reads one chunk and handed to
// Sink.Events, which must not keep it: the chunk and the buffers are reused.
type Batch struct {
	chunk []byte   // the chunk being decoded
	base  int      // offset in chunk of the part being fed to the decoder
	head  []uint32 // the header
	extra []byte   // the extra text
	typ   []byte   // the previous event's type and ID
	id    []byte
	lo    int // the chunk's text is chunk[lo:hi]; lo < 0 while empty
	hi    int
	hi16  int // UTF-16 length of the chunk's text
}

// Len returns the number of events.
func (b *Batch) Len() int { return len(b.head) / 4 }

// Head returns the header (four entries per event).
func (b *Batch) Head() []uint32 { return b.head }

// Chunk returns the bytes of the chunk's text: valid UTF-8 wherever a data
// is, though the bytes between two data (field names, other lines) may not
// be; decoding must replace ill-formed parts as sse.AppendUTF8 does.
func (b *Batch) Chunk() []byte {
	if b.lo < 0 {
		return nil
	}
	return b.chunk[b.lo:b.hi]
}

// Extra returns the bytes of the extra text (valid UTF-8).
func (b *Batch) Extra() []byte { return b.extra }

// begin empties the batch for the events of chunk.
func (b *Batch) begin(chunk []byte) {
	b.chunk, b.base = chunk, 0
	b.head, b.extra = b.head[:0], b.extra[:0]
	b.lo, b.hi, b.hi16 = -1, 0, 0
}

// end forgets the chunk and releases buffers a rare huge chunk grew.
func (b *Batch) end() {
	b.chunk = nil
	if cap(b.extra) > keepBatch {
		b.extra = nil
	}
	if cap(b.head)*4 > keepBatch {
		b.head = nil
	}
}

// keepBatch is the largest buffer, in bytes, a Batch keeps between chunks.
const keepBatch = 1 << 20

// add appends an event the decoder reports while reading
// chunk[b.base:].
func (b *Batch) add(v *sse.EventView) {
	first := len(b.head) == 0
	tl, il, at := uint32(Same), uint32(Same), uint32(Same)
	if first || !bytes.Equal(v.Type, b.typ) {
		b.typ = append(b.typ[:0], v.Type...)
		b.extra = append(b.extra, v.Type...)
		tl = uint32(sse.UTF16Len(v.Type))
	}
	dl := v.DataUTF16
	if v.DataAt >= 0 {
		start := b.base + v.DataAt
		if b.lo < 0 {
			b.lo, b.hi = start, start
		}
		b.hi16 += sse.UTF16Len(b.chunk[b.hi:start]) // the bytes in between
		at = uint32(b.hi16)
		b.hi, b.hi16 = start+len(v.Data), b.hi16+dl
	} else {
		b.extra = append(b.extra, v.Data...)
	}
	if first || !bytes.Equal(v.ID, b.id) {
		b.id = append(b.id[:0], v.ID...)
		b.extra = append(b.extra, v.ID...)
		il = uint32(sse.UTF16Len(v.ID))
	}
	b.head = append(b.head, tl, uint32(dl), il, at)
}

// Events unpacks the batch as the shell does, for Go code and tests.
func (b *Batch) Events() []sse.Event {
	chunk := utf16.Encode([]rune(string(sse.AppendUTF8(nil, b.Chunk()))))
	extra := utf16.Encode([]rune(string(b.extra)))
	x := 0
	next := func(n uint32) string {
		s := string(utf16.Decode(extra[x : x+int(n)]))
		x += int(n)
		return s
	}
	evs := make([]sse.Event, 0, b.Len())
	var typ, id string
	for h := b.head; len(h) >= 4; h = h[4:] {
		if h[0] != Same {
			typ = next(h[0])
		}
		var data string
		if h[3] == Same {
			data = next(h[1])
		} else {
			data = string(utf16.Decode(chunk[h[3] : h[3]+h[1]]))
		}
		if h[2] != Same {
			id = next(h[2])
		}
		evs = append(evs, sse.Event{Type: typ, Data: data, ID: id})
	}
	return evs
}
