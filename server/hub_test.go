package server

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/eventwire/eventwire/protocol/sse"
)

// testSub returns a handler-mode subscriber, as serveStream makes.
func testSub() *subscriber {
	return &subscriber{remote: "test", done: make(chan struct{}), notify: make(chan struct{}, 1)}
}

// pending returns the IDs the subscriber would write next, and advances it.
func pending(t *testing.T, s *subscriber) []uint64 {
	t.Helper()
	var seqs []uint64
	for {
		batch, ok := s.next(make([]*entry, 0, 8), 1<<20)
		if !ok {
			t.Fatal("subscriber lagged out of the ring")
		}
		if len(batch) == 0 {
			return seqs
		}
		for _, e := range batch {
			seqs = append(seqs, e.seq)
		}
		s.cursor.Store(batch[len(batch)-1].seq)
	}
}

func TestHubIDs(t *testing.T) {
	h := NewHub(HubOptions{Logger: testLogger(t)})
	defer h.Close()
	if len(h.Epoch()) != 12 {
		t.Errorf("epoch %q: want 12 hex digits", h.Epoch())
	}
	if h2 := NewHub(HubOptions{}); h2.Epoch() == h.Epoch() {
		t.Errorf("two hubs share the random epoch %q", h.Epoch())
	}
	for i := 1; i <= 3; i++ {
		for _, topic := range []string{"a", "b"} {
			e, err := h.Publish(topic, sse.Event{Data: "x", ID: "ignored"})
			if err != nil {
				t.Fatal(err)
			}
			if want := h.Epoch() + "-" + strconv.Itoa(i); e.ID != want {
				t.Errorf("topic %s event %d: ID %q, want %q (seq per topic from 1)", topic, i, e.ID, want)
			}
			epoch, seq, ok := parseID(e.ID)
			if !ok || epoch != h.Epoch() || seq != uint64(i) {
				t.Errorf("parseID(%q) = %q, %d, %v", e.ID, epoch, seq, ok)
			}
		}
	}
	fixed := NewHub(HubOptions{Epoch: "v1.prod_2"})
	if id := publish(t, fixed, "t", "", "x"); id != "v1.prod_2-1" {
		t.Errorf("fixed epoch: ID %q", id)
	}
}

func TestHubInvalidEpochPanics(t *testing.T) {
	for _, epoch := range []string{"a-b", "a\nb", strings.Repeat("x", MaxEpochLength+1), "é"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewHub(Epoch: %q) did not panic", epoch)
				}
			}()
			NewHub(HubOptions{Epoch: epoch})
		}()
	}
}

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		id    string
		epoch string
		seq   uint64
		ok    bool
	}{
		{"abc-1", "abc", 1, true},
		{"abc-0", "abc", 0, true},
		{"a-b-12", "a-b", 12, true},
		{"abc", "", 0, false},
		{"-5", "", 0, false},
		{"abc-", "", 0, false},
		{"abc-+1", "", 0, false},
		{"abc-x", "", 0, false},
		{"abc-99999999999999999999999", "", 0, false},
	} {
		epoch, seq, ok := parseID(tc.id)
		if epoch != tc.epoch || seq != tc.seq || ok != tc.ok {
			t.Errorf("parseID(%q) = %q, %d, %v; want %q, %d, %v", tc.id, epoch, seq, ok, tc.epoch, tc.seq, tc.ok)
		}
	}
}

func TestHubPublishErrors(t *testing.T) {
	h := NewHub(HubOptions{Logger: testLogger(t)})
	if _, err := h.Publish("", sse.Event{}); !errors.Is(err, ErrInvalidTopic) {
		t.Errorf("empty topic: %v", err)
	}
	if _, err := h.Publish(strings.Repeat("t", MaxTopicLength+1), sse.Event{}); !errors.Is(err, ErrInvalidTopic) {
		t.Errorf("long topic: %v", err)
	}
	if _, err := h.Publish("t", sse.Event{Type: "a\nb"}); !errors.Is(err, sse.ErrInvalidType) {
		t.Errorf("bad type: %v", err)
	}
	// A failed publish consumes no sequence number.
	if id := publish(t, h, "t", "", "x"); id != h.Epoch()+"-1" {
		t.Errorf("ID after a failed publish: %q", id)
	}
	h.Close()
	h.Close()
	if _, err := h.Publish("t", sse.Event{}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if _, err := h.subscribe("t", "", testSub()); !errors.Is(err, ErrClosed) {
		t.Errorf("subscribe after Close: %v", err)
	}
}

func TestHubOrderingConcurrentPublishers(t *testing.T) {
	h := NewHub(HubOptions{SubscriberBuffer: 10000, Logger: testLogger(t)})
	defer h.Close()
	s := testSub()
	if _, err := h.subscribe("t", "", s); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for p := 0; p < 4; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if _, err := h.Publish("t", sse.Event{Data: fmt.Sprint(p, i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	seqs := pending(t, s)
	if len(seqs) != 2000 {
		t.Fatalf("got %d events, want 2000", len(seqs))
	}
	for i, seq := range seqs {
		if seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d: out of order", i, seq)
		}
	}
	select {
	case <-s.notify:
	default:
		t.Error("subscriber was not woken")
	}
}

func TestHubHistoryRing(t *testing.T) {
	h := NewHub(HubOptions{HistorySize: 5, SubscriberBuffer: 2, Logger: testLogger(t)})
	defer h.Close()
	for i := 0; i < 12; i++ {
		publish(t, h, "t", "", "x")
	}
	// Events 8..12 are held; resuming after 7..12 needs no gap.
	for after := uint64(7); after <= 12; after++ {
		s := testSub()
		g, err := h.subscribe("t", h.formatID(after), s)
		if err != nil || g != nil {
			t.Fatalf("resume after %d: gap %+v, err %v", after, g, err)
		}
		got := pending(t, s)
		if len(got) != int(12-after) || len(got) > 0 && got[0] != after+1 {
			t.Errorf("resume after %d: replayed %v", after, got)
		}
		s.t.unsubscribe(s, "test")
	}
	// Event 7 was evicted from the ring: a gap, then all that is held.
	s := testSub()
	g, err := h.subscribe("t", h.formatID(6), s)
	if err != nil || g == nil || g.reason != "evicted" {
		t.Fatalf("resume after 6: gap %+v, err %v", g, err)
	}
	if got := pending(t, s); fmt.Sprint(got) != "[8 9 10 11 12]" {
		t.Errorf("after gap: replayed %v", got)
	}
}

func TestHubGapReasons(t *testing.T) {
	h := NewHub(HubOptions{HistorySize: 3, Epoch: "e1", Logger: testLogger(t)})
	defer h.Close()
	for i := 0; i < 4; i++ {
		publish(t, h, "t", "", "x")
	}
	for _, tc := range []struct {
		lastID, reason string
	}{
		{"", ""},
		{"e1-4", ""},
		{"e1-1", ""},
		{"e1-0", "evicted"},
		{"e0-4", "epoch"},
		{"e1-5", "ahead"},
		{"garbage", "invalid"},
		{"e1-x", "invalid"},
	} {
		s := testSub()
		g, err := h.subscribe("t", tc.lastID, s)
		if err != nil {
			t.Fatal(err)
		}
		reason := ""
		if g != nil {
			reason = g.reason
			if g.requested != tc.lastID {
				t.Errorf("%q: gap echoes %q", tc.lastID, g.requested)
			}
			if c := s.cursor.Load(); c != 1 {
				t.Errorf("%q: cursor %d after gap, want 1 (before the oldest held event)", tc.lastID, c)
			}
		}
		if reason != tc.reason {
			t.Errorf("Last-Event-ID %q: gap reason %q, want %q", tc.lastID, reason, tc.reason)
		}
		s.t.unsubscribe(s, "test")
	}
}

func TestHubSlowSubscriberEvicted(t *testing.T) {
	h := NewHub(HubOptions{HistorySize: 4, SubscriberBuffer: 3, Logger: testLogger(t)})
	defer h.Close()
	slow, fast := testSub(), testSub()
	for _, s := range []*subscriber{slow, fast} {
		if _, err := h.subscribe("t", "", s); err != nil {
			t.Fatal(err)
		}
	}
	// Nobody reads slow; Publish must neither block nor lose fast.
	for i := 0; i < 100; i++ {
		publish(t, h, "t", "", "x")
		pending(t, fast)
	}
	select {
	case <-slow.done:
	default:
		t.Fatal("slow subscriber not evicted")
	}
	if !strings.HasPrefix(slow.reason, "evicted") {
		t.Errorf("reason %q", slow.reason)
	}
	select {
	case <-fast.done:
		t.Fatal("fast subscriber evicted")
	default:
	}
	st := h.Stats()
	if st.Evicted != 1 || st.Subscribers != 1 || st.Published != 100 || st.Topics != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestHubReplayNotEvictedWhileCatchingUp(t *testing.T) {
	// A subscriber replaying a long history is not too slow: only events
	// published after it joined count against SubscriberBuffer.
	h := NewHub(HubOptions{HistorySize: 100, SubscriberBuffer: 2, Logger: testLogger(t)})
	defer h.Close()
	for i := 0; i < 50; i++ {
		publish(t, h, "t", "", "x")
	}
	s := testSub()
	if _, err := h.subscribe("t", h.formatID(0), s); err != nil {
		t.Fatal(err)
	}
	publish(t, h, "t", "", "x")
	publish(t, h, "t", "", "x")
	select {
	case <-s.done:
		t.Fatal("replaying subscriber evicted")
	default:
	}
	if got := pending(t, s); len(got) != 52 {
		t.Errorf("got %d events", len(got))
	}
	publish(t, h, "t", "", "x")
	publish(t, h, "t", "", "x")
	select {
	case <-s.done:
		t.Fatal("evicted with 2 events pending, SubscriberBuffer 2")
	default:
	}
	publish(t, h, "t", "", "x")
	select {
	case <-s.done:
	default:
		t.Fatal("not evicted with 3 events pending, SubscriberBuffer 2")
	}
}

func TestHubDisconnectAndEmptyTopics(t *testing.T) {
	h := NewHub(HubOptions{Logger: testLogger(t)})
	defer h.Close()
	a, b := testSub(), testSub()
	h.subscribe("t", "", a)
	h.subscribe("u", "", b)
	h.Disconnect("t")
	h.Disconnect("nonexistent")
	select {
	case <-a.done:
	default:
		t.Fatal("Disconnect did not end the stream")
	}
	select {
	case <-b.done:
		t.Fatal("Disconnect ended another topic's stream")
	default:
	}
	// Topics without events vanish with their last subscriber.
	b.t.unsubscribe(b, "test")
	if st := h.Stats(); st.Subscribers != 0 {
		t.Errorf("stats %+v", st)
	}
	c := testSub()
	h.subscribe("v", "", c)
	publish(t, h, "v", "", "x")
	c.t.unsubscribe(c, "test")
	h.mu.RLock()
	_, hasU := h.topics["u"]
	_, hasV := h.topics["v"]
	h.mu.RUnlock()
	if hasU || !hasV {
		t.Errorf("topics: u kept %v (want false), v kept %v (want true)", hasU, hasV)
	}
}

func BenchmarkBroadcast10k(b *testing.B) {
	h := NewHub(HubOptions{SubscriberBuffer: 1 << 20})
	defer h.Close()
	subs := make([]*subscriber, 10000)
	for i := range subs {
		subs[i] = testSub()
		h.subscribe("t", "", subs[i])
	}
	b.ReportAllocs()
	for b.Loop() {
		h.Publish("t", sse.Event{Data: "0123456789abcdef"})
		for _, s := range subs {
			select {
			case <-s.notify:
			default:
			}
			s.cursor.Store(s.t.head.Load())
		}
	}
}
