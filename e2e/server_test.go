package e2e

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventwire/eventwire/protocol/sse"
	"github.com/eventwire/eventwire/server"
)

// serverConfig configures an in-process test server.
type serverConfig struct {
	// TLS serves HTTPS with the server's self-signed certificate, offering
	// HTTP/2.
	TLS bool
	// Retry is the reconnection delay the streams announce. Zero means
	// 100 ms, to keep reconnect tests short.
	Retry time.Duration
	// LongPollWait is the long-poll wait. Zero means 1 s.
	LongPollWait time.Duration
	// Heartbeat is the interval of the streams' heartbeat comments. Zero
	// means the server's default (15 s); negative sends none.
	Heartbeat time.Duration
	// Dist serves the build output at /dist/ (the test fails when it is
	// missing).
	Dist bool
	// Demo runs the demo publisher (topic "ticker") for the demo page at /.
	Demo bool
	// NoHijack turns off SSEHandler.Hijack, which the server binary turns
	// on by default.
	NoHijack bool
	// IngestSink, when set, turns on batch ingest at /ingest into it.
	IngestSink server.Sink
	// Extra mounts further handlers on the mux (pattern -> handler).
	Extra map[string]http.Handler
}

// testServer is the eventwire server (server.Server, what the
// eventwire-server binary runs) in process on 127.0.0.1, behind a gate that
// records and can hold stream requests, plus the test pages of e2e/testdata
// at /e2e/.
type testServer struct {
	t    *testing.T
	cfg  serverConfig
	dist string

	mu   sync.Mutex
	app  *server.Server
	srv  *http.Server
	addr string // host:port, kept across restarts
	gate *streamGate
	tls  *tls.Config
	logs *logBuffer
}

func startServer(t *testing.T, cfg serverConfig) *testServer {
	t.Helper()
	if cfg.Retry == 0 {
		cfg.Retry = 100 * time.Millisecond
	}
	if cfg.LongPollWait == 0 {
		cfg.LongPollWait = time.Second
	}
	s := &testServer{t: t, cfg: cfg, logs: &logBuffer{}}
	if cfg.Dist {
		s.dist = distDir(t)
	}
	if cfg.TLS {
		c, err := server.SelfSignedTLS()
		if err != nil {
			t.Fatalf("SelfSignedTLS: %v", err)
		}
		s.tls = c
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("failed to listen: %v", err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln, false)
	t.Cleanup(func() {
		s.stop()
		if logs := s.logs.String(); t.Failed() && logs != "" {
			t.Logf("server log:\n%s", logs)
		}
	})
	return s
}

// serve starts a new server.Server (so a new Hub and epoch) and an
// http.Server for it on ln. The gate starts closed when hold is true.
func (s *testServer) serve(ln net.Listener, hold bool) {
	logger := slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	app, err := server.NewServer(server.Config{
		Addr:         s.addr,
		TLS:          s.tls != nil,
		StaticDir:    s.dist,
		Publish:      true,
		Demo:         s.cfg.Demo,
		Retry:        s.cfg.Retry,
		LongPollWait: s.cfg.LongPollWait,
		Heartbeat:    s.cfg.Heartbeat,
		Hijack:       !s.cfg.NoHijack, // the binary's default
		Ingest:       s.cfg.IngestSink != nil,
		IngestSink:   s.cfg.IngestSink,
		Logger:       logger,
	})
	if err != nil {
		s.t.Fatalf("server.NewServer: %v", err)
	}
	gate := newStreamGate(app, "/events/")
	if hold {
		gate.hold()
	}
	mux := http.NewServeMux()
	mux.Handle("/", gate)
	mux.Handle("/e2e/", http.StripPrefix("/e2e/", server.Static(os.DirFS(testdataDir(s.t)))))
	for pattern, h := range s.cfg.Extra {
		mux.Handle(pattern, h)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if s.tls != nil {
		srv.TLSConfig = s.tls.Clone()
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	s.mu.Lock()
	s.app, s.srv, s.gate = app, srv, gate
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(s.logs, "serve: %v\n", err)
		}
	}()
}

// stop closes the server: its hub ends every stream (hijacked ones too) and
// the http.Server closes the listener and the other connections.
func (s *testServer) stop() {
	s.mu.Lock()
	app, srv := s.app, s.srv
	s.mu.Unlock()
	s.gate.release()
	_ = app.Close()
	_ = srv.Close()
}

// restart stops the server and starts a new one, with a new Hub (so a new
// epoch), on the same address. The gate of the new server starts closed when
// hold is true.
func (s *testServer) restart(hold bool) {
	s.t.Helper()
	s.stop()
	var ln net.Listener
	var err error
	// The port was ours a moment ago; Go sets SO_REUSEADDR, so it is free
	// at once. A few attempts cover a slow close.
	for range 50 {
		ln, err = net.Listen("tcp", s.addr)
		if err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("failed to listen again on %s: %v", s.addr, err)
	}
	s.serve(ln, hold)
}

// URL is the server's base URL, without a trailing slash.
func (s *testServer) URL() string {
	scheme := "http"
	if s.tls != nil {
		scheme = "https"
	}
	return scheme + "://" + s.addr
}

func (s *testServer) Hub() *server.Hub {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.app.Hub()
}

func (s *testServer) Gate() *streamGate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gate
}

// publish publishes data on topic and returns the stored event.
func (s *testServer) publish(topic, data string) sse.Event {
	s.t.Helper()
	e, err := s.Hub().Publish(topic, sse.Event{Data: data})
	if err != nil {
		s.t.Fatalf("Publish(%q, %q): %v", topic, data, err)
	}
	return e
}

// eventually waits until cond is true, checking every 10 ms, and fails the
// test after waitTimeout.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logBuffer collects the server's slog output for failure messages.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 1<<20 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
