package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/eventwire/eventwire/protocol/sse"
)

// Defaults of SSEHandler.
const (
	DefaultHeartbeat        = 15 * time.Second
	DefaultRetry            = 3 * time.Second
	DefaultLongPollWait     = 25 * time.Second
	DefaultWriteTimeout     = 10 * time.Second
	DefaultLastEventIDParam = "lastEventId"

	// LongPollMaxBytes and LongPollMaxEvents bound the events of one
	// long-poll response (at least one event is always sent). The client
	// polls again with the last ID it got and receives the rest.
	LongPollMaxBytes  = 1 << 20
	LongPollMaxEvents = 256

	// maxEchoedID bounds how much of a requested ID a gap event echoes.
	maxEchoedID = 256
)

// SSEHandler serves one topic of a Hub as an event stream (the default) or,
// with the query parameter transport=longpoll, as a long-poll. The zero
// values of its fields give the documented defaults; only Hub is required.
// See the package documentation for the wire format.
type SSEHandler struct {
	// Hub holds the topics. Required.
	Hub *Hub

	// Topic names the topic of a request. Nil means r.PathValue("topic")
	// (a ServeMux pattern such as "GET /events/{topic}").
	Topic func(*http.Request) string

	// Heartbeat is the interval of comment lines that keep idle streams
	// alive through proxies and let the server notice dead clients. Zero
	// means DefaultHeartbeat (15 s); negative sends none.
	Heartbeat time.Duration

	// Retry is sent as the stream's "retry:" field, the client's
	// reconnection delay. Zero means DefaultRetry (3 s); negative sends
	// none.
	Retry time.Duration

	// LongPollWait is how long a long-poll waits for an event before it
	// answers with none. Zero means DefaultLongPollWait (25 s).
	LongPollWait time.Duration

	// WriteTimeout bounds each write to a stream; a client that does not
	// take the bytes in time is dropped. It replaces http.Server's
	// WriteTimeout for streams. Zero means DefaultWriteTimeout (10 s);
	// negative means none.
	WriteTimeout time.Duration

	// LastEventIDParam is the query parameter that may carry the last
	// event ID, for clients that cannot set the Last-Event-ID header.
	// The header wins when both are present (a browser's EventSource
	// sends the header, with its newest ID, on reconnects to the same
	// URL). Empty means DefaultLastEventIDParam ("lastEventId").
	LastEventIDParam string

	// Hijack, when true, takes HTTP/1.x stream connections over from
	// net/http once the request is read: the response is written without
	// chunked encoding and ends by closing the connection, and no
	// goroutine or buffer is kept per idle stream. That cuts server memory
	// per stream several-fold (see the package documentation). The
	// connection is then outside http.Server's bookkeeping: Hub.Close (or
	// Disconnect) ends such streams, and a client that goes away is noticed
	// at the next write (at the latest a heartbeat later). HTTP/2 streams
	// and long-polls are never hijacked. Off by default.
	Hijack bool

	// Logger receives handler errors. Nil means slog.Default().
	Logger *slog.Logger
}

func (h *SSEHandler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func durationOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func (h *SSEHandler) heartbeat() time.Duration {
	return durationOr(h.Heartbeat, DefaultHeartbeat)
}

func (h *SSEHandler) writeTimeout() time.Duration {
	return durationOr(h.WriteTimeout, DefaultWriteTimeout)
}

// head returns the bytes sent first on every response: a comment, so that
// the client sees the stream open at once; the retry hint; and the position
// the response starts from. That is the gap event when the history cannot
// cover the requested ID, and otherwise an id-only block naming the
// position (its blank line commits the ID without dispatching an event),
// so that a client that reconnects or polls again before any event arrives
// resumes from there and misses nothing published in between.
func (h *SSEHandler) head(dst []byte, g *gap, cursor uint64) []byte {
	dst = sse.AppendComment(dst, "ok")
	if r := durationOr(h.Retry, DefaultRetry); r > 0 {
		dst = sse.AppendRetry(dst, r)
	}
	if g != nil {
		return h.Hub.appendGap(append(dst, '\n'), g, cursor)
	}
	dst = append(dst, "id: "...)
	dst = append(dst, h.Hub.formatID(cursor)...)
	return append(dst, '\n', '\n')
}

// requestTopic returns the topic a request names: topic(r) when topic is
// set, else the {topic} path value. It answers 400 and returns false when
// the name is not a valid topic.
func requestTopic(w http.ResponseWriter, r *http.Request, topic func(*http.Request) string) (string, bool) {
	var name string
	if topic != nil {
		name = topic(r)
	} else {
		name = r.PathValue("topic")
	}
	if err := checkTopic(name); err != nil {
		http.Error(w, "invalid topic", http.StatusBadRequest)
		return "", false
	}
	return name, true
}

// setHeaders sets the response headers of event streams and long-polls.
func setHeaders(hdr http.Header) {
	hdr.Set("Content-Type", "text/event-stream; charset=utf-8")
	hdr.Set("Cache-Control", "no-cache, no-transform")
	hdr.Set("X-Accel-Buffering", "no")
}

// ServeHTTP serves GET and HEAD requests; see SSEHandler.
func (h *SSEHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if h.Hub == nil {
		h.logger().Error("eventwire: SSEHandler without Hub")
		http.Error(w, "no hub", http.StatusInternalServerError)
		return
	}
	name, ok := requestTopic(w, r, h.Topic)
	if !ok {
		return
	}
	query := r.URL.Query()
	lastID := r.Header.Get("Last-Event-ID")
	if lastID == "" {
		param := h.LastEventIDParam
		if param == "" {
			param = DefaultLastEventIDParam
		}
		lastID = query.Get(param)
	}
	if r.Method == http.MethodHead {
		setHeaders(w.Header())
		w.WriteHeader(http.StatusOK)
		return
	}
	switch {
	case query.Get("transport") == "longpoll":
		h.serveLongPoll(w, r, name, lastID)
	case h.Hijack && r.ProtoMajor == 1 && h.serveDetached(w, r, name, lastID):
	default:
		h.serveStream(w, r, name, lastID)
	}
}

// subscribeError answers a failed subscribe.
func subscribeError(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrClosed) {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	http.Error(w, "invalid topic", http.StatusBadRequest)
}

// gapData is the JSON data of a gap event (see the package documentation).
type gapData struct {
	LastEventID string `json:"lastEventId"`
	Reason      string `json:"reason"`
	Epoch       string `json:"epoch"`
	Next        string `json:"next"`
}

// appendGap appends the gap event for a subscriber positioned at cursor.
func (hub *Hub) appendGap(dst []byte, g *gap, cursor uint64) []byte {
	req := g.requested
	if len(req) > maxEchoedID {
		req = req[:maxEchoedID]
	}
	data, _ := json.Marshal(gapData{
		LastEventID: req,
		Reason:      g.reason,
		Epoch:       hub.epoch,
		Next:        hub.formatID(cursor + 1),
	})
	out, err := sse.AppendEvent(dst, sse.Event{ID: hub.formatID(cursor), Type: "gap", Data: string(data)})
	if err != nil { // cannot happen: the ID and type are ours
		return dst
	}
	return out
}

// serveStream serves an event stream from the handler's goroutine.
func (h *SSEHandler) serveStream(w http.ResponseWriter, r *http.Request, name, lastID string) {
	s := &subscriber{remote: r.RemoteAddr, done: make(chan struct{}), notify: make(chan struct{}, 1)}
	g, err := h.Hub.subscribe(name, lastID, s)
	if err != nil {
		subscribeError(w, err)
		return
	}
	reason := "client gone"
	defer func() { s.t.unsubscribe(s, reason) }()

	rc := http.NewResponseController(w)
	wt := h.writeTimeout()
	setDeadline := func() {
		if wt > 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(wt))
		}
	}
	// flush sends what was written and lifts the write deadline: an idle
	// stream must not carry a deadline (over HTTP/2, net/http resets the
	// stream when it expires, even with no write pending).
	flush := func() error {
		if err := rc.Flush(); err != nil {
			return err
		}
		if wt > 0 {
			_ = rc.SetWriteDeadline(time.Time{})
		}
		return nil
	}
	// Bound the end of the response (net/http writes the last chunk after
	// we return, and clears the deadline after that).
	defer setDeadline()
	setHeaders(w.Header())
	w.WriteHeader(http.StatusOK)

	first := h.head(make([]byte, 0, 96), g, s.cursor.Load())
	setDeadline()
	if _, err := w.Write(first); err != nil {
		reason = "write failed: " + err.Error()
		return
	}
	var arr [32]*entry
	// drain writes every pending event and flushes.
	drain := func() error {
		for {
			batch, ok := s.next(arr[:0], maxBatchBytes)
			if !ok {
				s.evictLagged()
				return errEvicted
			}
			if len(batch) == 0 {
				return flush()
			}
			setDeadline()
			for _, e := range batch {
				if _, err := w.Write(e.wire); err != nil {
					return err
				}
			}
			s.cursor.Store(batch[len(batch)-1].seq)
		}
	}
	if err := drain(); err != nil {
		reason = "write failed: " + err.Error()
		return
	}

	var tick <-chan time.Time
	if hb := h.heartbeat(); hb > 0 {
		t := time.NewTicker(hb)
		defer t.Stop()
		tick = t.C
	}
	ctx := r.Context()
	for {
		select {
		case <-s.notify:
			if err := drain(); err != nil {
				reason = "write failed: " + err.Error()
				return
			}
		case <-tick:
			setDeadline()
			if _, err := w.Write(heartbeatComment); err != nil {
				reason = "write failed: " + err.Error()
				return
			}
			if err := flush(); err != nil {
				reason = "flush failed: " + err.Error()
				return
			}
		case <-s.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

var errEvicted = errors.New("evicted")

// serveLongPoll answers with the events after lastID as soon as there is at
// least one, or with none after LongPollWait.
func (h *SSEHandler) serveLongPoll(w http.ResponseWriter, r *http.Request, name, lastID string) {
	s := &subscriber{remote: r.RemoteAddr, done: make(chan struct{}), notify: make(chan struct{}, 1)}
	g, err := h.Hub.subscribe(name, lastID, s)
	if err != nil {
		subscribeError(w, err)
		return
	}
	defer s.t.unsubscribe(s, "long-poll answered")
	start := s.cursor.Load()

	var arr [LongPollMaxEvents]*entry
	batch, _ := s.next(arr[:0], LongPollMaxBytes)
	if len(batch) == 0 && g == nil {
		timer := time.NewTimer(durationOr(h.LongPollWait, DefaultLongPollWait))
		defer timer.Stop()
		select {
		case <-s.notify:
		case <-timer.C:
		case <-s.done:
		case <-r.Context().Done():
			return
		}
		batch, _ = s.next(arr[:0], LongPollMaxBytes)
	}
	body := h.head(make([]byte, 0, 96), g, start)
	n := len(body)
	for _, e := range batch {
		n += len(e.wire)
	}
	hdr := w.Header()
	setHeaders(hdr)
	hdr.Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(body); err != nil {
		return
	}
	for _, e := range batch {
		if _, err := w.Write(e.wire); err != nil {
			return
		}
	}
}
