package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventwire/eventwire/protocol/batch"
)

// DefaultAddr is the listen address of Config when Addr is empty.
const DefaultAddr = "127.0.0.1:8080"

// Config configures a Server: the endpoints of the eventwire-server binary,
// whose flags map one to one onto these fields. The zero value serves the
// stream, health and demo-page endpoints on DefaultAddr over plain HTTP.
type Config struct {
	// Addr is the TCP listen address. Empty means DefaultAddr; port 0
	// picks a free port (see Server.Start).
	Addr string
	// TLS serves HTTPS with a self-signed certificate generated at start
	// (SelfSignedTLS for localhost, 127.0.0.1 and ::1), offering HTTP/2.
	TLS bool
	// StaticDir is served at /dist/ (see Static). Empty serves nothing
	// there.
	StaticDir string
	// Demo publishes market-like prices on topic DemoTopic every
	// DemoInterval, for the demo page at /.
	Demo bool
	// Publish enables POST /publish/{topic} (see PublishHandler). Off by
	// default.
	Publish bool
	// PublishToken, when not empty, is the bearer token POST /publish
	// requires.
	PublishToken string
	// Heartbeat, Retry, LongPollWait, LastEventIDParam and Hijack
	// configure the stream endpoint; see SSEHandler for their defaults.
	Heartbeat        time.Duration
	Retry            time.Duration
	LongPollWait     time.Duration
	LastEventIDParam string
	Hijack           bool
	// History and SubscriberBuffer configure the hub; see HubOptions
	// (HistorySize, SubscriberBuffer) for their defaults.
	History          int
	SubscriberBuffer int
	// CORSOrigins is the allow-list of origins (see CORS). Empty allows no
	// cross-origin requests.
	CORSOrigins []string
	// Ingest enables the batch ingest endpoint at IngestPath ("/ingest"):
	// WebSocket and HTTP POST on the same URL (see IngestHandler). Off by
	// default (the binary's -ingest is on). With Demo, the server also
	// pushes a small stats message to every recording session each
	// second, for the recorder of the demo page.
	Ingest bool
	// IngestSink receives the ingested messages. Nil means Discard. The
	// Server does not close it: close it after Shutdown or Close.
	IngestSink Sink
	// IngestOrigins is the ingest endpoint's origin allow-list (see
	// IngestOptions.OriginPatterns). Empty allows same-origin requests
	// only.
	IngestOrigins []string
	// IngestHeartbeat, IngestMaxSessions, IngestSessionTTL and
	// IngestLimits configure the ingest endpoint; see IngestOptions
	// (Heartbeat, MaxSessions, SessionTTL, Limits) for their defaults.
	IngestHeartbeat   time.Duration
	IngestMaxSessions int
	IngestSessionTTL  time.Duration
	IngestLimits      batch.Limits
	// Logger receives structured logs. Nil means slog.Default().
	Logger *slog.Logger
}

// Demo publisher settings.
const (
	DemoTopic    = "ticker"
	DemoInterval = 250 * time.Millisecond
)

// Server is the eventwire demo and test server: a Hub and its HTTP
// endpoints (see the package documentation), usable as an http.Handler
// (for httptest) or started on a listener of its own with Start. The
// eventwire-server binary is a thin wrapper around it, so tests can run in
// process exactly what the binary runs.
type Server struct {
	cfg     Config
	log     *slog.Logger
	hub     *Hub
	ingest  *IngestHandler
	handler http.Handler

	demoCancel context.CancelFunc
	demoDone   chan struct{}
	closeOnce  sync.Once

	mu   sync.Mutex
	srv  *http.Server
	url  string
	errc chan error
}

// NewServer builds the hub and the endpoints, and starts the demo
// publisher when cfg.Demo is set. Call Shutdown or Close when done.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, log: log, errc: make(chan error, 1)}
	s.hub = NewHub(HubOptions{HistorySize: cfg.History, SubscriberBuffer: cfg.SubscriberBuffer, Logger: log})

	mux := http.NewServeMux()
	mux.Handle("GET /events/{topic}", &SSEHandler{
		Hub:              s.hub,
		Heartbeat:        cfg.Heartbeat,
		Retry:            cfg.Retry,
		LongPollWait:     cfg.LongPollWait,
		LastEventIDParam: cfg.LastEventIDParam,
		Hijack:           cfg.Hijack,
		Logger:           log,
	})
	if cfg.Publish {
		mux.Handle("POST /publish/{topic}", &PublishHandler{Hub: s.hub, Token: cfg.PublishToken, Logger: log})
	}
	var recorder *recorderStats
	if cfg.Ingest {
		opts := IngestOptions{
			Sink:           cfg.IngestSink,
			OriginPatterns: cfg.IngestOrigins,
			Limits:         cfg.IngestLimits,
			Heartbeat:      cfg.IngestHeartbeat,
			MaxSessions:    cfg.IngestMaxSessions,
			SessionTTL:     cfg.IngestSessionTTL,
			Logger:         log,
		}
		if cfg.Demo {
			recorder = newRecorderStats()
			opts.OnAccept = recorder.onAccept
		}
		s.ingest = NewIngestHandler(opts)
		mux.Handle("GET "+IngestPath, s.ingest)
		mux.Handle("POST "+IngestPath, s.ingest)
	}
	mux.HandleFunc("GET /healthz", s.serveHealth)
	if cfg.StaticDir != "" {
		if info, err := os.Stat(cfg.StaticDir); err != nil || !info.IsDir() {
			log.Warn("eventwire: static directory not found; /dist/ will answer 404", "dir", cfg.StaticDir)
		}
		mux.Handle("GET /dist/", http.StripPrefix("/dist", Static(os.DirFS(cfg.StaticDir))))
	}
	mux.HandleFunc("GET /{$}", serveDemoPage)
	s.handler = CORS(cfg.CORSOrigins, mux)

	if cfg.Demo {
		ctx, cancel := context.WithCancel(context.Background())
		s.demoCancel, s.demoDone = cancel, make(chan struct{})
		go func() {
			defer close(s.demoDone)
			var wg sync.WaitGroup
			if recorder != nil {
				wg.Go(func() { recorder.run(ctx, s.ingest, RecorderStatsInterval) })
			}
			runDemo(ctx, s.hub, DemoTopic, DemoInterval, log)
			wg.Wait()
		}()
	}
	return s, nil
}

// Hub returns the server's hub.
func (s *Server) Hub() *Hub { return s.hub }

// Ingest returns the ingest handler, or nil when Config.Ingest is off.
func (s *Server) Ingest() *IngestHandler { return s.ingest }

// ServeHTTP serves the endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Start listens on cfg.Addr (with TLS when cfg.TLS) and serves in the
// background. It returns the base URL to open, such as
// "http://127.0.0.1:8080/" (the real port when Addr asked for port 0;
// "localhost" when Addr names no host or an unspecified one).
func (s *Server) Start() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return "", errors.New("eventwire/server: already started")
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(&httpErrorLog{log: s.log}, slog.LevelWarn),
	}
	srv.RegisterOnShutdown(s.hub.Close)
	if s.ingest != nil {
		srv.RegisterOnShutdown(s.ingest.Close) // hijacked: http.Server does not track them
	}
	scheme := "http"
	if s.cfg.TLS {
		cfg, err := SelfSignedTLS()
		if err != nil {
			return "", err
		}
		srv.TLSConfig = cfg
		scheme = "https"
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return "", fmt.Errorf("failed to listen: %w", err)
	}
	host, _, _ := net.SplitHostPort(s.cfg.Addr)
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	s.url = scheme + "://" + net.JoinHostPort(host, port) + "/"
	s.srv = srv
	go func() {
		var err error
		if s.cfg.TLS {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			s.errc <- err
		}
	}()
	s.log.Info("eventwire: listening", "url", s.url, "tls", s.cfg.TLS, "epoch", s.hub.Epoch(),
		"publish", s.cfg.Publish, "demo", s.cfg.Demo, "hijack", s.cfg.Hijack, "ingest", s.cfg.Ingest)
	return s.url, nil
}

// URL returns the base URL after Start, or "".
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Err delivers the error that stopped serving, other than by Shutdown or
// Close.
func (s *Server) Err() <-chan error { return s.errc }

// Shutdown stops the demo publisher, ends every stream (Hub.Close),
// closes the ingest WebSockets with 1001 (IngestHandler.Close) and
// gracefully shuts the HTTP server down (http.Server.Shutdown), waiting
// for other requests until ctx is done; then it closes what is left. Once
// it returns, the ingest Sink is no longer called.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopDemo()
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		s.hub.Close()
		s.closeIngest()
		return nil
	}
	err := srv.Shutdown(ctx) // runs hub.Close and ingest.Close first (RegisterOnShutdown)
	if err != nil {
		_ = srv.Close()
	}
	s.hub.Close()
	s.closeIngest() // waits for the WebSockets' handlers
	return err
}

func (s *Server) closeIngest() {
	if s.ingest != nil {
		s.ingest.Close()
	}
}

// Close stops everything at once (ingest WebSockets still get a 1001
// close, within a few seconds).
func (s *Server) Close() error {
	s.stopDemo()
	s.hub.Close()
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	var err error
	if srv != nil {
		err = srv.Close()
	}
	s.closeIngest()
	return err
}

func (s *Server) stopDemo() {
	s.closeOnce.Do(func() {
		if s.demoCancel != nil {
			s.demoCancel()
			<-s.demoDone
		}
	})
}

// health is the body of GET /healthz.
type health struct {
	Status     string       `json:"status"`
	Hub        HubStats     `json:"hub"`
	Ingest     *IngestStats `json:"ingest,omitempty"` // with Config.Ingest
	Goroutines int          `json:"goroutines"`
	Memory     struct {
		HeapInuse    uint64 `json:"heapInuse"`
		StackInuse   uint64 `json:"stackInuse"`
		Sys          uint64 `json:"sys"`
		HeapReleased uint64 `json:"heapReleased"`
		RSS          uint64 `json:"rss"` // resident set size; 0 where unknown
	} `json:"memory"`
}

// serveHealth answers GET /healthz with 200 and a JSON body: the hub's
// counters, the ingest handler's (with Config.Ingest), the number of goroutines and memory figures, for load tests.
// With ?gc=1 it first collects garbage and returns freed memory to the
// system, so that the figures count live memory only.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("gc") == "1" {
		debug.FreeOSMemory() // includes a garbage collection
	}
	var h health
	h.Status = "ok"
	h.Hub = s.hub.Stats()
	if s.ingest != nil {
		st := s.ingest.Stats()
		h.Ingest = &st
	}
	h.Goroutines = runtime.NumGoroutine()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.Memory.HeapInuse = ms.HeapInuse
	h.Memory.StackInuse = ms.StackInuse
	h.Memory.Sys = ms.Sys
	h.Memory.HeapReleased = ms.HeapReleased
	h.Memory.RSS = readRSS()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(&h)
}

// readRSS returns the resident set size from /proc/self/statm, or 0.
func readRSS() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

// httpErrorLog routes http.Server's error log to slog, demoting the TLS
// handshake failures that browsers cause by refusing a self-signed
// certificate to Debug.
type httpErrorLog struct{ log *slog.Logger }

var _ slog.Handler = (*httpErrorLog)(nil)

func (l *httpErrorLog) Enabled(ctx context.Context, lv slog.Level) bool {
	return l.log.Enabled(ctx, slog.LevelDebug)
}

func (l *httpErrorLog) Handle(ctx context.Context, rec slog.Record) error {
	lv := slog.LevelWarn
	if strings.Contains(rec.Message, "TLS handshake error") {
		lv = slog.LevelDebug
	}
	if !l.log.Enabled(ctx, lv) {
		return nil
	}
	rec.Level = lv
	rec.Message = "eventwire: http: " + strings.TrimPrefix(rec.Message, "http: ")
	return l.log.Handler().Handle(ctx, rec)
}

func (l *httpErrorLog) WithAttrs(as []slog.Attr) slog.Handler {
	return &httpErrorLog{log: slog.New(l.log.Handler().WithAttrs(as))}
}

func (l *httpErrorLog) WithGroup(name string) slog.Handler {
	return &httpErrorLog{log: slog.New(l.log.Handler().WithGroup(name))}
}
