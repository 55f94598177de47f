//go:build bench

package e2e

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// Helpers shared by the benchmarks (bench_test.go, batch_bench_test.go):
// their tabs, statistics and report formatting.

// benchTab is a tab in a fresh browser context (so a fresh cache, a fresh
// wasm instance) of the main browser, with its console captured. Unlike
// newPage it closes when the measure ends, and it reports page exceptions to
// the benchmark rather than failing the test.
type benchTab struct {
	*page
	cancel func()
}

// openBenchTab opens a benchTab; need starts the failure message when there
// is no browser.
func openBenchTab(t *testing.T, need string) *benchTab {
	t.Helper()
	p, cancel := openTab(t, mainBrowser, need)
	return &benchTab{page: p, cancel: cancel}
}

// close closes the tab and returns the uncaught exceptions and Go panics its
// console saw.
func (tab *benchTab) close() []string {
	tab.stop(true, tab.cancel)
	tab.con.mu.Lock()
	defer tab.con.mu.Unlock()
	var bad []string
	for _, m := range tab.con.msgs {
		if m.IsException() || strings.Contains(m.Text, "panic:") {
			bad = append(bad, m.Text+stackText(m))
		}
	}
	return bad
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// commas formats an integer with thousands separators.
func commas(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// passMiss is the status of a target that was measured.
func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// notesList is notes as a markdown list under "Notes:", or "" when there are
// none.
func notesList(notes []string) string {
	if len(notes) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Notes:\n")
	for _, n := range notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	return b.String()
}

// printReport prints a benchmark's report and, when the environment
// variable env names a file, writes it there too.
func printReport(t *testing.T, report, env string) {
	t.Helper()
	fmt.Print("\n" + report)
	if out := os.Getenv(env); out != "" {
		if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
			t.Errorf("failed to write %s: %v", out, err)
		}
	}
}
