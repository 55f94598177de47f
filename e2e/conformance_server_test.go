package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/eventwire/eventwire/server"
)

// This file is the server side of the conformance suite: a handler that
// plays scripted HTTP responses byte for byte, so that the browser's
// EventSource and eventwire's can be given exactly the same stream.

// endMode says how a scripted response ends.
type endMode int

const (
	// endDefault is endHang for the last response of a script and
	// endClose for the others.
	endDefault endMode = iota
	// endClose ends the body with a clean close of the connection (the
	// response has no length, so that is the orderly end of the stream).
	endClose
	// endReset resets the connection (RST): a network error.
	endReset
	// endHang keeps the connection open until the client goes away.
	endHang
)

// part is one write of a scripted body.
type part struct {
	b     string
	pause time.Duration // after the write
}

// confResp is one scripted response: the answer to one connection attempt.
type confResp struct {
	status int      // 0 means 200
	ctype  *string  // nil means "text/event-stream"; "" sends no Content-Type
	header []string // extra raw header lines ("Name: value")
	parts  []part
	// bytewise writes the body one byte per write, with a pause of
	// bytePause (1 ms by default) between bytes.
	bytewise  bool
	bytePause time.Duration
	end       endMode
}

// body is a response of status 200, text/event-stream, with the given
// writes (each without a pause).
func body(writes ...string) confResp {
	r := confResp{}
	for _, w := range writes {
		r.parts = append(r.parts, part{b: w})
	}
	return r
}

// paced is like body with a pause after every write, so that each write
// very likely reaches the page in a network read of its own.
func paced(pause time.Duration, writes ...string) confResp {
	r := confResp{}
	for _, w := range writes {
		r.parts = append(r.parts, part{b: w, pause: pause})
	}
	return r
}

func (r confResp) withEnd(e endMode) confResp { r.end = e; return r }

func (r confResp) withStatus(status int) confResp { r.status = status; return r }

func (r confResp) withType(ctype string) confResp { r.ctype = &ctype; return r }

// confReq is what the script server saw of one request.
type confReq struct {
	Kind           string // "stream" or "redirect"
	Method         string
	Path           string
	Query          string
	Accept         string
	LastEventID    string
	HasLastEventID bool
	CacheControl   string
	Cookie         string
	Origin         string
	At             time.Time
}

// leid is the Last-Event-ID of the request, "-" when it had none.
func (r confReq) leid() string {
	if !r.HasLastEventID {
		return "-"
	}
	return r.LastEventID
}

// confSession is one scripted conversation: the responses to successive
// connection attempts of one EventSource.
type confSession struct {
	script   []confResp
	redirect string // target of /conf/r/: "" same origin, "cross" the other origin
	next     int
	reqs     []confReq
}

// confServer plays confSessions. It serves, under /conf/:
//
//	/conf/s/{sid}          the next scripted response of the session
//	/conf/r/{code}/{sid}   a redirect with that status to the session's stream
//
// The same confServer answers on the main test server and on a second
// listener on another port of 127.0.0.1 (a different origin), where it sits
// behind server.CORS allowing the main origin with credentials, except for
// paths under /conf/nocors/.
type confServer struct {
	t *testing.T

	mu       sync.Mutex
	sessions map[string]*confSession
	conns    map[net.Conn]struct{}
	done     chan struct{}
	wg       sync.WaitGroup

	crossBase string // http://127.0.0.1:port of the second listener
	cross     *http.Server
}

func newConfServer(t *testing.T) *confServer {
	cs := &confServer{t: t, sessions: map[string]*confSession{}, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	t.Cleanup(cs.close)
	return cs
}

// listenCross starts the second, cross-origin listener; allowed is the
// origin CORS lets in with credentials (the main test server's).
func (cs *confServer) listenCross(allowed string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cs.t.Fatalf("failed to listen: %v", err)
	}
	withCORS := server.CORS([]string{allowed}, cs)
	cs.cross = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/conf/nocors/") {
				cs.ServeHTTP(w, r)
				return
			}
			withCORS.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	cs.crossBase = "http://" + ln.Addr().String()
	go func() { _ = cs.cross.Serve(ln) }()
}

func (cs *confServer) close() {
	cs.mu.Lock()
	select {
	case <-cs.done:
	default:
		close(cs.done)
	}
	for c := range cs.conns {
		c.Close()
	}
	cs.mu.Unlock()
	if cs.cross != nil {
		_ = cs.cross.Close()
	}
	cs.wg.Wait()
}

// add registers a session.
func (cs *confServer) add(sid string, s *confSession) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.sessions[sid] = s
}

// requests returns what the session saw.
func (cs *confServer) requests(sid string) []confReq {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	s := cs.sessions[sid]
	if s == nil {
		return nil
	}
	return append([]confReq(nil), s.reqs...)
}

func (cs *confServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/conf/")
	path = strings.TrimPrefix(path, "nocors/")
	kind, rest, _ := strings.Cut(path, "/")
	var code int
	if kind == "r" {
		c, sid, _ := strings.Cut(rest, "/")
		code, _ = strconv.Atoi(c)
		rest = sid
	}
	cs.mu.Lock()
	s := cs.sessions[rest]
	if s == nil || (kind != "s" && kind != "r") {
		cs.mu.Unlock()
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	req := confReq{
		Kind: "stream", Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Accept: r.Header.Get("Accept"), CacheControl: r.Header.Get("Cache-Control"),
		Cookie: r.Header.Get("Cookie"), Origin: r.Header.Get("Origin"), At: time.Now(),
	}
	if v, ok := r.Header["Last-Event-Id"]; ok {
		req.HasLastEventID, req.LastEventID = true, strings.Join(v, ", ")
	}
	if kind == "r" {
		req.Kind = "redirect"
		s.reqs = append(s.reqs, req)
		target := "/conf/s/" + rest
		if s.redirect == "cross" {
			target = cs.crossBase + target
		}
		cs.mu.Unlock()
		w.Header().Set("Location", target)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		return
	}
	s.reqs = append(s.reqs, req)
	var resp confResp
	last := false
	if s.next < len(s.script) {
		resp = s.script[s.next]
		s.next++
		last = s.next == len(s.script)
	} else {
		// Past the script: the case is broken or the client reconnects
		// when it must not; 503 makes it stop, and the request count shows
		// it.
		resp = confResp{status: http.StatusServiceUnavailable, end: endClose}
	}
	cs.mu.Unlock()
	if resp.end == endDefault {
		resp.end = endClose
		if last {
			resp.end = endHang
		}
	}
	cs.play(w, resp)
}

// play writes resp on the hijacked connection: status line, headers (with
// those already set on w, such as CORS), then the body exactly as scripted.
func (cs *confServer) play(w http.ResponseWriter, resp confResp) {
	hdr := w.Header().Clone()
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		cs.t.Errorf("conformance server: hijack: %v", err)
		return
	}
	cs.mu.Lock()
	select {
	case <-cs.done:
		cs.mu.Unlock()
		conn.Close()
		return
	default:
	}
	cs.conns[conn] = struct{}{}
	cs.wg.Add(1)
	cs.mu.Unlock()
	defer func() {
		cs.mu.Lock()
		delete(cs.conns, conn)
		cs.mu.Unlock()
		cs.wg.Done()
	}()

	status := resp.status
	if status == 0 {
		status = http.StatusOK
	}
	ctype := "text/event-stream"
	if resp.ctype != nil {
		ctype = *resp.ctype
	}
	if ctype != "" {
		hdr.Set("Content-Type", ctype)
	}
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Connection", "close")
	var head strings.Builder
	fmt.Fprintf(&head, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	_ = hdr.Write(&head)
	for _, h := range resp.header {
		head.WriteString(h + "\r\n")
	}
	head.WriteString("\r\n")

	// The connection is ours; whatever the browser sends now (nothing, or
	// EOF when it aborts) is drained so that an abort is noticed.
	gone := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, brw)
		close(gone)
	}()
	write := func(b string) bool {
		_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		_, err := io.WriteString(conn, b)
		return err == nil
	}
	sleep := func(d time.Duration) bool {
		if d <= 0 {
			return true
		}
		select {
		case <-time.After(d):
			return true
		case <-cs.done:
			return false
		}
	}
	ok := write(head.String())
	if status == http.StatusNoContent || status == http.StatusNotModified {
		resp.parts = nil
	}
	for _, p := range resp.parts {
		if !ok {
			break
		}
		if resp.bytewise {
			pause := resp.bytePause
			if pause == 0 {
				pause = time.Millisecond
			}
			for i := 0; i < len(p.b) && ok; i++ {
				ok = write(p.b[i:i+1]) && sleep(pause)
			}
		} else {
			ok = write(p.b)
		}
		ok = ok && sleep(p.pause)
	}
	switch resp.end {
	case endReset:
		if tc, isTCP := conn.(*net.TCPConn); isTCP {
			_ = tc.SetLinger(0)
		}
	case endHang:
		if ok {
			select {
			case <-gone:
			case <-cs.done:
			case <-time.After(2 * time.Minute):
			}
		}
	case endClose:
		if tc, isTCP := conn.(*net.TCPConn); isTCP {
			_ = tc.CloseWrite()
		}
	}
	conn.Close()
}

// summarizeData is what the conformance page reports for event data: the
// string itself up to 256 UTF-16 code units, else its length and FNV-1a
// hash over the code units (see summarize in conformance.js).
func summarizeData(s string) string {
	u := utf16.Encode([]rune(s))
	if len(u) <= 256 {
		return s
	}
	h := uint32(0x811c9dc5)
	for _, c := range u {
		h ^= uint32(c)
		h *= 0x01000193
	}
	return fmt.Sprintf("<len=%d fnv=%08x>", len(u), h)
}
