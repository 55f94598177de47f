package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventwire/eventwire/protocol/sse"
)

// stallTimeout ends the connect phase when no stream opened for that long.
const stallTimeout = 15 * time.Second

// connectAll opens the streams with bounded concurrency and stops early on
// a limit that retrying cannot fix (file descriptors, ports, memory, time).
func (lg *loadgen) connectAll(ctx context.Context, res *Result) {
	cfg := lg.cfg
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()

	var (
		next      atomic.Int64
		connected atomic.Int64
		errMu     sync.Mutex
		errs      = map[string]int{}
		stopOnce  sync.Once
		stopped   = make(chan struct{})
		stopWhy   string
		wg        sync.WaitGroup
	)
	ctx, cancelConnects := context.WithCancel(ctx)
	defer cancelConnects()
	stop := func(why string) {
		stopOnce.Do(func() { stopWhy = why; close(stopped); cancelConnects() })
	}
	start := time.Now()
	progressDone := make(chan struct{})
	go func() { // progress, and a stop when no stream opens for a while
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		last, lastChange := int64(0), time.Now()
		for {
			select {
			case <-progressDone:
				return
			case <-t.C:
				n := connected.Load()
				lg.log.Info("connecting", "connected", n, "want", cfg.Streams,
					"rate", fmt.Sprintf("%.0f/s", float64(n)/time.Since(start).Seconds()))
				if n != last {
					last, lastChange = n, time.Now()
				} else if time.Since(lastChange) > stallTimeout {
					stop(fmt.Sprintf("no new stream for %v: the server stopped accepting or answering (its file limit?)", stallTimeout))
				}
			}
		}
	}()
	for range min(cfg.ConnectConcurrency, cfg.Streams) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stopped:
					return
				case <-ctx.Done():
					return
				default:
				}
				if lg.serverExited() {
					stop("server process exited")
					return
				}
				i := int(next.Add(1) - 1)
				if i >= cfg.Streams {
					return
				}
				var err error
				if cfg.Proto == "h2c" {
					err = lg.connectH2(ctx, i)
				} else {
					err = lg.connect(ctx, i)
				}
				if err == nil {
					connected.Add(1)
					continue
				}
				if ctx.Err() != nil {
					return
				}
				class, fatal := classifyDialErr(err)
				errMu.Lock()
				errs[class]++
				total := 0
				for _, n := range errs {
					total += n
				}
				errMu.Unlock()
				if fatal {
					stop(class)
					return
				}
				if total > max(100, cfg.Streams/100) {
					stop("too many connect errors (last: " + class + ")")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(progressDone)
	res.ConnectTime = time.Since(start)
	res.Connected = int(connected.Load())
	res.ConnectRate = float64(res.Connected) / res.ConnectTime.Seconds()
	if len(errs) > 0 {
		res.ConnectErrors = errs
	}
	switch {
	case stopWhy != "":
		res.StopReason = stopWhy
	case res.Connected < cfg.Streams && ctx.Err() != nil:
		res.StopReason = fmt.Sprintf("time (connect phase limit %v or run deadline)", cfg.ConnectTimeout)
	case res.Connected < cfg.Streams:
		res.StopReason = "connect errors"
	}
	lg.log.Info("connect phase done", "connected", res.Connected, "in", res.ConnectTime.Round(time.Millisecond),
		"rate", fmt.Sprintf("%.0f/s", res.ConnectRate), "errors", errs, "stop", res.StopReason)
}

// connect opens stream i: dial (retrying transient errors with backoff),
// send the GET, read the response head, then hand the body to a reader
// goroutine that decodes it with protocol/sse.
func (lg *loadgen) connect(ctx context.Context, i int) error {
	cfg := lg.cfg
	conn, err := lg.dialIndex(ctx, i)
	if err != nil {
		return err
	}
	bench := i < cfg.Subscribers
	topic := cfg.IdleTopic
	if bench {
		topic = cfg.Topic
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	req := "GET /events/" + url.PathEscape(topic) + " HTTP/1.1\r\nHost: " + lg.host +
		"\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return fmt.Errorf("failed to send request: %w", err)
	}
	br := bufio.NewReaderSize(conn, cfg.ReadBuffer)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return fmt.Errorf("failed to read response head: %w", err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		conn.Close()
		return &statusError{code: resp.StatusCode, ctype: resp.Header.Get("Content-Type")}
	}
	_ = conn.SetDeadline(time.Time{})
	s := &lg.streams[i]
	s.conn = conn
	s.bench = bench
	lg.alive.Add(1)
	if bench {
		lg.aliveBench.Add(1)
	}
	go lg.read(i, resp.Body)
	return nil
}

// dialIndex dials the server from source address i%Sources, retrying
// transient errors with backoff.
func (lg *loadgen) dialIndex(ctx context.Context, i int) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second, Control: dialControl}
	if len(lg.sources) > 0 {
		d.LocalAddr = lg.sources[i%len(lg.sources)]
	}
	backoff := 20 * time.Millisecond
	for attempt := 0; ; attempt++ {
		conn, err := d.DialContext(ctx, "tcp", lg.host)
		if err == nil {
			lg.tcpConns.Add(1)
			return conn, nil
		}
		if _, fatal := classifyDialErr(err); fatal || attempt >= 6 || ctx.Err() != nil {
			return nil, err
		}
		if !sleepCtx(ctx, backoff) {
			return nil, err
		}
		backoff *= 2
	}
}

// dial is the h2c transport's dialer: each new TCP connection takes the
// next source address.
func (lg *loadgen) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return lg.dialIndex(ctx, int(lg.tcpConns.Load()))
}

// connectH2 opens stream i as an HTTP/2 stream (h2c, prior knowledge); the
// transport multiplexes the streams over as few TCP connections as the
// server's concurrent-stream limit allows.
func (lg *loadgen) connectH2(ctx context.Context, i int) error {
	cfg := lg.cfg
	bench := i < cfg.Subscribers
	topic := cfg.IdleTopic
	if bench {
		topic = cfg.Topic
	}
	// The stream outlives ctx (the connect phase): it has its own context,
	// cancelled by closeAll, or here when the head does not come in time.
	sctx, cancel := context.WithCancel(lg.h2ctx)
	timer := time.AfterFunc(30*time.Second, cancel)
	stopWatch := context.AfterFunc(ctx, cancel)
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, "http://"+lg.host+"/events/"+url.PathEscape(topic), nil)
	if err != nil {
		cancel()
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := lg.h2[i/cfg.H2StreamsPerConn].Do(req)
	timer.Stop()
	stopWatch()
	if err != nil {
		cancel()
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		cancel()
		return &statusError{code: resp.StatusCode, ctype: resp.Header.Get("Content-Type")}
	}
	if sctx.Err() != nil { // the timer fired as the head arrived
		resp.Body.Close()
		return context.DeadlineExceeded
	}
	s := &lg.streams[i]
	s.body = resp.Body
	s.cancel = cancel
	s.bench = bench
	lg.alive.Add(1)
	if bench {
		lg.aliveBench.Add(1)
	}
	go lg.read(i, resp.Body)
	return nil
}

type statusError struct {
	code  int
	ctype string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("unexpected response %d %q", e.code, e.ctype)
}

// read decodes stream i until it ends and records every event.
func (lg *loadgen) read(i int, body io.Reader) {
	s := &lg.streams[i]
	r := sse.NewReaderSize(body, lg.cfg.ReadBuffer, sse.DecoderOptions{})
	for {
		ev, err := r.Next()
		if err != nil {
			s.closed.Store(true)
			lg.alive.Add(-1)
			if s.bench {
				lg.aliveBench.Add(-1)
			}
			if !lg.shutdown.Load() {
				lg.closeMu.Lock()
				lg.closeBy[closeClass(err)]++
				lg.closeMu.Unlock()
			}
			return
		}
		now := lg.now()
		kind, seq, sent, ok := parseData(ev.Data)
		if !ok {
			continue // not ours (for example a demo event)
		}
		switch kind {
		case kindLatency:
			k := len(lg.recvL)
			if seq < 0 || seq >= k {
				lg.badL.Add(1)
				continue
			}
			if int(s.nextL.Load()) != seq {
				lg.badL.Add(1)
			}
			s.nextL.Store(int32(seq + 1))
			lg.latL[i*k+seq] = now - sent
			atomicMax(&lg.lastL[seq], now)
			lg.recvL[seq].Add(1)
		case kindBurst:
			m := lg.cfg.Burst
			if seq < 0 || seq >= m {
				lg.badT.Add(1)
				continue
			}
			if int(s.nextT.Load()) != seq {
				lg.badT.Add(1)
			}
			s.nextT.Store(int32(seq + 1))
			lg.latT[i*m+seq] = now - sent
			atomicMax(&lg.lastT, now)
			lg.recvT.Add(1)
		case kindCheck:
			if !s.gotC.Swap(true) {
				lg.recvC.Add(1)
			}
		}
	}
}

func atomicMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// closeAll ends every stream with a reset (SO_LINGER 0) so that no
// TIME_WAIT sockets hold the source ports for the next run.
func (lg *loadgen) closeAll() {
	lg.shutdown.Store(true)
	for i := range lg.streams {
		s := &lg.streams[i]
		if s.body != nil {
			s.body.Close()
			s.cancel()
		}
		c := s.conn
		if c == nil {
			continue
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
}
