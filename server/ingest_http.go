package server

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/eventwire/eventwire/protocol/batch"
)

// maxKeptBodyBuffer is the largest frame buffer (request body or WebSocket
// frame) kept for reuse: 4 times the client's default flush size.
const maxKeptBodyBuffer = 256 << 10

// frameBuffer returns a buffer to read a frame into, from the pool shared
// by requests and WebSockets.
func (h *IngestHandler) frameBuffer() *[]byte {
	if bp, _ := h.bodies.Get().(*[]byte); bp != nil {
		return bp
	}
	return new([]byte)
}

// putFrameBuffer gives bp back to the pool once nothing refers to frame,
// what was read into it (perhaps grown), unless it grew beyond
// maxKeptBodyBuffer.
func (h *IngestHandler) putFrameBuffer(bp *[]byte, frame []byte) {
	if cap(frame) <= maxKeptBodyBuffer {
		*bp = frame[:0]
		h.bodies.Put(bp)
	}
}

// servePost serves one POSTed HELLO or BATCH frame: the answer is an ACK
// frame with status 200, or a CLOSE frame with the status of its code.
func (h *IngestHandler) servePost(w http.ResponseWriter, r *http.Request) {
	if h.isClosed() {
		writeClose(w, batch.Close{Code: batch.CodeGoingAway, Reason: "server shutting down"})
		return
	}
	if !h.originAllowed(r) {
		h.reject(w, r, batch.Close{Code: batch.CodePolicy, Reason: "origin not allowed"})
		return
	}
	// The body is a frame whatever its declared type (sendBeacon and
	// cross-origin keepalive fetches use CORS-safelisted types such as
	// text/plain), except for a multipart form, which wraps it.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && strings.HasPrefix(mt, "multipart/") {
		h.reject(w, r, batch.Close{Code: batch.CodeUnsupported, Reason: "unsupported content type " + mt + ": send the frame as the raw body"})
		return
	}
	if r.ContentLength > int64(h.limits.MaxFrame) {
		h.reject(w, r, tooBig(r.ContentLength, h.limits.MaxFrame))
		return
	}
	bp := h.frameBuffer()
	frame, err := readMessage(http.MaxBytesReader(w, r.Body, int64(h.limits.MaxFrame)), *bp)
	defer func() { h.putFrameBuffer(bp, frame) }()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.reject(w, r, tooBig(int64(len(frame))+1, h.limits.MaxFrame))
			return
		}
		h.log.Debug("eventwire: ingest POST body", "remote", r.RemoteAddr, "err", err)
		h.reject(w, r, batch.Close{Code: batch.CodeProtocol, Reason: "failed to read the body"})
		return
	}
	h.stats.frames.Add(1)
	t, err := batch.Peek(frame)
	if err != nil {
		h.reject(w, r, batch.CloseFor(err))
		return
	}
	var ack uint64
	switch t {
	case batch.TypeHello:
		hello, err := batch.DecodeHello(frame)
		if err != nil {
			h.reject(w, r, batch.CloseFor(err))
			return
		}
		err = h.withSession(hello.Session, func(s *session) error {
			ack = h.hello(s, hello)
			return nil
		})
		if err != nil {
			writeClose(w, sessionClose(err))
			return
		}
	case batch.TypeBatch:
		b, err := batch.DecodeBatch(frame, h.limits)
		if err != nil {
			h.reject(w, r, batch.CloseFor(err))
			return
		}
		var sinkErr error
		err = h.withSession(b.Session, func(s *session) error {
			sp, _ := h.scratch.Get().(*[]batch.Message)
			if sp == nil {
				sp = new([]batch.Message)
			}
			defer h.scratch.Put(sp)
			// Not cancelled when the client goes away: a page's final
			// flush (sendBeacon) must be stored even when nobody waits
			// for the ACK.
			ack, sinkErr = h.deliver(context.WithoutCancel(r.Context()), s, b, sp)
			return nil
		})
		if err != nil {
			writeClose(w, sessionClose(err))
			return
		}
		if sinkErr != nil {
			h.log.Warn("eventwire: ingest sink failed", "session", b.Session.String(), "first", b.FirstSeq, "err", sinkErr)
			writeClose(w, sinkClose(sinkErr))
			return
		}
	default:
		h.reject(w, r, batch.Close{Code: batch.CodeProtocol, Reason: "only HELLO and BATCH frames can be posted, not " + t.String()})
		return
	}
	writeFrame(w, http.StatusOK, batch.AppendAck(make([]byte, 0, 12), batch.Ack{Seq: ack}))
}

// withSession runs f with the state of session id, created if needed.
func (h *IngestHandler) withSession(id batch.SessionID, f func(*session) error) error {
	s, err := h.sessions.acquire(id, true)
	if err != nil {
		return err
	}
	defer h.sessions.release(s)
	return f(s)
}

// reject answers bad input with a CLOSE frame and counts it.
func (h *IngestHandler) reject(w http.ResponseWriter, r *http.Request, cl batch.Close) {
	h.stats.rejected.Add(1)
	h.log.Info("eventwire: ingest POST refused", "remote", r.RemoteAddr, "code", int(cl.Code), "reason", cl.Reason)
	writeClose(w, cl)
}

func tooBig(got int64, limit int) batch.Close {
	return batch.CloseFor(&batch.LimitError{What: "frame size", Limit: uint64(limit), Got: uint64(got)})
}

// writeClose answers with cl as a CLOSE frame and the HTTP status of its
// code (PROTOCOL.md, section 8).
func writeClose(w http.ResponseWriter, cl batch.Close) {
	writeFrame(w, cl.Code.HTTPStatus(), batch.AppendClose(nil, cl))
}

func writeFrame(w http.ResponseWriter, status int, frame []byte) {
	hdr := w.Header()
	hdr.Set("Content-Type", batch.ContentType)
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Length", strconv.Itoa(len(frame)))
	w.WriteHeader(status)
	_, _ = w.Write(frame)
}

// originAllowed applies the WebSocket handshake's origin rule to a POST:
// no Origin header, the request's own host, or a match of an
// OriginPatterns entry (as coder/websocket's Accept does).
func (h *IngestHandler) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || h.anyOrigin {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(r.Host, u.Host) {
		return true
	}
	for _, p := range h.patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return true
		}
	}
	return false
}
