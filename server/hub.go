package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/eventwire/eventwire/protocol/sse"
)

// Defaults and limits of the Hub.
const (
	// DefaultHistorySize is the number of events per topic kept for replay
	// when HubOptions.HistorySize is zero.
	DefaultHistorySize = 1024
	// DefaultSubscriberBuffer is how many events a subscriber may fall
	// behind when HubOptions.SubscriberBuffer is zero.
	DefaultSubscriberBuffer = 256
	// MaxTopicLength is the longest topic name, in bytes.
	MaxTopicLength = 256
	// MaxEpochLength is the longest HubOptions.Epoch, in bytes.
	MaxEpochLength = 64
)

var (
	// ErrClosed is returned by Publish after Hub.Close.
	ErrClosed = errors.New("eventwire/server: hub closed")
	// ErrInvalidTopic is returned for an empty topic name or one longer
	// than MaxTopicLength.
	ErrInvalidTopic = errors.New("eventwire/server: invalid topic name")
)

// HubOptions configures a Hub. The zero value gives the documented defaults.
type HubOptions struct {
	// HistorySize is the number of most recent events per topic kept for
	// replay to resuming clients. Zero means DefaultHistorySize (1024); a
	// negative value keeps none (every resume that missed an event gets a
	// gap event).
	HistorySize int

	// SubscriberBuffer is how many events published after a subscriber
	// joined may wait for it before it is evicted as too slow. Events are
	// not copied per subscriber: each topic keeps one ring of encoded
	// events of max(HistorySize, SubscriberBuffer) entries that all
	// subscribers read, so a subscriber costs a cursor, not a buffer.
	// A subscriber whose unsent events leave that ring (possible while it
	// replays history) is evicted too. Zero means DefaultSubscriberBuffer
	// (256); values below 1 count as 1.
	SubscriberBuffer int

	// Epoch is the first part of every event ID ("<epoch>-<seq>"). Empty
	// means a random 12-digit hex string chosen by NewHub, so that IDs
	// issued before a restart are recognised as unreplayable. Set it only
	// when the sequence numbers survive restarts too. It must be 1 to
	// MaxEpochLength ASCII letters, digits, '_' or '.'; NewHub panics
	// otherwise.
	Epoch string

	// Logger receives evictions (Warn) and stream ends (Debug). Nil means
	// slog.Default().
	Logger *slog.Logger
}

// Hub is a set of topics, created on demand, each with a bounded history
// of encoded events and a set of live subscribers. Publish encodes an event
// once and shares the bytes with every subscriber; it never blocks on a
// subscriber: one that falls more than SubscriberBuffer events behind is
// evicted (its stream ends and the reason is logged). A Hub is safe for
// concurrent use.
type Hub struct {
	epoch   string
	history uint64 // replay window in events
	lag     uint64 // max events waiting for a subscriber
	ringCap uint64
	log     *slog.Logger

	mu     sync.RWMutex
	topics map[string]*topic
	closed bool

	published   atomic.Uint64
	evicted     atomic.Uint64
	subscribers atomic.Int64
}

// HubStats is a snapshot of a Hub's counters.
type HubStats struct {
	Epoch       string `json:"epoch"`
	Topics      int    `json:"topics"`
	Subscribers int64  `json:"subscribers"` // live streams and waiting long-polls
	Published   uint64 `json:"published"`   // events published since NewHub
	Evicted     uint64 `json:"evicted"`     // subscribers evicted as too slow
}

// NewHub returns a Hub configured by opts.
func NewHub(opts HubOptions) *Hub {
	h := &Hub{
		epoch:  opts.Epoch,
		log:    opts.Logger,
		topics: make(map[string]*topic),
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	switch {
	case opts.HistorySize == 0:
		h.history = DefaultHistorySize
	case opts.HistorySize > 0:
		h.history = uint64(opts.HistorySize)
	}
	switch {
	case opts.SubscriberBuffer == 0:
		h.lag = DefaultSubscriberBuffer
	case opts.SubscriberBuffer > 0:
		h.lag = uint64(opts.SubscriberBuffer)
	default:
		h.lag = 1
	}
	h.ringCap = max(h.history, h.lag)
	if h.epoch == "" {
		var b [6]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand panics on a broken system source)
		h.epoch = hex.EncodeToString(b[:])
	} else if !validEpoch(h.epoch) {
		panic(fmt.Sprintf("eventwire/server: invalid HubOptions.Epoch %q: want 1 to %d ASCII letters, digits, '_' or '.'", h.epoch, MaxEpochLength))
	}
	return h
}

func validEpoch(s string) bool {
	if len(s) == 0 || len(s) > MaxEpochLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// Epoch returns the epoch part of the IDs this Hub issues.
func (h *Hub) Epoch() string { return h.epoch }

// Stats returns a snapshot of the Hub's counters.
func (h *Hub) Stats() HubStats {
	h.mu.RLock()
	n := len(h.topics)
	h.mu.RUnlock()
	return HubStats{
		Epoch:       h.epoch,
		Topics:      n,
		Subscribers: h.subscribers.Load(),
		Published:   h.published.Load(),
		Evicted:     h.evicted.Load(),
	}
}

// Publish appends e to the topic's history and delivers it to the topic's
// subscribers, creating the topic if needed. It assigns the ID
// ("<epoch>-<seq>", seq counting from 1 per topic), replacing any ID in e,
// and returns the event as stored. It fails with ErrInvalidTopic, ErrClosed,
// or the encoder's error (sse.ErrInvalidType) and then publishes nothing.
// It never blocks on subscribers.
func (h *Hub) Publish(topicName string, e sse.Event) (sse.Event, error) {
	if err := checkTopic(topicName); err != nil {
		return sse.Event{}, err
	}
	for {
		t, err := h.topic(topicName)
		if err != nil {
			return sse.Event{}, err
		}
		ev, ok, err := t.publish(e)
		if ok || err != nil {
			return ev, err
		}
		// The topic was removed concurrently (it had no events and no
		// subscribers); look it up again.
	}
}

// Disconnect ends every live stream and pending long-poll of the topic,
// as a dropped connection would. History is kept, so clients that
// reconnect with their last event ID resume without loss.
func (h *Hub) Disconnect(topicName string) {
	h.mu.RLock()
	t := h.topics[topicName]
	h.mu.RUnlock()
	if t != nil {
		t.endAll("disconnected")
	}
}

// Close ends every stream of every topic and makes Publish fail with
// ErrClosed and new streams be refused. It is safe to call more than once.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	ts := make([]*topic, 0, len(h.topics))
	for _, t := range h.topics {
		ts = append(ts, t)
	}
	h.mu.Unlock()
	for _, t := range ts {
		t.endAll("hub closed")
	}
}

func checkTopic(name string) error {
	if name == "" || len(name) > MaxTopicLength {
		return ErrInvalidTopic
	}
	return nil
}

// topic returns the topic, creating it.
func (h *Hub) topic(name string) (*topic, error) {
	h.mu.RLock()
	t, closed := h.topics[name], h.closed
	h.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	if t != nil {
		return t, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if t = h.topics[name]; t == nil {
		t = &topic{
			name:  name,
			hub:   h,
			subs:  make(map[*subscriber]struct{}),
			slots: make([]atomic.Pointer[entry], h.ringCap),
		}
		h.topics[name] = t
	}
	return t, nil
}

// maybeRemove deletes t from the hub when it has never had an event and has
// no subscribers, so that requests for arbitrary topic names do not pile
// up empty topics.
func (h *Hub) maybeRemove(t *topic) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.subs) == 0 && t.head.Load() == 0 && !t.dead && h.topics[t.name] == t {
		t.dead = true
		delete(h.topics, t.name)
	}
}

// formatID returns "<epoch>-<seq>".
func (h *Hub) formatID(seq uint64) string {
	return h.epoch + "-" + strconv.FormatUint(seq, 10)
}

// parseID splits an ID into epoch and sequence number.
func parseID(id string) (epoch string, seq uint64, ok bool) {
	i := strings.LastIndexByte(id, '-')
	if i <= 0 {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(id[i+1:], 10, 64)
	if err != nil {
		return "", 0, false
	}
	return id[:i], seq, true
}

// entry is one published event, encoded once and shared read-only by all
// subscribers.
type entry struct {
	seq  uint64
	wire []byte
}

// topic holds a ring of the most recent entries and the live subscribers.
// Publishing is serialised by mu; subscribers read the ring without locks
// (each slot is an atomic pointer, and an entry's seq tells whether the slot
// still holds the wanted event).
type topic struct {
	name string
	hub  *Hub

	head  atomic.Uint64 // seq of the newest entry; 0 before the first
	slots []atomic.Pointer[entry]

	mu   sync.Mutex
	subs map[*subscriber]struct{}
	dead bool // removed from hub.topics
}

// get returns the entry with the given seq, or nil if the ring no longer
// (or does not yet) hold it.
func (t *topic) get(seq uint64) *entry {
	e := t.slots[seq%uint64(len(t.slots))].Load()
	if e == nil || e.seq != seq {
		return nil
	}
	return e
}

func (t *topic) publish(e sse.Event) (sse.Event, bool, error) {
	h := t.hub
	t.mu.Lock()
	if t.dead {
		t.mu.Unlock()
		return sse.Event{}, false, nil
	}
	seq := t.head.Load() + 1
	e.ID = h.formatID(seq)
	wire, err := sse.AppendEvent(nil, e)
	if err != nil {
		t.mu.Unlock()
		return sse.Event{}, false, fmt.Errorf("failed to encode event: %w", err)
	}
	t.slots[seq%uint64(len(t.slots))].Store(&entry{seq: seq, wire: wire})
	t.head.Store(seq)
	var evicted []*subscriber
	for s := range t.subs {
		if s.lagging(seq) {
			delete(t.subs, s)
			evicted = append(evicted, s)
			continue
		}
		s.wake()
	}
	t.mu.Unlock()
	h.published.Add(1)
	for _, s := range evicted {
		s.evict(seq)
	}
	return e, true, nil
}

// gap describes why a resume could not be served from history.
type gap struct {
	requested string
	reason    string // "epoch", "evicted", "ahead" or "invalid"
}

// subscribe registers s on the topic and positions its cursor after the
// event named by lastID (or at the newest event when lastID is empty). When
// history does not cover lastID, the cursor is put before the oldest event
// still held and a gap is returned.
func (h *Hub) subscribe(topicName, lastID string, s *subscriber) (*gap, error) {
	if err := checkTopic(topicName); err != nil {
		return nil, err
	}
	for {
		t, err := h.topic(topicName)
		if err != nil {
			return nil, err
		}
		t.mu.Lock()
		if t.dead {
			t.mu.Unlock()
			continue
		}
		head := t.head.Load()
		first := head - min(head, h.history) // cursor that replays all history
		cursor, g := head, (*gap)(nil)
		if lastID != "" {
			epoch, seq, ok := parseID(lastID)
			switch {
			case !ok:
				g = &gap{reason: "invalid"}
			case epoch != h.epoch:
				g = &gap{reason: "epoch"}
			case seq > head:
				g = &gap{reason: "ahead"}
			case seq < first:
				g = &gap{reason: "evicted"}
			default:
				cursor = seq
			}
			if g != nil {
				g.requested = lastID
				cursor = first
			}
		}
		s.t = t
		s.start = head
		s.cursor.Store(cursor)
		t.subs[s] = struct{}{}
		t.mu.Unlock()
		h.subscribers.Add(1)
		return g, nil
	}
}

// unsubscribe removes s from its topic (if still there) and ends it.
func (t *topic) unsubscribe(s *subscriber, reason string) {
	t.mu.Lock()
	_, present := t.subs[s]
	delete(t.subs, s)
	empty := len(t.subs) == 0 && t.head.Load() == 0
	t.mu.Unlock()
	if present {
		t.hub.subscribers.Add(-1)
	}
	s.end(reason)
	if empty {
		t.hub.maybeRemove(t)
	}
}

// endAll ends every subscriber of the topic.
func (t *topic) endAll(reason string) {
	t.mu.Lock()
	subs := make([]*subscriber, 0, len(t.subs))
	for s := range t.subs {
		subs = append(subs, s)
	}
	clear(t.subs)
	t.mu.Unlock()
	t.hub.subscribers.Add(-int64(len(subs)))
	for _, s := range subs {
		s.end(reason)
	}
}
