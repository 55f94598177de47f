package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/eventwire/eventwire/server"
)

// TestRunSmoke runs the load generator's logic against the real server
// handler in process, with few streams, and checks correctness only:
// every stream opens, every subscriber receives every event in order, and
// every stream is still there at the end. It never asserts timings.
func TestRunSmoke(t *testing.T) {
	for _, tc := range []struct {
		name   string
		proto  string
		hijack bool
	}{
		{"h1", "h1", false},
		{"h1-hijack", "h1", true},
		{"h2c", "h2c", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := server.NewServer(server.Config{
				Publish: true,
				Hijack:  tc.hijack,
				Logger:  slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewUnstartedServer(srv)
			if tc.proto == "h2c" {
				var p http.Protocols
				p.SetHTTP1(true)
				p.SetUnencryptedHTTP2(true)
				ts.Config.Protocols = &p
			}
			ts.Start()
			defer ts.Close()
			defer srv.Close() // ends the streams (also hijacked ones) before ts.Close waits

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			const streams, subs, broadcasts, burst = 200, 120, 3, 5
			res, err := Run(ctx, Config{
				URL:                ts.URL,
				Proto:              tc.proto,
				H2StreamsPerConn:   50,
				Streams:            streams,
				Subscribers:        subs,
				Broadcasts:         broadcasts,
				BroadcastInterval:  time.Millisecond,
				Burst:              burst,
				ConnectConcurrency: 20,
				Hold:               time.Millisecond,
				Logger:             slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Connected != streams || res.StopReason != "" || len(res.ConnectErrors) > 0 {
				t.Fatalf("connected %d of %d (stop %q, errors %v)", res.Connected, streams, res.StopReason, res.ConnectErrors)
			}
			if len(res.ClosedEarly) > 0 {
				t.Errorf("streams closed during the run: %v", res.ClosedEarly)
			}
			for _, ph := range []*PhaseStats{res.Latency, res.Burst} {
				if ph == nil {
					t.Fatal("missing phase")
				}
				want := int64(ph.Events) * subs
				if ph.Subscribers != subs || ph.Expected != want || ph.Delivered != want || ph.Missing != 0 ||
					ph.OutOfOrder != 0 || ph.PublishErrs != 0 {
					t.Errorf("%s phase: %+v; want %d subscribers, %d deliveries in order", ph.Name, *ph, subs, want)
				}
			}
			if res.Latency.Events != broadcasts || res.Burst.Events != burst {
				t.Errorf("events published: latency %d, burst %d", res.Latency.Events, res.Burst.Events)
			}
			if res.Held != streams {
				t.Errorf("held %d of %d streams at the end (check phase %+v)", res.Held, streams, res.Check)
			}
			if tc.proto == "h2c" && res.TCPConns != streams/50 {
				t.Errorf("h2c used %d TCP connections, want %d", res.TCPConns, streams/50)
			}
		})
	}
}

func TestParseData(t *testing.T) {
	lg := &loadgen{cfg: Config{Payload: 64}.withDefaults(), base: time.Now()}
	d := lg.makeData(kindLatency, 42)
	if len(d) != 64 {
		t.Errorf("data is %d bytes, want 64", len(d))
	}
	kind, seq, sent, ok := parseData(d)
	if !ok || kind != kindLatency || seq != 42 || sent < 0 {
		t.Errorf("parseData(%q) = %c %d %d %v", d, kind, seq, sent, ok)
	}
	for _, bad := range []string{"", "L", "L 1", "L x 2", "L 1 y", "ticker price"} {
		if _, _, _, ok := parseData(bad); ok {
			t.Errorf("parseData(%q) accepted", bad)
		}
	}
}
