package server

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"

	"github.com/eventwire/eventwire/protocol/batch"
)

// Record is one message as a MemorySink keeps it.
type Record struct {
	Session batch.SessionID
	Seq     uint64
	Binary  bool
	Data    []byte // a copy, owned by the record
}

// MemorySink is a Sink that keeps copies of every message in memory, for
// tests. It also checks the delivery guarantee as it goes: per session,
// the sequence numbers of successive Accept calls must follow each other
// without a duplicate or a gap (the first call of a session may start
// anywhere); CheckOrder reports the first violation. The zero value is
// ready to use and a MemorySink is safe for concurrent use. Memory grows
// without bound: not for production.
type MemorySink struct {
	mu       sync.Mutex
	records  []Record
	next     map[batch.SessionID]uint64 // next expected sequence number
	err      error                      // returned by Accept, see SetError
	fail     func(batch.SessionID, uint64, int) error
	orderErr error
	changed  chan struct{} // closed at every change, for Wait
}

// Accept copies msgs, unless SetError or SetFailFunc make it fail.
func (m *MemorySink) Accept(ctx context.Context, session batch.SessionID, firstSeq uint64, msgs []batch.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if m.fail != nil {
		if err := m.fail(session, firstSeq, len(msgs)); err != nil {
			return err
		}
	}
	if m.next == nil {
		m.next = make(map[batch.SessionID]uint64)
	}
	if want, ok := m.next[session]; ok && firstSeq != want && m.orderErr == nil {
		m.orderErr = errors.New("eventwire/server: MemorySink: session " + session.String() + " delivered from seq " +
			strconv.FormatUint(firstSeq, 10) + ", want " + strconv.FormatUint(want, 10))
	}
	m.next[session] = firstSeq + uint64(len(msgs))
	for i, msg := range msgs {
		m.records = append(m.records, Record{Session: session, Seq: firstSeq + uint64(i), Binary: msg.Binary, Data: bytes.Clone(msg.Data)})
	}
	m.notifyLocked()
	return nil
}

func (m *MemorySink) notifyLocked() {
	if m.changed != nil {
		close(m.changed)
		m.changed = nil
	}
}

// SetError makes every later Accept fail with err (nil: succeed again).
func (m *MemorySink) SetError(err error) {
	m.mu.Lock()
	m.err = err
	m.mu.Unlock()
}

// SetFailFunc installs f, called by every Accept before it stores
// anything; when f returns an error, Accept fails with it (nil f: never).
func (m *MemorySink) SetFailFunc(f func(session batch.SessionID, firstSeq uint64, n int) error) {
	m.mu.Lock()
	m.fail = f
	m.mu.Unlock()
}

// Records returns the records accepted so far, in the order of the calls.
// The slice is a copy; the records' Data must not be modified.
func (m *MemorySink) Records() []Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Record(nil), m.records...)
}

// Session returns the records of one session, in order.
func (m *MemorySink) Session(id batch.SessionID) []Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	var rs []Record
	for _, r := range m.records {
		if r.Session == id {
			rs = append(rs, r)
		}
	}
	return rs
}

// Len returns the number of records accepted so far.
func (m *MemorySink) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.records)
}

// CheckOrder returns nil if every session's messages arrived exactly once
// and in order so far, or an error naming the first violation.
func (m *MemorySink) CheckOrder() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.orderErr
}

// Wait blocks until at least n records have been accepted, or ctx is done.
func (m *MemorySink) Wait(ctx context.Context, n int) error {
	for {
		m.mu.Lock()
		if len(m.records) >= n {
			m.mu.Unlock()
			return nil
		}
		if m.changed == nil {
			m.changed = make(chan struct{})
		}
		ch := m.changed
		m.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
