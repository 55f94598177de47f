//go:build bench

package e2e

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
)

// Diagnostics of the browser benchmark (EVENTWIRE_BENCH_PROFILE): where the
// time goes in eventwire's paths, as evidence for the report's notes.

// profile adds diagnostics to the notes (EVENTWIRE_BENCH_PROFILE=1): V8 CPU
// profiles (100 µs sampling) of eventwire's two paths through the 64 B
// throughput run and the latency run, with a wasm built with its function
// names, and native's throughput run for comparison; and, for the
// contenders reading a fetch body, the time from a chunk reaching the page
// to the listener.
func (b *benchRun) profile() {
	wasmNames := ""
	if _, na := b.na["eventwire"]; !na {
		// The same program as make build, without -s -w: the profile then
		// names the Go functions instead of wasm-function[N].
		out := filepath.Join(b.lib, "eventwire-names.wasm")
		runTool(b.t, repoRoot(b.t), []string{"GOOS=js", "GOARCH=wasm"}, "go", "build", "-trimpath", "-o", out, "./wasm/cmd/eventwire")
		wasmNames = "/bench/lib/eventwire-names.wasm"
	}
	opts := fmt.Sprintf(`{ wasm: %q }`, wasmNames)
	latTimeout := time.Duration(benchLatN*benchLatEvery)*time.Millisecond + 10*time.Second
	type run struct {
		c, what, opts, expr string
		timeout             time.Duration
	}
	var runs []run
	for _, c := range []string{"eventwire", "eventwire-fast", "native"} {
		if _, ok := b.na[c]; ok {
			continue
		}
		o := opts
		if c == "native" {
			o = "{}"
		}
		runs = append(runs, run{c, fmt.Sprintf("%s × %d B", commas(benchSmallN), benchSmallSize), o,
			fmt.Sprintf(`bench.throughput(%q, %d, %d, %d)`, c, benchSmallN, benchSmallSize, benchMeasureTimeout.Milliseconds()), benchMeasureTimeout})
		if c != "native" {
			runs = append(runs, run{c, fmt.Sprintf("latency run (%d events, one every %d ms)", benchLatN, benchLatEvery), o,
				fmt.Sprintf(`bench.latency(%q, %d, %d, %d, %d)`, c, benchLatN, benchLatEvery, benchLatWarm, latTimeout.Milliseconds()), latTimeout})
		}
	}
	for _, r := range runs {
		tab := b.openBenchPage()
		prep := fmt.Sprintf(`bench.prepare(%q, %s)`, r.c, r.opts)
		note, err := profileRun(tab, r.c, r.what, prep, r.expr, r.timeout)
		for _, e := range tab.close() {
			note += "\n    page exception: " + e
		}
		if err != nil {
			note = fmt.Sprintf("profile of %s, %s: %v", benchLabels[r.c], r.what, err)
		}
		b.notes = append(b.notes, note)
	}

	if wasmNames != "" {
		tab := b.openTab()
		note, err := profileStart(tab, b.base+"/bench/first.html?c=eventwire&hold=1&wasm="+wasmNames)
		tab.close()
		if err != nil {
			note = fmt.Sprintf("profile of eventwire's start: %v", err)
		}
		b.notes = append(b.notes, note)
	}

	var s strings.Builder
	fmt.Fprintf(&s, "chunk → listener (fetch body chunk reaching the page, ReadableStreamDefaultReader.read patched, to the event's listener; the latency run, p50 / p99 ms):")
	for _, c := range []string{"eventwire", "eventwire-fast", "fetch-event-source", "event-source-polyfill"} {
		if _, ok := b.na[c]; ok {
			continue
		}
		tab := b.openBenchPage()
		r, err := evalWithin[jsResult](tab.page, fmt.Sprintf(`bench.latency(%q, %d, %d, %d, %d, { chunkProbe: true })`,
			c, benchLatN, benchLatEvery, benchLatWarm, latTimeout.Milliseconds()), latTimeout+20*time.Second)
		tab.close()
		switch {
		case err != nil:
			fmt.Fprintf(&s, "\n    %s: %v", benchLabels[c], err)
		case r.Error != "" || r.NA != "":
			fmt.Fprintf(&s, "\n    %s: %s%s", benchLabels[c], r.Error, r.NA)
		default:
			fmt.Fprintf(&s, "\n    %s: %.3f / %.3f (end-to-end p50 %.3f)", benchLabels[c], r.C2LP50, r.C2LP99, r.P50)
		}
	}
	b.notes = append(b.notes, s.String())
}

// profileStart profiles first.html from the script start to the first
// event: the wasm compiled, Go's runtime and packages initialised, main run,
// the stream opened.
func profileStart(tab *benchTab, url string) (string, error) {
	tab.navigate(url)
	if err := startProfiler(tab.ctx); err != nil {
		return "", err
	}
	st, err := evalWithin[firstState](tab.page, `(run(), new Promise((resolve) => {
		const check = () => (state.phase !== "running" ? resolve(state) : setTimeout(check, 5));
		check();
	}))`, benchFirstTimeout)
	res, stopErr := chromedp.Call(tab.ctx, profiler.Stop, cdp.Empty{})
	switch {
	case err != nil:
		return "", err
	case st.Phase != "done":
		return "", fmt.Errorf("phase %s: %s", st.Phase, st.Error)
	case stopErr != nil:
		return "", stopErr
	case res.Profile == nil:
		return "", errors.New("no profile")
	}
	head := fmt.Sprintf("V8 CPU profile of eventwire's start (script start → first event %.1f ms; instantiated %.1f ms, ready %.1f ms; wasm with function names)",
		st.ScriptToFirst, st.InstantiatedMS, st.ReadyMS)
	return summary(head, res.Profile), nil
}

func startProfiler(ctx context.Context) error {
	if _, err := chromedp.Call(ctx, profiler.Enable, cdp.Empty{}); err != nil {
		return err
	}
	if _, err := chromedp.Call(ctx, profiler.SetSamplingInterval, profiler.SetSamplingIntervalParams{Interval: 100}); err != nil {
		return err
	}
	_, err := chromedp.Call(ctx, profiler.Start, cdp.Empty{})
	return err
}

// summary formats the hottest functions of a profile, by self and by total
// time, in percent of the samples that are not idle.
func summary(head string, p *profiler.Profile) string {
	self, total, n := summarizeProfile(p)
	busy := n - self["(idle)"]
	var s strings.Builder
	fmt.Fprintf(&s, "%s: %d samples, %d not idle; %% of the samples that are not idle ((program) is the browser's native code). Self time:", head, n, busy)
	delete(self, "(idle)")
	delete(total, "(idle)")
	for _, f := range topFrames(self, 16, busy) {
		fmt.Fprintf(&s, "\n    %5.1f %%  %s", 100*float64(f.n)/float64(busy), f.name)
	}
	s.WriteString("\n  Total time (the function and its callees):")
	for _, f := range topFrames(total, 16, busy) {
		fmt.Fprintf(&s, "\n    %5.1f %%  %s", 100*float64(f.n)/float64(busy), f.name)
	}
	return s.String()
}

// profileRun runs expr, a bench.* measure, under V8's sampling profiler and
// summarises the profile.
func profileRun(tab *benchTab, c, what, prep, expr string, timeout time.Duration) (string, error) {
	// Load the library first: the profile covers the stream only.
	if v, err := evalWithin[jsResult](tab.page, prep+`.then((r) => ({ na: r.na ?? "" }))`, benchMeasureTimeout); err != nil {
		return "", err
	} else if v.NA != "" {
		return "", errors.New(v.NA)
	}
	ctx := tab.ctx
	if err := startProfiler(ctx); err != nil {
		return "", err
	}
	r, err := evalWithin[jsResult](tab.page, expr, timeout+20*time.Second)
	res, stopErr := chromedp.Call(ctx, profiler.Stop, cdp.Empty{})
	switch {
	case err != nil:
		return "", err
	case r.Error != "" || r.NA != "":
		return "", errors.New(r.Error + r.NA)
	case stopErr != nil:
		return "", stopErr
	case res.Profile == nil:
		return "", errors.New("no profile")
	}
	head := fmt.Sprintf("V8 CPU profile of %s, %s", benchLabels[c], what)
	if r.MS > 0 {
		head += fmt.Sprintf(" in %.0f ms", r.MS)
	}
	if r.P50 > 0 {
		head += fmt.Sprintf(", latency p50 %.3f ms", r.P50)
	}
	return summary(head, res.Profile), nil
}

type frameCount struct {
	name string
	n    int64
}

func topFrames(m map[string]int64, k int, samples int64) []frameCount {
	out := make([]frameCount, 0, len(m))
	for name, n := range m {
		out = append(out, frameCount{name, n})
	}
	slices.SortFunc(out, func(a, b frameCount) int {
		if a.n != b.n {
			return int(b.n - a.n)
		}
		return strings.Compare(a.name, b.name)
	})
	out = out[:min(k, len(out))]
	// Leave out what rounds to 0.0 % of the samples.
	return slices.DeleteFunc(out, func(f frameCount) bool { return f.n*2000 < samples })
}

// summarizeProfile returns the samples by function: self (on top of the
// stack) and total (anywhere on the stack, counted once per sample).
func summarizeProfile(p *profiler.Profile) (self, total map[string]int64, samples int64) {
	nodes := map[int64]*profiler.ProfileNode{}
	for _, n := range p.Nodes {
		nodes[n.ID] = n
	}
	label := func(n *profiler.ProfileNode) string {
		cf := n.CallFrame
		name := cf.FunctionName
		if name == "" {
			name = "(anonymous)"
		}
		if cf.URL == "" {
			return name
		}
		u := cf.URL
		if i := strings.Index(u, "://"); i >= 0 {
			if j := strings.Index(u[i+3:], "/"); j >= 0 {
				u = u[i+3+j:]
			}
		}
		return fmt.Sprintf("%s %s:%d", name, u, cf.LineNumber+1)
	}
	self, total = map[string]int64{}, map[string]int64{}
	active := map[string]int{}
	var walk func(n *profiler.ProfileNode) int64
	walk = func(n *profiler.ProfileNode) int64 {
		l := label(n)
		active[l]++
		incl := n.HitCount
		for _, id := range n.Children {
			if c := nodes[id]; c != nil {
				incl += walk(c)
			}
		}
		active[l]--
		self[l] += n.HitCount
		if active[l] == 0 {
			total[l] += incl
		}
		samples += n.HitCount
		return incl
	}
	if len(p.Nodes) > 0 {
		walk(p.Nodes[0])
	}
	delete(total, "(root)")
	return self, total, samples
}
