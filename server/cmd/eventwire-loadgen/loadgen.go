package main

import (
	"bufio"
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
	"strconv"
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

// MemSample is the server's memory at one moment. RSS comes from
// /proc/<pid>/status; the Go runtime figures come from the server's debug
// endpoint when it has one (HaveRuntime).
type MemSample struct {
	RSS         int64  `json:"rss"`
	HaveRuntime bool   `json:"have_runtime"`
	NoGC        bool   `json:"no_gc,omitempty"` // runtime figures taken without a GC first
	HeapInuse   uint64 `json:"heap_inuse"`
	HeapAlloc   uint64 `json:"heap_alloc"`
	StackInuse  uint64 `json:"stack_inuse"`
	Sys         uint64 `json:"sys"`
	Goroutines  int    `json:"goroutines"`
}

// PhaseStats reports one publishing phase.
type PhaseStats struct {
	Name        string        `json:"name"`
	Events      int           `json:"events"`      // events published
	Subscribers int           `json:"subscribers"` // live subscribers when the phase began
	Expected    int64         `json:"expected"`    // Events × Subscribers
	Delivered   int64         `json:"delivered"`   // events received in order
	Missing     int64         `json:"missing"`     // Expected - Delivered
	OutOfOrder  int64         `json:"out_of_order"`
	P50         time.Duration `json:"p50_ns"`
	P99         time.Duration `json:"p99_ns"`
	Max         time.Duration `json:"max_ns"`
	// WorstLast is the slowest broadcast's time from publish to its last
	// delivery (latency phase only).
	WorstLast time.Duration `json:"worst_last_ns"`
	// PerEvent has p99 and last delivery of each latency broadcast.
	PerEvent []EventStats `json:"per_event,omitempty"`
	// Wall is first publish to last delivery; EventsPerSec = Delivered/Wall.
	Wall         time.Duration `json:"wall_ns"`
	EventsPerSec float64       `json:"events_per_sec"`
	ServerCPU    time.Duration `json:"server_cpu_ns"`
	ClientCPU    time.Duration `json:"client_cpu_ns"` // the load generator's CPU in the phase
	PublishErrs  int           `json:"publish_errors"`
}

// EventStats describes the delivery of one broadcast.
type EventStats struct {
	Delivered int64         `json:"delivered"`
	P50       time.Duration `json:"p50_ns"`
	P99       time.Duration `json:"p99_ns"`
	Last      time.Duration `json:"last_ns"` // publish to the last subscriber
}

// Result is the outcome of Run.
type Result struct {
	Proto          string         `json:"proto"`
	Note           string         `json:"note,omitempty"`
	LoadAvg        [2]string      `json:"load_avg"` // 1-minute load average at start and end
	Streams        int            `json:"streams_wanted"`
	TCPConns       int64          `json:"tcp_conns"` // TCP connections the streams used
	Connected      int            `json:"connected"`
	ConnectTime    time.Duration  `json:"connect_ns"`
	ConnectRate    float64        `json:"connect_per_sec"`
	ConnectErrors  map[string]int `json:"connect_errors,omitempty"`
	StopReason     string         `json:"stop_reason,omitempty"` // why fewer than Streams connected
	Sources        int            `json:"sources"`
	HeldAfterHold  int            `json:"held_after_hold"`
	Held           int            `json:"held"` // streams that received the final check event
	ClosedEarly    map[string]int `json:"closed_early,omitempty"`
	MemBase        *MemSample     `json:"mem_base,omitempty"`
	MemHeld        *MemSample     `json:"mem_held,omitempty"`
	MemAfter       *MemSample     `json:"mem_after,omitempty"`
	Latency        *PhaseStats    `json:"latency,omitempty"`
	Burst          *PhaseStats    `json:"burst,omitempty"`
	Check          *PhaseStats    `json:"check,omitempty"`
	ClientCPU      time.Duration  `json:"client_cpu_ns"`
	ClientMaxRSS   int64          `json:"client_max_rss"`
	Total          time.Duration  `json:"total_ns"`
	DeadlineHit    bool           `json:"deadline_hit"`
	ServerExited   bool           `json:"server_exited"`
	PerStreamRSS   float64        `json:"per_stream_rss"`
	PerStreamHeap  float64        `json:"per_stream_heap_stack"`
	PerStreamAfter float64        `json:"per_stream_rss_after_traffic"`
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

func (r *Result) computePerStream() {
	if r.MemBase == nil || r.MemHeld == nil || r.HeldAfterHold == 0 {
		return
	}
	n := float64(r.HeldAfterHold)
	r.PerStreamRSS = float64(r.MemHeld.RSS-r.MemBase.RSS) / n
	if r.MemBase.HaveRuntime && r.MemHeld.HaveRuntime {
		b := r.MemBase.HeapInuse + r.MemBase.StackInuse
		h := r.MemHeld.HeapInuse + r.MemHeld.StackInuse
		r.PerStreamHeap = (float64(h) - float64(b)) / n
	}
	if r.MemAfter != nil && r.Held > 0 {
		r.PerStreamAfter = float64(r.MemAfter.RSS-r.MemBase.RSS) / float64(r.Held)
	}
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

// ---------------------------------------------------------------- connect

// stallTimeout ends the connect phase when no stream opened for that long.
const stallTimeout = 15 * time.Second

// connectAll opens the streams with bounded concurrency and stops early on
// a limit that retrying cannot fix (file descriptors, ports, memory, time).
func (lg *loadgen) connectAll(ctx context.Context, res *Result) {
	cfg := lg.cfg
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()

	var (
		next      atomic.Int64
		connected atomic.Int64
		errMu     sync.Mutex
		errs      = map[string]int{}
		stopOnce  sync.Once
		stopped   = make(chan struct{})
		stopWhy   string
		wg        sync.WaitGroup
	)
	ctx, cancelConnects := context.WithCancel(ctx)
	defer cancelConnects()
	stop := func(why string) {
		stopOnce.Do(func() { stopWhy = why; close(stopped); cancelConnects() })
	}
	start := time.Now()
	progressDone := make(chan struct{})
	go func() { // progress, and a stop when no stream opens for a while
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		last, lastChange := int64(0), time.Now()
		for {
			select {
			case <-progressDone:
				return
			case <-t.C:
				n := connected.Load()
				lg.log.Info("connecting", "connected", n, "want", cfg.Streams,
					"rate", fmt.Sprintf("%.0f/s", float64(n)/time.Since(start).Seconds()))
				if n != last {
					last, lastChange = n, time.Now()
				} else if time.Since(lastChange) > stallTimeout {
					stop(fmt.Sprintf("no new stream for %v: the server stopped accepting or answering (its file limit?)", stallTimeout))
				}
			}
		}
	}()
	for range min(cfg.ConnectConcurrency, cfg.Streams) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stopped:
					return
				case <-ctx.Done():
					return
				default:
				}
				if lg.serverExited() {
					stop("server process exited")
					return
				}
				i := int(next.Add(1) - 1)
				if i >= cfg.Streams {
					return
				}
				var err error
				if cfg.Proto == "h2c" {
					err = lg.connectH2(ctx, i)
				} else {
					err = lg.connect(ctx, i)
				}
				if err == nil {
					connected.Add(1)
					continue
				}
				if ctx.Err() != nil {
					return
				}
				class, fatal := classifyDialErr(err)
				errMu.Lock()
				errs[class]++
				total := 0
				for _, n := range errs {
					total += n
				}
				errMu.Unlock()
				if fatal {
					stop(class)
					return
				}
				if total > max(100, cfg.Streams/100) {
					stop("too many connect errors (last: " + class + ")")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(progressDone)
	res.ConnectTime = time.Since(start)
	res.Connected = int(connected.Load())
	res.ConnectRate = float64(res.Connected) / res.ConnectTime.Seconds()
	if len(errs) > 0 {
		res.ConnectErrors = errs
	}
	switch {
	case stopWhy != "":
		res.StopReason = stopWhy
	case res.Connected < cfg.Streams && ctx.Err() != nil:
		res.StopReason = fmt.Sprintf("time (connect phase limit %v or run deadline)", cfg.ConnectTimeout)
	case res.Connected < cfg.Streams:
		res.StopReason = "connect errors"
	}
	lg.log.Info("connect phase done", "connected", res.Connected, "in", res.ConnectTime.Round(time.Millisecond),
		"rate", fmt.Sprintf("%.0f/s", res.ConnectRate), "errors", errs, "stop", res.StopReason)
}

// connect opens stream i: dial (retrying transient errors with backoff),
// send the GET, read the response head, then hand the body to a reader
// goroutine that decodes it with protocol/sse.
func (lg *loadgen) connect(ctx context.Context, i int) error {
	cfg := lg.cfg
	conn, err := lg.dialIndex(ctx, i)
	if err != nil {
		return err
	}
	bench := i < cfg.Subscribers
	topic := cfg.IdleTopic
	if bench {
		topic = cfg.Topic
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	req := "GET /events/" + url.PathEscape(topic) + " HTTP/1.1\r\nHost: " + lg.host +
		"\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return fmt.Errorf("failed to send request: %w", err)
	}
	br := bufio.NewReaderSize(conn, cfg.ReadBuffer)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return fmt.Errorf("failed to read response head: %w", err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		conn.Close()
		return &statusError{code: resp.StatusCode, ctype: resp.Header.Get("Content-Type")}
	}
	_ = conn.SetDeadline(time.Time{})
	s := &lg.streams[i]
	s.conn = conn
	s.bench = bench
	lg.alive.Add(1)
	if bench {
		lg.aliveBench.Add(1)
	}
	go lg.read(i, resp.Body)
	return nil
}

// dialIndex dials the server from source address i%Sources, retrying
// transient errors with backoff.
func (lg *loadgen) dialIndex(ctx context.Context, i int) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second, Control: dialControl}
	if len(lg.sources) > 0 {
		d.LocalAddr = lg.sources[i%len(lg.sources)]
	}
	backoff := 20 * time.Millisecond
	for attempt := 0; ; attempt++ {
		conn, err := d.DialContext(ctx, "tcp", lg.host)
		if err == nil {
			lg.tcpConns.Add(1)
			return conn, nil
		}
		if _, fatal := classifyDialErr(err); fatal || attempt >= 6 || ctx.Err() != nil {
			return nil, err
		}
		if !sleepCtx(ctx, backoff) {
			return nil, err
		}
		backoff *= 2
	}
}

// dial is the h2c transport's dialer: each new TCP connection takes the
// next source address.
func (lg *loadgen) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return lg.dialIndex(ctx, int(lg.tcpConns.Load()))
}

// connectH2 opens stream i as an HTTP/2 stream (h2c, prior knowledge); the
// transport multiplexes the streams over as few TCP connections as the
// server's concurrent-stream limit allows.
func (lg *loadgen) connectH2(ctx context.Context, i int) error {
	cfg := lg.cfg
	bench := i < cfg.Subscribers
	topic := cfg.IdleTopic
	if bench {
		topic = cfg.Topic
	}
	// The stream outlives ctx (the connect phase): it has its own context,
	// cancelled by closeAll, or here when the head does not come in time.
	sctx, cancel := context.WithCancel(lg.h2ctx)
	timer := time.AfterFunc(30*time.Second, cancel)
	stopWatch := context.AfterFunc(ctx, cancel)
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, "http://"+lg.host+"/events/"+url.PathEscape(topic), nil)
	if err != nil {
		cancel()
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := lg.h2[i/cfg.H2StreamsPerConn].Do(req)
	timer.Stop()
	stopWatch()
	if err != nil {
		cancel()
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		cancel()
		return &statusError{code: resp.StatusCode, ctype: resp.Header.Get("Content-Type")}
	}
	if sctx.Err() != nil { // the timer fired as the head arrived
		resp.Body.Close()
		return context.DeadlineExceeded
	}
	s := &lg.streams[i]
	s.body = resp.Body
	s.cancel = cancel
	s.bench = bench
	lg.alive.Add(1)
	if bench {
		lg.aliveBench.Add(1)
	}
	go lg.read(i, resp.Body)
	return nil
}

type statusError struct {
	code  int
	ctype string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("unexpected response %d %q", e.code, e.ctype)
}

// read decodes stream i until it ends and records every event.
func (lg *loadgen) read(i int, body io.Reader) {
	s := &lg.streams[i]
	r := sse.NewReaderSize(body, lg.cfg.ReadBuffer, sse.DecoderOptions{})
	for {
		ev, err := r.Next()
		if err != nil {
			s.closed.Store(true)
			lg.alive.Add(-1)
			if s.bench {
				lg.aliveBench.Add(-1)
			}
			if !lg.shutdown.Load() {
				lg.closeMu.Lock()
				lg.closeBy[closeClass(err)]++
				lg.closeMu.Unlock()
			}
			return
		}
		now := lg.now()
		kind, seq, sent, ok := parseData(ev.Data)
		if !ok {
			continue // not ours (for example a demo event)
		}
		switch kind {
		case kindLatency:
			k := len(lg.recvL)
			if seq < 0 || seq >= k {
				lg.badL.Add(1)
				continue
			}
			if int(s.nextL.Load()) != seq {
				lg.badL.Add(1)
			}
			s.nextL.Store(int32(seq + 1))
			lg.latL[i*k+seq] = now - sent
			atomicMax(&lg.lastL[seq], now)
			lg.recvL[seq].Add(1)
		case kindBurst:
			m := lg.cfg.Burst
			if seq < 0 || seq >= m {
				lg.badT.Add(1)
				continue
			}
			if int(s.nextT.Load()) != seq {
				lg.badT.Add(1)
			}
			s.nextT.Store(int32(seq + 1))
			lg.latT[i*m+seq] = now - sent
			atomicMax(&lg.lastT, now)
			lg.recvT.Add(1)
		case kindCheck:
			if !s.gotC.Swap(true) {
				lg.recvC.Add(1)
			}
		}
	}
}

func atomicMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// closeAll ends every stream with a reset (SO_LINGER 0) so that no
// TIME_WAIT sockets hold the source ports for the next run.
func (lg *loadgen) closeAll() {
	lg.shutdown.Store(true)
	for i := range lg.streams {
		s := &lg.streams[i]
		if s.body != nil {
			s.body.Close()
			s.cancel()
		}
		c := s.conn
		if c == nil {
			continue
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
}

// ---------------------------------------------------------------- publish

func (lg *loadgen) makeData(kind byte, seq int) string {
	b := make([]byte, 0, lg.cfg.Payload+32)
	b = append(b, kind, ' ')
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, lg.now(), 10)
	b = append(b, ' ')
	for len(b) < lg.cfg.Payload {
		b = append(b, 'x')
	}
	return string(b)
}

// parseData parses "<kind> <seq> <send-ns> ..." without allocating.
func parseData(d string) (kind byte, seq int, sent int64, ok bool) {
	if len(d) < 5 || d[1] != ' ' {
		return 0, 0, 0, false
	}
	kind = d[0]
	rest := d[2:]
	sp := strings.IndexByte(rest, ' ')
	if sp < 0 {
		return 0, 0, 0, false
	}
	s, err := strconv.Atoi(rest[:sp])
	if err != nil {
		return 0, 0, 0, false
	}
	rest = rest[sp+1:]
	if sp = strings.IndexByte(rest, ' '); sp >= 0 {
		rest = rest[:sp]
	}
	t, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return 0, 0, 0, false
	}
	return kind, s, t, true
}

// publish POSTs one event; the data is built (and timestamped) right before
// the request is sent.
func (lg *loadgen) publish(ctx context.Context, topic string, kind byte, seq int) error {
	data := lg.makeData(kind, seq)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, lg.pubURL(topic), strings.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	if lg.cfg.PublishToken != "" {
		req.Header.Set("Authorization", "Bearer "+lg.cfg.PublishToken)
	}
	resp, err := lg.pub.Do(req)
	if err != nil {
		return fmt.Errorf("failed to publish: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("failed to publish: %s", resp.Status)
	}
	return nil
}

// waitCount waits until count() reaches want, ctx ends, the deadline
// passes, or nothing arrives for stall.
func (lg *loadgen) waitCount(ctx context.Context, count func() int64, want int64, deadline time.Time, stall time.Duration) {
	last, lastChange := count(), time.Now()
	for {
		n := count()
		if n >= want || ctx.Err() != nil || time.Now().After(deadline) || lg.serverExited() {
			return
		}
		if n != last {
			last, lastChange = n, time.Now()
		} else if time.Since(lastChange) > stall {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// latencyPhase publishes cfg.Broadcasts events to the broadcast topic, one
// at a time, and measures publish-to-delivery latency at every subscriber.
func (lg *loadgen) latencyPhase(ctx context.Context) *PhaseStats {
	cfg := lg.cfg
	k := cfg.Broadcasts
	st := &PhaseStats{Name: "latency", Events: k, Subscribers: int(lg.aliveBench.Load())}
	lg.log.Info("latency phase", "broadcasts", k, "subscribers", st.Subscribers)
	cpu0, ccpu0 := lg.serverCPU(), clientCPU()
	first := int64(-1)
	sendAt := make([]int64, k)
	for b := range k {
		if ctx.Err() != nil || lg.serverExited() {
			break
		}
		t0 := time.Now()
		sendAt[b] = lg.now()
		if first < 0 {
			first = sendAt[b]
		}
		if err := lg.publish(ctx, cfg.Topic, kindLatency, b); err != nil {
			st.PublishErrs++
			lg.log.Warn("publish failed", "err", err)
			continue
		}
		want := lg.aliveBench.Load()
		lg.waitCount(ctx, lg.recvL[b].Load, want, t0.Add(cfg.BroadcastTimeout), cfg.BroadcastTimeout)
		if rest := cfg.BroadcastInterval - time.Since(t0); rest > 0 && b < k-1 {
			sleepCtx(ctx, rest)
		}
	}
	// A last short wait for stragglers of the final broadcast.
	lg.waitCount(ctx, func() int64 { return lg.recvL[k-1].Load() }, lg.aliveBench.Load(), time.Now().Add(time.Second), time.Second)
	st.ServerCPU, st.ClientCPU = lg.serverCPU()-cpu0, clientCPU()-ccpu0

	samples := make([]int64, 0, len(lg.latL))
	one := make([]int64, 0, cfg.Subscribers)
	for b := range k {
		one = one[:0]
		for i := range cfg.Subscribers {
			if v := lg.latL[i*k+b]; v >= 0 {
				one = append(one, v)
			}
		}
		es := EventStats{Delivered: int64(len(one))}
		es.P50, es.P99, es.Last = percentiles(one)
		st.PerEvent = append(st.PerEvent, es)
	}
	var lastAll int64
	for b := range k {
		if l := lg.lastL[b].Load(); l > 0 {
			st.WorstLast = max(st.WorstLast, time.Duration(l-sendAt[b]))
			lastAll = max(lastAll, l)
		}
		st.Delivered += lg.recvL[b].Load()
	}
	for _, v := range lg.latL {
		if v >= 0 {
			samples = append(samples, v)
		}
	}
	st.Expected = int64(k) * int64(st.Subscribers)
	st.Missing = st.Expected - st.Delivered
	st.OutOfOrder = lg.badL.Load()
	st.P50, st.P99, st.Max = percentiles(samples)
	if lastAll > first && first >= 0 {
		st.Wall = time.Duration(lastAll - first)
		st.EventsPerSec = float64(st.Delivered) / st.Wall.Seconds()
	}
	var per []string
	for _, e := range st.PerEvent {
		per = append(per, fmt.Sprintf("%.0f/%.0f", ms64(e.P99), ms64(e.Last)))
	}
	lg.log.Info("latency phase done", "delivered", st.Delivered, "expected", st.Expected,
		"p50", st.P50, "p99", st.P99, "max", st.Max, "per broadcast p99/last ms", strings.Join(per, " "))
	return st
}

// burstPhase publishes cfg.Burst events back to back (optionally paced to
// cfg.BurstRate) and measures how many deliveries per second arrive.
func (lg *loadgen) burstPhase(ctx context.Context) *PhaseStats {
	cfg := lg.cfg
	m := cfg.Burst
	st := &PhaseStats{Name: "burst", Events: m, Subscribers: int(lg.aliveBench.Load())}
	lg.log.Info("burst phase", "events", m, "subscribers", st.Subscribers)
	cpu0, ccpu0 := lg.serverCPU(), clientCPU()
	first := lg.now()
	var gap time.Duration
	if cfg.BurstRate > 0 {
		gap = time.Duration(float64(time.Second) / cfg.BurstRate)
	}
	t0 := time.Now()
	for j := range m {
		if ctx.Err() != nil || lg.serverExited() {
			break
		}
		if gap > 0 {
			if d := time.Until(t0.Add(time.Duration(j) * gap)); d > 0 {
				sleepCtx(ctx, d)
			}
		}
		if err := lg.publish(ctx, cfg.Topic, kindBurst, j); err != nil {
			st.PublishErrs++
			lg.log.Warn("publish failed", "err", err)
		}
	}
	st.Expected = int64(m) * int64(st.Subscribers)
	lg.waitCount(ctx, lg.recvT.Load, st.Expected, time.Now().Add(60*time.Second), 5*time.Second)
	st.ServerCPU, st.ClientCPU = lg.serverCPU()-cpu0, clientCPU()-ccpu0
	st.Delivered = lg.recvT.Load()
	st.Missing = st.Expected - st.Delivered
	st.OutOfOrder = lg.badT.Load()
	samples := make([]int64, 0, len(lg.latT))
	for _, v := range lg.latT {
		if v >= 0 {
			samples = append(samples, v)
		}
	}
	st.P50, st.P99, st.Max = percentiles(samples)
	if last := lg.lastT.Load(); last > first {
		st.Wall = time.Duration(last - first)
		st.EventsPerSec = float64(st.Delivered) / st.Wall.Seconds()
	}
	lg.log.Info("burst phase done", "delivered", st.Delivered, "expected", st.Expected,
		"events/s", fmt.Sprintf("%.0f", st.EventsPerSec))
	return st
}

// checkPhase publishes one event to each topic and counts the streams that
// receive it: those are the streams really held at the end of the run.
func (lg *loadgen) checkPhase(ctx context.Context) *PhaseStats {
	cfg := lg.cfg
	st := &PhaseStats{Name: "check", Events: 1, Subscribers: int(lg.alive.Load())}
	lg.log.Info("check phase: one event to every stream", "streams", st.Subscribers)
	first := lg.now()
	topics := []string{cfg.Topic}
	if cfg.Subscribers < cfg.Streams {
		topics = append(topics, cfg.IdleTopic)
	}
	for _, t := range topics {
		if err := lg.publish(ctx, t, kindCheck, 0); err != nil {
			st.PublishErrs++
			lg.log.Warn("publish failed", "err", err)
		}
	}
	st.Expected = int64(st.Subscribers)
	lg.waitCount(ctx, lg.recvC.Load, st.Expected, time.Now().Add(60*time.Second), 10*time.Second)
	st.Delivered = lg.recvC.Load()
	st.Missing = st.Expected - st.Delivered
	st.Wall = time.Duration(lg.now() - first)
	lg.log.Info("check phase done", "received", st.Delivered, "of", st.Expected)
	return st
}

func (lg *loadgen) serverCPU() time.Duration {
	if lg.cfg.CPU == nil {
		return 0
	}
	d, err := lg.cfg.CPU()
	if err != nil {
		return 0
	}
	return d
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
