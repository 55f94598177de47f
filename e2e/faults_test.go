package e2e

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// cutProxy is a TCP proxy on loopback that can cut every connection going
// through it at once, the way a crashed load balancer or a dropped network
// would: the browser sees a reset, not a clean end of stream.
type cutProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("failed to listen for the proxy: %v", err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port.
func (p *cutProxy) Addr() string { return p.ln.Addr().String() }

func (p *cutProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.pipe(c)
	}
}

func (p *cutProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *cutProxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

func (p *cutProxy) pipe(client net.Conn) {
	defer p.wg.Done()
	defer client.Close()
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	upstream, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer upstream.Close()
	if !p.track(upstream) {
		return
	}
	defer p.untrack(upstream)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(upstream, client); done <- struct{}{} }()
	go func() { _, _ = io.Copy(client, upstream); done <- struct{}{} }()
	<-done
	// One direction ended: end both, so the other copy returns too.
	client.Close()
	upstream.Close()
	<-done
}

// cut resets every open connection through the proxy. New connections are
// still accepted.
func (p *cutProxy) cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // send RST, not FIN
		}
		c.Close()
		n++
	}
	return n
}

func (p *cutProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil
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
