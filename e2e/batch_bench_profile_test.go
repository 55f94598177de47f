//go:build bench

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
)

// Diagnostics of the BatchSocket benchmark (EVENTWIRE_BATCH_PROFILE=1): one
// BatchSocket measure under V8's sampling profiler in the page, with a wasm
// built with its function names, and under Go's CPU profiler in the server,
// which runs in this process. The server's profile goes to
// EVENTWIRE_BATCH_PROFILE_DIR (default: the test's temporary directory,
// removed at the end) for go tool pprof.

// batchBenchProfile runs the profiled measure of c in a fresh tab and
// returns the report's notes. lib is the directory the server serves at
// /bench/lib/.
func batchBenchProfile(t *testing.T, lib string, srv *batchServer, sink *batchBenchSink, c batchBenchCase) []string {
	// The same program as make build, without -s -w: the profile then
	// names the Go functions instead of wasm-function[N].
	runTool(t, repoRoot(t), []string{"GOOS=js", "GOARCH=wasm"}, "go", "build", "-trimpath", "-o", filepath.Join(lib, "eventwire-batch-names.wasm"), "./wasm/cmd/eventwire-batch")
	tab := openBenchTab(t, "the benchmark needs a browser")
	defer tab.close()
	tab.navigate(srv.URL() + "/e2e/batch/bench.html")
	tab.waitFor("the bench page to load", `globalThis.state && state.phase !== "loading"`)
	if _, err := evalWithin[bool](tab.page, `bench.load("/bench/lib/eventwire-batch-names.wasm")`, 20*time.Second); err != nil {
		return []string{fmt.Sprintf("profile: load: %v", err)}
	}
	if err := startProfiler(tab.ctx); err != nil {
		return []string{fmt.Sprintf("profile: %v", err)}
	}
	var cpu bytes.Buffer
	if err := pprof.StartCPUProfile(&cpu); err != nil {
		return []string{fmt.Sprintf("profile: %v", err)}
	}
	s, err := batchBenchMeasure(tab.page, srv, sink, c)
	pprof.StopCPUProfile()
	res, stopErr := chromedp.Call(tab.ctx, profiler.Stop, cdp.Empty{})
	switch {
	case err != nil:
	case stopErr != nil:
		err = stopErr
	case res.Profile == nil:
		err = errors.New("no profile")
	}
	if err != nil {
		return []string{fmt.Sprintf("profile of BatchSocket %d B: %v", c.size, err)}
	}
	dir := os.Getenv("EVENTWIRE_BATCH_PROFILE_DIR")
	if dir == "" {
		dir = lib
	}
	path := filepath.Join(dir, fmt.Sprintf("server-cpu-%d.pprof", c.size))
	note := fmt.Sprintf("server CPU profile of the same measure: go tool pprof -top %s", path)
	if werr := os.WriteFile(path, cpu.Bytes(), 0o644); werr != nil {
		note = fmt.Sprintf("server CPU profile: %v", werr)
	}
	head := fmt.Sprintf("V8 CPU profile of BatchSocket, %s × %d B: %.0f msgs/s acknowledged (send loop %.0f ms of %.0f ms; wasm with function names)",
		commas(float64(c.n)), c.size, s.rate(), s.sendMs, s.ms)
	return []string{summary(head, res.Profile), note}
}
