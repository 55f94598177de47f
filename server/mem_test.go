package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain runs a bare server instead of the tests when the memory test
// below re-executes the test binary as a separate server process.
func TestMain(m *testing.M) {
	if os.Getenv("EVENTWIRE_MEMTEST_CHILD") != "" {
		os.Exit(runMemChild())
	}
	os.Exit(m.Run())
}

func runMemChild() int {
	s, err := NewServer(Config{Addr: "127.0.0.1:0", Publish: true, Hijack: os.Getenv("EVENTWIRE_MEMTEST_CHILD") == "hijack"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	url, err := s.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if p := os.Getenv("EVENTWIRE_MEMTEST_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	fmt.Println(url)
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent is done
	_ = s.Close()
	return 0
}

// TestMemoryPerStream measures the server's memory per idle SSE stream:
// it starts the server as a child process, holds EVENTWIRE_MEMTEST streams
// (raw HTTP/1.1 connections that have received the preamble) and compares
// the child's /healthz?gc=1 figures before and after. It is a measurement,
// run on demand:
//
//	EVENTWIRE_MEMTEST=10000 go test -run MemoryPerStream -v ./server/
func TestMemoryPerStream(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("EVENTWIRE_MEMTEST"))
	if n <= 0 {
		t.Skip("set EVENTWIRE_MEMTEST=<streams> to measure memory per stream")
	}
	for _, mode := range []string{"handler", "hijack"} {
		t.Run(mode, func(t *testing.T) { measureStreams(t, mode, n) })
	}
}

func measureStreams(t *testing.T, mode string, n int) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "EVENTWIRE_MEMTEST_CHILD="+mode)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSpace(line)
	addr := strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/")

	health := func() health {
		resp, err := http.Get(base + "healthz?gc=1")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var h health
		if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	// Warm up: one stream, so one-time allocations are not counted.
	warm, err := dialStream(t, addr)
	if err != nil {
		t.Fatal(err)
	}
	warm.Close()
	time.Sleep(100 * time.Millisecond)
	before := health()

	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := dialStream(t, addr)
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	after := health()
	if got := after.Hub.Subscribers - before.Hub.Subscribers; got != int64(n) {
		t.Fatalf("server holds %d streams, want %d", got, n)
	}
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	t.Logf("%s mode, %d streams: heap+stack %.0f B/stream (heap %.0f, stack %.0f), RSS %.0f B/stream, %.2f goroutines/stream",
		mode, n,
		per(after.Memory.HeapInuse+after.Memory.StackInuse, before.Memory.HeapInuse+before.Memory.StackInuse),
		per(after.Memory.HeapInuse, before.Memory.HeapInuse),
		per(after.Memory.StackInuse, before.Memory.StackInuse),
		per(after.Memory.RSS, before.Memory.RSS),
		float64(after.Goroutines-before.Goroutines)/float64(n))

	// Broadcast latency: from just before the publish request to the
	// arrival of the event's data line on each stream.
	const rounds = 5
	arrived := make(chan time.Duration, n)
	for _, c := range conns {
		go func() {
			buf := make([]byte, 1024)
			for r := 0; r < rounds; r++ {
				var got []byte
				for !bytes.Contains(got, []byte("data: ")) {
					_ = c.SetReadDeadline(time.Now().Add(guard))
					k, err := c.Read(buf)
					if err != nil {
						return
					}
					got = append(got, buf[:k]...)
				}
				arrived <- time.Duration(time.Now().UnixNano())
			}
		}()
	}
	var lat []time.Duration
	for r := 0; r < rounds; r++ {
		time.Sleep(200 * time.Millisecond)
		t0 := time.Now()
		resp, err := http.Post(base+"publish/mem", "text/plain", strings.NewReader("tick"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for i := 0; i < n; i++ {
			select {
			case at := <-arrived:
				lat = append(lat, time.Duration(int64(at)-t0.UnixNano()))
			case <-time.After(guard):
				t.Fatalf("round %d: %d of %d streams got the event", r, i, n)
			}
		}
	}
	slices.Sort(lat)
	t.Logf("%s mode: broadcast to %d streams x %d: latency p50 %v, p99 %v, max %v", mode, n, rounds,
		lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
}

// dialStream opens an SSE stream on a raw connection and waits for the
// preamble, so that the server has finished setting the stream up.
func dialStream(t *testing.T, addr string) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(c, "GET /events/mem HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"); err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetReadDeadline(time.Now().Add(guard))
	var got []byte
	buf := make([]byte, 512)
	for !bytes.Contains(got, []byte("retry:3000\n\n")) {
		k, err := c.Read(buf)
		if err != nil {
			c.Close()
			return nil, err
		}
		got = append(got, buf[:k]...)
	}
	_ = c.SetReadDeadline(time.Time{})
	return c, nil
}
