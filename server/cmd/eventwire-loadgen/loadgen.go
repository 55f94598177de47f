package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventwire/eventwire/protocol/sse"
)

// Config describes one load-generator run against a running server. Zero
// fields take the defaults documented on each field (see withDefaults).
type Config struct {
	// URL is the server's base URL, for example "http://127.0.0.1:8080".
	// Streams are opened at URL+"/events/{topic}" and events published
	// with POST URL+"/publish/{topic}".
	URL string
	// PublishToken, when set, is sent as "Authorization: Bearer ...".
	PublishToken string

	// Proto is how streams reach the server: "h1" (default), one HTTP/1.1
	// TCP connection per stream, or "h2c", HTTP/2 with prior knowledge,
	// many streams multiplexed on each TCP connection (up to the server's
	// SETTINGS_MAX_CONCURRENT_STREAMS, then the client opens another).
	Proto string
	// H2StreamsPerConn is how many h2c streams share one TCP connection
	// (default 200; keep it at or below the server's
	// SETTINGS_MAX_CONCURRENT_STREAMS, 250 in net/http).
	H2StreamsPerConn int

	// Streams is the number of concurrent SSE streams to hold (default 1000).
	Streams int
	// Subscribers is how many of the streams subscribe to the broadcast
	// topic; the others subscribe to the idle topic (default min(Streams, 10000)).
	Subscribers int
	// Topic is the broadcast topic (default "bench"); IdleTopic the topic
	// of the remaining streams (default "bench-idle").
	Topic, IdleTopic string

	// Broadcasts is the number of latency broadcasts, published one at a
	// time BroadcastInterval apart (defaults 20 and 250 ms). Each waits
	// until every subscriber has it (or BroadcastTimeout, default 10 s).
	Broadcasts        int
	BroadcastInterval time.Duration
	BroadcastTimeout  time.Duration
	// Burst is the number of events published back to back to measure
	// delivered events per second (default 0: no burst phase). BurstRate
	// caps the publish rate in events/s (0: as fast as the publisher can).
	Burst     int
	BurstRate float64
	// Payload is the size of each event's data in bytes (default 64; at
	// least the size of the header carrying sequence and timestamp).
	Payload int

	// Sources is the number of loopback source addresses the streams are
	// spread over, starting at SourceBase (default 127.0.0.2). Each source
	// address has its own ephemeral port range, so N sources allow about
	// N×28k streams to one server port. 0 lets the kernel choose (one
	// source address: at most one ephemeral range).
	Sources    int
	SourceBase net.IP
	// ConnectConcurrency bounds dials and handshakes in flight (default 500).
	ConnectConcurrency int
	// ConnectTimeout bounds the whole connect phase (default 2 minutes).
	ConnectTimeout time.Duration
	// Hold is how long the streams are held idle before the server's memory
	// is sampled (default 2 s).
	Hold time.Duration
	// ReadBuffer is the size of each stream's two read buffers, the one
	// that reads the response head and sse.Reader's (default 512).
	ReadBuffer int

	// Memory, when set, samples the server's memory (after the connect
	// phase and after Hold); nil skips the memory report.
	Memory func(ctx context.Context) (MemSample, error)
	// CPU, when set, returns the server's consumed CPU time so far.
	CPU func() (time.Duration, error)
	// OnTraffic, when set, is called as the latency phase starts with a
	// rough duration of the latency and burst phases (for profiling).
	OnTraffic func(ctx context.Context, d time.Duration)
	// ServerDone, when set, is closed when the server process exits.
	ServerDone <-chan struct{}

	// Logger receives progress (default: discard).
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Proto == "" {
		c.Proto = "h1"
	}
	if c.H2StreamsPerConn <= 0 {
		c.H2StreamsPerConn = 200
	}
	if c.Streams <= 0 {
		c.Streams = 1000
	}
	if c.Subscribers <= 0 || c.Subscribers > c.Streams {
		c.Subscribers = min(c.Streams, 10000)
	}
	if c.Topic == "" {
		c.Topic = "bench"
	}
	if c.IdleTopic == "" {
		c.IdleTopic = "bench-idle"
	}
	c.Broadcasts = max(c.Broadcasts, 0)
	c.Burst = max(c.Burst, 0)
	if c.BroadcastInterval <= 0 {
		c.BroadcastInterval = 250 * time.Millisecond
	}
	if c.BroadcastTimeout <= 0 {
		c.BroadcastTimeout = 10 * time.Second
	}
	if c.Payload <= 0 {
		c.Payload = 64
	}
	if c.SourceBase == nil {
		c.SourceBase = net.IPv4(127, 0, 0, 2)
	}
	if c.ConnectConcurrency <= 0 {
		c.ConnectConcurrency = 500
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 2 * time.Minute
	}
	if c.Hold < 0 {
		c.Hold = 0
	}
	if c.ReadBuffer <= 0 {
		c.ReadBuffer = 512
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Event kinds, the first byte of every published event's data:
// "<kind> <seq> <send-ns> <padding>".
const (
	kindLatency = 'L'
	kindBurst   = 'T'
	kindCheck   = 'C'
)

// stream is the client side of one SSE stream. Only its reader goroutine
// writes the counters; the orchestrator reads them through atomics.
type stream struct {
	conn   net.Conn  // h1: the connection
	body   io.Closer // h2c: the response body
	cancel context.CancelFunc
	bench  bool         // subscribed to the broadcast topic
	nextL  atomic.Int32 // next expected latency seq
	nextT  atomic.Int32 // next expected burst seq
	gotC   atomic.Bool
	closed atomic.Bool
}

type loadgen struct {
	cfg  Config
	base time.Time // timestamps are monotonic nanoseconds since base
	log  *slog.Logger

	host     string // host:port
	pubURL   func(topic string) string
	pub      *http.Client
	h2       []*http.Client // h2c streams: one client (one TCP connection) per H2StreamsPerConn streams
	h2ctx    context.Context
	h2stop   context.CancelFunc
	tcpConns atomic.Int64
	streams  []stream
	sources  []*net.TCPAddr
	shutdown atomic.Bool // set when we close the streams ourselves

	alive      atomic.Int64
	aliveBench atomic.Int64

	// Latency samples, nanoseconds, indexed [stream*K + seq] (-1 = none).
	latL []int64
	latT []int64
	// Per broadcast delivery counts and latest delivery time.
	recvL   []atomic.Int64
	lastL   []atomic.Int64
	recvT   atomic.Int64
	lastT   atomic.Int64
	recvC   atomic.Int64
	badL    atomic.Int64
	badT    atomic.Int64
	closeMu sync.Mutex
	closeBy map[string]int
}

func (lg *loadgen) now() int64 { return int64(time.Since(lg.base)) }

// Run opens cfg.Streams SSE streams, publishes the configured phases and
// reports what was delivered. It stops by itself: each phase is bounded
// and ctx ends the whole run.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("failed to parse server URL %q: want http://host:port", cfg.URL)
	}
	base := strings.TrimSuffix(cfg.URL, "/")
	lg := &loadgen{
		cfg:     cfg,
		base:    time.Now(),
		log:     cfg.Logger,
		host:    u.Host,
		streams: make([]stream, cfg.Streams),
		closeBy: map[string]int{},
		pubURL:  func(topic string) string { return base + "/publish/" + url.PathEscape(topic) },
		pub: &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: 4,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		}},
	}
	defer lg.pub.CloseIdleConnections()
	for i := range cfg.Sources {
		ip := slices.Clone(cfg.SourceBase.To4())
		if ip == nil {
			return nil, fmt.Errorf("failed to use source base %v: not IPv4", cfg.SourceBase)
		}
		n := int(ip[3]) + i
		ip[2] += byte(n / 256)
		ip[3] = byte(n % 256)
		lg.sources = append(lg.sources, &net.TCPAddr{IP: ip})
	}
	// Everything the reader goroutines write is allocated before they start.
	lg.latL = filled(cfg.Subscribers*cfg.Broadcasts, -1)
	lg.latT = filled(cfg.Subscribers*cfg.Burst, -1)
	lg.recvL = make([]atomic.Int64, cfg.Broadcasts)
	lg.lastL = make([]atomic.Int64, cfg.Broadcasts)
	switch cfg.Proto {
	case "h1":
	case "h2c":
		lg.h2ctx, lg.h2stop = context.WithCancel(context.Background())
		defer lg.h2stop()
		var protos http.Protocols
		protos.SetUnencryptedHTTP2(true)
		// One transport per group of streams, each limited to one TCP
		// connection: net/http would otherwise dial a new connection for
		// every request that arrives while none is ready.
		for range (cfg.Streams + cfg.H2StreamsPerConn - 1) / cfg.H2StreamsPerConn {
			tr := &http.Transport{
				Protocols:          &protos,
				DisableCompression: true,
				DialContext:        lg.dial,
				MaxConnsPerHost:    1,
				HTTP2:              &http.HTTP2Config{StrictMaxConcurrentRequests: true},
			}
			lg.h2 = append(lg.h2, &http.Client{Transport: tr})
			defer tr.CloseIdleConnections()
		}
	default:
		return nil, fmt.Errorf("failed to use protocol %q: want h1 or h2c", cfg.Proto)
	}
	res := &Result{Proto: cfg.Proto, Streams: cfg.Streams, Sources: max(len(lg.sources), 1)}
	start := time.Now()
	cpu0 := clientCPU()
	defer func() {
		lg.closeAll()
		res.TCPConns = lg.tcpConns.Load()
		res.Total = time.Since(start)
		res.ClientCPU = clientCPU() - cpu0
		res.ClientMaxRSS = clientMaxRSS()
		if ctx.Err() != nil {
			res.DeadlineHit = true
		}
		res.ServerExited = lg.serverExited()
	}()

	if cfg.Memory != nil {
		if m, err := cfg.Memory(ctx); err == nil {
			res.MemBase = &m
		} else {
			lg.log.Warn("memory sample failed", "err", err)
		}
	}

	lg.connectAll(ctx, res)
	if res.Connected == 0 {
		return res, fmt.Errorf("failed to open any stream: %s", res.StopReason)
	}

	// Hold the streams idle, then measure.
	if cfg.Hold > 0 {
		lg.log.Info("holding streams", "streams", lg.alive.Load(), "for", cfg.Hold)
		sleepCtx(ctx, cfg.Hold)
	}
	res.HeldAfterHold = int(lg.alive.Load())
	if cfg.Memory != nil {
		if m, err := cfg.Memory(ctx); err == nil {
			res.MemHeld = &m
		} else {
			lg.log.Warn("memory sample failed", "err", err)
		}
	}

	if cfg.OnTraffic != nil {
		cfg.OnTraffic(ctx, time.Duration(cfg.Broadcasts)*cfg.BroadcastInterval+time.Duration(cfg.Burst)*time.Millisecond+time.Second)
	}
	if cfg.Broadcasts > 0 && ctx.Err() == nil && !lg.serverExited() {
		res.Latency = lg.latencyPhase(ctx)
	}
	if cfg.Burst > 0 && ctx.Err() == nil && !lg.serverExited() {
		res.Burst = lg.burstPhase(ctx)
	}
	if ctx.Err() == nil && !lg.serverExited() {
		res.Check = lg.checkPhase(ctx)
		res.Held = int(res.Check.Delivered)
	}
	if cfg.Memory != nil && ctx.Err() == nil && !lg.serverExited() {
		if m, err := cfg.Memory(ctx); err == nil {
			res.MemAfter = &m
		}
	}
	lg.closeMu.Lock()
	if len(lg.closeBy) > 0 {
		res.ClosedEarly = cloneCounts(lg.closeBy)
	}
	lg.closeMu.Unlock()
	res.computePerStream()
	return res, nil
}

func filled(n int, v int64) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func cloneCounts(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (lg *loadgen) serverExited() bool {
	if lg.cfg.ServerDone == nil {
		return false
	}
	select {
	case <-lg.cfg.ServerDone:
		return true
	default:
		return false
	}
}

// ---------------------------------------------------------------- helpers

func percentiles(s []int64) (p50, p99, mx time.Duration) {
	if len(s) == 0 {
		return 0, 0, 0
	}
	slices.Sort(s)
	at := func(q float64) time.Duration {
		i := int(q*float64(len(s))+0.5) - 1
		return time.Duration(s[min(max(i, 0), len(s)-1)])
	}
	return at(0.50), at(0.99), time.Duration(s[len(s)-1])
}

func ms64(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func closeClass(err error) string {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "server closed the stream (EOF)"
	case errors.Is(err, net.ErrClosed):
		return "closed locally"
	case errors.Is(err, sse.ErrEventTooLarge):
		return "event too large"
	}
	// Numbers (stream IDs, ports) would make every error its own class.
	return "read error: " + digits.ReplaceAllString(err.Error(), "N")
}

var digits = regexp.MustCompile(`[0-9]+`)

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}
