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
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
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
