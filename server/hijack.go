package server

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// serveDetached takes an HTTP/1.x stream's connection over from net/http
// (SSEHandler.Hijack), writes the response head, the preamble and any
// replay, and leaves the stream to its subscriber: no goroutine stays
// behind. It reports false when the connection cannot be hijacked and
// nothing was written, so that the caller serves the stream normally.
func (h *SSEHandler) serveDetached(w http.ResponseWriter, r *http.Request, name, lastID string) bool {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		if !errors.Is(err, http.ErrNotSupported) {
			h.logger().Warn("eventwire: hijack failed", "remote", r.RemoteAddr, "err", err)
		}
		return false
	}
	// The bufio.ReadWriter net/http hands back is dropped: nothing more is
	// read from the client, and writes go straight to conn.
	wt := h.writeTimeout()
	s := &subscriber{remote: r.RemoteAddr, conn: conn, heartbeat: h.heartbeat(), writeTimeout: max(wt, 0)}
	s.writing.Store(true) // this goroutine writes until s.run releases it
	s.startHeartbeat()
	g, err := h.Hub.subscribe(name, lastID, s)
	if err != nil {
		if s.timer != nil {
			s.timer.Stop()
		}
		status, msg := http.StatusServiceUnavailable, "shutting down\n"
		if !errors.Is(err, ErrClosed) {
			status, msg = http.StatusBadRequest, "invalid topic\n"
		}
		writeRawResponse(conn, wt, status, msg)
		return true
	}

	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\n")
	hdr := w.Header()
	setHeaders(hdr)
	hdr.Del("Content-Length")
	hdr.Del("Transfer-Encoding")
	hdr.Set("Connection", "close")
	_ = hdr.Write(&b)
	b.WriteString("\r\n")
	head := h.head(b.Bytes(), g, s.cursor.Load())
	if wt > 0 {
		_ = conn.SetWriteDeadline(time.Now().Add(wt))
	}
	if _, err := conn.Write(head); err != nil {
		s.t.unsubscribe(s, "write failed: "+err.Error())
		return true
	}
	s.run()
	return true
}

// writeRawResponse writes a small plain-text response on a hijacked
// connection and closes it.
func writeRawResponse(conn interface {
	Write([]byte) (int, error)
	SetWriteDeadline(time.Time) error
	Close() error
}, wt time.Duration, status int, msg string) {
	if wt > 0 {
		_ = conn.SetWriteDeadline(time.Now().Add(wt))
	}
	resp := "HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Length: " + strconv.Itoa(len(msg)) + "\r\n" +
		"Connection: close\r\n\r\n" + msg
	_, _ = conn.Write([]byte(resp))
	_ = conn.Close()
}
