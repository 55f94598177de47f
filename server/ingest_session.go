package server

import (
	"errors"
	"sync"
	"time"

	"github.com/eventwire/eventwire/protocol/batch"
)

// errTooManySessions: the session table is full of sessions in use.
var errTooManySessions = errors.New("eventwire/server: too many sessions")

// session is the server's state for one client session.
type session struct {
	id batch.SessionID

	// Guarded by sessionTable.mu.
	refs       int       // users: open WebSockets, requests, Send calls
	used       time.Time // when refs last dropped to 0
	prev, next *session  // the idle list, while refs == 0

	// mu serializes the delivery of the session's frames, whatever their
	// connection or transport, and guards last.
	mu   sync.Mutex
	last uint64 // highest client sequence number accepted

	// pmu guards the PUSH state and the connection binding.
	pmu         sync.Mutex
	conn        *ingestConn // the WebSocket that receives PUSH frames
	pushSeq     uint64      // last PUSH sequence number assigned
	pushAcked   uint64      // highest PUSH sequence number the client acknowledged
	sent        uint64      // highest PUSH sequence number written to conn
	outbox      []pushMsg   // unacknowledged, seq pushAcked+1 … pushSeq
	outboxBytes int
}

type pushMsg struct {
	seq    uint64
	data   []byte
	binary bool
}

// ackPushLocked records a client acknowledgement of PUSH messages up to
// seq and drops them from the outbox.
func (s *session) ackPushLocked(seq uint64) {
	if seq <= s.pushAcked {
		return
	}
	s.pushAcked = seq
	s.sent = max(s.sent, seq)
	n := 0
	for n < len(s.outbox) && s.outbox[n].seq <= seq {
		s.outboxBytes -= len(s.outbox[n].data)
		n++
	}
	if n == len(s.outbox) {
		clear(s.outbox)
		s.outbox = s.outbox[:0]
		if cap(s.outbox) > 64 {
			s.outbox = nil
		}
		return
	}
	rest := copy(s.outbox, s.outbox[n:])
	clear(s.outbox[rest:])
	s.outbox = s.outbox[:rest]
}

// sessionTable holds session states, bounded in number (LRU among idle
// sessions) and in time (TTL of idle sessions). A session in use (refs >
// 0) is never evicted, so that two states of one session can never exist
// at once: that is what makes the per-session lock, and so exactly-once
// delivery, hold across connections and transports.
type sessionTable struct {
	max int
	ttl time.Duration
	now func() time.Time

	mu         sync.Mutex
	m          map[batch.SessionID]*session
	head, tail *session // idle sessions, most recently used first
	evicted    uint64
}

func newSessionTable(max int, ttl time.Duration, now func() time.Time) *sessionTable {
	return &sessionTable{max: max, ttl: ttl, now: now, m: make(map[batch.SessionID]*session)}
}

// acquire returns the state of session id, creating it when create is set,
// and marks it in use until release. It fails with ErrUnknownSession
// (create unset) or errTooManySessions.
func (t *sessionTable) acquire(id batch.SessionID, create bool) (*session, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireLocked(t.now())
	s := t.m[id]
	switch {
	case s != nil:
		if s.refs == 0 {
			t.unlinkLocked(s)
		}
	case !create:
		return nil, ErrUnknownSession
	default:
		if len(t.m) >= t.max {
			if t.tail == nil {
				return nil, errTooManySessions
			}
			t.removeLocked(t.tail)
		}
		s = &session{id: id}
		t.m[id] = s
	}
	s.refs++
	return s, nil
}

// release ends a use of s begun by acquire.
func (t *sessionTable) release(s *session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s.refs--
	if s.refs > 0 {
		return
	}
	s.used = t.now()
	s.prev, s.next = nil, t.head
	if t.head != nil {
		t.head.prev = s
	}
	t.head = s
	if t.tail == nil {
		t.tail = s
	}
}

// expireLocked evicts the idle sessions unused for longer than the TTL.
// The idle list is in order of use, so this looks at expired sessions
// and one more only.
func (t *sessionTable) expireLocked(now time.Time) {
	for t.tail != nil && now.Sub(t.tail.used) > t.ttl {
		t.removeLocked(t.tail)
	}
}

// removeLocked evicts the idle session s.
func (t *sessionTable) removeLocked(s *session) {
	t.unlinkLocked(s)
	delete(t.m, s.id)
	t.evicted++
}

func (t *sessionTable) unlinkLocked(s *session) {
	if s.prev != nil {
		s.prev.next = s.next
	} else {
		t.head = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	} else {
		t.tail = s.prev
	}
	s.prev, s.next = nil, nil
}

// stats returns the number of sessions held and evicted so far.
func (t *sessionTable) stats() (n int, evicted uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireLocked(t.now())
	return len(t.m), t.evicted
}
