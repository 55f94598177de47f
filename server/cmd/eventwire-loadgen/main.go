// Command eventwire-loadgen is the server benchmark of `make bench`
// (scripts/bench-server.sh): on loopback it holds many concurrent SSE
// streams against the eventwire server, reads them with protocol/sse,
// publishes to them through POST /publish/{topic}, and prints a markdown
// table of streams held, server memory per stream, broadcast delivery
// latency (p50/p99/max over every subscriber of every broadcast) and
// delivered events per second.
//
// Phases: connect (bounded concurrency, retries with backoff, stops at the
// first limit retrying cannot fix: file descriptors, ports, memory, time);
// hold, then sample the server's memory; latency (-broadcasts events to
// the -subscribers streams, one at a time, each carrying its send time);
// burst (-burst events back to back: events/s delivered); check (one event
// to every stream: the streams really held). Every event is checked to
// arrive once and in order.
//
// The server under test runs as a child process so that its memory is
// measured apart from the clients': by default this binary re-executed in
// server mode (server.NewServer, exactly what eventwire-server serves,
// plus net/http/pprof on a second port for heap and stack figures after a
// GC and for profiles); -server-bin runs another binary (for example a
// built server/cmd/eventwire-server; memory from /proc and /healthz); -addr
// uses a server that is already running.
//
// -proto h1 opens one HTTP/1.1 connection per stream, spread over several
// 127.0.0.x source addresses (each has its own ephemeral port range);
// -proto h2c multiplexes ~200 HTTP/2 streams per connection, as browsers
// do over HTTPS. RLIMIT_NOFILE is raised in the process (and, given
// CAP_SYS_RESOURCE, its hard limit up to fs.nr_open); the child inherits
// it. Over HTTP/1.1 each stream costs a descriptor in the server, so when
// the limit cannot be raised far enough the run is capped below it and the
// report says so.
//
// Usage:
//
//	go run ./server/cmd/eventwire-loadgen                    # 100k streams, 10k subscribers
//	go run ./server/cmd/eventwire-loadgen -proto h2c
//	go run ./server/cmd/eventwire-loadgen -quick             # 2000 streams, small phases
//
// The run stops by itself: every phase is bounded and -duration (default
// 5 minutes) ends it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
)

// fdReserve is what a process keeps of RLIMIT_NOFILE for other than
// streams (listeners, publish connections, logs, the runtime).
const fdReserve = 64

// serveEnv selects server mode when this binary re-executes itself.
const serveEnv = "EVENTWIRE_LOADGEN_SERVE"

func main() {
	if os.Getenv(serveEnv) == "1" {
		if err := serveMain(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "eventwire-loadgen (server mode):", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(run())
}

func run() int {
	var (
		proto       = flag.String("proto", "h1", "h1: one HTTP/1.1 connection per stream; h2c: HTTP/2 streams multiplexed over few connections")
		hijack      = flag.Bool("hijack", true, "built-in server mode: server.Config.Hijack, HTTP/1.x streams leave net/http (the eventwire-server default)")
		streams     = flag.Int("streams", 100000, "concurrent SSE streams to hold")
		subscribers = flag.Int("subscribers", 10000, "streams on the broadcast topic (the rest idle on another topic)")
		broadcasts  = flag.Int("broadcasts", 20, "latency broadcasts, one at a time")
		interval    = flag.Duration("interval", 250*time.Millisecond, "time between latency broadcasts")
		burst       = flag.Int("burst", 100, "events published back to back to measure delivered events/s (0: skip)")
		burstRate   = flag.Float64("burst-rate", 0, "cap on the burst's publish rate in events/s (0: unpaced)")
		payload     = flag.Int("payload", 64, "event data size in bytes")
		duration    = flag.Duration("duration", 5*time.Minute, "overall time limit of the run")
		connectTO   = flag.Duration("connect-timeout", 2*time.Minute, "time limit of the connect phase")
		hold        = flag.Duration("hold", 3*time.Second, "idle time with all streams open before memory is sampled")
		concurrency = flag.Int("concurrency", 500, "connects in flight")
		sources     = flag.Int("sources", 0, "loopback source addresses from -source-base (0: one per 20000 streams; -1: let the kernel choose)")
		sourceBase  = flag.String("source-base", "127.0.0.2", "first source address")
		readBuf     = flag.Int("read-buffer", 512, "client read buffers per stream, bytes")
		addr        = flag.String("addr", "", "use the server already running at host:port instead of starting one")
		serverPID   = flag.Int("server-pid", 0, "with -addr: pid of that server, to read its memory from /proc")
		debugURL    = flag.String("debug-url", "", "with -addr: base URL of that server's net/http/pprof handlers")
		serverBin   = flag.String("server-bin", "", "run this server binary (given -addr 127.0.0.1:PORT -publish -demo=false, and -server-args) instead of the built-in server mode; memory from /proc only")
		serverArgs  = flag.String("server-args", "", "extra arguments for the server (space separated)")
		token       = flag.String("token", "", "publish token (Authorization: Bearer)")
		jsonOut     = flag.String("json", "", "also write the result as JSON to this file")
		heapProf    = flag.String("heap-profile", "", "save the server's heap profile (taken with all streams held) to this file")
		goroutProf  = flag.String("goroutine-profile", "", "save the server's goroutine profile (debug=1 text) to this file")
		serverCPU   = flag.String("server-cpuprofile", "", "save a CPU profile of the server taken during the latency and burst phases to this file")
		cpuProf     = flag.String("cpuprofile", "", "save the load generator's own CPU profile to this file")
		quiet       = flag.Bool("q", false, "no progress on stderr")
		quick       = flag.Bool("quick", false, "small smoke run: 2000 streams, 1000 subscribers, 3 broadcasts, burst 10, hold 0.5s (explicit flags win)")
	)
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *quick {
		def := func(name string, p *int, v int) {
			if !set[name] {
				*p = v
			}
		}
		def("streams", streams, 2000)
		def("subscribers", subscribers, 1000)
		def("broadcasts", broadcasts, 3)
		def("burst", burst, 10)
		if !set["hold"] {
			*hold = 500 * time.Millisecond
		}
		if !set["duration"] {
			*duration = time.Minute
		}
	}

	logLevel := slog.LevelInfo
	if *quiet {
		logLevel = slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))

	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()

	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	load0 := loadAvg()

	// The file limit: every stream costs one descriptor here and one in the
	// server (the child inherits the limit).
	// Over HTTP/1.1 both processes need one per stream; over h2c a few.
	want := uint64(*streams) + 4096
	got, err := raiseFileLimit(want)
	if err != nil {
		logger.Warn("could not raise the file limit", "err", err)
	} else {
		logger.Info("file limit", "RLIMIT_NOFILE", got)
	}
	var capNote string
	if *proto == "h1" && got > 0 && uint64(*streams)+fdReserve > got {
		capped := int(got) - fdReserve
		capNote = fmt.Sprintf("capped at %d streams: RLIMIT_NOFILE is %d and could not be raised to %d "+
			"(the hard limit needs CAP_SYS_RESOURCE); each HTTP/1.1 stream takes one descriptor in the server", capped, got, want)
		logger.Warn("streams " + capNote)
		*streams = capped
		if *subscribers > capped {
			*subscribers = capped
		}
	}

	nsrc := *sources
	switch {
	case nsrc == 0:
		nsrc = (*streams + 19999) / 20000
	case nsrc < 0:
		nsrc = 0
	}
	base := net.ParseIP(*sourceBase)
	if base == nil || base.To4() == nil {
		fmt.Fprintln(os.Stderr, "bad -source-base")
		return 2
	}

	cfg := Config{
		Proto:   *proto,
		Streams: *streams, Subscribers: *subscribers,
		Broadcasts: *broadcasts, BroadcastInterval: *interval,
		Burst: *burst, BurstRate: *burstRate, Payload: *payload,
		Sources: nsrc, SourceBase: base,
		ConnectConcurrency: *concurrency, ConnectTimeout: *connectTO,
		Hold: *hold, ReadBuffer: *readBuf, PublishToken: *token,
		Logger: logger,
	}

	var srv *serverProc
	var profDone chan struct{} // closed when the server CPU profile is saved
	serverDesc := ""
	if *addr != "" {
		cfg.URL = "http://" + *addr
		serverDesc = "external " + *addr
		if *serverPID > 0 || *debugURL != "" {
			cfg.Memory = memSampler(*serverPID, strings.TrimSuffix(*debugURL, "/"), cfg.URL)
		}
		if *serverPID > 0 {
			pid := *serverPID
			cfg.CPU = func() (time.Duration, error) { return procCPU(pid) }
		}
	} else {
		tmp, err := os.MkdirTemp("", "eventwire-loadgen-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(tmp)
		logPath := filepath.Join(os.TempDir(), "eventwire-loadgen-server.log")
		args := strings.Fields(*serverArgs)
		var bin, debugAddr string
		var env []string
		if *serverBin != "" {
			bin = *serverBin
			args = append([]string{"-publish", "-demo=false"}, args...)
			serverDesc = "child process " + filepath.Base(bin)
		} else {
			bin, err = os.Executable()
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			port, err := freePort()
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			debugAddr = fmt.Sprintf("127.0.0.1:%d", port)
			args = append([]string{"-debug-addr", debugAddr}, args...)
			if *proto == "h2c" {
				args = append(args, "-h2c")
			}
			args = append(args, "-hijack="+strconv.FormatBool(*hijack))
			env = []string{serveEnv + "=1"}
			serverDesc = fmt.Sprintf("child process (server.NewServer as in eventwire-server, Hijack %v, + pprof)", *hijack)
		}
		if *token != "" {
			args = append(args, "-publish-token", *token)
		}
		srv, err = startServer(ctx, bin, args, env, debugAddr, logPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer srv.stop()
		logger.Info("server started", "url", srv.url, "pid", srv.cmd.Process.Pid, "log", logPath)
		cfg.URL = srv.url
		cfg.ServerDone = srv.done
		cfg.Memory = memSampler(srv.cmd.Process.Pid, srv.debugURL, srv.url)
		if *serverCPU != "" && srv.debugURL != "" {
			cfg.OnTraffic = func(ctx context.Context, d time.Duration) {
				secs := int(d.Seconds()) + 1
				profDone = make(chan struct{})
				go func() {
					defer close(profDone)
					if err := saveProfile(ctx, srv.debugURL, fmt.Sprintf("profile?seconds=%d", secs), *serverCPU); err != nil {
						logger.Warn("server CPU profile", "err", err)
					}
				}()
			}
		}
		pid := srv.cmd.Process.Pid
		cfg.CPU = func() (time.Duration, error) { return procCPU(pid) }
		if *heapProf != "" || *goroutProf != "" {
			mem := cfg.Memory
			cfg.Memory = func(ctx context.Context) (MemSample, error) {
				m, err := mem(ctx)
				// The second sample is the one with all streams held.
				if err == nil && m.Goroutines > cfg.Streams/2 && srv.debugURL != "" {
					if *heapProf != "" {
						if err := saveProfile(ctx, srv.debugURL, "heap", *heapProf); err != nil {
							logger.Warn("heap profile", "err", err)
						}
					}
					if *goroutProf != "" {
						if err := saveProfile(ctx, srv.debugURL, "goroutine?debug=1", *goroutProf); err != nil {
							logger.Warn("goroutine profile", "err", err)
						}
					}
				}
				return m, err
			}
		}
	}

	// A watchdog in case a phase ignores the deadline: the run must end.
	watchdog := time.AfterFunc(*duration+30*time.Second, func() {
		fmt.Fprintln(os.Stderr, "eventwire-loadgen: overall deadline passed, aborting")
		if srv != nil {
			_ = srv.cmd.Process.Kill()
		}
		os.Exit(3)
	})
	defer watchdog.Stop()

	res, err := Run(ctx, cfg)
	if profDone != nil {
		select {
		case <-profDone:
		case <-ctx.Done():
		}
	}
	if srv != nil {
		srv.stop()
		if res != nil && res.ServerExited {
			logger.Error("server exited during the run", "err", srv.err(), "log", tail(srv.logPath, 2000))
		}
	}
	if res != nil {
		res.Note = capNote
		res.LoadAvg = [2]string{load0, loadAvg()}
		printReport(os.Stdout, cfg, res, serverDesc)
		if *jsonOut != "" {
			b, _ := json.MarshalIndent(res, "", "  ")
			if werr := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); werr != nil {
				logger.Warn("write json", "err", werr)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "eventwire-loadgen:", err)
		return 1
	}
	return 0
}

func printReport(w io.Writer, cfg Config, r *Result, serverDesc string) {
	cfg = cfg.withDefaults()
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("\n## eventwire server benchmark\n\n")
	p("%s, GOOS=%s GOARCH=%s, %d CPUs; server: %s; somaxconn %s; ephemeral ports %s; %d source address(es)\n\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), serverDesc,
		orNA(sysctl("net.core.somaxconn")), orNA(sysctl("net.ipv4.ip_local_port_range")), r.Sources)
	p("Protocol: %s; %d TCP connections for the streams. Load average (1 min) at start %s, at end %s",
		r.Proto, r.TCPConns, orNA(r.LoadAvg[0]), orNA(r.LoadAvg[1]))
	if n, err := strconv.ParseFloat(r.LoadAvg[1], 64); err == nil && n > float64(runtime.NumCPU())+1 {
		p(" (**other work competed for the CPUs: latencies are pessimistic**)")
	}
	p(".\n\n")
	if r.Note != "" {
		p("**Note:** %s.\n\n", r.Note)
	}
	p("KB = 1000 bytes.\n\n| metric | value | target |\n|---|---:|---|\n")
	held := r.Held
	if r.Check == nil {
		held = r.HeldAfterHold
	}
	p("| streams held (received the final check event) | %d of %d | 100,000 |\n", held, r.Streams)
	p("| connect phase | %d in %v (%.0f/s, %d in flight) | |\n", r.Connected,
		r.ConnectTime.Round(time.Millisecond), r.ConnectRate, cfg.ConnectConcurrency)
	if r.StopReason != "" {
		p("| **stopped connecting because** | %s | |\n", r.StopReason)
	}
	if len(r.ConnectErrors) > 0 {
		p("| connect errors | %s | |\n", formatCounts(r.ConnectErrors))
	}
	if len(r.ClosedEarly) > 0 {
		p("| streams closed during the run | %s | |\n", formatCounts(r.ClosedEarly))
	}
	if r.MemHeld != nil && r.MemBase != nil {
		p("| server RSS: idle → %d streams held | %s → %s | |\n", r.HeldAfterHold, mib(r.MemBase.RSS), mib(r.MemHeld.RSS))
		p("| **server RSS per stream** | **%s** | ≤ 10 KB |\n", kb(r.PerStreamRSS))
		if r.MemHeld.HaveRuntime {
			when := "after GC"
			if r.MemHeld.NoGC {
				when = "from /healthz, no GC first"
			}
			p("| server Go heap in use + stacks per stream (%s) | %s (heap %s + stacks %s) | |\n",
				when, kb(r.PerStreamHeap),
				kb(float64(int64(r.MemHeld.HeapInuse)-int64(r.MemBase.HeapInuse))/float64(max(r.HeldAfterHold, 1))),
				kb(float64(int64(r.MemHeld.StackInuse)-int64(r.MemBase.StackInuse))/float64(max(r.HeldAfterHold, 1))))
			p("| server goroutines with streams held | %d (%.2f per stream) | |\n", r.MemHeld.Goroutines,
				float64(r.MemHeld.Goroutines-r.MemBase.Goroutines)/float64(max(r.HeldAfterHold, 1)))
		}
		if r.MemAfter != nil {
			p("| server RSS per stream after the traffic | %s | |\n", kb(r.PerStreamAfter))
		}
	}
	if l := r.Latency; l != nil {
		p("| **broadcast latency to %d subscribers p50 / p99 / max** (%d broadcasts, %v apart) | **%s / %s / %s** | p99 ≤ 100 ms |\n",
			l.Subscribers, l.Events, cfg.BroadcastInterval, ms(l.P50), ms(l.P99), ms(l.Max))
		p("| slowest broadcast: publish → last subscriber | %s | |\n", ms(l.WorstLast))
		if len(l.PerEvent) > 0 {
			p99s := make([]time.Duration, 0, len(l.PerEvent))
			for _, e := range l.PerEvent {
				p99s = append(p99s, e.P99)
			}
			slices.Sort(p99s)
			p("| per-broadcast p99: best / median / worst | %s / %s / %s | |\n",
				ms(p99s[0]), ms(p99s[len(p99s)/2]), ms(p99s[len(p99s)-1]))
		}
		p("| latency phase deliveries | %d of %d (%d out of order) | all, in order |\n", l.Delivered, l.Expected, l.OutOfOrder)
		if l.Events > 0 && l.ServerCPU > 0 {
			p("| CPU per broadcast to %d: server / load generator | %s / %s (%.1f / %.1f µs per delivery) | |\n", l.Subscribers,
				ms(l.ServerCPU/time.Duration(l.Events)), ms(l.ClientCPU/time.Duration(l.Events)),
				float64(l.ServerCPU.Microseconds())/float64(max(l.Delivered, 1)),
				float64(l.ClientCPU.Microseconds())/float64(max(l.Delivered, 1)))
		}
	}
	if b := r.Burst; b != nil {
		p("| **events/s delivered** (burst of %d events to %d subscribers) | **%.0f** | |\n", b.Events, b.Subscribers, b.EventsPerSec)
		p("| burst deliveries | %d of %d in %s (%d out of order); latency p50 / p99 / max %s / %s / %s | |\n",
			b.Delivered, b.Expected, ms(b.Wall), b.OutOfOrder, ms(b.P50), ms(b.P99), ms(b.Max))
		if b.Wall > 0 && b.ServerCPU > 0 {
			p("| CPU during the burst: server / load generator | %.0f%% / %.0f%% of one core | |\n",
				100*b.ServerCPU.Seconds()/b.Wall.Seconds(), 100*b.ClientCPU.Seconds()/b.Wall.Seconds())
		}
	}
	if c := r.Check; c != nil {
		p("| final check event to every stream | %d of %d in %s | |\n", c.Delivered, c.Expected, ms(c.Wall))
	}
	p("| load generator CPU / max RSS | %s / %s | |\n", r.ClientCPU.Round(time.Millisecond), mib(r.ClientMaxRSS))
	p("| total run time | %v | |\n", r.Total.Round(time.Millisecond))
	if r.DeadlineHit {
		p("| **deadline** | the run hit its time limit | |\n")
	}
	if r.ServerExited {
		p("| **server** | exited during the run | |\n")
	}
	p("\n")
}

func formatCounts(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s: %d", k, v))
	}
	return strings.Join(parts, "; ")
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

func mib(b int64) string  { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
func kb(b float64) string { return fmt.Sprintf("%.1f KB", b/1000) }
func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
