package e2e

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
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
// which transport delivered each message. The tests put a faultProxy
// (faults_test.go) in front of it to cut, refuse or stall the WebSockets.

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
