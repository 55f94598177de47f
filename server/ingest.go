package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventwire/eventwire/protocol/batch"
)

// IngestPath is where Server serves the IngestHandler.
const IngestPath = "/ingest"

// Defaults of IngestOptions.
const (
	// DefaultIngestHeartbeat is how long a WebSocket may stay silent
	// before the server pings it.
	DefaultIngestHeartbeat = 15 * time.Second
	// DefaultIngestHeartbeatTimeout is how long the server waits for the
	// pong. With DefaultIngestHeartbeat, a dead peer is dropped 45 s after
	// its last frame at the latest, as PROTOCOL.md (section 6.5) suggests.
	DefaultIngestHeartbeatTimeout = 30 * time.Second
	// DefaultIngestMaxSessions bounds the session states kept for
	// deduplication (about 250 bytes each, plus queued PUSH messages).
	DefaultIngestMaxSessions = 100_000
	// DefaultIngestSessionTTL is how long the state of an idle session is
	// kept: PROTOCOL.md asks for at least 24 hours.
	DefaultIngestSessionTTL = 24 * time.Hour
	// DefaultPushQueueMessages and DefaultPushQueueBytes bound the PUSH
	// messages queued per session until the client acknowledges them.
	DefaultPushQueueMessages = 1024
	DefaultPushQueueBytes    = 1 << 20
)

// Errors of IngestHandler.Send.
var (
	// ErrUnknownSession: the server holds no state for the session (it
	// never connected, or its state was evicted).
	ErrUnknownSession = errors.New("eventwire/server: unknown session")
	// ErrPushQueueFull: the session's queue of unacknowledged PUSH
	// messages is at IngestOptions.PushQueueMessages or PushQueueBytes.
	ErrPushQueueFull = errors.New("eventwire/server: push queue full")
	// ErrPushTooLarge: a message does not fit the client's limits (its
	// HELLO's, or the protocol defaults).
	ErrPushTooLarge = errors.New("eventwire/server: push message too large")
	// ErrIngestClosed: IngestHandler.Close was called.
	ErrIngestClosed = errors.New("eventwire/server: ingest closed")
)

// IngestOptions configures an IngestHandler. The zero value gives the
// documented defaults.
type IngestOptions struct {
	// Sink receives every accepted message once, in order. Nil means
	// Discard.
	Sink Sink

	// OriginPatterns allows cross-origin requests: WebSocket handshakes
	// and POSTs whose Origin header names another host than the request's
	// Host. Each pattern is matched, case-insensitively with path.Match,
	// against the origin's host ("app.example.com", "*.example.com"), or
	// against "scheme://host" when it contains "://" (coder/websocket's
	// AcceptOptions.OriginPatterns). Empty allows same-origin requests
	// only (and requests without an Origin header, which browsers always
	// send here: non-browser clients). "*" allows every origin. A
	// cross-origin page reading the HTTP fallback's answers also needs
	// the origin in the CORS allow-list.
	OriginPatterns []string

	// Limits bound every frame a client sends (zero fields: the protocol
	// defaults, 1 MiB per frame, 4,096 messages, 256 KiB per message). A
	// WebSocket's read limit is Limits.MaxFrame, so a larger message
	// closes it with 1009 before it is buffered; a larger POST body gets
	// 413.
	Limits batch.Limits

	// Heartbeat is how long a WebSocket may stay silent (no frame
	// received) before the server sends a WebSocket ping; browsers answer
	// pings by themselves. Zero means DefaultIngestHeartbeat (15 s);
	// negative disables pings.
	Heartbeat time.Duration

	// HeartbeatTimeout is how long the server waits for the pong before
	// it drops the connection as dead. Zero means
	// DefaultIngestHeartbeatTimeout (30 s).
	HeartbeatTimeout time.Duration

	// WriteTimeout bounds each write to a WebSocket (ACK, PUSH); a client
	// that does not take the bytes in time is dropped. Zero means
	// DefaultWriteTimeout (10 s).
	WriteTimeout time.Duration

	// MaxSessions bounds the session states held for deduplication. When
	// a new session arrives at the bound, the least recently used idle
	// session is evicted; if every session is in use (a WebSocket open or
	// a request in progress), the new one is refused with 1013 (HTTP 503).
	// Zero means DefaultIngestMaxSessions (100,000).
	MaxSessions int

	// SessionTTL is how long the state of a session that is not in use
	// is kept after its last frame. Zero means DefaultIngestSessionTTL
	// (24 h).
	SessionTTL time.Duration

	// PushQueueMessages and PushQueueBytes bound the PUSH messages queued
	// per session (Send) until the client acknowledges them. Zero means
	// DefaultPushQueueMessages (1,024) and DefaultPushQueueBytes (1 MiB).
	PushQueueMessages int
	PushQueueBytes    int

	// OnAccept, if set, is called after the Sink has accepted the n
	// messages of session numbered from firstSeq, before the ACK is sent,
	// with the session's lock held: it must be quick and must not call
	// back into the handler for the same session except Send.
	OnAccept func(session batch.SessionID, firstSeq uint64, n int)

	// Logger receives connection ends (Debug), rejected input (Info) and
	// Sink errors (Warn). Nil means slog.Default().
	Logger *slog.Logger
}

// IngestHandler is the server side of eventwire's batch protocol
// (protocol/batch, PROTOCOL.md): clients send batches of messages over a
// WebSocket (GET with an Upgrade) or as HTTP POST bodies (the fallback and
// the keepalive flush of a closing page), on the same URL; each message
// reaches the Sink exactly once and in order, and is acknowledged only
// after the Sink accepted it. Over the WebSocket, the server can also push
// messages to the client (Send). See the package documentation for the
// details. An IngestHandler is safe for concurrent use.
type IngestHandler struct {
	sink      Sink
	opts      IngestOptions
	limits    batch.Limits
	patterns  []string
	anyOrigin bool
	log       *slog.Logger
	sessions  *sessionTable
	scratch   sync.Pool // *[]batch.Message, for HTTP requests
	bodies    sync.Pool // *[]byte, frame buffers for HTTP request bodies and WebSocket frames

	mu     sync.Mutex
	conns  map[*ingestConn]struct{}
	closed bool
	wg     sync.WaitGroup // open WebSockets

	stats ingestCounters
}

type ingestCounters struct {
	connections atomic.Int64
	frames      atomic.Uint64
	messages    atomic.Uint64
	duplicates  atomic.Uint64
	gaps        atomic.Uint64
	sinkErrors  atomic.Uint64
	rejected    atomic.Uint64
	pushed      atomic.Uint64
	heartbeats  atomic.Uint64
}

// IngestStats are an IngestHandler's counters since it was created.
type IngestStats struct {
	Sessions    int    `json:"sessions"`    // session states held
	Evicted     uint64 `json:"evicted"`     // session states evicted (LRU or TTL)
	Connections int64  `json:"connections"` // open WebSockets
	Frames      uint64 `json:"frames"`      // frames received, both transports
	Messages    uint64 `json:"messages"`    // messages accepted by the Sink
	Duplicates  uint64 `json:"duplicates"`  // messages dropped as already accepted
	Gaps        uint64 `json:"gaps"`        // BATCH frames refused for a gap
	SinkErrors  uint64 `json:"sinkErrors"`  // failed Sink calls
	Rejected    uint64 `json:"rejected"`    // connections and requests refused for bad input
	Pushed      uint64 `json:"pushed"`      // messages queued by Send
	Dead        uint64 `json:"dead"`        // WebSockets dropped by the heartbeat
}

// NewIngestHandler returns a handler with opts; see IngestOptions for the
// defaults.
func NewIngestHandler(opts IngestOptions) *IngestHandler {
	h := &IngestHandler{
		sink:   opts.Sink,
		opts:   opts,
		limits: opts.Limits.Normalize(),
		log:    opts.Logger,
		conns:  make(map[*ingestConn]struct{}),
	}
	if h.sink == nil {
		h.sink = Discard
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	for _, p := range opts.OriginPatterns {
		if p == "*" {
			h.anyOrigin = true
		} else if p != "" {
			h.patterns = append(h.patterns, p)
		}
	}
	if h.opts.Heartbeat == 0 {
		h.opts.Heartbeat = DefaultIngestHeartbeat
	}
	if h.opts.HeartbeatTimeout <= 0 {
		h.opts.HeartbeatTimeout = DefaultIngestHeartbeatTimeout
	}
	if h.opts.WriteTimeout <= 0 {
		h.opts.WriteTimeout = DefaultWriteTimeout
	}
	if h.opts.MaxSessions <= 0 {
		h.opts.MaxSessions = DefaultIngestMaxSessions
	}
	if h.opts.SessionTTL <= 0 {
		h.opts.SessionTTL = DefaultIngestSessionTTL
	}
	if h.opts.PushQueueMessages <= 0 {
		h.opts.PushQueueMessages = DefaultPushQueueMessages
	}
	if h.opts.PushQueueBytes <= 0 {
		h.opts.PushQueueBytes = DefaultPushQueueBytes
	}
	h.sessions = newSessionTable(h.opts.MaxSessions, h.opts.SessionTTL, time.Now)
	return h
}

// ServeHTTP serves a WebSocket (GET with an Upgrade) or one POSTed frame;
// other methods get 405.
func (h *IngestHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.serveWebSocket(w, r)
	case http.MethodPost:
		h.servePost(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed: GET (WebSocket) or POST (one frame)", http.StatusMethodNotAllowed)
	}
}

// Stats returns the handler's counters.
func (h *IngestHandler) Stats() IngestStats {
	n, evicted := h.sessions.stats()
	return IngestStats{
		Sessions:    n,
		Evicted:     evicted,
		Connections: h.stats.connections.Load(),
		Frames:      h.stats.frames.Load(),
		Messages:    h.stats.messages.Load(),
		Duplicates:  h.stats.duplicates.Load(),
		Gaps:        h.stats.gaps.Load(),
		SinkErrors:  h.stats.sinkErrors.Load(),
		Rejected:    h.stats.rejected.Load(),
		Pushed:      h.stats.pushed.Load(),
		Dead:        h.stats.heartbeats.Load(),
	}
}

// Close closes every WebSocket with code 1001 (going away), cancels the
// context of their Sink calls, and waits for their handlers to return, so
// that the Sink is called no more from them;
// later WebSockets and POSTs are refused with 1001 (HTTP 503). It does not
// close the Sink. Calling Close again waits again.
func (h *IngestHandler) Close() {
	h.mu.Lock()
	h.closed = true
	conns := make([]*ingestConn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		go func() {
			c.closeWith(batch.CodeGoingAway, "server shutting down")
			c.cancel() // a Sink call in progress sees its context end
		}()
	}
	h.wg.Wait()
}

func (h *IngestHandler) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// Send queues msgs for the client of session, numbered in the session's
// PUSH sequence, and returns at once; a connected WebSocket writes them in
// PUSH frames, coalesced, within the client's limits. The data is copied.
// Messages stay queued until the client acknowledges them, and are sent
// again on its next WebSocket if the connection drops (HTTP cannot
// carry them). Send fails with ErrUnknownSession when the server holds no
// state for the session, ErrPushTooLarge when a message cannot fit the
// client's limits, ErrPushQueueFull when the queue bounds are reached
// (nothing is queued then), ErrIngestClosed after Close. Queued messages
// are lost when the session's state is evicted.
func (h *IngestHandler) Send(session batch.SessionID, msgs ...batch.Message) error {
	if h.isClosed() {
		return ErrIngestClosed
	}
	s, err := h.sessions.acquire(session, false)
	if err != nil {
		return err
	}
	defer h.sessions.release(s)
	s.pmu.Lock()
	lim := batch.Limits{}.Normalize()
	if s.conn != nil {
		lim = s.conn.limits
	}
	size := 0
	for _, m := range msgs {
		if len(m.Data) > lim.MaxMessage || pushHeaderMax+batch.MessageSize(len(m.Data), m.Binary) > lim.MaxFrame {
			s.pmu.Unlock()
			return ErrPushTooLarge
		}
		size += len(m.Data)
	}
	if len(s.outbox)+len(msgs) > h.opts.PushQueueMessages || s.outboxBytes+size > h.opts.PushQueueBytes {
		s.pmu.Unlock()
		return ErrPushQueueFull
	}
	for _, m := range msgs {
		s.pushSeq++
		s.outbox = append(s.outbox, pushMsg{seq: s.pushSeq, data: append([]byte(nil), m.Data...), binary: m.Binary})
	}
	s.outboxBytes += size
	conn := s.conn
	s.pmu.Unlock()
	h.stats.pushed.Add(uint64(len(msgs)))
	if conn != nil {
		conn.kickWriter()
	}
	return nil
}

// pushHeaderMax is the largest PUSH frame header: version, type, and two
// sequence numbers of up to 10 bytes.
const pushHeaderMax = 2 + 10 + 10

// deliver applies the receiver's rule (PROTOCOL.md, section 6.2) to b for
// session s, holding the session's lock so that frames of one session,
// whatever their connection or transport, are processed one at a time:
// it raises last to b.Acked, refuses a frame that would leave a gap,
// drops the already accepted prefix, gives the rest to the Sink, and only
// then advances last. It returns the sequence number to acknowledge. On a
// Sink error nothing is acknowledged beyond what was before.
func (h *IngestHandler) deliver(ctx context.Context, s *session, b batch.Batch, scratch *[]batch.Message) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = max(s.last, b.Acked)
	last := s.last
	if b.FirstSeq > last+1 {
		h.stats.gaps.Add(1)
		return last, nil
	}
	msgs := (*scratch)[:0]
	first := last + 1
	for seq, m := range b.All() {
		if seq > last {
			msgs = append(msgs, m)
		}
	}
	if dup := uint64(b.Messages.Len() - len(msgs)); dup > 0 {
		h.stats.duplicates.Add(dup)
	}
	if len(msgs) == 0 {
		return last, nil
	}
	err := h.sink.Accept(ctx, s.id, first, msgs)
	clear(msgs) // keep no reference to the frame
	*scratch = msgs[:0]
	if err != nil {
		h.stats.sinkErrors.Add(1)
		return last, err
	}
	s.last = first + uint64(len(msgs)) - 1
	h.stats.messages.Add(uint64(len(msgs)))
	if h.opts.OnAccept != nil {
		h.opts.OnAccept(s.id, first, len(msgs))
	}
	return s.last, nil
}

// hello applies a HELLO to session s: it adopts the client's acked,
// treats received as an acknowledgement of PUSH messages, and returns the
// sequence number to acknowledge.
func (h *IngestHandler) hello(s *session, hello batch.Hello) uint64 {
	s.mu.Lock()
	s.last = max(s.last, hello.Acked)
	last := s.last
	s.mu.Unlock()
	s.pmu.Lock()
	// A server that lost the session's state continues numbering above
	// what the client has received, or the client would drop the next
	// messages as duplicates.
	s.pushSeq = max(s.pushSeq, hello.Received)
	s.ackPushLocked(hello.Received)
	s.pmu.Unlock()
	return last
}

// sinkClose returns the close code and reason for a Sink error.
func sinkClose(err error) batch.Close {
	if errors.Is(err, ErrSinkOverloaded) {
		return batch.Close{Code: batch.CodeTryAgain, Reason: "sink overloaded, try again later"}
	}
	return batch.Close{Code: batch.CodeInternal, Reason: "sink failed"}
}

// sessionClose is the close for an error of sessionTable.acquire.
func sessionClose(err error) batch.Close {
	if errors.Is(err, errTooManySessions) {
		return batch.Close{Code: batch.CodeTryAgain, Reason: "too many sessions, try again later"}
	}
	return batch.CloseFor(err)
}
