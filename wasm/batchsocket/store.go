package batchsocket

import (
	"errors"

	"github.com/eventwire/eventwire/protocol/batch"
)

// Store persists unacknowledged messages, so that a page that reloads or
// crashes sends them on its next load. The JS binding implements it with
// IndexedDB. Its methods must not block; they report through done, from any
// goroutine. Writes of one Socket are issued one at a time, in order, each
// waiting for the previous one's done.
//
// Every page has its own session. At Start, a Socket with a Store loads
// every session persisted under the store's name; those of other pages (of
// this page's earlier life, or of other tabs) are resent over HTTP by
// internal Sockets, under their own session ids and sequence numbers, and
// deleted once acknowledged. Because a resent message has the session and
// sequence number it first had, and the same content, the server delivers
// it once even when another tab, still alive, sends it too: no lock is
// needed for correctness (a Web Lock could only save the duplicate work).
type Store interface {
	// Load returns every persisted session.
	Load(done func([]Saved, error))
	// Write applies w as one transaction.
	Write(w *Write, done func(error))
}

// Saved is one persisted session.
type Saved struct {
	Session [16]byte
	// Floor: every message up to it was acknowledged or dropped.
	Floor  uint64
	Chunks []Chunk // in sequence order
}

// Chunk is a run of consecutive messages, framed as in a BATCH frame
// (PROTOCOL.md §5.6), whose first message has sequence number First.
type Chunk struct {
	First uint64
	Data  []byte
}

// Write is one transaction on a session's records.
type Write struct {
	Session [16]byte
	// Puts are new chunks.
	Puts []Chunk
	// DeleteBelow, when not 0, deletes the chunks whose First is lower.
	DeleteBelow uint64
	// Floor, when SetFloor, is stored as the session's floor.
	Floor    uint64
	SetFloor bool
	// DeleteAll removes the session (after the other fields).
	DeleteAll bool
}

// persister coalesces a Socket's writes: at most one in flight, the next
// one carrying everything that happened meanwhile.
type persister struct {
	st      Store
	session [16]byte
	busy    bool
	next    Write
	dirty   bool
	floor   uint64 // stored floor
}

func (p *persister) put(c Chunk) {
	p.next.Puts = append(p.next.Puts, c)
	p.dirty = true
}

// trim records that chunks below first are gone and the floor is floor.
func (p *persister) trim(first, floor uint64) {
	if first > p.next.DeleteBelow {
		p.next.DeleteBelow = first
		p.dirty = true
	}
	if floor > p.floor {
		p.floor, p.next.Floor, p.next.SetFloor = floor, floor, true
		p.dirty = true
	}
}

func (p *persister) deleteAll() {
	p.next.DeleteAll = true
	p.dirty = true
}

// take returns the write to issue now, or nil.
func (p *persister) take() *Write {
	if p.busy || !p.dirty {
		return nil
	}
	w := p.next
	w.Session = p.session
	p.next, p.dirty, p.busy = Write{}, false, true
	return &w
}

// The Store's records cross between Go and the JS driver (IndexedDB) as
// one byte array each way, so that a load or a write is one call whatever
// the number of chunks.
//
// A Write (AppendWrite):
//
//	session   16 bytes
//	flags     1 byte: 1 SetFloor, 2 DeleteAll
//	floor     uvarint
//	below     uvarint  DeleteBelow
//	puts      to the end: per chunk, uvarint first, uvarint size, data
//
// The records of a load (ParseSaved), in key order (session, then first):
//
//	session   16 bytes
//	first     uvarint  0 for the session's floor record
//	size      uvarint
//	data      the chunk, or the floor as a uvarint

// AppendWrite appends w encoded for the JS driver.
func AppendWrite(dst []byte, w *Write) []byte {
	flags := byte(0)
	if w.SetFloor {
		flags = 1
	}
	if w.DeleteAll {
		flags |= 2
	}
	dst = batch.AppendUvarint(batch.AppendUvarint(append(append(dst, w.Session[:]...), flags), w.Floor), w.DeleteBelow)
	for _, c := range w.Puts {
		dst = append(batch.AppendUvarint(batch.AppendUvarint(dst, c.First), uint64(len(c.Data))), c.Data...)
	}
	return dst
}

// errRecords reports loaded records that do not parse.
var errRecords = errors.New("batchsocket: malformed stored records")

// ParseSaved decodes the records loaded by the JS driver. The chunks alias
// p.
func ParseSaved(p []byte) ([]Saved, error) {
	var out []Saved
	for len(p) > 0 {
		if len(p) < 16 {
			return nil, errRecords
		}
		var s [16]byte
		copy(s[:], p)
		first, i, err1 := batch.Uvarint(p[16:])
		if err1 != nil {
			return nil, errRecords
		}
		size, j, err2 := batch.Uvarint(p[16+i:])
		if err2 != nil || size > uint64(len(p)-16-i-j) {
			return nil, errRecords
		}
		p = p[16+i+j:]
		data := p[:size:size]
		p = p[size:]
		if len(out) == 0 || out[len(out)-1].Session != s {
			out = append(out, Saved{Session: s})
		}
		sv := &out[len(out)-1]
		if first == 0 {
			sv.Floor, _, _ = batch.Uvarint(data)
		} else {
			sv.Chunks = append(sv.Chunks, Chunk{First: first, Data: data})
		}
	}
	return out, nil
}
