package server

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventwire/eventwire/protocol/batch"
)

func TestIngestHTTP(t *testing.T) {
	h, sink, ts := newIngest(t, IngestOptions{Limits: batch.Limits{MaxFrame: 4096}})
	s := sid(1)
	if st, ack, _ := post(t, ts, batch.ContentType, nil, helloFrame(s, 0, 0)); st != 200 || ack != 0 {
		t.Fatalf("HELLO: %d %d", st, ack)
	}
	// Whatever the declared type (sendBeacon sends text/plain for a
	// string, the Blob's type or none for binary data, keepalive fetches
	// prefer CORS-safelisted types), the body is the frame.
	seq := uint64(0)
	for _, ct := range []string{
		batch.ContentType,
		"text/plain;charset=UTF-8",
		"",
		"application/octet-stream",
		"application/x-www-form-urlencoded",
		"not a media type",
	} {
		st, ack, cl := post(t, ts, ct, nil, batchFrame(s, seq, seq+1, seq+2))
		if st != 200 || ack != seq+2 {
			t.Errorf("Content-Type %q: %d %d %+v", ct, st, ack, cl)
		}
		seq += 2
	}
	// A resend whose answer was lost: deduplicated.
	if st, ack, _ := post(t, ts, "", nil, batchFrame(s, 0, 1, seq)); st != 200 || ack != seq {
		t.Errorf("resend: %d %d", st, ack)
	}
	// A frame that overtook an earlier one: refused as a gap.
	if st, ack, _ := post(t, ts, "", nil, batchFrame(s, 0, seq+5, seq+6)); st != 200 || ack != seq {
		t.Errorf("gap: %d %d", st, ack)
	}
	checkRecords(t, sink, s, 1, seq)

	var big batch.Writer
	big.StartBatch(nil, s, 0, 1)
	big.AddString(strings.Repeat("x", 5000))
	for _, tc := range []struct {
		name, ct string
		frame    []byte
		status   int
		code     batch.Code
		reason   string
	}{
		{"multipart", "multipart/form-data; boundary=x", batchFrame(s, 0, 1, 1), 415, batch.CodeUnsupported, "multipart/form-data"},
		{"too big", "", big.Bytes(), 413, batch.CodeTooBig, "frame size"},
		{"empty", "", nil, 400, batch.CodeProtocol, "truncated"},
		{"malformed", "", []byte{1, 2, 0}, 400, batch.CodeProtocol, "malformed"},
		{"version", "", []byte{2, 2, 0}, 400, batch.CodeVersion, "batch: unsupported version 2 (supported: 1)"},
		{"ACK", "", batch.AppendAck(nil, batch.Ack{}), 400, batch.CodeProtocol, "only HELLO and BATCH"},
		{"CLOSE", "", batch.AppendClose(nil, batch.Close{Code: 1000}), 400, batch.CodeProtocol, "only HELLO and BATCH"},
	} {
		st, _, cl := post(t, ts, tc.ct, nil, tc.frame)
		if st != tc.status || cl.Code != tc.code || !strings.Contains(cl.Reason, tc.reason) {
			t.Errorf("%s: %d %+v, want %d %d %q", tc.name, st, cl, tc.status, tc.code, tc.reason)
		}
	}
	// Without a Content-Length (chunked), the limit holds all the same.
	resp, err := http.Post(ts.URL+IngestPath, "", struct{ *bytes.Reader }{bytes.NewReader(big.Bytes())})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked body over the limit: %s", resp.Status)
	}
	resp, body := get(t, "PUT", ts.URL+IngestPath, nil, "x")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, POST" {
		t.Errorf("PUT: %s %q", resp.Status, body)
	}
	resp, _ = get(t, "GET", ts.URL+IngestPath, nil, "")
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("GET without Upgrade: %s", resp.Status)
	}
	if st := h.Stats(); st.Rejected != 9 { // 7 above, the chunked body, the GET without Upgrade
		t.Errorf("stats %+v", st)
	}
}

// TestIngestHTTPHelloAcksPush: a HELLO over HTTP acknowledges PUSH
// messages like one over the WebSocket.
func TestIngestHTTPHelloAcksPush(t *testing.T) {
	h, _, ts := newIngest(t, IngestOptions{})
	s := sid(1)
	c := dial(t, ts, nil)
	c.send(helloFrame(s, 0, 0))
	c.ack(0)
	if err := h.Send(s, batch.Message{Data: []byte("a")}, batch.Message{Data: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	c.push()
	c.ws.CloseNow()
	if st, _, _ := post(t, ts, "", nil, helloFrame(s, 0, 1)); st != 200 {
		t.Fatal(st)
	}
	c = dial(t, ts, nil)
	c.send(helloFrame(s, 0, 0)) // a stale received: the server knows better
	c.ack(0)
	if p := c.push(); p.Acked != 1 || p.FirstSeq != 2 || p.Messages.Len() != 1 {
		t.Errorf("push %+v", p)
	}
}

func TestIngestSessionLimit(t *testing.T) {
	h, sink, ts := newIngest(t, IngestOptions{MaxSessions: 2})
	a, b, c := sid(1), sid(2), sid(3)
	for _, s := range []batch.SessionID{a, b} {
		if st, ack, _ := post(t, ts, "", nil, batchFrame(s, 0, 1, 3)); st != 200 || ack != 3 {
			t.Fatalf("%d %d", st, ack)
		}
	}
	post(t, ts, "", nil, batchFrame(b, 0, 4, 4)) // b is now the most recently used
	// c evicts the least recently used idle session, a.
	if st, ack, _ := post(t, ts, "", nil, batchFrame(c, 0, 1, 1)); st != 200 || ack != 1 {
		t.Fatalf("%d %d", st, ack)
	}
	if st := h.Stats(); st.Sessions != 2 || st.Evicted != 1 {
		t.Errorf("stats %+v", st)
	}
	// a comes back: what the client knows is acknowledged (its acked)
	// is enough to continue exactly.
	if st, ack, _ := post(t, ts, "", nil, batchFrame(a, 3, 4, 5)); st != 200 || ack != 5 {
		t.Fatalf("%d %d", st, ack)
	}
	checkRecords(t, sink, a, 1, 5)
	// a client that lost the ACK of 1..3 and resends them is the
	// documented exception: they are delivered again.
	if st, ack, _ := post(t, ts, "", nil, batchFrame(b, 0, 1, 4)); st != 200 || ack != 4 {
		t.Fatalf("%d %d", st, ack)
	}
	if rs := sink.Session(b); len(rs) != 8 {
		t.Errorf("%d records of b, want 4 + 4 again", len(rs))
	}

	// Sessions in use are never evicted: with both held by WebSockets, a
	// third is refused until one is released.
	ws1 := dial(t, ts, nil)
	ws1.send(helloFrame(a, 5, 0))
	ws1.ack(5)
	ws2 := dial(t, ts, nil)
	ws2.send(helloFrame(c, 1, 0))
	ws2.ack(1)
	if st, _, cl := post(t, ts, "", nil, batchFrame(sid(4), 0, 1, 1)); st != 503 || cl.Code != batch.CodeTryAgain {
		t.Errorf("new session while all are in use: %d %+v", st, cl)
	}
	ws3 := dial(t, ts, nil)
	ws3.send(helloFrame(sid(4), 0, 0))
	ws3.closed(batch.CodeTryAgain, "too many sessions")
	ws2.ws.CloseNow()
	waitFor(t, "the session to be released", func() bool { return h.Stats().Connections == 1 })
	if st, ack, _ := post(t, ts, "", nil, batchFrame(sid(4), 0, 1, 1)); st != 200 || ack != 1 {
		t.Errorf("after a release: %d %d", st, ack)
	}
}

func TestSessionTableTTL(t *testing.T) {
	now := time.Unix(1000, 0)
	tab := newSessionTable(10, time.Hour, func() time.Time { return now })
	a, _ := tab.acquire(sid(1), true)
	a.last = 7
	tab.release(a)
	b, _ := tab.acquire(sid(2), true) // held: never expires
	now = now.Add(30 * time.Minute)
	if s, err := tab.acquire(sid(1), false); err != nil || s.last != 7 {
		t.Fatalf("within the TTL: %v", err)
	} else {
		tab.release(s)
	}
	now = now.Add(61 * time.Minute)
	if _, err := tab.acquire(sid(1), false); err != ErrUnknownSession {
		t.Fatalf("after the TTL: %v", err)
	}
	if n, evicted := tab.stats(); n != 1 || evicted != 1 {
		t.Errorf("%d sessions, %d evicted", n, evicted)
	}
	tab.release(b)
	now = now.Add(2 * time.Hour)
	if n, _ := tab.stats(); n != 0 {
		t.Errorf("%d sessions after the TTL", n)
	}
}
