package batchsocket

import (
	"errors"

	"github.com/eventwire/eventwire/protocol/batch"
)

// ErrBadChunk is returned by Push for bytes that are not n well-framed
// messages within the size limit: a bug in the caller.
var ErrBadChunk = errors.New("batchsocket: malformed message chunk")

// chunk is a run of consecutive messages as the JS shell handed them over
// (or as they were persisted), framed as in a BATCH frame. Acknowledged and
// dropped messages are cut off its front; its bytes are never modified, so
// the Store may keep them.
type chunk struct {
	key   uint64 // sequence number of its first message when it was made: its Store key
	first uint64 // sequence number of data's first message
	n     int    // messages in data
	data  []byte
}

// queue holds the messages floor+1 … next-1, oldest first.
type queue struct {
	chunks []chunk
	floor  uint64 // every message up to it is acknowledged or dropped
	next   uint64 // sequence number of the next message pushed
	bytes  int    // encoded bytes held
}

// push appends n messages; data must be valid (see scan).
func (q *queue) push(key uint64, data []byte, n int) {
	if n == 0 {
		return
	}
	q.chunks = append(q.chunks, chunk{key: key, first: q.next, n: n, data: data})
	q.next += uint64(n)
	q.bytes += len(data)
}

// trim removes the messages up to seq (at most next-1) and returns how
// many it removed.
func (q *queue) trim(seq uint64) (msgs int) {
	if seq <= q.floor {
		return 0
	}
	q.floor = seq
	i := 0
	for ; i < len(q.chunks); i++ {
		c := &q.chunks[i]
		if c.first > seq {
			break
		}
		k := seq - c.first + 1
		if k >= uint64(c.n) {
			msgs += c.n
			q.bytes -= len(c.data)
			continue
		}
		off := skip(c.data, int(k))
		msgs += int(k)
		q.bytes -= off
		c.data, c.first, c.n = c.data[off:], seq+1, c.n-int(k)
		break
	}
	q.drop(i)
	return msgs
}

// drop removes the first i chunks.
func (q *queue) drop(i int) {
	if i == 0 {
		return
	}
	n := copy(q.chunks, q.chunks[i:])
	clear(q.chunks[n:])
	q.chunks = q.chunks[:n]
}

// dropOldest removes the oldest messages until at least free bytes are
// freed or the queue is empty, moving the floor past them. It returns the
// messages and bytes removed.
func (q *queue) dropOldest(free int) (msgs, freed int) {
	for len(q.chunks) > 0 && freed < free {
		c := &q.chunks[0]
		if len(c.data) <= free-freed {
			msgs += c.n
			freed += len(c.data)
			q.floor = c.first + uint64(c.n) - 1
			q.bytes -= len(c.data)
			q.drop(1)
			continue
		}
		off, k := 0, 0
		for off < free-freed && k < c.n {
			off += msgLen(c.data[off:])
			k++
		}
		msgs += k
		freed += off
		q.bytes -= off
		q.floor = c.first + uint64(k) - 1
		c.data, c.first, c.n = c.data[off:], c.first+uint64(k), c.n-k
	}
	return msgs, freed
}

// firstKey returns the Store key of the oldest chunk held, or next when
// there is none: every persisted chunk below it is gone.
func (q *queue) firstKey() uint64 {
	if len(q.chunks) == 0 {
		return q.next
	}
	return q.chunks[0].key
}

// appendFrom appends to dst the encoded messages from sequence number from
// on (from > floor), up to maxBytes of them and maxCount, but at least one
// message. It returns dst and the sequence number of the last message
// appended (from-1 when there is none).
func (q *queue) appendFrom(dst []byte, from uint64, maxBytes, maxCount int) ([]byte, uint64) {
	last := from - 1
	room, count, added := maxBytes, maxCount, false
	for i := range q.chunks {
		c := &q.chunks[i]
		end := c.first + uint64(c.n) // one past its last
		if end <= from {
			continue
		}
		off := 0
		if from > c.first {
			off = skip(c.data, int(from-c.first))
		}
		start := off
		if off == 0 && len(c.data) <= room && c.n <= count {
			// The whole chunk fits, as it usually does (the JS shell
			// cuts chunks by the same limits): no need to walk it.
			dst = append(dst, c.data...)
			last += uint64(c.n)
			room -= len(c.data)
			count -= c.n
			added = true
			from = last + 1
			if count == 0 || room <= 0 {
				break
			}
			continue
		}
		for off < len(c.data) && count > 0 {
			m := msgLen(c.data[off:])
			if m > room && added { // at least one message
				count = 0
				break
			}
			off += m
			room -= m
			count--
			last++
			added = true
		}
		dst = append(dst, c.data[start:off]...)
		from = last + 1
		if count == 0 || room <= 0 {
			break
		}
	}
	return dst, last
}

// skip returns the offset of the k-th message of data (k ≤ its count).
//
//go:noinline
func skip(data []byte, k int) int {
	off := 0
	for ; k > 0; k-- {
		off += msgLen(data[off:])
	}
	return off
}

// msgLen returns the encoded size of the message that starts p, which scan
// has validated.
//
//go:noinline
func msgLen(p []byte) int {
	n, _, k, _ := batch.ReadHeader(p)
	return k + int(n)
}

// scan checks that data holds exactly n messages framed as in a BATCH frame
// (batch.ReadHeader), each of at most maxSize bytes; n < 0 means any
// number, which it returns.
func scan(data []byte, n, maxSize int) (int, error) {
	count := 0
	for off := 0; off < len(data); count++ {
		size, _, k, err := batch.ReadHeader(data[off:])
		if err != nil || size > uint64(maxSize) || size > uint64(len(data)-off-k) {
			return 0, ErrBadChunk
		}
		off += k + int(size)
	}
	if n >= 0 && count != n {
		return 0, ErrBadChunk
	}
	return count, nil
}

// AppendMessage appends one message to dst in the encoding of BATCH and
// PUSH frames, as the JS shell packs them for Push: its header
// (batch.AppendHeader), then the data.
func AppendMessage(dst, data []byte, binary bool) []byte {
	return append(batch.AppendHeader(dst, len(data), binary), data...)
}
