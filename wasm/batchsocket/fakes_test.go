package batchsocket

import (
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/eventwire/eventwire/protocol/batch"
	"github.com/eventwire/eventwire/wasm/internal/clock/clocktest"
)

// server is an in-memory batch server: the receiver's rule of PROTOCOL.md
// §6.2 per session, whatever the transport, and a record of every message
// delivered, to check exactly-once, in-order delivery.
type server struct {
	mu        sync.Mutex
	last      map[[16]byte]uint64
	delivered map[[16]byte][]string
	dups      int // messages received again (skipped)
	gaps      int // frames refused for a gap
	frames    []batch.Type
	ackLess   uint64 // acknowledge this many messages less (a failing Sink)
}

func newServer() *server {
	return &server{last: map[[16]byte]uint64{}, delivered: map[[16]byte][]string{}}
}

// handle processes one frame from a client and returns the reply frame.
func (sv *server) handle(p []byte) ([]byte, error) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	t, err := batch.Peek(p)
	if err != nil {
		return nil, err
	}
	sv.frames = append(sv.frames, t)
	switch t {
	case batch.TypeHello:
		h, err := batch.DecodeHello(p)
		if err != nil {
			return nil, err
		}
		sv.last[h.Session] = max(sv.last[h.Session], h.Acked)
		return batch.AppendAck(nil, batch.Ack{Seq: sv.last[h.Session]}), nil
	case batch.TypeBatch:
		b, err := batch.DecodeBatch(p, batch.Limits{})
		if err != nil {
			return nil, err
		}
		last := max(sv.last[b.Session], b.Acked)
		if b.FirstSeq > last+1 {
			sv.gaps++
		} else {
			for seq, m := range b.All() {
				if seq <= last {
					sv.dups++
					continue
				}
				if sv.ackLess > 0 {
					break
				}
				sv.delivered[b.Session] = append(sv.delivered[b.Session], string(m.Data))
				last = seq
			}
		}
		sv.last[b.Session] = last
		return batch.AppendAck(nil, batch.Ack{Seq: last}), nil
	case batch.TypeAck, batch.TypeClose:
		return nil, nil
	}
	return nil, errors.New("unexpected frame " + t.String())
}

func (sv *server) messages(s [16]byte) []string {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return slices.Clone(sv.delivered[s])
}

// fakeTransport dials fakeConns and answers POSTs. With a server, conns
// open at once and frames are answered synchronously; without one, the
// test drives everything.
type fakeTransport struct {
	mu      sync.Mutex
	srv     *server
	noWS    bool // Dial fails with ErrNoWebSocket
	refuse  bool // conns close with 1006 before opening
	conns   []*fakeConn
	posts   []*fakePost
	postErr error // POSTs fail with it
}

type fakeConn struct {
	t        *fakeTransport
	ev       *ConnEvents
	mu       sync.Mutex
	sent     [][]byte
	buffered int
	closed   bool
	code     int
	reason   string
}

type fakePost struct {
	req     PostRequest
	done    func(PostResult)
	aborted bool
}

func (t *fakeTransport) Dial(url string, ev *ConnEvents) (Conn, error) {
	t.mu.Lock()
	if t.noWS {
		t.mu.Unlock()
		return nil, ErrNoWebSocket
	}
	c := &fakeConn{t: t, ev: ev}
	t.conns = append(t.conns, c)
	srv, refuse := t.srv, t.refuse
	t.mu.Unlock()
	switch {
	case refuse:
		ev.Closed(codeNoClose, "", false)
	case srv != nil:
		ev.Open()
	}
	return c, nil
}

func (t *fakeTransport) Post(req *PostRequest, done func(PostResult)) func() {
	p := &fakePost{req: *req, done: done}
	p.req.Body = slices.Clone(req.Body)
	t.mu.Lock()
	t.posts = append(t.posts, p)
	srv, perr := t.srv, t.postErr
	t.mu.Unlock()
	switch {
	case perr != nil:
		done(PostResult{Err: perr})
	case srv != nil:
		reply, err := srv.handle(p.req.Body)
		if err != nil {
			done(PostResult{Status: 400, Body: batch.AppendClose(nil, batch.CloseFor(err))})
		} else {
			done(PostResult{Status: 200, Body: reply})
		}
	}
	return func() {
		t.mu.Lock()
		p.aborted = true
		t.mu.Unlock()
	}
}

func (t *fakeTransport) conn(i int) *fakeConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i < 0 {
		i += len(t.conns)
	}
	return t.conns[i]
}

func (t *fakeTransport) numConns() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

func (t *fakeTransport) numPosts() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.posts)
}

func (t *fakeTransport) post(i int) *fakePost {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i < 0 {
		i += len(t.posts)
	}
	return t.posts[i]
}

func (c *fakeConn) Send(p []byte) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return errors.New("fake: send on a closed conn")
	}
	c.sent = append(c.sent, slices.Clone(p))
	c.mu.Unlock()
	c.t.mu.Lock()
	srv := c.t.srv
	c.t.mu.Unlock()
	if srv != nil {
		reply, err := srv.handle(p)
		if err != nil {
			c.serverClose(int(batch.CloseFor(err).Code), err.Error())
			return nil
		}
		if reply != nil {
			c.ev.Message(reply, true)
		}
	}
	return nil
}

func (c *fakeConn) BufferedAmount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buffered
}

func (c *fakeConn) Close(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed, c.code, c.reason = true, code, reason
}

// serverClose ends the connection from the far side.
func (c *fakeConn) serverClose(code int, reason string) {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.ev.Closed(code, reason, code != codeNoClose)
}

func (c *fakeConn) frames() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sent)
}

func (c *fakeConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// fakeSink records what the page would see.
type fakeSink struct {
	mu     sync.Mutex
	events []string
	msgs   []string
	stats  Stats
	nstats int
}

func (s *fakeSink) add(e string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
}

func (s *fakeSink) Open(k Kind) { s.add("open " + k.String()) }

func (s *fakeSink) Close(i *CloseInfo) {
	e := "close " + strconv.Itoa(i.Code)
	if i.Final {
		e += " final"
	}
	s.add(e)
}

func (s *fakeSink) Error(i *ErrorInfo) {
	e := "error " + string(i.Reason)
	if i.Final {
		e += " final"
	}
	s.add(e)
}

func (s *fakeSink) Messages(p []byte, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for off := 0; off < len(p); n-- {
		size, _, k, err := batch.ReadHeader(p[off:])
		if err != nil {
			panic("fakeSink: " + err.Error())
		}
		s.msgs = append(s.msgs, string(p[off+k:off+k+int(size)]))
		off += k + int(size)
	}
	if n != 0 {
		panic("fakeSink: message count mismatch")
	}
}

func (s *fakeSink) Stats(st *Stats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = *st
	s.nstats++
}

func (s *fakeSink) Events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

func (s *fakeSink) last() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// memStore is an in-memory Store.
type memStore struct {
	mu       sync.Mutex
	sessions map[[16]byte]*Saved
	writes   int
	manual   bool // keep done callbacks for the test to call
	pending  []func()
	failLoad error
}

func newMemStore() *memStore { return &memStore{sessions: map[[16]byte]*Saved{}} }

func (m *memStore) Load(done func([]Saved, error)) {
	m.mu.Lock()
	var out []Saved
	for _, s := range m.sessions {
		c := *s
		c.Chunks = slices.Clone(s.Chunks)
		out = append(out, c)
	}
	err := m.failLoad
	m.mu.Unlock()
	done(out, err)
}

func (m *memStore) Write(w *Write, done func(error)) {
	m.mu.Lock()
	m.writes++
	s := m.sessions[w.Session]
	if s == nil {
		s = &Saved{Session: w.Session}
		m.sessions[w.Session] = s
	}
	for _, c := range w.Puts {
		s.Chunks = append(s.Chunks, Chunk{First: c.First, Data: slices.Clone(c.Data)})
	}
	if w.DeleteBelow > 0 {
		s.Chunks = slices.DeleteFunc(s.Chunks, func(c Chunk) bool { return c.First < w.DeleteBelow })
	}
	if w.SetFloor {
		s.Floor = w.Floor
	}
	if w.DeleteAll {
		delete(m.sessions, w.Session)
	}
	manual := m.manual
	if manual {
		m.pending = append(m.pending, func() { done(nil) })
	}
	m.mu.Unlock()
	if !manual {
		done(nil)
	}
}

func (m *memStore) get(s [16]byte) (Saved, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.sessions[s]
	if !ok {
		return Saved{}, false
	}
	c := *v
	c.Chunks = slices.Clone(v.Chunks)
	return c, true
}

// helpers

func sess(b byte) [16]byte {
	var s [16]byte
	for i := range s {
		s[i] = b + byte(i)
	}
	return s
}

// pack frames msgs as the JS shell does.
func pack(msgs ...string) []byte {
	var p []byte
	for _, m := range msgs {
		p = AppendMessage(p, []byte(m), false)
	}
	return p
}

func msgRange(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, prefix+strconv.Itoa(i))
	}
	return out
}

func mustPush(t *testing.T, s *Socket, msgs ...string) uint64 {
	t.Helper()
	last, err := s.Push(pack(msgs...), len(msgs))
	if err != nil {
		t.Fatal(err)
	}
	return last
}

type rig struct {
	clock *clocktest.Fake
	tr    *fakeTransport
	srv   *server
	sink  *fakeSink
	s     *Socket
}

// newRig makes a Socket with a fake clock, transport and sink; opts may
// tweak the Options. Rand returns 0.5 unless set.
func newRig(t *testing.T, srv *server, tweak func(*Options)) *rig {
	t.Helper()
	r := &rig{clock: clocktest.New(time.Hour), srv: srv, sink: &fakeSink{}}
	r.tr = &fakeTransport{srv: srv}
	o := Options{URL: "ws://example.test/ingest", FallbackURL: "http://example.test/ingest", Session: sess(1), Clock: r.clock, Rand: func() float64 { return 0.5 }}
	if testing.Verbose() {
		o.Debug = func(m string) { t.Log(m) }
	}
	if tweak != nil {
		tweak(&o)
	}
	r.s = New(o, r.tr, r.sink)
	t.Cleanup(func() { r.s.Close(1000, "") })
	return r
}

func decodeBatch(t *testing.T, p []byte) batch.Batch {
	t.Helper()
	b, err := batch.DecodeBatch(p, batch.Limits{})
	if err != nil {
		t.Fatalf("not a BATCH: %v (% x)", err, p)
	}
	return b
}

func batchMsgs(b batch.Batch) []string {
	var out []string
	for m := range b.Messages.All() {
		out = append(out, string(m.Data))
	}
	return out
}

var errNet = errors.New("fake: network down")
