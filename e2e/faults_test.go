package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultProxy is a proxy on loopback in front of a server that injects the
// network faults of the tests. As a TCP proxy (newFaultProxy) it looks at the
// first request of every connection, to tell WebSocket handshakes (Chromium
// opens a connection of their own for each) from plain HTTP, and it can:
//   - cut: reset every connection through it at once, the way a crashed load
//     balancer or a dropped network would: the browser sees a reset, not a
//     clean end of stream (cutWebSockets: the WebSockets only; cutEvery: on a
//     ticker);
//   - arm: cut the server's bytes in the middle of a marker, then reset the
//     connection: the browser receives part of an event, then a network error;
//   - refuse WebSocket handshakes with 403, as a proxy that blocks WebSockets
//     (setMode(proxyRefuse));
//   - stall: forward WebSocket handshakes, then stop reading from the browser
//     (setMode(proxyStall)).
//
// As an HTTP reverse proxy (newBufferingProxy) it buffers every response
// whole before sending any of it.
type faultProxy struct {
	ln     net.Listener
	target string       // host:port
	http   *http.Server // the buffering proxy; nil for a TCP proxy
	mode   atomic.Int32 // a proxyMode
	rcvBuf int          // SO_RCVBUF of WebSocket connections from the browser, 0: default

	wsConns atomic.Int64 // WebSocket handshakes seen
	refused atomic.Int64 // WebSocket handshakes refused

	stallMu sync.Mutex
	unstall chan struct{} // closed to let stalled connections read again

	mu      sync.Mutex
	conns   map[net.Conn]bool // open connections; true for WebSockets
	markers map[string]bool   // armed markers, each cut once
	cutMrks []string          // the markers cut so far
	closed  bool
	wg      sync.WaitGroup
}

// proxyMode is what a faultProxy does with WebSocket connections.
type proxyMode int32

const (
	proxyPass   proxyMode = iota // forward
	proxyRefuse                  // answer the handshake with 403, as a proxy that blocks WebSockets
	proxyStall                   // forward the handshake, then stop reading from the browser
)

// listenProxy makes a faultProxy for target (host:port) listening on loopback
// and closed when the test ends.
func listenProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("failed to listen for the proxy: %v", err)
	}
	p := &faultProxy{ln: ln, target: target, conns: map[net.Conn]bool{}, markers: map[string]bool{}, unstall: make(chan struct{})}
	close(p.unstall)
	t.Cleanup(p.close)
	return p
}

// newFaultProxy starts a TCP proxy to target (host:port), passing everything
// until told otherwise.
func newFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	p := listenProxy(t, target)
	p.wg.Add(1)
	go p.serve()
	return p
}

// newBufferingProxy starts an HTTP reverse proxy to target (host:port) that
// buffers every response whole before sending any of it, headers included,
// like a misconfigured corporate proxy or a CDN that does not stream: an
// event stream never gets through, a long-poll does.
func newBufferingProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	p := listenProxy(t, target)
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	rp.ModifyResponse = func(r *http.Response) error {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		r.Header.Set("Content-Length", strconv.Itoa(len(b)))
		r.TransferEncoding = nil
		return nil
	}
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(http.StatusBadGateway)
	}
	p.http = &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.http.Serve(p.ln) }()
	return p
}

// URL is the proxy's base URL, without a trailing slash.
func (p *faultProxy) URL() string { return "http://" + p.ln.Addr().String() }

// setMode sets what happens to WebSocket connections from now on. Leaving
// proxyStall lets the stalled connections go on.
func (p *faultProxy) setMode(m proxyMode) {
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

// waitUnstalled waits while the proxy stalls.
func (p *faultProxy) waitUnstalled() {
	p.stallMu.Lock()
	gate := p.unstall
	stalled := proxyMode(p.mode.Load()) == proxyStall
	p.stallMu.Unlock()
	if stalled {
		<-gate
	}
}

// arm makes the proxy cut the next read from the server that contains
// marker, in the middle of the marker.
func (p *faultProxy) arm(marker string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.markers[marker] = true
}

// cutMarkers returns the armed markers the proxy has cut.
func (p *faultProxy) cutMarkers() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.cutMrks...)
}

// cutAt returns where to cut chunk, or -1: the middle of the first armed
// marker it contains (which is then disarmed).
func (p *faultProxy) cutAt(chunk []byte) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for m, armed := range p.markers {
		if !armed {
			continue
		}
		if i := bytes.Index(chunk, []byte(m)); i >= 0 {
			p.markers[m] = false
			p.cutMrks = append(p.cutMrks, m)
			return i + len(m)/2
		}
	}
	return -1
}

func (p *faultProxy) serve() {
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

func (p *faultProxy) track(c net.Conn, ws bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = ws
	return true
}

func (p *faultProxy) untrack(c net.Conn) {
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

func (p *faultProxy) handle(client net.Conn) {
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
		// The browser's bytes; a WebSocket stalls before each read while
		// the proxy stalls.
		var wait func()
		if ws {
			wait = p.waitUnstalled
		}
		forward(upstream, client, 32<<10, wait, nil)
		done <- struct{}{}
	}()
	go func() {
		// The server's bytes, cut at an armed marker.
		if forward(client, upstream, 64<<10, nil, p.cutAt) {
			// Let the partial bytes reach the browser before the reset,
			// so that it really holds half an event.
			time.Sleep(50 * time.Millisecond)
			resetConn(client)
			resetConn(upstream)
		}
		done <- struct{}{}
	}()
	<-done
	// One direction ended: end both, so the other copy returns too.
	client.Close()
	upstream.Close()
	<-done
}

// forward copies src to dst with a buffer of size bytes until either fails.
// wait, when set, is called before each read. cutAt, when set, returns where
// to cut each chunk read, or -1: forward then writes the chunk up to there
// and returns true.
func forward(dst, src net.Conn, size int, wait func(), cutAt func([]byte) int) (cut bool) {
	buf := make([]byte, size)
	for {
		if wait != nil {
			wait()
		}
		n, err := src.Read(buf)
		if n > 0 {
			if cutAt != nil {
				if at := cutAt(buf[:n]); at >= 0 {
					_, _ = dst.Write(buf[:at])
					return true
				}
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return false
			}
		}
		if err != nil {
			return false
		}
	}
}

// resetConn closes c with a reset (RST), not a clean end (FIN).
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

// cut resets every open connection through the proxy (both sides) and
// returns how many browser connections it cut. New connections are still
// accepted.
func (p *faultProxy) cut() int { return p.reset(false) }

// cutWebSockets resets every open WebSocket connection through the proxy
// (both sides) and returns how many browser connections it cut.
func (p *faultProxy) cutWebSockets() int { return p.reset(true) }

func (p *faultProxy) reset(wsOnly bool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for c, ws := range p.conns {
		if wsOnly && !ws {
			continue
		}
		if c.LocalAddr().String() == p.ln.Addr().String() {
			n++
		}
		resetConn(c)
	}
	return n
}

// cutEvery resets the WebSocket connections through the proxy every
// interval until stop, which returns the number of ticks and of the cuts
// that hit an open WebSocket.
func (p *faultProxy) cutEvery(interval time.Duration) (stop func() (ticks, hits int)) {
	quit := make(chan struct{})
	done := make(chan [2]int)
	go func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		ticks, hits := 0, 0
		for {
			select {
			case <-quit:
				done <- [2]int{ticks, hits}
				return
			case <-tick.C:
				ticks++
				if p.cutWebSockets() > 0 {
					hits++
				}
			}
		}
	}()
	return func() (int, int) {
		close(quit)
		r := <-done
		return r[0], r[1]
	}
}

func (p *faultProxy) close() {
	p.ln.Close()
	if p.http != nil {
		_ = p.http.Close()
	}
	p.setMode(proxyPass) // release stalled copies
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// sseRequest is what the recorder saw of one request for an event stream.
type sseRequest struct {
	Path        string
	Query       string
	LastEventID string // the Last-Event-ID header
	Proto       string
}

// streamGate wraps a handler: it records every request whose path starts with
// prefix, and while closed it holds those requests before they reach the
// handler, so a test can publish "during the disconnect" deterministically.
type streamGate struct {
	next   http.Handler
	prefix string

	mu       sync.Mutex
	requests []sseRequest
	open     chan struct{} // nil when open; closed to release held requests
	held     int
}

func newStreamGate(next http.Handler, prefix string) *streamGate {
	return &streamGate{next: next, prefix: prefix}
}

func (g *streamGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, g.prefix) {
		g.next.ServeHTTP(w, r)
		return
	}
	g.mu.Lock()
	g.requests = append(g.requests, sseRequest{
		Path: r.URL.Path, Query: r.URL.RawQuery, LastEventID: r.Header.Get("Last-Event-ID"), Proto: r.Proto,
	})
	wait := g.open
	if wait != nil {
		g.held++
	}
	g.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-r.Context().Done():
			g.mu.Lock()
			g.held--
			g.mu.Unlock()
			return
		}
		g.mu.Lock()
		g.held--
		g.mu.Unlock()
	}
	g.next.ServeHTTP(w, r)
}

// hold makes new stream requests wait until release.
func (g *streamGate) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open == nil {
		g.open = make(chan struct{})
	}
}

// release lets held and future requests through.
func (g *streamGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open != nil {
		close(g.open)
		g.open = nil
	}
}

// heldCount is how many requests wait at the gate.
func (g *streamGate) heldCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held
}

// seen returns the recorded requests.
func (g *streamGate) seen() []sseRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]sseRequest(nil), g.requests...)
}
