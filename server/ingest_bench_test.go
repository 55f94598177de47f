package server

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/eventwire/eventwire/protocol/batch"
)

// BenchmarkIngestWebSocket measures acknowledged messages per second
// through one WebSocket on loopback: frames of 1,024 messages of 100
// bytes, pipelined, into a Sink that discards them or formats NDJSON.
func BenchmarkIngestWebSocket(b *testing.B) {
	for _, bc := range []struct {
		name string
		sink Sink
	}{
		{"discard", Discard},
		{"ndjson", NewNDJSONSink(io.Discard, NDJSONOptions{})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			_, _, ts := newIngest(b, IngestOptions{Sink: bc.sink, Logger: slog.New(slog.DiscardHandler)})
			ws, _, err := dialRaw(ts, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer ws.CloseNow()
			ctx := context.Background()
			s := sid(1)
			if err := ws.Write(ctx, 2, helloFrame(s, 0, 0)); err != nil {
				b.Fatal(err)
			}
			if _, _, err := ws.Read(ctx); err != nil {
				b.Fatal(err)
			}
			const per = 1024
			msg := strings.Repeat("x", 100)
			frames := (b.N + per - 1) / per
			last := uint64(frames * per)
			done := make(chan error, 1)
			go func() {
				for {
					_, p, err := ws.Read(ctx)
					if err != nil {
						done <- err
						return
					}
					if a, _ := batch.DecodeAck(p); a.Seq == last {
						done <- nil
						return
					}
				}
			}()
			var w batch.Writer
			var buf []byte
			b.SetBytes(100)
			b.ResetTimer()
			for f := range uint64(frames) {
				w.StartBatch(buf, s, 0, f*per+1)
				for range per {
					w.AddString(msg)
				}
				buf = w.Bytes()
				if err := ws.Write(ctx, 2, buf); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(last)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
