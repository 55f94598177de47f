package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/eventwire/eventwire/protocol/batch"
)

// maxKeptFrameBuffer is the largest PUSH frame buffer a WebSocket keeps
// between frames; one grown for a larger frame is dropped after it, so that
// idle connections hold little memory. Received frames are read into
// buffers shared by all connections (IngestHandler.bodies), taken when a
// frame arrives and given back once it is handled.
const maxKeptFrameBuffer = 64 << 10

// ingestConn is one WebSocket of an IngestHandler. Its handler goroutine
// reads and processes frames one at a time (so ACKs go out in order); a
// second goroutine writes PUSH frames and sends heartbeat pings.
type ingestConn struct {
	h      *IngestHandler
	ws     *websocket.Conn
	ctx    context.Context // cancelled when the connection ends
	cancel context.CancelFunc
	remote string
	start  time.Time

	sess   *session     // after HELLO; touched by the read goroutine only, fixed once set
	bound  atomic.Bool  // sess is set (for the writer goroutine)
	limits batch.Limits // the client's PUSH limits; guarded by sess.pmu

	lastRead atomic.Int64 // time.Since(start) at the last frame, in ns
	busy     atomic.Bool  // processing a frame: the pong cannot be read now
	kick     chan struct{}

	ackBuf  []byte          // ACK frames, read goroutine only
	scratch []batch.Message // deliver's message list
	pushBuf []byte          // PUSH frames, writer goroutine only

	closeOnce sync.Once
}

// serveWebSocket accepts the handshake and serves the connection until it
// ends.
func (h *IngestHandler) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if h.isClosed() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:       []string{batch.Subprotocol},
		OriginPatterns:     h.patterns,
		InsecureSkipVerify: h.anyOrigin,
	})
	if err != nil {
		// Accept has answered: 403 for an origin not allowed, 426 for a
		// request that is not a WebSocket handshake, 400 for a bad one.
		h.stats.rejected.Add(1)
		h.log.Info("eventwire: ingest handshake refused", "remote", r.RemoteAddr, "origin", r.Header.Get("Origin"), "err", err)
		return
	}
	ws.SetReadLimit(int64(h.limits.MaxFrame))
	ctx, cancel := context.WithCancel(context.Background())
	c := &ingestConn{h: h, ws: ws, ctx: ctx, cancel: cancel, remote: r.RemoteAddr, start: time.Now(), kick: make(chan struct{}, 1)}

	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		cancel()
		_ = ws.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	h.conns[c] = struct{}{}
	h.wg.Add(1)
	h.mu.Unlock()
	h.stats.connections.Add(1)
	defer func() {
		h.stats.connections.Add(-1)
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
		h.wg.Done()
	}()
	c.run()
}

// run serves the connection: the read loop here, the writer in a second
// goroutine.
func (c *ingestConn) run() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.writeLoop()
	}()
	why := "panic"
	defer func() { // deferred, so that a panicking Sink leaves no state behind
		c.cancel()
		_ = c.ws.CloseNow() // no-op when already closed
		<-done
		if s := c.sess; s != nil {
			s.pmu.Lock()
			if s.conn == c {
				s.conn = nil
			}
			s.pmu.Unlock()
			c.h.sessions.release(s)
		}
		c.h.log.Debug("eventwire: ingest connection ended", "remote", c.remote, "session", c.sessionName(), "why", why)
	}()
	why = c.readLoop()
}

// sessionName returns the session id, or "" before HELLO. Any goroutine.
func (c *ingestConn) sessionName() string {
	if !c.bound.Load() {
		return ""
	}
	return c.sess.id.String()
}

// closeWith closes the WebSocket with a close handshake (at most a few
// seconds); the read loop then ends. Safe to call from any goroutine, more
// than once.
func (c *ingestConn) closeWith(code batch.Code, reason string) {
	c.closeOnce.Do(func() {
		_ = c.ws.Close(websocket.StatusCode(code), reason)
	})
}

// fail closes the connection for bad input or a failure, logs why, and
// returns the reason for the read loop's result.
func (c *ingestConn) fail(cl batch.Close, rejected bool) string {
	if rejected {
		c.h.stats.rejected.Add(1)
		c.h.log.Info("eventwire: ingest connection closed", "remote", c.remote, "session", c.sessionName(), "code", int(cl.Code), "reason", cl.Reason)
	}
	c.closeWith(cl.Code, cl.Reason)
	return cl.Reason
}

func (c *ingestConn) touch() {
	c.lastRead.Store(int64(time.Since(c.start)))
}

// readLoop reads and processes frames until the connection ends, and
// returns why it ended.
func (c *ingestConn) readLoop() string {
	for {
		typ, r, err := c.ws.Reader(c.ctx)
		if err != nil {
			return readEnd(err)
		}
		if typ != websocket.MessageBinary {
			return c.fail(batch.Close{Code: batch.CodeUnsupported, Reason: "frames must be binary messages"}, true)
		}
		bp := c.h.frameBuffer()
		frame, err := readMessage(r, *bp)
		if err != nil {
			c.h.putFrameBuffer(bp, frame)
			if errors.Is(err, websocket.ErrMessageTooBig) {
				// coder/websocket has sent 1009; finish the handshake.
				return c.fail(batch.Close{Code: batch.CodeTooBig, Reason: "frame exceeds the server's limits"}, true)
			}
			return readEnd(err)
		}
		c.busy.Store(true)
		c.touch()
		cl, rejected, ok := c.handle(frame)
		c.touch()
		c.busy.Store(false)
		c.h.putFrameBuffer(bp, frame)
		if !ok {
			return c.fail(cl, rejected)
		}
	}
}

// readEnd describes why reading ended.
func readEnd(err error) string {
	if code := websocket.CloseStatus(err); code != -1 {
		return "closed by the client: " + code.String()
	}
	return err.Error()
}

// readMessage reads a whole message into buf[:0], growing it as needed
// (the connection's read limit bounds it).
func readMessage(r io.Reader, buf []byte) ([]byte, error) {
	buf = buf[:0]
	if cap(buf) == 0 {
		buf = make([]byte, 0, 4096)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// handle processes one frame. When the connection must close it returns
// ok == false, the close, and whether the client was at fault.
func (c *ingestConn) handle(frame []byte) (cl batch.Close, rejected, ok bool) {
	h := c.h
	h.stats.frames.Add(1)
	t, err := batch.Peek(frame)
	if err != nil {
		return batch.CloseFor(err), true, false
	}
	if c.sess == nil && t != batch.TypeHello {
		return batch.Close{Code: batch.CodeProtocol, Reason: "the first frame must be HELLO, not " + t.String()}, true, false
	}
	switch t {
	case batch.TypeHello:
		hello, err := batch.DecodeHello(frame)
		if err != nil {
			return batch.CloseFor(err), true, false
		}
		return c.hello(hello)
	case batch.TypeBatch:
		b, err := batch.DecodeBatch(frame, h.limits)
		if err != nil {
			return batch.CloseFor(err), true, false
		}
		if b.Session != c.sess.id {
			return batch.Close{Code: batch.CodeProtocol, Reason: "BATCH of another session than the connection's HELLO"}, true, false
		}
		ack, err := h.deliver(c.ctx, c.sess, b, &c.scratch)
		if err != nil {
			h.log.Warn("eventwire: ingest sink failed", "session", c.sess.id.String(), "first", b.FirstSeq, "err", err)
			return sinkClose(err), false, false
		}
		return c.writeAck(ack)
	case batch.TypeAck:
		a, err := batch.DecodeAck(frame)
		if err != nil {
			return batch.CloseFor(err), true, false
		}
		s := c.sess
		s.pmu.Lock()
		over := a.Seq > s.pushSeq
		if !over {
			s.ackPushLocked(a.Seq)
		}
		s.pmu.Unlock()
		if over {
			return batch.Close{Code: batch.CodeProtocol, Reason: "ACK above the last PUSH message sent"}, true, false
		}
		return batch.Close{}, false, true
	case batch.TypeClose:
		cf, err := batch.DecodeClose(frame)
		if err != nil {
			return batch.CloseFor(err), true, false
		}
		h.log.Debug("eventwire: ingest CLOSE from client", "session", c.sessionName(), "code", int(cf.Code), "reason", cf.Reason)
		return batch.Close{Code: batch.CodeNormal}, false, false
	default: // PUSH
		return batch.Close{Code: batch.CodeProtocol, Reason: t.String() + " is a server-to-client frame"}, true, false
	}
}

// hello binds the connection to the HELLO's session (the first time),
// supersedes the session's older connection, answers with the ACK and
// wakes the writer to resend unacknowledged PUSH messages.
func (c *ingestConn) hello(hello batch.Hello) (batch.Close, bool, bool) {
	h := c.h
	if c.sess == nil {
		s, err := h.sessions.acquire(hello.Session, true)
		if err != nil {
			h.log.Warn("eventwire: ingest session refused", "session", hello.Session.String(), "err", err)
			return sessionClose(err), false, false
		}
		c.sess = s
		c.bound.Store(true)
	} else if hello.Session != c.sess.id {
		return batch.Close{Code: batch.CodeProtocol, Reason: "HELLO of another session than the connection's first"}, true, false
	}
	s := c.sess
	ack := h.hello(s, hello)
	s.pmu.Lock()
	old := s.conn
	s.conn = c
	c.limits = hello.Limits.Normalize()
	s.sent = s.pushAcked // resend everything not acknowledged
	s.pmu.Unlock()
	if old != nil && old != c {
		go old.closeWith(batch.CodeSuperseded, "superseded by a newer connection of the session")
	}
	cl, rejected, ok := c.writeAck(ack)
	if ok {
		c.kickWriter()
	}
	return cl, rejected, ok
}

// writeAck sends ACK(seq).
func (c *ingestConn) writeAck(seq uint64) (batch.Close, bool, bool) {
	c.ackBuf = batch.AppendAck(c.ackBuf[:0], batch.Ack{Seq: seq})
	if err := c.write(c.ackBuf); err != nil {
		return batch.Close{Code: batch.CodeInternal, Reason: "write failed"}, false, false
	}
	return batch.Close{}, false, true
}

// write sends one frame within the write timeout.
func (c *ingestConn) write(frame []byte) error {
	ctx, cancel := context.WithTimeout(c.ctx, c.h.opts.WriteTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageBinary, frame)
}

func (c *ingestConn) kickWriter() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// writeLoop writes PUSH frames when kicked and pings the client when it
// has been silent for a heartbeat interval, until the connection ends.
func (c *ingestConn) writeLoop() {
	hb := c.h.opts.Heartbeat
	var tick <-chan time.Time
	if hb > 0 {
		t := time.NewTicker(hb)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.kick:
			if cl, ok := c.flushPush(); !ok {
				c.fail(cl, false)
				return
			}
		case <-tick:
			silent := time.Duration(int64(time.Since(c.start)) - c.lastRead.Load())
			if c.busy.Load() || silent < hb {
				continue
			}
			ctx, cancel := context.WithTimeout(c.ctx, c.h.opts.HeartbeatTimeout)
			err := c.ws.Ping(ctx)
			cancel()
			if err != nil {
				if c.ctx.Err() == nil {
					c.h.stats.heartbeats.Add(1)
					c.h.log.Info("eventwire: ingest peer dead: no pong", "remote", c.remote, "session", c.sessionName(), "err", err)
				}
				_ = c.ws.CloseNow() // a dead peer would not answer a close handshake
				return
			}
		}
	}
}

// flushPush writes the session's PUSH messages not yet written to this
// connection, in frames within the client's limits.
func (c *ingestConn) flushPush() (batch.Close, bool) {
	if !c.bound.Load() {
		return batch.Close{}, true
	}
	s := c.sess
	var w batch.Writer
	for {
		s.pmu.Lock()
		if s.conn != c || len(s.outbox) == 0 || s.sent >= s.pushSeq {
			s.pmu.Unlock()
			return batch.Close{}, true
		}
		i := 0
		if s.sent >= s.outbox[0].seq {
			i = int(s.sent - s.outbox[0].seq + 1)
		}
		lim := c.limits
		w.StartPush(c.pushBuf, s.pushAcked, s.outbox[i].seq)
		for ; i < len(s.outbox) && w.Count() < lim.MaxMessages; i++ {
			m := s.outbox[i]
			if w.Len()+batch.MessageSize(len(m.data), m.binary) > lim.MaxFrame || len(m.data) > lim.MaxMessage {
				break
			}
			w.Add(m.data, m.binary)
			s.sent = m.seq
		}
		s.pmu.Unlock()
		if w.Count() == 0 {
			c.h.log.Error("eventwire: ingest PUSH message exceeds the client's limits", "session", s.id.String())
			return batch.Close{Code: batch.CodeInternal, Reason: "PUSH message exceeds the client's limits"}, false
		}
		frame := w.Bytes()
		if err := c.write(frame); err != nil {
			return batch.Close{Code: batch.CodeInternal, Reason: "write failed"}, false
		}
		if cap(frame) <= maxKeptFrameBuffer {
			c.pushBuf = frame[:0]
		} else {
			c.pushBuf = nil
		}
	}
}
