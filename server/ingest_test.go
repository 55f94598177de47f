package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/eventwire/eventwire/protocol/batch"
)

func TestIngestHandshakeAndBatch(t *testing.T) {
	h, sink, ts := newIngest(t, IngestOptions{})
	s := sid(1)
	c := dial(t, ts, nil)
	c.send(helloFrame(s, 0, 0))
	c.ack(0)
	c.send(batchFrame(s, 0, 1, 3))
	c.ack(3)
	var w batch.Writer
	w.StartBatch(nil, s, 3, 4)
	w.Add([]byte{0, 0xff}, true)
	w.AddString("")
	c.send(w.Bytes())
	c.ack(5)
	rs := sink.Session(s)
	if len(rs) != 5 || string(rs[2].Data) != "m3" || !rs[3].Binary || string(rs[3].Data) != "\x00\xff" || rs[4].Seq != 5 || rs[4].Binary {
		t.Errorf("records %+v", rs)
	}
	// An empty BATCH is a heartbeat: it gets an ACK.
	c.send(batchFrame(s, 5, 6, 5))
	c.ack(5)
	st := h.Stats()
	if st.Connections != 1 || st.Sessions != 1 || st.Messages != 5 || st.Frames != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestIngestOrigin(t *testing.T) {
	t.Run("same origin only by default", func(t *testing.T) {
		_, _, ts := newIngest(t, IngestOptions{})
		_, resp, err := dialRaw(ts, http.Header{"Origin": {"http://evil.test"}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-origin WebSocket: %v %v", err, resp)
		}
		dial(t, ts, http.Header{"Origin": {ts.URL}}) // same origin
		dial(t, ts, nil)                             // no Origin: not a browser
		st, _, cl := post(t, ts, "", http.Header{"Origin": {"http://evil.test"}}, batchFrame(sid(1), 0, 1, 1))
		if st != http.StatusForbidden || cl.Code != batch.CodePolicy {
			t.Errorf("cross-origin POST: %d %+v", st, cl)
		}
		if st, ack, _ := post(t, ts, "", http.Header{"Origin": {ts.URL}}, batchFrame(sid(1), 0, 1, 1)); st != 200 || ack != 1 {
			t.Errorf("same-origin POST: %d %d", st, ack)
		}
	})
	t.Run("allow-list", func(t *testing.T) {
		_, _, ts := newIngest(t, IngestOptions{OriginPatterns: []string{"*.app.test", "https://exact.test"}})
		dial(t, ts, http.Header{"Origin": {"http://www.app.test"}})
		dial(t, ts, http.Header{"Origin": {"https://exact.test"}})
		for _, o := range []string{"http://exact.test", "http://app.test.evil", "null"} {
			if _, resp, err := dialRaw(ts, http.Header{"Origin": {o}}); err == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("origin %s: %v", o, err)
			}
			if st, _, _ := post(t, ts, "", http.Header{"Origin": {o}}, batchFrame(sid(1), 0, 1, 1)); st != http.StatusForbidden {
				t.Errorf("POST from %s: %d", o, st)
			}
		}
		if st, _, _ := post(t, ts, "", http.Header{"Origin": {"http://a.app.test"}}, batchFrame(sid(1), 0, 1, 1)); st != 200 {
			t.Errorf("POST from an allowed origin: %d", st)
		}
	})
	t.Run("any", func(t *testing.T) {
		_, _, ts := newIngest(t, IngestOptions{OriginPatterns: []string{"*"}})
		dial(t, ts, http.Header{"Origin": {"http://anything.test"}})
	})
}

func TestIngestResume(t *testing.T) {
	_, sink, ts := newIngest(t, IngestOptions{})
	s := sid(1)
	c := dial(t, ts, nil)
	c.send(helloFrame(s, 0, 0))
	c.ack(0)
	c.send(batchFrame(s, 0, 1, 5))
	c.ack(5)
	c.ws.CloseNow()

	// The client did not see the ACK: it resumes from 0 and learns 5.
	c = dial(t, ts, nil)
	c.send(helloFrame(s, 0, 0))
	c.ack(5)
	// It resends its unacknowledged tail anyway (pipelined before the
	// ACK): the accepted prefix is dropped.
	c.send(batchFrame(s, 0, 1, 7))
	c.ack(7)
	checkRecords(t, sink, s, 1, 7)

	// A session the server does not know (evicted, or another instance)
	// continues from what the client knows is acknowledged.
	u := sid(2)
	c.ws.CloseNow()
	c = dial(t, ts, nil)
	c.send(helloFrame(u, 300, 0))
	c.ack(300)
	c.send(batchFrame(u, 300, 301, 302))
	c.ack(302)
	checkRecords(t, sink, u, 301, 302)
}

func TestIngestDedupe(t *testing.T) {
	h, sink, ts := newIngest(t, IngestOptions{})
	s := sid(1)
	c := dial(t, ts, nil)
	c.send(helloFrame(s, 0, 0))
	c.ack(0)
	c.send(batchFrame(s, 0, 1, 5))
	c.ack(5)
	c.send(batchFrame(s, 0, 1, 5)) // the same batch again
	c.ack(5)
	c.send(batchFrame(s, 0, 3, 8)) // overlapping, re-split
	c.ack(8)
	c.send(batchFrame(s, 0, 9, 9))
	c.ack(9)
	c.send(batchFrame(s, 0, 9, 12))
	c.ack(12)
	// A gap is never bridged: nothing is delivered, the ACK says where to
	// resume.
	c.send(batchFrame(s, 0, 20, 25))
	c.ack(12)
	checkRecords(t, sink, s, 1, 12)
	if st := h.Stats(); st.Duplicates != 5+3+1 || st.Gaps != 1 || st.Messages != 12 {
		t.Errorf("stats %+v", st)
	}
}

// TestIngestConcurrentTransports sends every frame of several sessions
// twice, over a WebSocket and over HTTP POST at the same time: each
// message must reach the Sink exactly once and in order.
func TestIngestConcurrentTransports(t *testing.T) {
	_, sink, ts := newIngest(t, IngestOptions{})
	const sessions, frames, per = 4, 40, 25
	var wg sync.WaitGroup
	for n := range sessions {
		s := sid(byte(n + 1))
		c := dial(t, ts, nil)
		c.send(helloFrame(s, 0, 0))
		c.ack(0)
		wg.Go(func() {
			for f := range uint64(frames) {
				c.send(batchFrame(s, 0, f*per+1, (f+1)*per))
				p, err := c.read()
				if err != nil {
					t.Errorf("session %d: %v", n, err)
					return
				}
				if a, err := batch.DecodeAck(p); err != nil || a.Seq < (f+1)*per {
					t.Errorf("session %d frame %d: ACK %v %v", n, f, a, err)
					return
				}
			}
		})
		wg.Go(func() {
			for f := range uint64(frames) {
				// acked 0: the HTTP sender knows nothing, so a frame that
				// overtakes the WebSocket is refused as a gap and sent again.
				for {
					st, ack, cl := post(t, ts, "text/plain;charset=UTF-8", nil, batchFrame(s, 0, f*per+1, (f+1)*per))
					if st != 200 {
						t.Errorf("session %d: POST %d %+v", n, st, cl)
						return
					}
					if ack >= (f+1)*per {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	for n := range sessions {
		checkRecords(t, sink, sid(byte(n+1)), 1, frames*per)
	}
}

// blockingSink holds every Accept until released.
type blockingSink struct {
	MemorySink
	entered chan struct{}
	release chan struct{}
}

func (b *blockingSink) Accept(ctx context.Context, s batch.SessionID, first uint64, msgs []batch.Message) error {
	b.entered <- struct{}{}
	<-b.release
	return b.MemorySink.Accept(ctx, s, first, msgs)
}

func TestIngestAckAfterSink(t *testing.T) {
	sink := &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
	_, _, ts := newIngest(t, IngestOptions{Sink: sink})
	s := sid(1)
	c := dial(t, ts, nil)
	c.send(helloFrame(s, 0, 0))
	c.ack(0)
	frames := make(chan []byte, 4)
	go func() {
		for {
			p, err := c.read()
			if err != nil {
				close(frames)
				return
			}
			frames <- p
		}
	}()
	c.send(batchFrame(s, 0, 1, 3))
	<-sink.entered
	// The ACK is only written after Accept returns.
	select {
	case p := <-frames:
		t.Fatalf("frame % x while the sink holds the batch", p)
	default:
	}
	if sink.Len() != 0 {
		t.Fatal("records before Accept returned")
	}
	close(sink.release)
	p := <-frames
	if a, err := batch.DecodeAck(p); err != nil || a.Seq != 3 || sink.Len() != 3 {
		t.Fatalf("ACK % x %v, %d records", p, err, sink.Len())
	}
}

func TestIngestSinkError(t *testing.T) {
	h, sink, ts := newIngest(t, IngestOptions{})
	s := sid(1)
	c := dial(t, ts, nil)
	c.send(helloFrame(s, 0, 0))
	c.ack(0)
	c.send(batchFrame(s, 0, 1, 2))
	c.ack(2)
	sink.SetError(errors.New("disk full"))
	c.send(batchFrame(s, 2, 3, 4))
	// No ACK for 3..4: the connection closes with 1011.
	c.closed(batch.CodeInternal, "sink failed")

	// Over HTTP: 500 with a CLOSE frame; 503 when the sink is overloaded.
	if st, _, cl := post(t, ts, "", nil, batchFrame(s, 2, 3, 4)); st != 500 || cl.Code != batch.CodeInternal {
		t.Errorf("POST with a failing sink: %d %+v", st, cl)
	}
	sink.SetError(ErrSinkOverloaded)
	if st, _, cl := post(t, ts, "", nil, batchFrame(s, 2, 3, 4)); st != 503 || cl.Code != batch.CodeTryAgain {
		t.Errorf("POST with an overloaded sink: %d %+v", st, cl)
	}
	c = dial(t, ts, nil)
	c.send(helloFrame(s, 2, 0))
	c.ack(2)
	c.send(batchFrame(s, 2, 3, 4))
	c.closed(batch.CodeTryAgain, "try again")

	// Once the sink works again, the client resumes from its last ACK.
	sink.SetError(nil)
	c = dial(t, ts, nil)
	c.send(helloFrame(s, 2, 0))
	c.ack(2)
	c.send(batchFrame(s, 2, 3, 4))
	c.ack(4)
	checkRecords(t, sink, s, 1, 4)
	if st := h.Stats(); st.SinkErrors != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestIngestBadInput(t *testing.T) {
	_, sink, ts := newIngest(t, IngestOptions{Limits: batch.Limits{MaxFrame: 4096, MaxMessages: 100, MaxMessage: 1000}})
	good := sid(99)
	other := dial(t, ts, nil)
	other.send(helloFrame(good, 0, 0))
	other.ack(0)
	var next uint64 = 1

	big := func(size int) []byte {
		var w batch.Writer
		w.StartBatch(nil, sid(1), 0, 1)
		for w.Len() < size {
			w.AddString(strings.Repeat("x", 900))
		}
		return w.Bytes()
	}
	tooMany := func() []byte {
		var w batch.Writer
		w.StartBatch(nil, sid(1), 0, 1)
		for range 101 {
			w.AddString("")
		}
		return w.Bytes()
	}
	hello := helloFrame(sid(1), 0, 0)
	for _, tc := range []struct {
		name   string
		frames [][]byte
		text   bool
		code   batch.Code
		reason string
	}{
		{"wrong version", [][]byte{{2, 3, 0}}, false, batch.CodeVersion, "batch: unsupported version 2 (supported: 1)"},
		{"wrong version alone", [][]byte{{7}}, false, batch.CodeVersion, "unsupported version 7"},
		{"empty", [][]byte{{}}, false, batch.CodeProtocol, "truncated"},
		{"unknown type", [][]byte{{1, 6}}, false, batch.CodeProtocol, "unknown frame type"},
		{"first frame not HELLO", [][]byte{batchFrame(sid(1), 0, 1, 1)}, false, batch.CodeProtocol, "first frame must be HELLO"},
		{"truncated hello", [][]byte{hello[:10]}, false, batch.CodeProtocol, "truncated"},
		{"truncated batch", [][]byte{hello, batchFrame(sid(1), 0, 1, 1)[:21]}, false, batch.CodeProtocol, "truncated"},
		{"zero session", [][]byte{helloFrame(batch.SessionID{}, 0, 0)}, false, batch.CodeProtocol, "zero session"},
		{"other session", [][]byte{hello, batchFrame(sid(2), 0, 1, 1)}, false, batch.CodeProtocol, "another session"},
		{"second HELLO of another session", [][]byte{hello, helloFrame(sid(2), 0, 0)}, false, batch.CodeProtocol, "another session"},
		{"PUSH from the client", [][]byte{hello, {1, 4, 0, 1}}, false, batch.CodeProtocol, "server-to-client"},
		{"ACK above PUSH sent", [][]byte{hello, batch.AppendAck(nil, batch.Ack{Seq: 1})}, false, batch.CodeProtocol, "ACK above"},
		{"frame over the read limit", [][]byte{hello, big(5000)}, false, batch.CodeTooBig, ""},
		{"too many messages", [][]byte{hello, tooMany()}, false, batch.CodeTooBig, "message count"},
		{"text message", [][]byte{hello}, true, batch.CodeUnsupported, "binary"},
		{"CLOSE from the client", [][]byte{hello, batch.AppendClose(nil, batch.Close{Code: batch.CodeNormal})}, false, batch.CodeNormal, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, ts, nil)
			for i, f := range tc.frames {
				c.send(f)
				if i == 0 && len(tc.frames) > 1 {
					c.ack(0)
				}
			}
			if tc.text {
				c.ack(0)
				if err := c.ws.Write(context.Background(), 1 /* text */, []byte("hi")); err != nil {
					t.Fatal(err)
				}
			}
			c.closed(tc.code, tc.reason)
			// The other session carries on.
			other.send(batchFrame(good, next-1, next, next))
			other.ack(next)
			next++
		})
	}
	checkRecords(t, sink, good, 1, next-1)
}

func TestIngestHeartbeat(t *testing.T) {
	h, _, ts := newIngest(t, IngestOptions{Heartbeat: 20e6, HeartbeatTimeout: 50e6})
	live := dial(t, ts, nil)
	live.send(helloFrame(sid(1), 0, 0))
	live.ack(0)
	liveCtx := live.ws.CloseRead(context.Background()) // answers pings

	dead := dial(t, ts, nil)
	dead.send(helloFrame(sid(2), 0, 0))
	dead.ack(0)
	// dead reads no more, so it never answers a ping.
	waitFor(t, "the dead peer to be dropped", func() bool { return h.Stats().Dead >= 1 && h.Stats().Connections == 1 })
	if liveCtx.Err() != nil {
		t.Fatal("the live connection was closed")
	}
	if st := h.Stats(); st.Dead != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestIngestPush(t *testing.T) {
	h, _, ts := newIngest(t, IngestOptions{PushQueueMessages: 4})
	s := sid(1)
	if err := h.Send(s, batch.Message{Data: []byte("x")}); !errors.Is(err, ErrUnknownSession) {
		t.Fatalf("Send to an unknown session: %v", err)
	}
	c := dial(t, ts, nil)
	c.send(helloFrame(s, 0, 0))
	c.ack(0)
	if err := h.Send(s, batch.Message{Data: []byte("a")}, batch.Message{Data: []byte{1, 2}, Binary: true}); err != nil {
		t.Fatal(err)
	}
	p := c.push()
	var got []string
	for seq, m := range p.All() {
		got = append(got, msgText(seq)+":"+string(m.Data))
	}
	if p.Acked != 0 || p.FirstSeq != 1 || strings.Join(got, ",") != "m1:a,m2:\x01\x02" {
		t.Fatalf("push %+v %q", p, got)
	}
	c.send(batch.AppendAck(nil, batch.Ack{Seq: 1}))
	c.send(batchFrame(s, 0, 1, 0)) // frames are processed in order: its ACK
	c.ack(0)                       // means the server has taken ACK 1 in
	if err := h.Send(s, batch.Message{Data: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	if p := c.push(); p.Acked != 1 || p.FirstSeq != 3 || p.Messages.Len() != 1 {
		t.Fatalf("push %+v", p)
	}
	// Queue bound: 2 and 3 are unacknowledged; 4 fits, 5 and 6 do not.
	if err := h.Send(s, batch.Message{Data: []byte("c")}, batch.Message{}, batch.Message{}); !errors.Is(err, ErrPushQueueFull) {
		t.Fatalf("Send over the queue bound: %v", err)
	}
	if err := h.Send(s, batch.Message{Data: make([]byte, batch.DefaultMaxMessage+1)}); !errors.Is(err, ErrPushTooLarge) {
		t.Fatalf("Send of a message too large: %v", err)
	}
	c.ws.CloseNow()

	// A new connection that received up to 2 gets 3 again, and what was
	// queued while it was away.
	c = dial(t, ts, nil)
	c.send(helloFrame(s, 0, 2))
	c.ack(0)
	if p := c.push(); p.Acked != 2 || p.FirstSeq != 3 || p.Messages.Len() != 1 {
		t.Fatalf("resent push %+v", p)
	}
	if err := h.Send(s, batch.Message{Data: []byte("d")}); err != nil {
		t.Fatal(err)
	}
	if p := c.push(); p.FirstSeq != 4 {
		t.Fatalf("push %+v", p)
	}
	c.send(batch.AppendAck(nil, batch.Ack{Seq: 5}))
	c.closed(batch.CodeProtocol, "ACK above")
}

func TestIngestPushAfterServerLostState(t *testing.T) {
	h, _, ts := newIngest(t, IngestOptions{})
	s := sid(1)
	c := dial(t, ts, nil)
	c.send(helloFrame(s, 0, 41)) // received 41 PUSH messages from a predecessor
	c.ack(0)
	if err := h.Send(s, batch.Message{Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	// Numbering continues above what the client has, or it would drop
	// the message as a duplicate.
	if p := c.push(); p.Acked != 41 || p.FirstSeq != 42 {
		t.Fatalf("push %+v", p)
	}
}

func TestIngestSuperseded(t *testing.T) {
	_, sink, ts := newIngest(t, IngestOptions{})
	s := sid(1)
	old := dial(t, ts, nil)
	old.send(helloFrame(s, 0, 0))
	old.ack(0)
	old.send(batchFrame(s, 0, 1, 2))
	old.ack(2)
	c := dial(t, ts, nil)
	c.send(helloFrame(s, 0, 0))
	c.ack(2)
	old.closed(batch.CodeSuperseded, "superseded")
	c.send(batchFrame(s, 2, 3, 3))
	c.ack(3)
	checkRecords(t, sink, s, 1, 3)
}

func TestIngestClose(t *testing.T) {
	h, _, ts := newIngest(t, IngestOptions{})
	c := dial(t, ts, nil)
	c.send(helloFrame(sid(1), 0, 0))
	c.ack(0)
	go h.Close()
	c.closed(batch.CodeGoingAway, "shutting down")
	h.Close() // waits, idempotent
	if st, _, cl := post(t, ts, "", nil, batchFrame(sid(1), 0, 1, 1)); st != 503 || cl.Code != batch.CodeGoingAway {
		t.Errorf("POST after Close: %d %+v", st, cl)
	}
	if _, resp, err := dialRaw(ts, nil); err == nil || resp.StatusCode != 503 {
		t.Errorf("dial after Close: %v", err)
	}
	if err := h.Send(sid(1), batch.Message{}); !errors.Is(err, ErrIngestClosed) {
		t.Errorf("Send after Close: %v", err)
	}
}
