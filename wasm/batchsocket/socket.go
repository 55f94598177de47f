package batchsocket

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/eventwire/eventwire/protocol/batch"
	"github.com/eventwire/eventwire/wasm/internal/backoff"
	"github.com/eventwire/eventwire/wasm/internal/clock"
)

// ErrClosed is returned by Push after Close.
var ErrClosed = errors.New("batchsocket: closed")

// errAckRange reports an ACK above the last message pushed.
var errAckRange = errors.New("batchsocket: ACK above the last message sent")

// Close codes the Socket sends (a browser page may only send 1000 and
// 3000–4999) or reports.
const (
	codeNormal   = 1000
	codeNoClose  = 1006 // no close frame: connection lost, or never made
	codeTimeout  = 3008 // IANA "Timeout": the heartbeat gave up on the connection
	codeProtocol = 4002 // the server sent an invalid frame (PROTOCOL.md §8: an unknown 4xxx reads as 1002)
)

// Socket is the Go core of one BatchSocket. Create it with New, start it
// with Start, hand it messages with Push, stop it with Close. All methods
// are safe for concurrent use and never block beyond a short mutex.
type Socket struct {
	cfg  Options
	tr   Transport
	sink Sink

	mu       sync.Mutex
	inq      []input // inputs waiting for the processing caller
	draining bool    // some caller is processing

	// Guarded by mu.
	q      queue
	sent   uint64 // last message written on the current connection (or POST)
	st     Stats
	dirty  bool // st changed since the last Sink.Stats
	closed bool
	per    *persister

	// Everything below belongs to the processing caller.

	spare    []input
	started  bool
	down     bool // shut down
	offline  bool
	http     bool // sending over HTTP rather than the WebSocket
	noWS     bool // Dial failed: there is no WebSocket
	opened   bool // a transport has opened before
	preOpen  int  // WebSocket attempts in a row that failed before opening
	failures int  // failures in a row since the last ACK

	conn    Conn
	cgen    uint64
	lastGen uint64
	copen   bool // conn is open and HELLO was sent
	probing bool // conn is a WebSocket retry while sending over HTTP

	pgen     uint64 // the POST in flight; 0 when none
	pabort   func()
	plast    uint64 // the last message it carries
	httpOpen bool   // a POST has succeeded since the last failure

	lastSend time.Duration
	awaiting time.Duration // first send not followed by any received frame; 0 when none
	pushLast uint64        // receiver state of PUSH messages (PROTOCOL.md §6.2)
	limBytes int           // frame limits, halved after a 1009
	limCount int
	buf      []byte

	seq      uint64
	timers   [numTimers]Timer
	timerSeq [numTimers]uint64
}

type timerKind uint8

const (
	timerReconnect timerKind = iota // wait before connecting again
	timerHeartbeat                  // WebSocket heartbeat and liveness
	timerDrain                      // bufferedAmount poll under backpressure
	timerProbe                      // WebSocket retry while on HTTP
	timerPost                       // POST timeout
	numTimers
)

type inKind uint8

const (
	inStart inKind = iota
	inKick
	inClose
	inOnline
	inTail
	inLoaded
	inStored
	inOpen
	inMessage
	inClosed
	inPosted
	inTimer
)

// input is one event for the processing caller. gen is the connection or
// POST generation (the timer seq for inTimer); stale inputs are dropped.
type input struct {
	kind  inKind
	timer timerKind
	ok    bool
	gen   uint64
	code  int
	text  string
	data  []byte
	err   error
	saved []Saved
}

// New returns a Socket for opts. It does nothing until Start.
func New(opts Options, t Transport, s Sink) *Socket {
	c := &Socket{cfg: opts.withDefaults(), tr: t, sink: s}
	c.http = c.cfg.Mode == ModeHTTP
	c.limBytes, c.limCount = c.cfg.BatchBytes, c.cfg.BatchCount
	c.q.next = 1
	if c.cfg.Store != nil {
		c.per = &persister{st: c.cfg.Store, session: c.cfg.Session}
	}
	if r := c.cfg.restore; r != nil {
		c.restore(r)
	}
	c.sent = c.q.floor
	return c
}

// restore fills the queue of a drain Socket from a persisted session: the
// chunks that follow each other from the floor on.
func (s *Socket) restore(r *Saved) {
	s.q.floor = r.Floor
	for _, c := range r.Chunks {
		n, err := scan(c.Data, -1, batch.DefaultMaxFrame)
		if err != nil || n == 0 || len(s.q.chunks) > 0 && c.First != s.q.next {
			break // what follows a gap or a bad chunk cannot be delivered
		}
		if len(s.q.chunks) == 0 {
			s.q.next = c.First
		}
		s.q.push(c.First, c.Data, n)
	}
	if len(s.q.chunks) > 0 {
		s.q.floor = max(s.q.floor, s.q.chunks[0].first-1)
	}
	s.q.next = max(s.q.next, s.q.floor+1)
	s.q.trim(r.Floor)
	s.per.floor = s.q.floor
}

// Start begins connecting, and loading the persisted sessions of earlier
// pages when there is a Store. It may call the Sink and the Transport
// before it returns. Later calls do nothing.
func (s *Socket) Start() { s.post(input{kind: inStart}) }

// Push hands the Socket n messages, framed as in a BATCH frame
// (AppendMessage), numbers them and returns the sequence number of the
// last one. The Socket keeps data: the caller must not modify it. It fails
// with ErrBadChunk when data is not n valid messages of at most
// Options.MaxMessageSize bytes, and with ErrClosed after Close.
func (s *Socket) Push(data []byte, n int) (uint64, error) {
	if _, err := scan(data, n, s.cfg.MaxMessageSize); err != nil {
		return 0, err
	}
	s.mu.Lock()
	if s.closed || s.cfg.drainOnly {
		s.mu.Unlock()
		return 0, ErrClosed
	}
	key := s.q.next
	s.q.push(key, data, n)
	if s.per != nil && n > 0 {
		s.per.put(Chunk{First: key, Data: data})
	}
	s.dirty = true
	s.mu.Unlock()
	s.post(input{kind: inKick})
	return key + uint64(n) - 1, nil
}

// Drop discards the oldest messages held, acknowledged or not, until at
// least free encoded bytes are freed or nothing is held; the next frame
// tells the server to skip them (its acked field). It returns the number of
// messages dropped, which Stats.Dropped counts, and of bytes freed. It is
// the "drop-oldest" queue policy; the JS shell decides when.
func (s *Socket) Drop(free int) (msgs, freed int) {
	s.mu.Lock()
	n, freed := s.q.dropOldest(free)
	if n > 0 {
		s.st.Dropped += uint64(n)
		s.trimmed()
	}
	s.mu.Unlock()
	if n > 0 {
		s.post(input{kind: inKick})
	}
	return n, freed
}

// trimmed follows a move of the floor; s.mu is held.
func (s *Socket) trimmed() {
	s.sent = max(s.sent, s.q.floor)
	if s.per != nil {
		s.per.trim(s.q.firstKey(), s.q.floor)
	}
	s.dirty = true
}

// FlushTail sends the oldest unacknowledged messages, up to
// Options.KeepaliveBytes, in one POST that outlives the page (keepalive):
// for pagehide and visibilitychange to hidden. One frame rather than
// several, because requests sent at once may overtake each other, the
// server refuses a frame that would leave a gap, and a page that is gone
// cannot send it again; browsers allow 64 KiB of keepalive bodies in flight
// anyway. What does not fit is persisted (with a Store) or lost.
func (s *Socket) FlushTail() { s.post(input{kind: inTail}) }

// SetOnline reports navigator.onLine changes (the online and offline
// events). While offline the Socket does not try to connect; coming online
// reconnects at once.
func (s *Socket) SetOnline(on bool) { s.post(input{kind: inOnline, ok: on}) }

// Close closes the Socket for good with code (1000 or 3000–4999) and
// reason: the connection is closed, timers stop, a final close event
// follows. Messages not acknowledged stay persisted when there is a Store.
func (s *Socket) Close(code int, reason string) {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.post(input{kind: inClose, code: code, text: reason})
}

// Stats returns a snapshot of the counters.
func (s *Socket) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot()
}

func (s *Socket) snapshot() Stats {
	st := s.st
	sent := max(s.sent, s.q.floor)
	st.Queued = int(s.q.next - 1 - sent)
	st.InFlight = int(sent - s.q.floor)
	st.HeldBytes = s.q.bytes
	st.LastSeq, st.AckedSeq = s.q.next-1, s.q.floor
	return st
}

// post hands m to the processing caller, becoming it if there is none.
func (s *Socket) post(m input) {
	s.mu.Lock()
	if s.draining {
		s.inq = append(s.inq, m)
		s.mu.Unlock()
		return
	}
	s.draining = true
	s.mu.Unlock()
	s.run(&m)
}

// run processes m, then the queue until it is empty, then publishes the
// Stats and issues the next Store write. A panic (in the Sink, the
// Transport or a bug) shuts the Socket down and goes to Options.OnPanic, or
// propagates to the caller.
func (s *Socket) run(m *input) {
	ok := false
	defer func() {
		if !ok {
			s.mu.Lock()
			s.closed, s.inq, s.spare, s.draining = true, nil, nil, false
			s.mu.Unlock()
			s.shutdown()
			if f := s.cfg.OnPanic; f != nil {
				f(recover())
			}
		}
	}()
	s.handle(m)
	for {
		s.mu.Lock()
		q := s.inq
		if len(q) == 0 {
			var st *Stats
			if s.dirty {
				s.dirty = false
				snap := s.snapshot()
				st = &snap
			}
			var w *Write
			if s.per != nil {
				w = s.per.take()
			}
			if st == nil && w == nil {
				s.draining = false
				s.mu.Unlock()
				break
			}
			s.mu.Unlock()
			if w != nil {
				s.cfg.Store.Write(w, func(err error) { s.post(input{kind: inStored, err: err}) })
			}
			if st != nil {
				s.sink.Stats(st)
			}
			continue
		}
		s.inq = s.spare
		s.mu.Unlock()
		for i := range q {
			s.handle(&q[i])
			q[i] = input{}
		}
		s.spare = q[:0]
	}
	ok = true
}

// handle processes one input.
func (s *Socket) handle(m *input) {
	if m.kind == inStored { // even when shut down: the writes still pending go on
		s.mu.Lock()
		s.per.busy = false
		s.mu.Unlock()
		if m.err != nil && !s.down {
			s.errorEvent(ReasonStore, 0, m.err, false)
		}
		return
	}
	if s.down {
		return
	}
	fresh := m.gen == s.cgen && s.conn != nil
	switch m.kind {
	case inStart:
		if !s.started {
			s.started = true
			s.start()
		}
	case inKick:
		s.pump()
	case inClose:
		if c := s.conn; c != nil {
			s.conn = nil
			c.Close(m.code, m.text)
		}
		s.shutdown()
		s.closeEvent(m.code, m.text, true, true, 0)
	case inOnline:
		was := s.offline
		s.offline = !m.ok
		if s.started && m.ok && was && !s.busy() {
			s.stop(timerReconnect)
			s.failures = 0
			s.connect()
		}
	case inTail:
		s.tail()
	case inLoaded:
		s.loaded(m.saved, m.err)
	case inOpen:
		if fresh && !s.copen {
			s.wsOpened()
		}
	case inMessage:
		if fresh && s.copen {
			s.frame(m.data)
		}
	case inClosed:
		if fresh {
			wasOpen, probe := s.copen, s.probing
			s.abandon(0, "")
			if probe {
				s.arm(timerProbe, s.cfg.WebSocketRetry) // stay on HTTP
				return
			}
			s.lost(wasOpen, m.code, m.text, m.ok, nil)
		}
	case inPosted:
		s.posted(m)
	case inTimer:
		if m.gen == s.timerSeq[m.timer] {
			s.timers[m.timer], s.timerSeq[m.timer] = nil, 0
			s.onTimer(m.timer)
		}
	}
}

func (s *Socket) start() {
	if s.cfg.Session == [16]byte{} {
		s.fail(ReasonSession, 0, "", errors.New("batchsocket: zero session id"))
		return
	}
	if s.cfg.drainOnly {
		if floor, next := s.bounds(); floor+1 >= next {
			s.finish()
			return
		}
	} else if st := s.cfg.Store; st != nil {
		st.Load(func(saved []Saved, err error) { s.post(input{kind: inLoaded, saved: saved, err: err}) })
	}
	s.connect()
}

// loaded starts a drain Socket for each persisted session of an earlier
// page: it resends the session's messages over HTTP, under its own session
// id, then deletes it. Its events do not reach the page.
func (s *Socket) loaded(saved []Saved, err error) {
	if err != nil {
		s.errorEvent(ReasonStore, 0, err, false)
		return
	}
	for i := range saved {
		if saved[i].Session != s.cfg.Session {
			o := s.cfg
			o.Session, o.Mode, o.restore, o.drainOnly = saved[i].Session, ModeHTTP, &saved[i], true
			s.debug("resending a session of an earlier page")
			New(o, s.tr, nopSink{}).Start()
		}
	}
}

// bounds returns the floor and the next sequence number.
//
//go:noinline
func (s *Socket) bounds() (floor, next uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.q.floor, s.q.next
}

// busy reports whether the current transport is connected or connecting.
func (s *Socket) busy() bool {
	if s.http {
		return s.pgen != 0 || s.httpOpen
	}
	return s.conn != nil
}

// connect starts a connection on the current transport, unless offline.
func (s *Socket) connect() {
	switch {
	case s.offline:
		s.debug("offline: waiting")
	case s.http:
		floor, _ := s.bounds()
		s.postFrame(appendHello(s.buf[:0], &s.cfg.Session, floor, s.pushLast), 0)
	default:
		s.dial(false)
	}
}

func (s *Socket) dial(probe bool) {
	s.lastGen++
	c, err := s.tr.Dial(s.cfg.URL, &ConnEvents{s: s, gen: s.lastGen})
	switch {
	case err == nil:
		s.conn, s.cgen, s.copen, s.probing = c, s.lastGen, false, probe
	case probe:
		s.noWS = true
	case s.cfg.Mode == ModeWebSocket:
		s.fail(ReasonConnect, 0, "", err)
	default:
		s.noWS = true
		s.useHTTP()
	}
}

// wsOpened sends HELLO, then every message not acknowledged.
func (s *Socket) wsOpened() {
	s.copen, s.preOpen = true, 0
	if s.probing {
		// A POST in flight completes on its own; its ACK still counts.
		s.probing, s.http, s.httpOpen, s.pgen, s.pabort = false, false, false, 0, nil
		s.stop(timerProbe)
		s.stop(timerPost)
	}
	s.mu.Lock()
	s.sent = s.q.floor
	s.buf = appendHello(s.buf[:0], &s.cfg.Session, s.q.floor, s.pushLast)
	s.mu.Unlock()
	if s.write(s.buf) {
		s.opens(KindWebSocket)
		s.arm(timerHeartbeat, s.cfg.HeartbeatInterval)
		s.pump()
	}
}

// opens announces a transport connection.
func (s *Socket) opens(k Kind) {
	s.debug("open " + k.String())
	s.mu.Lock()
	if s.opened {
		s.st.Reconnects++
	}
	s.st.State, s.st.Transport, s.dirty = Open, k, true
	s.mu.Unlock()
	s.opened = true
	s.sink.Open(k)
}

// write sends a frame on the WebSocket.
func (s *Socket) write(p []byte) bool {
	if err := s.conn.Send(p); err != nil {
		s.abandon(codeNormal, "")
		s.lost(true, codeNoClose, "", false, err)
		return false
	}
	now := clock.Now(s.cfg.Clock)
	s.lastSend = now
	if s.awaiting == 0 {
		s.awaiting = now
	}
	s.count(len(p))
	return true
}

//go:noinline
func (s *Socket) count(bytes int) {
	s.mu.Lock()
	s.st.Bytes += uint64(bytes)
	s.dirty = true
	s.mu.Unlock()
}

// pump sends what the current transport can take.
func (s *Socket) pump() {
	switch {
	case !s.http && s.copen:
		for {
			if s.conn.BufferedAmount() > s.cfg.BufferedAmountLimit {
				if s.timers[timerDrain] == nil {
					s.arm(timerDrain, s.cfg.BackpressurePoll)
				}
				return
			}
			f, _ := s.nextFrame(false, s.limBytes, s.limCount)
			if f == nil || !s.write(f) {
				return
			}
		}
	case s.http && s.httpOpen && s.pgen == 0:
		if f, last := s.nextFrame(true, s.limBytes, s.limCount); f != nil {
			s.postFrame(f, last)
		}
	}
}

// nextFrame builds the next BATCH frame into s.buf: from the first message
// not written on this connection, or (fromFloor) not acknowledged. It
// returns nil when there is nothing to send.
func (s *Socket) nextFrame(fromFloor bool, maxBytes, maxCount int) ([]byte, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := s.q.floor + 1
	if !fromFloor {
		from = max(s.sent, s.q.floor) + 1
	}
	if from >= s.q.next {
		return nil, 0
	}
	f, last := s.q.appendFrom(appendBatch(s.buf[:0], &s.cfg.Session, s.q.floor, from), from, maxBytes, maxCount)
	s.buf = f[:0]
	s.sent = last
	s.st.Batches++
	s.dirty = true
	return f, last
}

// frame handles a frame received on the WebSocket.
func (s *Socket) frame(p []byte) {
	s.awaiting = 0
	f, err := parseFrame(p)
	switch {
	case err != nil:
	case f.typ == batch.TypeAck:
		if err = s.ack(f.seq); err == nil {
			s.pump()
			return
		}
	case f.typ == batch.TypePush:
		s.push(&f)
		return
	case f.typ == batch.TypeClose:
		s.abandon(codeNormal, "")
		s.lost(true, f.code, f.reason, true, nil)
		return
	default:
		err = errMalformed
	}
	// Invalid: close (a page cannot send 1002) and reconnect.
	s.abandon(codeProtocol, "malformed frame")
	s.errorEvent(ReasonProtocol, int(batch.CodeProtocol), err, false)
	s.lost(true, int(batch.CodeProtocol), err.Error(), false, nil)
}

// ack applies a cumulative ACK from any transport.
func (s *Socket) ack(seq uint64) error {
	s.mu.Lock()
	if seq >= s.q.next {
		s.mu.Unlock()
		return errAckRange
	}
	if n := s.q.trim(seq); n > 0 {
		s.st.Acked += uint64(n)
		s.trimmed()
	}
	done := s.q.floor+1 >= s.q.next && s.cfg.drainOnly
	s.mu.Unlock()
	s.failures = 0
	if done {
		s.finish()
	}
	return nil
}

// push delivers the new messages of a PUSH frame and acknowledges them,
// following the receiver's rule of PROTOCOL.md §6.2.
func (s *Socket) push(f *frame) {
	last := max(s.pushLast, f.acked)
	if end := f.seq + uint64(f.n) - 1; f.seq <= last+1 && end > last && f.n > 0 {
		k := int(last + 1 - f.seq) // already delivered
		s.sink.Messages(f.msgs[skip(f.msgs, k):], f.n-k)
		last = end
	}
	s.pushLast = last
	if s.copen { // the Sink may have closed the socket
		s.write(appendAck(s.buf[:0], last))
	}
}

// abandon forgets the WebSocket, closing it with code unless 0.
//
//go:noinline
func (s *Socket) abandon(code int, reason string) {
	if c := s.conn; c != nil && code != 0 {
		c.Close(code, reason)
	}
	s.conn, s.cgen, s.copen, s.probing = nil, 0, false, false
	s.stop(timerHeartbeat)
	s.stop(timerDrain)
}

// lost handles a connection that ended (wasOpen) or could not be made, on
// either transport: a final close for the codes that say retrying cannot
// help, else an event and a reconnection after the backoff.
func (s *Socket) lost(wasOpen bool, code int, reason string, clean bool, err error) {
	s.debug("connection lost: " + strconv.Itoa(code) + " " + reason)
	s.mu.Lock()
	s.sent = s.q.floor
	s.st.State, s.st.Transport, s.dirty = Connecting, KindNone, true
	s.mu.Unlock()
	switch batch.Code(code) {
	case batch.CodeNormal, batch.CodeUnsupported, batch.CodePolicy, batch.CodeVersion, batch.CodeSuperseded:
		s.fail(ReasonRejected, code, reason, err)
		return
	case batch.CodeTooBig:
		s.limBytes, s.limCount = max(s.limBytes/2, 1024), max(s.limCount/2, 1)
		s.errorEvent(ReasonTooBig, code, err, false)
	case batch.CodeTryAgain:
		s.failures += 2
	}
	s.failures++
	delay := s.backoff()
	switch {
	case !wasOpen && !s.http && s.cfg.Mode == ModeAuto && s.preOpen+1 >= s.cfg.FallbackAfter:
		s.errorEvent(ReasonConnect, code, err, false)
		s.useHTTP()
		return
	case !wasOpen:
		if !s.http {
			s.preOpen++
		}
		s.errorEvent(ReasonConnect, code, err, false)
	default:
		s.closeEvent(code, reason, clean, false, delay)
	}
	if !s.down && !s.offline {
		s.arm(timerReconnect, delay)
	}
}

// backoff returns the wait after the s.failures-th failure in a row: full
// jitter, uniform in [0, min(max, base·2ⁿ⁻¹)).
func (s *Socket) backoff() time.Duration {
	return backoff.Full(0, s.cfg.ReconnectDelay, s.cfg.ReconnectMaxDelay, s.failures-1, s.cfg.Rand)
}

// useHTTP switches to HTTP POST, and schedules a WebSocket retry.
func (s *Socket) useHTTP() {
	s.debug("falling back to HTTP")
	s.http, s.failures = true, 0
	if !s.noWS && s.cfg.Mode == ModeAuto && s.cfg.WebSocketRetry > 0 {
		s.arm(timerProbe, s.cfg.WebSocketRetry)
	}
	s.connect()
}

// postFrame sends f by POST, at most one at a time.
func (s *Socket) postFrame(f []byte, last uint64) {
	s.lastGen++
	gen := s.lastGen
	s.pgen, s.plast = gen, last
	s.count(len(f))
	s.pabort = s.tr.Post(&PostRequest{URL: s.cfg.FallbackURL, Body: f}, func(r PostResult) {
		s.post(input{kind: inPosted, gen: gen, code: r.Status, data: r.Body, err: r.Err})
	})
	s.arm(timerPost, s.cfg.PostTimeout)
}

// posted handles the response to a POST: the current one, or one given up
// or sent by FlushTail, whose ACK still counts.
func (s *Socket) posted(m *input) {
	code, seq, reason := outcome(m.code, m.data, m.err)
	var err error
	if code == 0 {
		if err = s.ack(seq); s.down {
			return
		}
	}
	if m.gen != s.pgen || m.gen == 0 {
		return
	}
	s.pgen, s.pabort = 0, nil
	s.stop(timerPost)
	if !s.http {
		return // the WebSocket took over meanwhile
	}
	if floor, _ := s.bounds(); code == 0 && err == nil && floor >= s.plast {
		if !s.httpOpen {
			s.httpOpen = true
			s.opens(KindHTTP)
		}
		s.pump()
		return
	}
	if code == 0 { // accepted without the messages: the server's Sink is failing
		code, reason = int(batch.CodeInternal), "not acknowledged"
		if err != nil {
			code, reason = int(batch.CodeProtocol), err.Error()
		}
	}
	wasOpen := s.httpOpen
	s.httpOpen = false
	s.lost(wasOpen, code, reason, false, m.err)
}

// outcome reads a POST's result: code 0 and the sequence number of an ACK;
// else a close code and reason: the CLOSE frame in the body, or the
// status's (PROTOCOL.md §8), or 1006 for a network error.
func outcome(status int, body []byte, neterr error) (int, uint64, string) {
	f, err := parseFrame(body)
	switch {
	case neterr != nil:
		return codeNoClose, 0, neterr.Error()
	case status == 200 && err == nil && f.typ == batch.TypeAck:
		return 0, f.seq, ""
	case status == 200:
		return int(batch.CodeProtocol), 0, "not an ACK"
	case err == nil && f.typ == batch.TypeClose:
		return f.code, 0, f.reason
	}
	code := batch.CodeInternal
	switch status {
	case 400:
		code = batch.CodeProtocol
	case 403:
		code = batch.CodePolicy
	case 413:
		code = batch.CodeTooBig
	case 415:
		code = batch.CodeUnsupported
	case 503:
		code = batch.CodeTryAgain
	}
	return int(code), 0, "HTTP " + strconv.Itoa(status)
}

// tail sends the oldest unacknowledged messages in one keepalive POST.
func (s *Socket) tail() {
	if s.cfg.drainOnly {
		return
	}
	s.mu.Lock()
	sent := s.sent
	s.mu.Unlock()
	// The BATCH header takes at most 38 bytes.
	f, _ := s.nextFrame(true, s.cfg.KeepaliveBytes-40, min(4*s.cfg.BatchCount, batch.DefaultMaxMessages))
	s.mu.Lock()
	s.sent = sent // the connection's own progress is unchanged
	s.mu.Unlock()
	if f != nil && len(f) <= s.cfg.KeepaliveBytes {
		s.debug("keepalive POST of " + strconv.Itoa(len(f)) + " bytes")
		s.count(len(f))
		s.tr.Post(&PostRequest{URL: s.cfg.FallbackURL, Body: f, Keepalive: true}, func(r PostResult) {
			s.post(input{kind: inPosted, code: r.Status, data: r.Body, err: r.Err})
		})
	}
}

// onTimer handles a timer that fired.
func (s *Socket) onTimer(k timerKind) {
	switch k {
	case timerReconnect:
		if !s.busy() {
			s.connect()
		}
	case timerDrain:
		s.pump()
	case timerProbe:
		if s.http && s.conn == nil {
			s.dial(true)
		}
	case timerPost:
		if f := s.pabort; f != nil {
			f()
		}
		wasOpen := s.httpOpen
		s.pgen, s.pabort, s.httpOpen = 0, nil, false
		s.lost(wasOpen, codeNoClose, "timeout", false, nil)
	case timerHeartbeat:
		now, iv := clock.Now(s.cfg.Clock), s.cfg.HeartbeatInterval
		if s.awaiting != 0 && now-s.awaiting >= 3*iv {
			s.abandon(codeTimeout, string(ReasonTimeout))
			s.errorEvent(ReasonTimeout, 0, nil, false)
			s.lost(true, codeNoClose, string(ReasonTimeout), false, nil)
			return
		}
		if now-s.lastSend >= iv {
			floor, next := s.bounds()
			if !s.write(appendBatch(s.buf[:0], &s.cfg.Session, floor, next)) {
				return
			}
		}
		s.arm(timerHeartbeat, iv)
	}
}

// fail closes the Socket for good after an error.
func (s *Socket) fail(reason Reason, code int, text string, err error) {
	s.debug("failed: " + string(reason))
	s.shutdown()
	s.errorEvent(reason, code, err, true)
	s.closeEvent(code, text, false, true, 0)
}

// finish ends a drain Socket whose session is all acknowledged, deleting it
// from the Store.
func (s *Socket) finish() {
	s.debug("session resent")
	s.mu.Lock()
	s.per.deleteAll()
	s.mu.Unlock()
	s.shutdown()
}

// shutdown stops everything, once.
func (s *Socket) shutdown() {
	if s.down {
		return
	}
	s.down = true
	s.abandon(codeNormal, "")
	if f := s.pabort; f != nil {
		f()
	}
	s.pgen, s.pabort, s.httpOpen = 0, nil, false
	for k := range s.timers {
		s.stop(timerKind(k))
	}
	s.mu.Lock()
	s.closed = true
	s.st.State, s.st.Transport, s.dirty = Closed, KindNone, true
	s.mu.Unlock()
}

func (s *Socket) arm(k timerKind, d time.Duration) {
	s.stop(k)
	if d <= 0 && k == timerHeartbeat {
		return // no heartbeat
	}
	s.seq++
	seq := s.seq
	s.timerSeq[k] = seq
	s.timers[k] = clock.AfterFunc(s.cfg.Clock, d, func() { s.post(input{kind: inTimer, timer: k, gen: seq}) })
}

//go:noinline
func (s *Socket) stop(k timerKind) {
	if t := s.timers[k]; t != nil {
		t.Stop()
		s.timers[k] = nil
	}
	s.timerSeq[k] = 0
}

//go:noinline
func (s *Socket) debug(msg string) {
	if f := s.cfg.Debug; f != nil {
		if s.cfg.drainOnly {
			msg = "(resending an earlier page's session) " + msg
		}
		f("batchsocket: " + msg)
	}
}

func (s *Socket) errorEvent(r Reason, code int, err error, final bool) {
	s.sink.Error(&ErrorInfo{Reason: r, Code: code, Err: err, Final: final})
}

func (s *Socket) closeEvent(code int, reason string, clean, final bool, delay time.Duration) {
	s.sink.Close(&CloseInfo{Code: code, Reason: reason, WasClean: clean, Final: final, Delay: delay})
}

// nopSink is the Sink of drain Sockets: the page sees nothing of them.
type nopSink struct{}

func (nopSink) Open(Kind)            {}
func (nopSink) Close(*CloseInfo)     {}
func (nopSink) Error(*ErrorInfo)     {}
func (nopSink) Messages([]byte, int) {}
func (nopSink) Stats(*Stats)         {}
