package batchsocket

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventwire/eventwire/protocol/batch"
	"github.com/eventwire/eventwire/wasm/internal/clock/clocktest"
)

func TestHelloThenBatchesThenAck(t *testing.T) {
	r := newRig(t, nil, nil)
	mustPush(t, r.s, "m1", "m2") // before Start: held
	r.s.Start()
	if r.tr.numConns() != 1 {
		t.Fatal("no dial")
	}
	c := r.tr.conn(0)
	if len(c.frames()) != 0 {
		t.Fatal("frames before open")
	}
	c.ev.Open()
	if ev := r.sink.Events(); !slices.Equal(ev, []string{"open websocket"}) {
		t.Fatalf("events %v", ev)
	}
	fs := c.frames()
	if len(fs) != 2 {
		t.Fatalf("frames %d", len(fs))
	}
	h, err := batch.DecodeHello(fs[0])
	if err != nil || h.Session != sess(1) || h.Acked != 0 || h.Received != 0 {
		t.Fatalf("hello %+v %v", h, err)
	}
	b := decodeBatch(t, fs[1])
	if b.Session != sess(1) || b.Acked != 0 || b.FirstSeq != 1 || !slices.Equal(batchMsgs(b), []string{"m1", "m2"}) {
		t.Fatalf("batch %+v %v", b, batchMsgs(b))
	}
	if last := mustPush(t, r.s, "m3"); last != 3 {
		t.Fatalf("last %d", last)
	}
	b = decodeBatch(t, c.frames()[2])
	if b.FirstSeq != 3 || !slices.Equal(batchMsgs(b), []string{"m3"}) {
		t.Fatalf("pipelined batch %+v", b)
	}
	st := r.s.Stats()
	if st.InFlight != 3 || st.Queued != 0 || st.Batches != 2 || st.State != Open || st.Transport != KindWebSocket || st.LastSeq != 3 {
		t.Fatalf("stats %+v", st)
	}
	c.ev.Message(batch.AppendAck(nil, batch.Ack{Seq: 2}), true)
	st = r.sink.last()
	if st.Acked != 2 || st.AckedSeq != 2 || st.InFlight != 1 || st.HeldBytes != 3 {
		t.Fatalf("after ack 2: %+v", st)
	}
	// The next frame says what the client knows is acknowledged.
	mustPush(t, r.s, "m4")
	if b := decodeBatch(t, c.frames()[3]); b.Acked != 2 || b.FirstSeq != 4 {
		t.Fatalf("acked field %d first %d", b.Acked, b.FirstSeq)
	}
	// An ACK above what was sent is a protocol error: reconnect.
	c.ev.Message(batch.AppendAck(nil, batch.Ack{Seq: 9}), true)
	if !c.isClosed() || !slices.Contains(r.sink.Events(), "error protocol error") {
		t.Fatalf("ACK 9: closed %v events %v", c.isClosed(), r.sink.Events())
	}
	if c.code != codeProtocol {
		t.Fatalf("close code %d", c.code)
	}
}

func TestPushValidation(t *testing.T) {
	r := newRig(t, nil, func(o *Options) { o.MaxMessageSize = 4 })
	if _, err := r.s.Push(pack("12345"), 1); err != ErrBadChunk {
		t.Fatalf("too big: %v", err)
	}
	if _, err := r.s.Push(pack("1", "2"), 3); err != ErrBadChunk {
		t.Fatalf("count: %v", err)
	}
	if last, err := r.s.Push(nil, 0); err != nil || last != 0 {
		t.Fatalf("empty: %d %v", last, err)
	}
	r.s.Close(1000, "")
	if _, err := r.s.Push(pack("1"), 1); err != ErrClosed {
		t.Fatalf("after close: %v", err)
	}
}

func TestResendAfterReconnect(t *testing.T) {
	r := newRig(t, nil, nil)
	r.s.Start()
	c := r.tr.conn(0)
	c.ev.Open()
	mustPush(t, r.s, msgRange("m", 1, 6)...)
	c.ev.Message(batch.AppendAck(nil, batch.Ack{Seq: 2}), true)
	mustPush(t, r.s, "m6")
	c.serverClose(codeNoClose, "")
	if ev := r.sink.Events(); ev[len(ev)-1] != "close 1006" {
		t.Fatalf("events %v", ev)
	}
	if st := r.s.Stats(); st.State != Connecting || st.Queued != 4 || st.InFlight != 0 {
		t.Fatalf("stats after loss %+v", st)
	}
	// Full jitter: the first wait is Rand·1s.
	if p := r.clock.Pending(); len(p) != 1 || p[0] != 500*time.Millisecond {
		t.Fatalf("pending %v", p)
	}
	mustPush(t, r.s, "m7") // while disconnected
	r.clock.Advance(500 * time.Millisecond)
	c2 := r.tr.conn(1)
	c2.ev.Open()
	fs := c2.frames()
	h, _ := batch.DecodeHello(fs[0])
	if h.Acked != 2 {
		t.Fatalf("hello acked %d", h.Acked)
	}
	b := decodeBatch(t, fs[1])
	if b.Acked != 2 || b.FirstSeq != 3 || !slices.Equal(batchMsgs(b), []string{"m3", "m4", "m5", "m6", "m7"}) {
		t.Fatalf("resent %+v %v", b, batchMsgs(b))
	}
	if st := r.s.Stats(); st.Reconnects != 1 {
		t.Fatalf("reconnects %d", st.Reconnects)
	}
	// The HELLO's ACK trims what the server got before the cut.
	c2.ev.Message(batch.AppendAck(nil, batch.Ack{Seq: 7}), true)
	if st := r.s.Stats(); st.InFlight != 0 || st.Acked != 7 || st.HeldBytes != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestBatchLimits(t *testing.T) {
	r := newRig(t, nil, func(o *Options) { o.BatchCount = 3; o.BatchBytes = 10 })
	r.s.Start()
	c := r.tr.conn(0)
	mustPush(t, r.s, "a", "b", "c", "d", "e", "f", "g") // 2 bytes each
	mustPush(t, r.s, strings.Repeat("x", 20), "h")      // one message over BatchBytes travels alone
	c.ev.Open()
	var got [][]string
	for _, f := range c.frames()[1:] {
		got = append(got, batchMsgs(decodeBatch(t, f)))
	}
	want := [][]string{{"a", "b", "c"}, {"d", "e", "f"}, {"g"}, {strings.Repeat("x", 20)}, {"h"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("frames %v", got)
	}
}

func TestBackpressure(t *testing.T) {
	r := newRig(t, nil, nil)
	r.s.Start()
	c := r.tr.conn(0)
	c.ev.Open()
	c.mu.Lock()
	c.buffered = DefaultBufferedAmountLimit + 1
	c.mu.Unlock()
	mustPush(t, r.s, "a")
	mustPush(t, r.s, "b")
	if n := len(c.frames()); n != 1 {
		t.Fatalf("wrote %d frames over the limit", n)
	}
	if st := r.s.Stats(); st.Queued != 2 {
		t.Fatalf("queued %d", st.Queued)
	}
	r.clock.Advance(DefaultBackpressurePoll)
	if n := len(c.frames()); n != 1 {
		t.Fatal("wrote while still over")
	}
	c.mu.Lock()
	c.buffered = 0
	c.mu.Unlock()
	r.clock.Advance(DefaultBackpressurePoll)
	fs := c.frames()
	if len(fs) != 2 || !slices.Equal(batchMsgs(decodeBatch(t, fs[1])), []string{"a", "b"}) {
		t.Fatalf("after drain: %d frames", len(fs))
	}
}

func TestDropOldest(t *testing.T) {
	srv := newServer()
	r := newRig(t, nil, nil)
	r.s.Start()
	c := r.tr.conn(0)
	c.ev.Open()
	mustPush(t, r.s, "a1", "a2", "a3") // sent, not acknowledged
	c.mu.Lock()
	c.buffered = 1 << 30 // the server stopped reading
	c.mu.Unlock()
	mustPush(t, r.s, "b4", "b5")
	if n, freed := r.s.Drop(7); n != 3 || freed != 9 {
		t.Fatalf("dropped %d, %d bytes", n, freed)
	}
	if st := r.s.Stats(); st.Dropped != 3 || st.AckedSeq != 3 || st.HeldBytes != 6 || st.Queued != 2 || st.InFlight != 0 {
		t.Fatalf("stats %+v", st)
	}
	// The server never got them: the next frame's acked tells it to skip.
	r.tr.mu.Lock()
	r.tr.srv = srv
	r.tr.mu.Unlock()
	c.serverClose(codeNoClose, "")
	r.clock.Advance(time.Second)
	if got := srv.messages(sess(1)); !slices.Equal(got, []string{"b4", "b5"}) {
		t.Fatalf("delivered %v", got)
	}
	if srv.gaps != 0 {
		t.Fatal("gap")
	}
}

func TestBackoffBounds(t *testing.T) {
	var mu sync.Mutex
	rnd := 0.999
	r := newRig(t, nil, func(o *Options) {
		o.Mode = ModeWebSocket
		o.Rand = func() float64 { mu.Lock(); defer mu.Unlock(); return rnd }
	})
	r.tr.refuse = true
	r.s.Start()
	var delays []time.Duration
	for i := 0; i < 8; i++ {
		p := r.clock.Pending()
		if len(p) != 1 {
			t.Fatalf("pending %v", p)
		}
		delays = append(delays, p[0])
		r.clock.Advance(p[0])
	}
	ceil := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
	for i, d := range delays {
		c := ceil[i] * time.Second
		if d >= c || d < c*99/100 {
			t.Errorf("failure %d: delay %v, ceiling %v", i+1, d, c)
		}
	}
	mu.Lock()
	rnd = 0
	mu.Unlock()
	if d := r.s.backoff(); d != 0 {
		t.Fatalf("full jitter reaches 0: %v", d)
	}
	if ev := r.sink.Events(); ev[0] != "error connect failed" || slices.Contains(ev, "open websocket") {
		t.Fatalf("events %v", ev)
	}
}

func TestFallbackToHTTPAndBack(t *testing.T) {
	srv := newServer()
	r := newRig(t, srv, nil)
	r.tr.refuse = true
	mustPush(t, r.s, "a", "b")
	r.s.Start()
	r.clock.Advance(time.Second) // second failure before opening: fall back
	if r.tr.numConns() != 2 {
		t.Fatalf("conns %d", r.tr.numConns())
	}
	if n := r.tr.numPosts(); n != 2 {
		t.Fatalf("posts %d", n)
	}
	if p := r.tr.post(0); p.req.URL != "http://example.test/ingest" || p.req.Keepalive {
		t.Fatalf("post %+v", p.req)
	}
	if ty, _ := batch.Peek(r.tr.post(0).req.Body); ty != batch.TypeHello {
		t.Fatalf("first POST %v", ty)
	}
	if got := srv.messages(sess(1)); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("delivered %v", got)
	}
	st := r.s.Stats()
	if st.Transport != KindHTTP || st.State != Open || st.InFlight != 0 || st.Acked != 2 {
		t.Fatalf("stats %+v", st)
	}
	mustPush(t, r.s, "c")
	if got := srv.messages(sess(1)); len(got) != 3 {
		t.Fatalf("delivered %v", got)
	}
	// The WebSocket is tried again later; it works now.
	r.tr.mu.Lock()
	r.tr.refuse = false
	r.tr.mu.Unlock()
	r.clock.Advance(DefaultWebSocketRetry)
	if r.tr.numConns() != 3 {
		t.Fatalf("no retry: %d conns", r.tr.numConns())
	}
	posts := r.tr.numPosts()
	mustPush(t, r.s, "d")
	if r.tr.numPosts() != posts {
		t.Fatal("still posting")
	}
	if got := srv.messages(sess(1)); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("delivered %v", got)
	}
	if st := r.s.Stats(); st.Transport != KindWebSocket || st.Reconnects != 1 {
		t.Fatalf("stats %+v", st)
	}
	if ev := r.sink.Events(); !slices.Equal(ev, []string{"error connect failed", "error connect failed", "open http", "open websocket"}) {
		t.Fatalf("events %v", ev)
	}
}

func TestNoWebSocket(t *testing.T) {
	srv := newServer()
	r := newRig(t, srv, func(o *Options) { o.FallbackURL = "https://other.test/post" })
	r.tr.noWS = true
	r.s.Start()
	mustPush(t, r.s, "x")
	if got := srv.messages(sess(1)); !slices.Equal(got, []string{"x"}) {
		t.Fatalf("delivered %v", got)
	}
	if r.tr.post(0).req.URL != "https://other.test/post" {
		t.Fatal("fallback URL")
	}
	r.clock.Advance(time.Hour)
	if r.tr.numConns() != 0 {
		t.Fatal("retried a missing WebSocket")
	}
	// ModeWebSocket without a WebSocket fails for good.
	r2 := newRig(t, srv, func(o *Options) { o.Mode = ModeWebSocket })
	r2.tr.noWS = true
	r2.s.Start()
	if ev := r2.sink.Events(); !slices.Equal(ev, []string{"error connect failed final", "close 0 final"}) {
		t.Fatalf("events %v", ev)
	}
}

func TestHTTPFailures(t *testing.T) {
	srv := newServer()
	r := newRig(t, srv, func(o *Options) { o.Mode = ModeHTTP })
	r.s.Start()
	mustPush(t, r.s, "a")
	r.tr.mu.Lock()
	r.tr.postErr = errors.New("network down")
	r.tr.mu.Unlock()
	mustPush(t, r.s, "b")
	if st := r.s.Stats(); st.State != Connecting || st.Queued != 1 {
		t.Fatalf("stats %+v", st)
	}
	if ev := r.sink.Events(); ev[len(ev)-1] != "close 1006" {
		t.Fatalf("events %v", ev)
	}
	r.tr.mu.Lock()
	r.tr.postErr = nil
	r.tr.mu.Unlock()
	r.clock.Advance(time.Second)
	if got := srv.messages(sess(1)); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("delivered %v", got)
	}
	// A server whose Sink fails acknowledges less: back off, do not spin.
	srv.mu.Lock()
	srv.ackLess = 1
	srv.mu.Unlock()
	n := r.tr.numPosts()
	mustPush(t, r.s, "c")
	if r.tr.numPosts() != n+1 {
		t.Fatalf("posts %d → %d", n, r.tr.numPosts())
	}
	if p := r.clock.Pending(); len(p) == 0 {
		t.Fatal("no backoff")
	}
	// A 403 with a CLOSE frame is final.
	r.tr.mu.Lock()
	r.tr.srv = nil
	r.tr.mu.Unlock()
	r.clock.Advance(time.Second)
	p := r.tr.post(-1)
	p.done(PostResult{Status: 403, Body: batch.AppendClose(nil, batch.Close{Code: batch.CodePolicy, Reason: "origin"})})
	if ev := r.sink.Events(); ev[len(ev)-1] != "close 1008 final" {
		t.Fatalf("events %v", ev)
	}
}

func TestPostTimeout(t *testing.T) {
	r := newRig(t, nil, func(o *Options) { o.Mode = ModeHTTP })
	r.s.Start()
	p := r.tr.post(0)
	r.clock.Advance(DefaultPostTimeout)
	if !p.aborted {
		t.Fatal("not aborted")
	}
	r.clock.Advance(time.Second)
	if r.tr.numPosts() != 2 {
		t.Fatal("no retry")
	}
	p.done(PostResult{Status: 200, Body: batch.AppendAck(nil, batch.Ack{})}) // late: ignored
	if st := r.s.Stats(); st.State != Connecting {
		t.Fatalf("state %v", st.State)
	}
}

func TestFinalCloseCodes(t *testing.T) {
	for _, code := range []int{1000, 1003, 1008, 4000, 4001} {
		r := newRig(t, nil, nil)
		r.s.Start()
		c := r.tr.conn(0)
		c.ev.Open()
		c.serverClose(code, "bye")
		if ev := r.sink.Events(); ev[len(ev)-1] != "close "+strconv.Itoa(code)+" final" {
			t.Fatalf("%d: events %v", code, ev)
		}
		if _, err := r.s.Push(pack("x"), 1); err != ErrClosed {
			t.Fatalf("%d: push after final close: %v", code, err)
		}
		if p := r.clock.Pending(); len(p) != 0 {
			t.Fatalf("%d: timers %v", code, p)
		}
	}
	// 1013: back off longer; 1009: smaller frames.
	r := newRig(t, nil, nil)
	r.s.Start()
	c := r.tr.conn(0)
	c.ev.Open()
	c.serverClose(1013, "busy")
	if p := r.clock.Pending(); len(p) != 1 || p[0] != 2*time.Second {
		t.Fatalf("1013 backoff %v", p)
	}
	r.clock.Advance(2 * time.Second)
	c = r.tr.conn(1)
	c.ev.Open()
	c.serverClose(1009, "too big")
	if r.s.limBytes != DefaultBatchBytes/2 || r.s.limCount != DefaultBatchCount/2 {
		t.Fatalf("limits %d %d", r.s.limBytes, r.s.limCount)
	}
}

func TestOnlineOffline(t *testing.T) {
	r := newRig(t, nil, nil)
	r.s.SetOnline(false)
	r.s.Start()
	if r.tr.numConns() != 0 {
		t.Fatal("dialed while offline")
	}
	r.s.SetOnline(true)
	c := r.tr.conn(0)
	c.ev.Open()
	r.s.SetOnline(false) // an open connection is kept
	if c.isClosed() {
		t.Fatal("closed on offline")
	}
	c.serverClose(codeNoClose, "")
	r.clock.Advance(time.Minute)
	if r.tr.numConns() != 1 {
		t.Fatal("reconnected while offline")
	}
	r.s.SetOnline(true)
	if r.tr.numConns() != 2 {
		t.Fatal("no reconnection when online")
	}
}

func TestHeartbeat(t *testing.T) {
	r := newRig(t, nil, nil)
	r.s.Start()
	c := r.tr.conn(0)
	c.ev.Open()
	c.ev.Message(batch.AppendAck(nil, batch.Ack{}), true)
	mustPush(t, r.s, "a")
	c.ev.Message(batch.AppendAck(nil, batch.Ack{Seq: 1}), true)
	r.clock.Advance(DefaultHeartbeatInterval)
	fs := c.frames()
	b := decodeBatch(t, fs[len(fs)-1])
	if b.Messages.Len() != 0 || b.Acked != 1 || b.FirstSeq != 2 {
		t.Fatalf("heartbeat %+v", b)
	}
	c.ev.Message(batch.AppendAck(nil, batch.Ack{Seq: 1}), true)
	// A server that answers heartbeats keeps the connection.
	srv := newServer()
	r.tr.mu.Lock()
	r.tr.srv = srv
	r.tr.mu.Unlock()
	r.clock.Advance(10 * DefaultHeartbeatInterval)
	if c.isClosed() {
		t.Fatal("gave up a live connection")
	}
	// No reply to anything for three intervals: dead.
	r.tr.mu.Lock()
	r.tr.srv = nil
	r.tr.mu.Unlock()
	r.clock.Advance(4 * DefaultHeartbeatInterval)
	if !c.isClosed() || c.code != codeTimeout {
		t.Fatalf("closed %v code %d", c.isClosed(), c.code)
	}
	if ev := r.sink.Events(); !slices.Contains(ev, "error heartbeat timeout") {
		t.Fatalf("events %v", ev)
	}
}

func TestPushFromServer(t *testing.T) {
	r := newRig(t, nil, nil)
	r.s.Start()
	c := r.tr.conn(0)
	c.ev.Open()
	push := func(acked, first uint64, msgs ...string) {
		var w batch.Writer
		w.StartPush(nil, acked, first)
		for _, m := range msgs {
			w.AddString(m)
		}
		c.ev.Message(w.Bytes(), true)
	}
	lastAck := func() uint64 {
		fs := c.frames()
		a, err := batch.DecodeAck(fs[len(fs)-1])
		if err != nil {
			t.Fatal(err)
		}
		return a.Seq
	}
	push(0, 1, "p1", "p2")
	push(0, 2, "p2", "p3") // resent prefix
	push(0, 6, "p6")       // gap: refused
	if lastAck() != 3 {
		t.Fatalf("ack %d", lastAck())
	}
	push(3, 4, "p4")
	if !slices.Equal(r.sink.msgs, []string{"p1", "p2", "p3", "p4"}) {
		t.Fatalf("messages %v", r.sink.msgs)
	}
	c.serverClose(codeNoClose, "")
	r.clock.Advance(time.Second)
	c = r.tr.conn(1)
	c.ev.Open()
	if h, _ := batch.DecodeHello(c.frames()[0]); h.Received != 4 {
		t.Fatalf("hello received %d", h.Received)
	}
}

func TestFlushTail(t *testing.T) {
	r := newRig(t, nil, func(o *Options) { o.KeepaliveBytes = 200 })
	r.s.Start()
	c := r.tr.conn(0)
	c.ev.Open()
	mustPush(t, r.s, msgRange("m", 10, 60)...) // 50 × 4 bytes
	c.ev.Message(batch.AppendAck(nil, batch.Ack{Seq: 5}), true)
	r.s.FlushTail()
	p := r.tr.post(0)
	if !p.req.Keepalive || len(p.req.Body) > 200 {
		t.Fatalf("keepalive %v size %d", p.req.Keepalive, len(p.req.Body))
	}
	b := decodeBatch(t, p.req.Body)
	if b.Acked != 5 || b.FirstSeq != 6 || b.Messages.Len() < 35 {
		t.Fatalf("tail %+v", b)
	}
	// The WebSocket's progress is unchanged; the tail's ACK counts.
	if st := r.s.Stats(); st.InFlight != 45 {
		t.Fatalf("in flight %d", st.InFlight)
	}
	p.done(PostResult{Status: 200, Body: batch.AppendAck(nil, batch.Ack{Seq: b.LastSeq()})})
	if st := r.s.Stats(); st.AckedSeq != b.LastSeq() {
		t.Fatalf("acked %d", st.AckedSeq)
	}
	// Nothing held: nothing sent.
	c.ev.Message(batch.AppendAck(nil, batch.Ack{Seq: 50}), true)
	r.s.FlushTail()
	if r.tr.numPosts() != 1 {
		t.Fatal("empty tail sent")
	}
}

func TestCloseIsFinal(t *testing.T) {
	r := newRig(t, nil, nil)
	r.s.Start()
	c := r.tr.conn(0)
	c.ev.Open()
	r.s.Close(4100, "done")
	if !c.isClosed() || c.code != 4100 || c.reason != "done" {
		t.Fatalf("conn close %v %d %q", c.isClosed(), c.code, c.reason)
	}
	c.serverClose(1000, "") // late events are ignored
	if ev := r.sink.Events(); !slices.Equal(ev, []string{"open websocket", "close 4100 final"}) {
		t.Fatalf("events %v", ev)
	}
	if st := r.sink.last(); st.State != Closed {
		t.Fatalf("state %v", st.State)
	}
}

// TestExactlyOnceAcrossReconnects pushes messages from two goroutines while
// the connection is cut at random, sometimes over HTTP, and checks that the
// server received every message once and in order.
func TestExactlyOnceAcrossReconnects(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) { exactlyOnce(t, seed) })
	}
}

func exactlyOnce(t *testing.T, seed uint64) {
	srv := newServer()
	rng := rand.New(rand.NewPCG(seed, 2))
	var rmu sync.Mutex
	r := newRig(t, srv, func(o *Options) {
		o.BatchCount = 7
		o.Rand = func() float64 { rmu.Lock(); defer rmu.Unlock(); return rng.Float64() }
	})
	r.s.Start()
	const perWriter = 3000
	var wg sync.WaitGroup
	var pushed sync.Map
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prefix := string(rune('a' + w))
			for i := 0; i < perWriter; i += 5 {
				msgs := msgRange(prefix, i, i+5)
				last, err := r.s.Push(pack(msgs...), 5)
				if err != nil {
					t.Error(err)
					return
				}
				for j, m := range msgs {
					pushed.Store(last-4+uint64(j), m)
				}
			}
		}()
	}
	cut := func() {
		if r.tr.numConns() > 0 {
			if c := r.tr.conn(-1); !c.isClosed() {
				c.serverClose(codeNoClose, "")
			}
		}
	}
	for i := 0; i < 1000; i++ {
		rmu.Lock()
		x := rng.IntN(int(4 + seed*2))
		rmu.Unlock()
		switch x {
		case 0:
			cut()
		case 1:
			r.s.FlushTail()
		case 2: // the WebSocket stops working for a while: HTTP takes over
			r.tr.mu.Lock()
			r.tr.refuse = !r.tr.refuse
			r.tr.mu.Unlock()
		}
		r.clock.Advance(100 * time.Millisecond)
	}
	wg.Wait()
	r.tr.mu.Lock()
	r.tr.refuse = false
	r.tr.mu.Unlock()
	for i := 0; i < 100 && r.s.Stats().AckedSeq < 2*perWriter; i++ {
		r.clock.Advance(time.Second)
	}
	got := srv.messages(sess(1))
	if len(got) != 2*perWriter {
		t.Fatalf("delivered %d of %d (stats %+v)", len(got), 2*perWriter, r.s.Stats())
	}
	for i, m := range got {
		want, _ := pushed.Load(uint64(i + 1))
		if m != want {
			t.Fatalf("message %d is %q, want %q", i+1, m, want)
		}
	}
	st := r.s.Stats()
	if st.Acked != 2*perWriter || st.HeldBytes != 0 || st.Reconnects == 0 {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("reconnects %d, duplicates skipped by the server %d, frames %d, POSTs %d", st.Reconnects, srv.dups, st.Batches, r.tr.numPosts())
}

func TestTextFrameIsAProtocolError(t *testing.T) {
	r := newRig(t, nil, nil)
	r.s.Start()
	c := r.tr.conn(0)
	c.ev.Open()
	c.ev.Message([]byte("hello"), false)
	if !c.isClosed() || c.code != codeProtocol {
		t.Fatalf("closed %v code %d", c.isClosed(), c.code)
	}
	if ev := r.sink.Events(); !slices.Contains(ev, "error protocol error") || ev[len(ev)-1] != "close 1002" {
		t.Fatalf("events %v", ev)
	}
	r.clock.Advance(time.Second)
	if r.tr.numConns() != 2 {
		t.Fatal("no reconnection")
	}
}

type panicSink struct{ fakeSink }

func (*panicSink) Open(Kind) { panic("boom") }

func TestPanicGoesToOnPanic(t *testing.T) {
	var got any
	clock := clocktest.New(time.Hour)
	tr := &fakeTransport{srv: newServer()}
	s := New(Options{URL: "ws://x", FallbackURL: "http://x", Session: sess(1), Clock: clock,
		OnPanic: func(v any) { got = v }}, tr, &panicSink{})
	s.Start() // Dial opens at once: Sink.Open panics
	if got != "boom" {
		t.Fatalf("OnPanic got %v", got)
	}
	if _, err := s.Push(pack("x"), 1); err != ErrClosed {
		t.Fatalf("push after panic: %v", err)
	}
	if p := clock.Pending(); len(p) != 0 {
		t.Fatalf("timers left %v", p)
	}
	if !tr.conn(0).isClosed() {
		t.Fatal("connection left open")
	}
}
