package sse

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
)

// smallStream is n events as a server sends them: a changing id, a type
// and a short JSON payload.
func smallStream(n int) []byte {
	var b []byte
	for i := range n {
		b, _ = AppendEvent(b, Event{ID: "k3x9-" + strconv.Itoa(i), Type: "price", Data: `{"sym":"EURUSD","bid":1.0842,"ask":1.0844}`})
	}
	return b
}

// benchDecode feeds in in chunk-sized pieces per op and reports per-event
// costs next to the per-op ones.
func benchDecode(b *testing.B, in []byte, chunk int, events int) {
	benchFeed(b, in, chunk, events, false)
}

// benchFeed is benchDecode through Feed, or FeedView when view is set.
func benchFeed(b *testing.B, in []byte, chunk int, events int, view bool) {
	d := NewDecoder(DecoderOptions{MaxEventSize: -1})
	n := 0
	emit := func(Event) { n++ }
	emitView := func(*EventView) { n++ }
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		for p := in; len(p) > 0; {
			c := p[:min(chunk, len(p))]
			p = p[len(c):]
			var err error
			if view {
				err = d.FeedView(c, emitView)
			} else {
				err = d.Feed(c, emit)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	if n != b.N*events {
		b.Fatalf("%d events, want %d", n, b.N*events)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}

// BenchmarkDecodeSmall: 1,000 small events (id, type, 44-byte data) per op,
// read in 4 KiB chunks as from a network. Expect 1 allocation per event:
// Data and the new ID share it.
func BenchmarkDecodeSmall(b *testing.B) {
	benchDecode(b, smallStream(1000), 4096, 1000)
}

// BenchmarkFeedViewSmall: BenchmarkDecodeSmall through FeedView, the
// browser client's path. Expect no allocation.
func BenchmarkFeedViewSmall(b *testing.B) {
	benchFeed(b, smallStream(1000), 4096, 1000, true)
}

// BenchmarkDecode64K: one event of 64 KiB of data (one line) per op, in
// 16 KiB chunks.
func BenchmarkDecode64K(b *testing.B) {
	in, _ := AppendEvent(nil, Event{Data: strings.Repeat("x", 64<<10)})
	benchDecode(b, in, 16<<10, 1)
}

// BenchmarkDecode64KLines: one event of 64 KiB in 80-byte data lines.
func BenchmarkDecode64KLines(b *testing.B) {
	in, _ := AppendEvent(nil, Event{Data: strings.Repeat(strings.Repeat("y", 79)+"\n", 64<<10/80)})
	benchDecode(b, in, 16<<10, 1)
}

// BenchmarkDecodeLongLine: one 8 MiB line fed in 64-byte chunks. The
// decoder scans each byte once, so MB/s matches BenchmarkDecode64K's order
// of magnitude; a decoder that rescans the line per chunk would be ~65,000
// times slower here.
func BenchmarkDecodeLongLine(b *testing.B) {
	in, _ := AppendEvent(nil, Event{Data: strings.Repeat("z", 8<<20)})
	benchDecode(b, in, 64, 1)
}

// BenchmarkDecodeInvalidUTF8: small events whose data has an invalid byte
// (the replacement slow path).
func BenchmarkDecodeInvalidUTF8(b *testing.B) {
	in := bytes.Repeat([]byte("data: caf\xe9 au lait, \xff\xfe and more text here\n\n"), 1000)
	benchDecode(b, in, 4096, 1000)
}

// BenchmarkEncode: one small event per op into a reused buffer.
func BenchmarkEncode(b *testing.B) {
	e := Event{ID: "k3x9-12345", Type: "price", Data: `{"sym":"EURUSD","bid":1.0842,"ask":1.0844}`, Retry: time.Second}
	buf, _ := AppendEvent(nil, e)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendEvent(buf[:0], e)
	}
}

// BenchmarkEncode64KLines: a 64 KiB multi-line payload.
func BenchmarkEncode64KLines(b *testing.B) {
	e := Event{Data: strings.Repeat(strings.Repeat("y", 79)+"\n", 64<<10/80)}
	buf, _ := AppendEvent(nil, e)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendEvent(buf[:0], e)
	}
}

// BenchmarkReader: the small-event stream through a Reader.
func BenchmarkReader(b *testing.B) {
	in := smallStream(1000)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	r := NewReader(nil, DecoderOptions{})
	for b.Loop() {
		r.Reset(bytes.NewReader(in))
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
