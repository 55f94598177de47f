package eventsource

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkClientChunk: the Go side of the browser benchmark's 64 B
// throughput run, per event: 256 KiB chunks of "data: <8 digits> <55 x>"
// events through the Client into its Batch (run it in node too, with
// GOOS=js GOARCH=wasm: the wasm cost is what the page pays).
func BenchmarkClientChunk(b *testing.B) {
	var stream []byte
	for i := 0; len(stream) < 256<<10; i++ {
		stream = append(stream, "data: "...)
		stream = strconv.AppendInt(stream, int64(10000000+i), 10)
		stream = append(stream, ' ')
		for range 55 {
			stream = append(stream, 'x')
		}
		stream = append(stream, "\n\n"...)
	}
	perChunk := len(stream) / 73
	h := newHarness(b, Options{HeartbeatTimeout: time.Minute})
	fc := h.start().ok()
	h.c.sink = nullSink{}
	b.ReportAllocs()
	for b.Loop() {
		fc.s.Chunk(stream)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perChunk), "ns/event")
}
