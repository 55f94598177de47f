package e2e

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventwire/eventwire/protocol/batch"
	"github.com/eventwire/eventwire/server"
)

// The server side of the BatchSocket e2e tests (batch_test.go) and benchmark
// (batch_bench_test.go): the eventwire server with its ingest endpoint
// (server.Config{Ingest: true}) in process on 127.0.0.1, a Sink that records
// which transport delivered each message, and a TCP proxy that can cut,
// refuse or stall the WebSockets going through it.

// batchServerConfig configures a batchServer.
type batchServerConfig struct {
	// Sink receives the messages. Nil means a new recordingSink.
	Sink server.Sink
	// Origins is the ingest endpoint's origin allow-list
	// (server.Config.IngestOrigins). Empty: same-origin only.
	Origins []string
	// Extra mounts further handlers on the mux (pattern -> handler).
	Extra map[string]http.Handler
}

// batchServer is server.Server with the ingest endpoint and the build output
// at /dist/, the pages of e2e/testdata/batch at /e2e/batch/, behind a
// listener that counts the bytes it reads.
type batchServer struct {
	t    *testing.T
	app  *server.Server
	srv  *http.Server
	sink *recordingSink // nil when the config gave another Sink
	addr string
	logs *logBuffer
	ln   *countingListener

	posts    atomic.Int64 // POST /ingest requests
	upgrades atomic.Int64 // GET /ingest requests (WebSocket handshakes)
}

func startBatchServer(t *testing.T, cfg batchServerConfig) *batchServer {
	t.Helper()
	s := &batchServer{t: t, logs: &logBuffer{}}
	sink := cfg.Sink
	if sink == nil {
		s.sink = newRecordingSink()
		sink = s.sink
	}
	logger := slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	app, err := server.NewServer(server.Config{
		Addr:          "127.0.0.1:0",
		StaticDir:     distDir(t),
		Ingest:        true,
		IngestSink:    sink,
		IngestOrigins: cfg.Origins,
		Logger:        logger,
	})
	if err != nil {
		t.Fatalf("server.NewServer: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", app)
	mux.Handle(server.IngestPath, s.tagIngest(app))
	mux.Handle("/e2e/", http.StripPrefix("/e2e/", server.Static(os.DirFS(testdataDir(t)))))
	for pattern, h := range cfg.Extra {
		mux.Handle(pattern, h)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("failed to listen: %v", err)
	}
	s.ln = &countingListener{Listener: ln}
	s.addr = ln.Addr().String()
	s.app = app
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(s.logs, "serve: %v\n", err)
		}
	}()
	t.Cleanup(func() {
		_ = app.Close() // closes the ingest WebSockets (hijacked)
		_ = s.srv.Close()
		if logs := s.logs.String(); t.Failed() && logs != "" {
			t.Logf("server log:\n%s", tailString(logs, 64<<10))
		}
	})
	return s
}

// URL is the server's base URL, without a trailing slash.
func (s *batchServer) URL() string { return "http://" + s.addr }

// Ingest returns the ingest handler, for its Stats.
func (s *batchServer) Ingest() *server.IngestHandler { return s.app.Ingest() }

// viaKey marks, in the context of a POST's Sink call, that the messages came
// over HTTP: the ingest handler passes the request's context values on to the
// Sink (context.WithoutCancel), and a WebSocket's Sink calls have none.
type viaKey struct{}

// tagIngest counts the ingest requests and tags POSTs for the recordingSink.
func (s *batchServer) tagIngest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			s.posts.Add(1)
			r = r.WithContext(context.WithValue(r.Context(), viaKey{}, "http"))
		case http.MethodGet:
			s.upgrades.Add(1)
		}
		next.ServeHTTP(w, r)
	})
}

// tailString returns the last max bytes of s.
func tailString(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return "…" + s[len(s)-max:]
}

// countingListener counts the bytes read from all its connections: the bytes
// clients put on the wire to the server.
type countingListener struct {
	net.Listener
	read atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &l.read}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// recordingSink is a server.MemorySink (which checks the order and keeps the
// messages) that also notes, for every Sink call, the transport that brought
// the messages.
type recordingSink struct {
	*server.MemorySink

	mu      sync.Mutex
	accepts []acceptRecord
}

// acceptRecord is one successful Sink call.
type acceptRecord struct {
	Session batch.SessionID
	First   uint64
	N       int
	Via     string // "http" or "websocket"
}

func newRecordingSink() *recordingSink {
	return &recordingSink{MemorySink: &server.MemorySink{}}
}

func (s *recordingSink) Accept(ctx context.Context, session batch.SessionID, firstSeq uint64, msgs []batch.Message) error {
	if err := s.MemorySink.Accept(ctx, session, firstSeq, msgs); err != nil {
		return err
	}
	via, _ := ctx.Value(viaKey{}).(string)
	if via == "" {
		via = "websocket"
	}
	s.mu.Lock()
	s.accepts = append(s.accepts, acceptRecord{Session: session, First: firstSeq, N: len(msgs), Via: via})
	s.mu.Unlock()
	return nil
}

// via returns how many messages of session each transport delivered.
func (s *recordingSink) via(session batch.SessionID) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]int{}
	for _, a := range s.accepts {
		if a.Session == session {
			m[a.Via] += a.N
		}
	}
	return m
}

// sessions returns the sessions that delivered messages, in the order of
// their first message.
func (s *recordingSink) sessions() []batch.SessionID {
	var ids []batch.SessionID
	seen := map[batch.SessionID]bool{}
	for _, r := range s.Records() {
		if !seen[r.Session] {
			seen[r.Session] = true
			ids = append(ids, r.Session)
		}
	}
	return ids
}

// wait waits until the sink holds at least n records, up to timeout.
func (s *recordingSink) wait(t *testing.T, what string, n int, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := s.Wait(ctx, n); err != nil {
		t.Fatalf("waiting for %s: %d of %d messages reached the Sink within %v", what, s.Len(), n, timeout)
	}
}

// checkSession checks that the records of session are exactly the messages
// want(1), want(2), … want(n), once each and in order, and the sink's order
// check.
func checkSession(t *testing.T, sink *recordingSink, session batch.SessionID, n int, want func(seq uint64) (data string, binary bool)) {
	t.Helper()
	if err := sink.CheckOrder(); err != nil {
		t.Errorf("MemorySink.CheckOrder: %v", err)
	}
	rs := sink.Session(session)
	if len(rs) != n {
		t.Errorf("session %s: %d messages reached the Sink, want %d", session, len(rs), n)
	}
	bad := 0
	for i, r := range rs {
		seq := uint64(i + 1)
		data, binary := want(seq)
		if r.Seq != seq || string(r.Data) != data || r.Binary != binary {
			if bad < 5 {
				t.Errorf("session %s: record %d is seq %d %q (binary %v), want seq %d %q (binary %v)",
					session, i, r.Seq, clip(string(r.Data)), r.Binary, seq, clip(data), binary)
			}
			bad++
		}
	}
	if bad > 5 {
		t.Errorf("… %d wrong records in all", bad)
	}
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// proxyMode is what a wsProxy does with WebSocket connections.
type proxyMode int32

const (
	proxyPass   proxyMode = iota // forward
	proxyRefuse                  // answer the handshake with 403, as a proxy that blocks WebSockets
	proxyStall                   // forward the handshake, then stop reading from the browser
)

// wsProxy is a TCP proxy on loopback in front of a server. It looks at the
// first request of every connection: plain HTTP connections are forwarded
// untouched; WebSocket handshakes (Chromium opens a connection of their own
// for each) are forwarded, refused, or stalled according to the mode, can be
// cut all at once (a reset, as a dropped network), and their bytes from the
// browser are counted.
type wsProxy struct {
	ln     net.Listener
	target string
	mode   atomic.Int32

	wsConns atomic.Int64 // WebSocket handshakes seen
	refused atomic.Int64 // WebSocket handshakes refused
	cuts    atomic.Int64 // WebSocket connections cut
	wsBytes atomic.Int64 // bytes from the browser on WebSocket connections
	stallMu sync.Mutex
	unstall chan struct{} // closed to let stalled connections read again
	mu      sync.Mutex
	conns   map[net.Conn]bool // open connections; true for WebSockets
	wg      sync.WaitGroup
	closed  bool
	rcvBuf  int // SO_RCVBUF of WebSocket connections from the browser, 0: default
}

func newWSProxy(t *testing.T, target string) *wsProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("failed to listen for the proxy: %v", err)
	}
	p := &wsProxy{ln: ln, target: target, conns: map[net.Conn]bool{}, unstall: make(chan struct{})}
	close(p.unstall)
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// URL is the proxy's base URL, without a trailing slash.
func (p *wsProxy) URL() string { return "http://" + p.ln.Addr().String() }

// setMode sets what happens to WebSocket connections from now on. Leaving
// proxyStall lets the stalled connections go on.
func (p *wsProxy) setMode(m proxyMode) {
	p.stallMu.Lock()
	defer p.stallMu.Unlock()
	old := proxyMode(p.mode.Swap(int32(m)))
	switch {
	case m == proxyStall && old != proxyStall:
		p.unstall = make(chan struct{})
	case m != proxyStall && old == proxyStall:
		close(p.unstall)
	}
}

// stallGate returns the channel to wait for before reading from a browser,
// or nil when not stalled.
func (p *wsProxy) stallGate() chan struct{} {
	p.stallMu.Lock()
	defer p.stallMu.Unlock()
	if proxyMode(p.mode.Load()) != proxyStall {
		return nil
	}
	return p.unstall
}

func (p *wsProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.handle(c)
	}
}

func (p *wsProxy) track(c net.Conn, ws bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = ws
	return true
}

func (p *wsProxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

// readHead reads from c until the end of the first request's header (or 64
// KiB, or an error) and returns what it read.
func readHead(c net.Conn) ([]byte, error) {
	buf := make([]byte, 0, 4096)
	tmp := make([]byte, 4096)
	for !strings.Contains(string(buf), "\r\n\r\n") {
		if len(buf) > 64<<10 {
			return buf, errors.New("request header too large")
		}
		n, err := c.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// isWebSocketHandshake reports whether the request header head asks for a
// WebSocket upgrade.
func isWebSocketHandshake(head []byte) bool {
	end := strings.Index(string(head), "\r\n\r\n")
	if end < 0 {
		return false
	}
	for _, line := range strings.Split(string(head[:end]), "\r\n")[1:] {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), "upgrade") &&
			strings.Contains(strings.ToLower(value), "websocket") {
			return true
		}
	}
	return false
}

func (p *wsProxy) handle(client net.Conn) {
	defer p.wg.Done()
	defer client.Close()
	if !p.track(client, false) {
		return
	}
	defer p.untrack(client)
	head, err := readHead(client)
	if err != nil {
		return
	}
	ws := isWebSocketHandshake(head)
	if ws {
		p.wsConns.Add(1)
		if proxyMode(p.mode.Load()) == proxyRefuse {
			p.refused.Add(1)
			const body = "WebSockets are blocked by this proxy\n"
			fmt.Fprintf(client, "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
			return
		}
		if tc, ok := client.(*net.TCPConn); ok && p.rcvBuf > 0 {
			_ = tc.SetReadBuffer(p.rcvBuf)
		}
		p.track(client, true)
		p.wsBytes.Add(int64(len(head)))
	}
	upstream, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer upstream.Close()
	if !p.track(upstream, ws) {
		return
	}
	defer p.untrack(upstream)
	if _, err := upstream.Write(head); err != nil {
		return
	}
	done := make(chan struct{}, 2)
	go func() {
		if ws {
			p.copyStallable(upstream, client)
		} else {
			buf := make([]byte, 32<<10)
			_, _ = ioCopy(upstream, client, buf, nil)
		}
		done <- struct{}{}
	}()
	go func() {
		buf := make([]byte, 32<<10)
		_, _ = ioCopy(client, upstream, buf, nil)
		done <- struct{}{}
	}()
	<-done
	client.Close()
	upstream.Close()
	<-done
}

// copyStallable copies from the browser to the server, waiting before each
// read while the proxy is stalled.
func (p *wsProxy) copyStallable(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	_, _ = ioCopy(dst, src, buf, func(n int) bool {
		p.wsBytes.Add(int64(n))
		if gate := p.stallGate(); gate != nil {
			<-gate
		}
		return true
	})
}

// ioCopy copies src to dst with buf; before each read it calls before (when
// set) with the bytes of the previous read, and stops when it returns false.
func ioCopy(dst, src net.Conn, buf []byte, before func(last int) bool) (int64, error) {
	var total int64
	last := 0
	for {
		if before != nil && !before(last) {
			return total, nil
		}
		n, err := src.Read(buf)
		last = n
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		if err != nil {
			return total, err
		}
	}
}

// cut resets every open WebSocket connection through the proxy (both sides)
// and returns how many browser connections it cut.
func (p *wsProxy) cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for c, ws := range p.conns {
		if !ws {
			continue
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, not FIN
			if tc.LocalAddr().String() == p.ln.Addr().String() {
				n++
			}
		}
		c.Close()
	}
	p.cuts.Add(int64(n))
	return n
}

func (p *wsProxy) close() {
	p.ln.Close()
	p.setMode(proxyPass) // release stalled copies
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
