package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func (lg *loadgen) makeData(kind byte, seq int) string {
	b := make([]byte, 0, lg.cfg.Payload+32)
	b = append(b, kind, ' ')
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, lg.now(), 10)
	b = append(b, ' ')
	for len(b) < lg.cfg.Payload {
		b = append(b, 'x')
	}
	return string(b)
}

// parseData parses "<kind> <seq> <send-ns> ..." without allocating.
func parseData(d string) (kind byte, seq int, sent int64, ok bool) {
	if len(d) < 5 || d[1] != ' ' {
		return 0, 0, 0, false
	}
	kind = d[0]
	rest := d[2:]
	sp := strings.IndexByte(rest, ' ')
	if sp < 0 {
		return 0, 0, 0, false
	}
	s, err := strconv.Atoi(rest[:sp])
	if err != nil {
		return 0, 0, 0, false
	}
	rest = rest[sp+1:]
	if sp = strings.IndexByte(rest, ' '); sp >= 0 {
		rest = rest[:sp]
	}
	t, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return 0, 0, 0, false
	}
	return kind, s, t, true
}

// publish POSTs one event; the data is built (and timestamped) right before
// the request is sent.
func (lg *loadgen) publish(ctx context.Context, topic string, kind byte, seq int) error {
	data := lg.makeData(kind, seq)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, lg.pubURL(topic), strings.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	if lg.cfg.PublishToken != "" {
		req.Header.Set("Authorization", "Bearer "+lg.cfg.PublishToken)
	}
	resp, err := lg.pub.Do(req)
	if err != nil {
		return fmt.Errorf("failed to publish: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("failed to publish: %s", resp.Status)
	}
	return nil
}

// waitCount waits until count() reaches want, ctx ends, the deadline
// passes, or nothing arrives for stall.
func (lg *loadgen) waitCount(ctx context.Context, count func() int64, want int64, deadline time.Time, stall time.Duration) {
	last, lastChange := count(), time.Now()
	for {
		n := count()
		if n >= want || ctx.Err() != nil || time.Now().After(deadline) || lg.serverExited() {
			return
		}
		if n != last {
			last, lastChange = n, time.Now()
		} else if time.Since(lastChange) > stall {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// latencyPhase publishes cfg.Broadcasts events to the broadcast topic, one
// at a time, and measures publish-to-delivery latency at every subscriber.
func (lg *loadgen) latencyPhase(ctx context.Context) *PhaseStats {
	cfg := lg.cfg
	k := cfg.Broadcasts
	st := &PhaseStats{Name: "latency", Events: k, Subscribers: int(lg.aliveBench.Load())}
	lg.log.Info("latency phase", "broadcasts", k, "subscribers", st.Subscribers)
	cpu0, ccpu0 := lg.serverCPU(), clientCPU()
	first := int64(-1)
	sendAt := make([]int64, k)
	for b := range k {
		if ctx.Err() != nil || lg.serverExited() {
			break
		}
		t0 := time.Now()
		sendAt[b] = lg.now()
		if first < 0 {
			first = sendAt[b]
		}
		if err := lg.publish(ctx, cfg.Topic, kindLatency, b); err != nil {
			st.PublishErrs++
			lg.log.Warn("publish failed", "err", err)
			continue
		}
		want := lg.aliveBench.Load()
		lg.waitCount(ctx, lg.recvL[b].Load, want, t0.Add(cfg.BroadcastTimeout), cfg.BroadcastTimeout)
		if rest := cfg.BroadcastInterval - time.Since(t0); rest > 0 && b < k-1 {
			sleepCtx(ctx, rest)
		}
	}
	// A last short wait for stragglers of the final broadcast.
	lg.waitCount(ctx, func() int64 { return lg.recvL[k-1].Load() }, lg.aliveBench.Load(), time.Now().Add(time.Second), time.Second)
	st.ServerCPU, st.ClientCPU = lg.serverCPU()-cpu0, clientCPU()-ccpu0

	samples := make([]int64, 0, len(lg.latL))
	one := make([]int64, 0, cfg.Subscribers)
	for b := range k {
		one = one[:0]
		for i := range cfg.Subscribers {
			if v := lg.latL[i*k+b]; v >= 0 {
				one = append(one, v)
			}
		}
		es := EventStats{Delivered: int64(len(one))}
		es.P50, es.P99, es.Last = percentiles(one)
		st.PerEvent = append(st.PerEvent, es)
	}
	var lastAll int64
	for b := range k {
		if l := lg.lastL[b].Load(); l > 0 {
			st.WorstLast = max(st.WorstLast, time.Duration(l-sendAt[b]))
			lastAll = max(lastAll, l)
		}
		st.Delivered += lg.recvL[b].Load()
	}
	for _, v := range lg.latL {
		if v >= 0 {
			samples = append(samples, v)
		}
	}
	st.Expected = int64(k) * int64(st.Subscribers)
	st.Missing = st.Expected - st.Delivered
	st.OutOfOrder = lg.badL.Load()
	st.P50, st.P99, st.Max = percentiles(samples)
	if lastAll > first && first >= 0 {
		st.Wall = time.Duration(lastAll - first)
		st.EventsPerSec = float64(st.Delivered) / st.Wall.Seconds()
	}
	var per []string
	for _, e := range st.PerEvent {
		per = append(per, fmt.Sprintf("%.0f/%.0f", ms64(e.P99), ms64(e.Last)))
	}
	lg.log.Info("latency phase done", "delivered", st.Delivered, "expected", st.Expected,
		"p50", st.P50, "p99", st.P99, "max", st.Max, "per broadcast p99/last ms", strings.Join(per, " "))
	return st
}

// burstPhase publishes cfg.Burst events back to back (optionally paced to
// cfg.BurstRate) and measures how many deliveries per second arrive.
func (lg *loadgen) burstPhase(ctx context.Context) *PhaseStats {
	cfg := lg.cfg
	m := cfg.Burst
	st := &PhaseStats{Name: "burst", Events: m, Subscribers: int(lg.aliveBench.Load())}
	lg.log.Info("burst phase", "events", m, "subscribers", st.Subscribers)
	cpu0, ccpu0 := lg.serverCPU(), clientCPU()
	first := lg.now()
	var gap time.Duration
	if cfg.BurstRate > 0 {
		gap = time.Duration(float64(time.Second) / cfg.BurstRate)
	}
	t0 := time.Now()
	for j := range m {
		if ctx.Err() != nil || lg.serverExited() {
			break
		}
		if gap > 0 {
			if d := time.Until(t0.Add(time.Duration(j) * gap)); d > 0 {
				sleepCtx(ctx, d)
			}
		}
		if err := lg.publish(ctx, cfg.Topic, kindBurst, j); err != nil {
			st.PublishErrs++
			lg.log.Warn("publish failed", "err", err)
		}
	}
	st.Expected = int64(m) * int64(st.Subscribers)
	lg.waitCount(ctx, lg.recvT.Load, st.Expected, time.Now().Add(60*time.Second), 5*time.Second)
	st.ServerCPU, st.ClientCPU = lg.serverCPU()-cpu0, clientCPU()-ccpu0
	st.Delivered = lg.recvT.Load()
	st.Missing = st.Expected - st.Delivered
	st.OutOfOrder = lg.badT.Load()
	samples := make([]int64, 0, len(lg.latT))
	for _, v := range lg.latT {
		if v >= 0 {
			samples = append(samples, v)
		}
	}
	st.P50, st.P99, st.Max = percentiles(samples)
	if last := lg.lastT.Load(); last > first {
		st.Wall = time.Duration(last - first)
		st.EventsPerSec = float64(st.Delivered) / st.Wall.Seconds()
	}
	lg.log.Info("burst phase done", "delivered", st.Delivered, "expected", st.Expected,
		"events/s", fmt.Sprintf("%.0f", st.EventsPerSec))
	return st
}

// checkPhase publishes one event to each topic and counts the streams that
// receive it: those are the streams really held at the end of the run.
func (lg *loadgen) checkPhase(ctx context.Context) *PhaseStats {
	cfg := lg.cfg
	st := &PhaseStats{Name: "check", Events: 1, Subscribers: int(lg.alive.Load())}
	lg.log.Info("check phase: one event to every stream", "streams", st.Subscribers)
	first := lg.now()
	topics := []string{cfg.Topic}
	if cfg.Subscribers < cfg.Streams {
		topics = append(topics, cfg.IdleTopic)
	}
	for _, t := range topics {
		if err := lg.publish(ctx, t, kindCheck, 0); err != nil {
			st.PublishErrs++
			lg.log.Warn("publish failed", "err", err)
		}
	}
	st.Expected = int64(st.Subscribers)
	lg.waitCount(ctx, lg.recvC.Load, st.Expected, time.Now().Add(60*time.Second), 10*time.Second)
	st.Delivered = lg.recvC.Load()
	st.Missing = st.Expected - st.Delivered
	st.Wall = time.Duration(lg.now() - first)
	lg.log.Info("check phase done", "received", st.Delivered, "of", st.Expected)
	return st
}

func (lg *loadgen) serverCPU() time.Duration {
	if lg.cfg.CPU == nil {
		return 0
	}
	d, err := lg.cfg.CPU()
	if err != nil {
		return 0
	}
	return d
}
