//go:build bench

package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/eventwire/eventwire/server"
)

// The server side of the browser benchmark (bench_test.go): streams written as
// fast as Go can, a ticking stream stamped with send times, and the bench
// pages.

const (
	// benchWriteSize is the size of the writes of /bench/stream: large
	// writes, so that the server is never the bottleneck.
	benchWriteSize = 256 << 10
	// benchHold bounds how long a stream stays open after its last event.
	// Streams stay open so that no contender reconnects (and no error event
	// fires) while the page closes it.
	benchHold = 30 * time.Second
)

// benchHandlers are the handlers the bench mounts on the test server. lib is
// the directory with the bundled peer libraries.
func benchHandlers(t *testing.T, lib string) map[string]http.Handler {
	pages := server.Static(os.DirFS(filepath.Join(testdataDir(t), "bench")))
	libs := server.Static(os.DirFS(lib))
	return map[string]http.Handler{
		"/bench/stream": http.HandlerFunc(benchStream),
		"/bench/tick":   http.HandlerFunc(benchTick),
		"/bench/lib/":   isolated(http.StripPrefix("/bench/lib/", libs)),
		"/bench/":       isolated(http.StripPrefix("/bench/", pages)),
	}
}

// isolated makes the bench pages cross-origin isolated, which gives
// performance.now() a 5 µs resolution instead of 100 µs.
func isolated(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
		hdr.Set("Cross-Origin-Embedder-Policy", "require-corp")
		h.ServeHTTP(w, r)
	})
}

// intParam reads a positive integer query parameter, clamped to [min, max].
func intParam(r *http.Request, name string, def, min, max int) int {
	v, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil {
		v = def
	}
	return clampInt(v, min, max)
}

func clampInt(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// startBenchStream writes the headers of an event stream and flushes them.
func startBenchStream(w http.ResponseWriter) *http.ResponseController {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	return rc
}

// holdOpen keeps the response open until the client leaves or benchHold
// passes.
func holdOpen(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(benchHold):
	}
}

// appendBenchEvent appends one event whose data is exactly size bytes: the
// sequence number in 8 digits, a space, then 'x' up to size.
func appendBenchEvent(buf []byte, seq, size int, fill []byte) []byte {
	buf = append(buf, "data: "...)
	n := len(buf)
	buf = strconv.AppendInt(buf, int64(100000000+seq), 10)
	copy(buf[n:], buf[n+1:]) // drop the leading 1: 8 digits, zero-padded
	buf = buf[:len(buf)-1]
	buf = append(buf, ' ')
	buf = append(buf, fill[:size-9]...)
	return append(buf, '\n', '\n')
}

// benchStream serves /bench/stream?n=N&size=S: N events with S bytes of data
// each (S >= 16), written in large writes as fast as the connection takes
// them, then held open.
func benchStream(w http.ResponseWriter, r *http.Request) {
	n := intParam(r, "n", 1, 1, 10_000_000)
	size := intParam(r, "size", 64, 16, 1<<20)
	rc := startBenchStream(w)
	fill := make([]byte, size)
	for i := range fill {
		fill[i] = 'x'
	}
	buf := make([]byte, 0, benchWriteSize+size+32)
	for i := range n {
		buf = appendBenchEvent(buf, i, size, fill)
		if len(buf) >= benchWriteSize {
			if _, err := w.Write(buf); err != nil {
				return
			}
			buf = buf[:0]
		}
	}
	if _, err := w.Write(buf); err != nil {
		return
	}
	_ = rc.Flush()
	holdOpen(r.Context())
}

// benchTick serves /bench/tick?n=N&every=MS: N events of 64 bytes, one every
// MS milliseconds, each flushed alone. The data starts with the wall-clock
// time of the write in microseconds since the Unix epoch, then a space and
// the sequence number; the page compares it with performance.timeOrigin +
// performance.now() (the same clock on one machine).
func benchTick(w http.ResponseWriter, r *http.Request) {
	n := intParam(r, "n", 100, 1, 100_000)
	every := time.Duration(intParam(r, "every", 5, 1, 1000)) * time.Millisecond
	rc := startBenchStream(w)
	buf := make([]byte, 0, 128)
	start := time.Now()
	for i := range n {
		next := start.Add(time.Duration(i+1) * every)
		select {
		case <-r.Context().Done():
			return
		case <-time.After(time.Until(next)):
		}
		buf = append(buf[:0], "data: "...)
		m := len(buf)
		buf = strconv.AppendInt(buf, time.Now().UnixMicro(), 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, ' ')
		for len(buf)-m < 64 {
			buf = append(buf, 'x')
		}
		buf = append(buf, '\n', '\n')
		if _, err := w.Write(buf); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
	holdOpen(r.Context())
}
