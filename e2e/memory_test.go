package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Memory: 100,000 events through one connection must leave the page's
// JavaScript heap and eventwire's wasm memory bounded.

const (
	memEvents = 100_000
	memBlock  = 10_000
	memWrite  = 1_000 // events per write
)

// blockStream serves one event stream of memEvents events of 64 bytes of
// data, written in blocks of memBlock: each block waits for a signal on next,
// so that the test can measure between blocks with the page idle.
type blockStream struct {
	next chan struct{}
	done chan struct{}
}

func newBlockStream(t *testing.T) *blockStream {
	b := &blockStream{next: make(chan struct{}), done: make(chan struct{})}
	t.Cleanup(func() { close(b.done) })
	return b
}

func (b *blockStream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	bw := bufio.NewWriterSize(conn, 128<<10)
	_, _ = bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n: ok\n\n")
	_ = bw.Flush()
	data := strings.Repeat("0123456789abcdef", 4)[:64-8]
	id := 0
	for id < memEvents {
		select {
		case <-b.next:
		case <-b.done:
			return
		case <-r.Context().Done():
			return
		}
		for range memBlock / memWrite {
			for range memWrite {
				id++
				fmt.Fprintf(bw, "id: %d\ndata: %08d%s\n\n", id, id, data)
			}
			if bw.Flush() != nil {
				return
			}
		}
	}
	<-b.done
}

// memSample is one measurement.
type memSample struct {
	events     int
	heapUsed   float64 // after a full GC
	heapTotal  float64
	wasmMemory int // the sum over every WebAssembly.Memory of the tab
}

// TestMemory100kEvents streams 100,000 events of 64 bytes through one
// eventwire EventSource (one listener that counts) and measures, after every
// 10,000, the tab's JavaScript heap after a full GC and the size of every
// WebAssembly.Memory in the tab (eventwire's Go heap lives there). Both must
// stay bounded: after 100,000 events at most twice what they were after the
// first 10,000 (the JS heap also gets 2 MB of allowance for the noise of a
// small heap). Native EventSource is measured the same way, for reference.
func TestMemory100kEvents(t *testing.T) {
	streams := map[string]*blockStream{"eventwire": newBlockStream(t), "native": newBlockStream(t)}
	srv := startServer(t, serverConfig{Dist: true, Extra: map[string]http.Handler{
		"/mem/eventwire": streams["eventwire"],
		"/mem/native":    streams["native"],
	}})
	results := map[string][]memSample{}
	for _, impl := range []string{"eventwire", "native"} {
		p := openTransportPage(t, srv.URL())
		ctor := "ew.EventSource"
		if impl == "native" {
			ctor = "EventSource"
		}
		p.run(fmt.Sprintf(`recCount("a", %s, "/mem/%s")`, ctor, impl))
		p.waitFor("the stream to open", `recGet("a").opened === 1`)
		sample := func(n int) memSample {
			used, total := p.heapUsage()
			wasm := 0
			for _, m := range p.wasmMemory() {
				wasm += m
			}
			return memSample{events: n, heapUsed: used, heapTotal: total, wasmMemory: wasm}
		}
		samples := []memSample{sample(0)}
		for n := memBlock; n <= memEvents; n += memBlock {
			streams[impl].next <- struct{}{}
			p.waitFor(fmt.Sprintf("%d events", n), fmt.Sprintf(`recGet("a").count >= %d`, n))
			samples = append(samples, sample(n))
		}
		s := getRec(p, "a")
		if s.Count != memEvents || s.Last != fmt.Sprint(memEvents) || len(s.Errors) != 0 || s.Opened != 1 {
			t.Errorf("%s: %d events (last id %q), errors %+v, opened %d; want %d events on one connection",
				impl, s.Count, s.Last, s.Errors, s.Opened, memEvents)
		}
		p.run(`recClose("a")`)
		results[impl] = samples
	}

	var b strings.Builder
	fmt.Fprintf(&b, "%-10s %8s %14s %14s %12s\n", "impl", "events", "JS heap used", "JS heap total", "wasm memory")
	for _, impl := range []string{"eventwire", "native"} {
		for _, s := range results[impl] {
			fmt.Fprintf(&b, "%-10s %8d %11.2f MB %11.2f MB %9.2f MB\n", impl, s.events,
				s.heapUsed/(1<<20), s.heapTotal/(1<<20), float64(s.wasmMemory)/(1<<20))
		}
	}
	t.Logf("memory after every %d events (JS heap after a full GC):\n%s", memBlock, b.String())

	ew := results["eventwire"]
	first, last := ew[1], ew[len(ew)-1]
	if last.heapUsed > 2*first.heapUsed+2<<20 {
		t.Errorf("eventwire: JS heap %0.2f MB after %d events, %0.2f MB after %d: not bounded",
			last.heapUsed/(1<<20), last.events, first.heapUsed/(1<<20), first.events)
	}
	if first.wasmMemory == 0 {
		t.Errorf("eventwire: no WebAssembly.Memory found in the tab")
	} else if last.wasmMemory > 2*first.wasmMemory {
		t.Errorf("eventwire: wasm memory %0.2f MB after %d events, %0.2f MB after %d: not bounded",
			float64(last.wasmMemory)/(1<<20), last.events, float64(first.wasmMemory)/(1<<20), first.events)
	}
}
