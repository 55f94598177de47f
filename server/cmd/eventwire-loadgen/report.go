package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// printReport writes the result as a markdown table.
func printReport(w io.Writer, cfg Config, r *Result, serverDesc string) {
	cfg = cfg.withDefaults()
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("\n### eventwire server: %d streams over %s\n\n", r.Streams, r.Proto)
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
