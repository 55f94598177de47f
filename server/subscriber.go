package server

import (
	"math"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// subscriber is one live stream or waiting long-poll. It holds no copy of
// the events: a cursor into its topic's ring says what it has sent.
//
// A subscriber is served in one of two ways:
//   - by its HTTP handler goroutine, woken through notify (streams over
//     HTTP/2 and, by default, HTTP/1.x; long-polls);
//   - detached (SSEHandler.Hijack): the HTTP/1.x connection was taken over
//     after the request, no goroutine waits for it, and a short-lived
//     writer goroutine runs only while it has bytes to write.
type subscriber struct {
	t      *topic
	start  uint64        // topic head when it subscribed
	cursor atomic.Uint64 // seq of the last event written (or skipped)
	remote string

	ended  atomic.Bool
	reason string        // why it ended; read only after done is closed
	done   chan struct{} // closed by end (handler mode)
	notify chan struct{} // 1-buffered wake-up (handler mode)

	// detached mode
	conn         net.Conn
	writing      atomic.Bool // a goroutine owns conn's write side
	hbDue        atomic.Bool
	timer        *time.Timer
	heartbeat    time.Duration
	writeTimeout time.Duration
}

// maxBatchBytes bounds how many bytes of events one write gathers.
const maxBatchBytes = 64 << 10

// heartbeatComment is the comment line sent every SSEHandler.Heartbeat.
var heartbeatComment = []byte(": hb\n")

// lagging reports whether the subscriber must be evicted now that the
// topic's newest event is seq: more than SubscriberBuffer events published
// after it joined wait for it, or the next one it needs left the ring.
// Called with the topic lock held.
func (s *subscriber) lagging(seq uint64) bool {
	c := s.cursor.Load()
	return seq-max(c, s.start) > s.t.hub.lag || seq-c > uint64(len(s.t.slots))
}

// wake tells the subscriber there is something to write.
func (s *subscriber) wake() {
	if s.notify != nil {
		select {
		case s.notify <- struct{}{}:
		default:
		}
		return
	}
	if s.writing.CompareAndSwap(false, true) {
		go s.run()
	}
}

// next appends to buf the entries after the cursor, up to cap(buf) and
// maxBytes (but at least one). It reports false when the ring no longer
// holds the next entry.
func (s *subscriber) next(buf []*entry, maxBytes int) ([]*entry, bool) {
	head := s.t.head.Load()
	size := 0
	for seq := s.cursor.Load() + 1; seq <= head && len(buf) < cap(buf); seq++ {
		e := s.t.get(seq)
		if e == nil {
			return buf, false
		}
		if size > 0 && size+len(e.wire) > maxBytes {
			break
		}
		buf = append(buf, e)
		size += len(e.wire)
	}
	return buf, true
}

// end marks the subscriber ended, wakes or closes whatever serves it, and
// reports whether this call ended it.
func (s *subscriber) end(reason string) bool {
	if !s.ended.CompareAndSwap(false, true) {
		return false
	}
	s.reason = reason
	if s.done != nil {
		close(s.done)
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	if s.conn != nil {
		_ = s.conn.Close()
	}
	s.t.hub.log.Debug("eventwire: stream ended", "topic", s.t.name, "remote", s.remote, "reason", reason)
	return true
}

// evict ends a subscriber that Publish removed from its topic as too slow.
func (s *subscriber) evict(head uint64) {
	h := s.t.hub
	h.subscribers.Add(-1)
	s.evicted(head)
}

// evictLagged is called by a subscriber's writer that found its next event
// already gone from the ring.
func (s *subscriber) evictLagged() {
	s.t.mu.Lock()
	_, present := s.t.subs[s]
	delete(s.t.subs, s)
	s.t.mu.Unlock()
	if present {
		s.t.hub.subscribers.Add(-1)
	}
	s.evicted(s.t.head.Load())
}

func (s *subscriber) evicted(head uint64) {
	h := s.t.hub
	behind := head - s.cursor.Load()
	reason := "evicted: too slow, " + strconv.FormatUint(behind, 10) + " events behind"
	if s.end(reason) {
		h.evicted.Add(1)
		h.log.Warn("eventwire: slow subscriber evicted", "topic", s.t.name, "remote", s.remote,
			"behind", behind, "subscriberBuffer", h.lag, "ring", len(s.t.slots))
	}
}

// startHeartbeat arms the detached-mode heartbeat timer. It must be called
// before the subscriber is visible to other goroutines.
func (s *subscriber) startHeartbeat() {
	if s.heartbeat <= 0 {
		return
	}
	s.timer = time.AfterFunc(math.MaxInt64, s.heartbeatTick)
	s.timer.Reset(s.heartbeat)
}

func (s *subscriber) heartbeatTick() {
	if s.ended.Load() {
		return
	}
	s.hbDue.Store(true)
	s.timer.Reset(s.heartbeat)
	// Write from this goroutine rather than start another.
	if s.writing.CompareAndSwap(false, true) {
		s.run()
	}
}

// hasWork reports whether a detached subscriber has anything to write.
func (s *subscriber) hasWork() bool {
	return s.t.head.Load() > s.cursor.Load() || s.hbDue.Load()
}

var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// run writes what a detached subscriber has pending, then releases the
// connection's write side. The caller must own it (writing is true).
func (s *subscriber) run() {
	var arr [32]*entry
	for !s.ended.Load() {
		batch, ok := s.next(arr[:0], maxBatchBytes)
		if !ok {
			s.evictLagged()
			return
		}
		hb := s.hbDue.Swap(false)
		if len(batch) == 0 && !hb {
			s.writing.Store(false)
			// Re-check after releasing: a wake that found writing set
			// relied on this goroutine to see its event.
			if !s.hasWork() || !s.writing.CompareAndSwap(false, true) {
				return
			}
			continue
		}
		if err := s.writeBatch(batch); err != nil {
			s.t.unsubscribe(s, "write failed: "+err.Error())
			return
		}
		if len(batch) > 0 {
			s.cursor.Store(batch[len(batch)-1].seq)
		}
	}
}

// writeBatch writes the entries (or, with none, a heartbeat comment) to a
// detached subscriber's connection in one write.
func (s *subscriber) writeBatch(batch []*entry) error {
	if s.writeTimeout > 0 {
		_ = s.conn.SetWriteDeadline(time.Now().Add(s.writeTimeout))
	}
	switch len(batch) {
	case 0:
		_, err := s.conn.Write(heartbeatComment)
		return err
	case 1:
		_, err := s.conn.Write(batch[0].wire)
		return err
	}
	bp := batchPool.Get().(*[]byte)
	b := (*bp)[:0]
	for _, e := range batch {
		b = append(b, e.wire...)
	}
	_, err := s.conn.Write(b)
	if cap(b) <= 256<<10 {
		*bp = b[:0]
		batchPool.Put(bp)
	}
	return err
}
