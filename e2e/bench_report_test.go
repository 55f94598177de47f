//go:build bench

package e2e

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// The report of the browser benchmark: markdown tables of the medians, the
// spread of the runs, the wasm sizes, and the targets.

// Size budget of each wasm module (KB = 1000 bytes, as scripts/build.mjs
// counts).
const (
	wasmBudgetGzip   = 850_000
	wasmBudgetBrotli = 650_000
)

// wasmModules are the files of dist/ the size table and the budget cover:
// the EventSource's module and the BatchSocket's.
var wasmModules = []string{"eventwire.wasm", "eventwire-batch.wasm"}

// wasmSize is a module's size in the report.
type wasmSize struct {
	file        string
	raw, gz, br int64
}

// values maps the successful samples of a measure to numbers.
func (b *benchRun) values(measure, c string, f func(jsResult) float64) []float64 {
	var out []float64
	for _, r := range b.samples[benchKey{measure, c}] {
		out = append(out, f(r))
	}
	return out
}

func smallRate(r jsResult) float64 { return float64(benchSmallN) / (r.MS / 1000) }
func bigRate(r jsResult) float64 {
	return float64(benchBigN) * float64(benchBigSize) / 1e6 / (r.MS / 1000)
}
func latP50(r jsResult) float64 { return r.P50 }
func latP99(r jsResult) float64 { return r.P99 }

func (b *benchRun) firstValues(c string) []float64 {
	var out []float64
	for _, s := range b.firsts[c] {
		out = append(out, s.ScriptToFirst)
	}
	return out
}

// vsFastestPeer returns, for each repetition where c and at least one peer
// have a sample of measure, c's rate ÷ the fastest peer's rate in that
// repetition (the contenders of one repetition run within a minute, so a
// load that drifts over the run spoils these less than a ratio of medians).
func (b *benchRun) vsFastestPeer(measure, c string, rate func(jsResult) float64) []float64 {
	best := map[int]float64{}
	for _, p := range benchPeers {
		for _, r := range b.samples[benchKey{measure, p}] {
			best[r.Rep] = max(best[r.Rep], rate(r))
		}
	}
	var out []float64
	for _, r := range b.samples[benchKey{measure, c}] {
		if v, ok := best[r.Rep]; ok && v > 0 {
			out = append(out, rate(r)/v)
		}
	}
	return out
}

// stat is the median of a measure, or ok=false.
func stat(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	return median(v), true
}

// cell formats a median, or says why there is none.
func (b *benchRun) cell(c, measure string, v []float64, format func(float64) string) string {
	if m, ok := stat(v); ok {
		return format(m)
	}
	if _, na := b.na[c]; na {
		return "n/a"
	}
	if len(b.errs[benchKey{measure, c}]) > 0 || len(b.errs[benchKey{"page", c}]) > 0 {
		return "error"
	}
	return "—"
}

// ratio formats a/b, higher is better for throughput; for times the caller
// passes them the other way round.
func ratio(a []float64, b []float64, invert bool) string {
	x, ok1 := stat(a)
	y, ok2 := stat(b)
	if !ok1 || !ok2 || x == 0 || y == 0 {
		return "—"
	}
	if invert {
		return fmt.Sprintf("%.2fx", y/x)
	}
	return fmt.Sprintf("%.2fx", x/y)
}

// spread formats the samples as min–max (n).
func spread(v []float64, format func(float64) string) string {
	if len(v) == 0 {
		return "—"
	}
	return fmt.Sprintf("%s–%s (%d)", format(slices.Min(v)), format(slices.Max(v)), len(v))
}

func (b *benchRun) report() string {
	var w strings.Builder
	f0 := func(v float64) string { return commas(v) }
	f1 := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	f3 := func(v float64) string { return fmt.Sprintf("%.3f", v) }

	browser := b.info.UserAgent
	fmt.Fprintf(&w, "## Browser benchmark\n\n")
	fmt.Fprintf(&w, "%s, headless, %d CPUs (GOMAXPROCS), %s/%s; median of %d runs per cell, the contenders interleaved; "+
		"server and browser on 127.0.0.1, HTTP/1.1; run took %v; load average before / after: %s / %s.\n\n",
		browser, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, b.reps, time.Since(b.started).Round(time.Second),
		b.loadBefore, loadAverage())
	fmt.Fprintf(&w, "- throughput: time from `new …` (library already loaded) to the last event in the listener; the server writes the whole stream at once in %d KiB writes.\n", benchWriteSize>>10)
	fmt.Fprintf(&w, "- latency: %d events, one every %d ms, each stamped with the server's wall clock; the page's `performance.timeOrigin + performance.now()` at the listener (cross-origin isolated, so 5 µs timer resolution: %v); the first %d left out. Clock check: the wall clock (Date.now()) minus timeOrigin + now() was %s ms in the latency pages.\n",
		benchLatN, benchLatEvery, b.info.CrossOriginIsolated, benchLatWarm, b.clockOffsets())
	fmt.Fprintf(&w, "- first event: from the start of the page's module script to the first event, the library imported inside that window (eventwire: JS + wasm fetched, compiled and run), fresh browser context (empty cache), constructor called without awaiting `ready`.\n\n")

	small := func(c string) []float64 { return b.values(mSmall, c, smallRate) }
	big := func(c string) []float64 { return b.values(mBig, c, bigRate) }
	p50 := func(c string) []float64 { return b.values(mLatency, c, latP50) }
	p99 := func(c string) []float64 { return b.values(mLatency, c, latP99) }

	fmt.Fprintf(&w, "| contender | %s × %d B events/s | vs native | %s × 64 KiB MB/s | vs native | latency p50 ms | p99 ms | p50 − native ms | first event ms | vs native |\n",
		commas(benchSmallN), benchSmallSize, commas(benchBigN))
	fmt.Fprintf(&w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	nat := "native"
	for _, c := range benchContenders {
		dp50 := "—"
		if x, ok := stat(p50(c)); ok {
			if y, ok := stat(p50(nat)); ok {
				dp50 = fmt.Sprintf("%+.3f", x-y)
			}
		}
		first := b.firstValues(c)
		fmt.Fprintf(&w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", benchLabels[c],
			b.cell(c, mSmall, small(c), f0), ratio(small(c), small(nat), false),
			b.cell(c, mBig, big(c), f0), ratio(big(c), big(nat), false),
			b.cell(c, mLatency, p50(c), f3), b.cell(c, mLatency, p99(c), f3), dp50,
			b.cell(c, mFirst, first, f1), ratio(first, b.firstValues(nat), true))
	}
	ceil := b.values(mSmall, "ceiling", smallRate)
	fmt.Fprintf(&w, "| %s | %s | %s | | | | | | | |\n\n", benchLabels["ceiling"],
		b.cell("ceiling", mSmall, ceil, f0), ratio(ceil, small(nat), false))
	w.WriteString("\"vs native\": higher is better for throughput; for the first event, native's time ÷ the contender's (higher is better too).\n\n")

	// Spread of the runs.
	fmt.Fprintf(&w, "<details><summary>spread of the runs (min–max, number of successful runs)</summary>\n\n")
	fmt.Fprintf(&w, "| contender | 64 B events/s | 64 KiB MB/s | p50 ms | p99 ms | first event ms |\n|---|---|---|---|---|---|\n")
	for _, c := range benchContenders {
		fmt.Fprintf(&w, "| %s | %s | %s | %s | %s | %s |\n", benchLabels[c],
			spread(small(c), f0), spread(big(c), f0), spread(p50(c), f3), spread(p99(c), f3), spread(b.firstValues(c), f1))
	}
	fmt.Fprintf(&w, "| %s | %s | | | | |\n\n</details>\n\n", benchLabels["ceiling"], spread(ceil, f0))

	// wasm sizes: each module against the budget.
	fmt.Fprintf(&w, "| wasm module (bytes) | raw | gzip -9 | brotli -q 11 |\n|---|---:|---:|---:|\n")
	var sizes []wasmSize
	for _, f := range wasmModules {
		raw, gz, br, sizeNote := wasmSizes(filepath.Join(b.distDir(), f))
		sizes = append(sizes, wasmSize{f, raw, gz, br})
		fmt.Fprintf(&w, "| dist/%s | %s | %s | %s |\n", f, sizeCell(raw), sizeCell(gz), sizeCell(br))
		if sizeNote != "" {
			b.notes = append(b.notes, sizeNote)
		}
	}
	fmt.Fprintf(&w, "| budget, each | | %s | %s |\n\n", sizeCell(wasmBudgetGzip), sizeCell(wasmBudgetBrotli))

	// Targets.
	w.WriteString("### Targets (issue 3), as information\n\n| target | goal | result | |\n|---|---|---|---|\n")
	target := func(name, goal, result string, pass, known bool) {
		status := "n/a"
		if known {
			status = passMiss(pass)
		}
		fmt.Fprintf(&w, "| %s | %s | %s | %s |\n", name, goal, result, status)
	}
	fastestPeer := func(values func(string) []float64) (string, float64, bool) {
		best, bestV := "", 0.0
		for _, p := range benchPeers {
			if v, ok := stat(values(p)); ok && v > bestV {
				best, bestV = p, v
			}
		}
		return best, bestV, best != ""
	}
	{
		// Judged on the ratios paired in one page (the ceiling runs just
		// before the stream), which a load changing over the run spoils less
		// than a ratio of medians.
		paired, ok := stat(b.vsCeiling["eventwire"])
		res := "n/a"
		if ok {
			res = fmt.Sprintf("%.2fx (median of %d in-page ratios; medians of the runs: %s/s vs %s/s)",
				paired, len(b.vsCeiling["eventwire"]), b.cell("eventwire", mSmall, small("eventwire"), f0), b.cell("ceiling", mSmall, ceil, f0))
		}
		target("64 B, MessageEvent dispatch vs the ceiling", "≥ 0.80x", res, ok && paired >= 0.8, ok)
	}
	peerTarget := func(name, measure, c string, values func(string) []float64, rate func(jsResult) float64, unit string, format func(float64) string) {
		paired, ok := stat(b.vsFastestPeer(measure, c, rate))
		res := "n/a"
		if ok {
			p, pv, _ := fastestPeer(values)
			ew, _ := stat(values(c))
			res = fmt.Sprintf("%.2fx (median of %d per-run ratios to the run's fastest peer; medians of the runs: %s vs %s, %s %s)",
				paired, len(b.vsFastestPeer(measure, c, rate)), format(ew), benchLabels[p], format(pv), unit)
		}
		target(name, "≥ 1.00x", res, ok && paired >= 1, ok)
	}
	peerTarget("64 B, fast path vs the fastest peer", mSmall, "eventwire-fast", small, smallRate, "events/s", f0)
	peerTarget("64 KiB, MessageEvent dispatch vs the fastest peer", mBig, "eventwire", big, bigRate, "MB/s", f0)
	peerTarget("64 KiB, fast path vs the fastest peer (information)", mBig, "eventwire-fast", big, bigRate, "MB/s", f0)
	{
		// Per repetition: eventwire's p50 − native's p50.
		natP50 := map[int]float64{}
		for _, r := range b.samples[benchKey{mLatency, nat}] {
			natP50[r.Rep] = r.P50
		}
		var d []float64
		for _, r := range b.samples[benchKey{mLatency, "eventwire"}] {
			if v, ok := natP50[r.Rep]; ok {
				d = append(d, r.P50-v)
			}
		}
		delta, ok := stat(d)
		res := "n/a"
		if ok {
			ew, _ := stat(p50("eventwire"))
			n, _ := stat(p50(nat))
			res = fmt.Sprintf("%+.3f ms (median of %d per-run differences; medians of the runs: %.3f vs %.3f ms)", delta, len(d), ew, n)
		}
		target("latency p50 vs native", "≤ +0.100 ms", res, ok && delta <= 0.1, ok)
	}
	{
		v, ok := stat(b.firstValues("eventwire"))
		res := "n/a"
		if ok {
			res = fmt.Sprintf("%.1f ms", v)
		}
		target("script start → first event (eventwire)", "≤ 150 ms", res, ok && v <= 150, ok)
	}
	for _, m := range sizes {
		target(m.file+" gzip", "≤ 850 KB", kb(m.gz), m.gz > 0 && m.gz <= wasmBudgetGzip, m.gz > 0)
		target(m.file+" brotli", "≤ 650 KB", kb(m.br), m.br > 0 && m.br <= wasmBudgetBrotli, m.br > 0)
	}
	w.WriteString("\n")

	// Notes: why cells are empty, batching of the fast path, failures.
	var notes []string
	for _, c := range benchContenders {
		if why, ok := b.na[c]; ok {
			notes = append(notes, fmt.Sprintf("%s: n/a: %s", benchLabels[c], why))
		}
	}
	if fs := b.firsts["eventwire"]; len(fs) > 0 {
		pick := func(f func(firstState) float64) float64 {
			var v []float64
			for _, s := range fs {
				v = append(v, f(s))
			}
			return median(v)
		}
		notes = append(notes, fmt.Sprintf("eventwire first event, medians from the script start: JS module imported %.1f ms; wasm requested %.1f ms, "+
			"downloaded %.1f ms (%s bytes encoded); compiled and instantiated %.1f ms; module ready (Go started) %.1f ms; first event %.1f ms",
			pick(func(s firstState) float64 { return s.LibMS }), pick(func(s firstState) float64 { return s.WasmRequest }),
			pick(func(s firstState) float64 { return s.WasmResponseEnd }), commas(pick(func(s firstState) float64 { return float64(s.WasmTransfer) })),
			pick(func(s firstState) float64 { return s.InstantiatedMS }),
			pick(func(s firstState) float64 { return s.ReadyMS }), pick(func(s firstState) float64 { return s.ScriptToFirst })))
	}
	if rs := b.samples[benchKey{mSmall, "eventwire-fast"}]; len(rs) > 0 {
		r := rs[len(rs)-1]
		if r.Batches > 0 {
			notes = append(notes, fmt.Sprintf("fast path: %s × %d B arrived in %d onbatch calls (%.0f events per call)", commas(benchSmallN), benchSmallSize, r.Batches, float64(benchSmallN)/float64(r.Batches)))
		}
	}
	if rs := b.samples[benchKey{mBig, "eventwire-fast"}]; len(rs) > 0 {
		r := rs[len(rs)-1]
		if r.Batches > 0 {
			notes = append(notes, fmt.Sprintf("fast path: %s × 64 KiB arrived in %d onbatch calls (%.1f events per call)", commas(benchBigN), r.Batches, float64(benchBigN)/float64(r.Batches)))
		}
	}
	keys := make([]benchKey, 0, len(b.errs))
	for k := range b.errs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b benchKey) int { return strings.Compare(a.contender+a.measure, b.contender+b.measure) })
	for _, k := range keys {
		for _, e := range b.errs[k] {
			notes = append(notes, fmt.Sprintf("%s, %s: %s", benchLabels[k.contender], k.measure, e))
		}
	}
	notes = append(notes, b.notes...)
	if list := notesList(notes); list != "" {
		w.WriteString(list + "\n")
	}
	return w.String()
}

// clockOffsets summarises the clock offsets the latency pages measured.
func (b *benchRun) clockOffsets() string {
	var v []float64
	for _, c := range benchContenders {
		for _, r := range b.samples[benchKey{mLatency, c}] {
			v = append(v, r.ClockOffset)
		}
	}
	if len(v) == 0 {
		return "(not measured)"
	}
	return fmt.Sprintf("%+.3f to %+.3f", slices.Min(v), slices.Max(v))
}

// loadAverage is the 1-minute load average, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func (b *benchRun) distDir() string { return filepath.Join(repoRoot(b.t), "dist") }

func sizeCell(n int64) string {
	if n <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%s (%s)", commas(float64(n)), kb(n))
}

func kb(n int64) string {
	if n <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f KB", float64(n)/1000)
}

// wasmSizes returns the raw size of the wasm and of its precompressed
// siblings from make build (gzip -9, brotli -q 11). A missing or stale .gz is
// recomputed; a missing or stale .br is reported as such.
func wasmSizes(path string) (raw, gz, br int64, note string) {
	info, err := os.Stat(path)
	if err != nil {
		return 0, 0, 0, fmt.Sprintf("wasm size: %v", err)
	}
	raw = info.Size()
	fresh := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil || fi.ModTime().Before(info.ModTime()) {
			return 0
		}
		return fi.Size()
	}
	gz, br = fresh(path+".gz"), fresh(path+".br")
	if gz == 0 {
		if data, err := os.ReadFile(path); err == nil {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(data)
			_ = zw.Close()
			gz = int64(buf.Len())
			note = "wasm size: " + filepath.Base(path) + ".gz missing or older than the wasm; gzip computed by Go's compress/gzip -9"
		}
	}
	if br == 0 {
		note = strings.TrimPrefix(note+"; "+filepath.Base(path)+".br missing or older than the wasm (run make build)", "; ")
	}
	return raw, gz, br, note
}
