package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serverProc is the server under test running as a child process, so that
// its memory is measured apart from the load generator's.
type serverProc struct {
	cmd      *exec.Cmd
	url      string // http://127.0.0.1:port
	debugURL string // base of net/http/pprof handlers, "" if none
	logPath  string
	done     chan struct{}
	mu       sync.Mutex
	exitErr  error
}

// startServer runs bin with args plus "-addr 127.0.0.1:<free port>" and
// waits until GET /healthz answers 200. debugAddr, when not empty, is where
// the child serves net/http/pprof (passed by the caller in args).
func startServer(ctx context.Context, bin string, args []string, env []string, debugAddr, logPath string) (*serverProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("failed to create server log: %w", err)
	}
	cmd := exec.Command(bin, append([]string{"-addr", addr}, args...)...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Env = append(os.Environ(), env...)
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("failed to start server %s: %w", bin, err)
	}
	s := &serverProc{cmd: cmd, url: "http://" + addr, logPath: logPath, done: make(chan struct{})}
	if debugAddr != "" {
		s.debugURL = "http://" + debugAddr
	}
	go func() {
		err := cmd.Wait()
		logf.Close()
		s.mu.Lock()
		s.exitErr = err
		s.mu.Unlock()
		close(s.done)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-s.done:
			return nil, fmt.Errorf("server exited at start (%v); log: %s", s.err(), tail(logPath, 2000))
		default:
		}
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			return nil, fmt.Errorf("server did not answer /healthz within 20s; log: %s", tail(logPath, 2000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *serverProc) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exitErr
}

// stop sends SIGTERM, waits up to 10 s for a graceful exit, then kills.
func (s *serverProc) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("failed to find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return strings.TrimSpace(string(b))
}

// memSampler samples the memory of process pid, plus the Go runtime's view
// from a net/http/pprof endpoint at debugURL when one is given: the heap
// profile with ?gc=1 runs a GC first, and its debug=1 form ends with the
// runtime.MemStats figures.
func memSampler(pid int, debugURL, baseURL string) func(context.Context) (MemSample, error) {
	return func(ctx context.Context) (MemSample, error) {
		var m MemSample
		if debugURL != "" {
			if err := readRuntimeMem(ctx, debugURL, &m); err != nil {
				return m, err
			}
			// Let the scavenger hand freed pages back before RSS is read.
			time.Sleep(200 * time.Millisecond)
		} else if baseURL != "" {
			readHealthMem(ctx, baseURL, &m) // best effort: no GC first
		}
		if pid > 0 {
			rss, err := procRSS(pid)
			if err != nil {
				return m, err
			}
			m.RSS = rss
		}
		return m, nil
	}
}

func readRuntimeMem(ctx context.Context, debugURL string, m *MemSample) error {
	body, err := httpGet(ctx, debugURL+"/debug/pprof/heap?gc=1&debug=1")
	if err != nil {
		return err
	}
	defer body.Close()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	// "Stack = inuse / sys"; the others are "Name = value".
	fields := map[string]*uint64{
		"HeapInuse": &m.HeapInuse, "HeapAlloc": &m.HeapAlloc, "Stack": &m.StackInuse, "Sys": &m.Sys,
	}
	found := 0
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "# ")
		if !ok {
			continue
		}
		name, val, ok := strings.Cut(line, " = ")
		if p := fields[name]; ok && p != nil {
			val, _, _ = strings.Cut(val, " /")
			if v, err := strconv.ParseUint(strings.TrimSpace(val), 10, 64); err == nil {
				*p = v
				found++
			}
		}
	}
	if found < len(fields) {
		return errors.New("failed to read runtime.MemStats from the heap profile")
	}
	m.HaveRuntime = true
	// The goroutine count is the first line of the goroutine profile.
	if g, err := httpGet(ctx, debugURL+"/debug/pprof/goroutine?debug=1"); err == nil {
		line, _ := bufio.NewReader(g).ReadString('\n')
		g.Close()
		if _, n, ok := strings.Cut(line, "total "); ok {
			m.Goroutines, _ = strconv.Atoi(strings.TrimSpace(n))
		}
	}
	return nil
}

// readHealthMem reads the runtime figures eventwire-server reports in
// GET /healthz (taken without a GC, so garbage counts as heap in use).
func readHealthMem(ctx context.Context, baseURL string, m *MemSample) {
	body, err := httpGet(ctx, baseURL+"/healthz")
	if err != nil {
		return
	}
	defer body.Close()
	var h struct {
		Goroutines int `json:"goroutines"`
		Memory     struct {
			HeapInuse  uint64 `json:"heapInuse"`
			StackInuse uint64 `json:"stackInuse"`
			Sys        uint64 `json:"sys"`
		} `json:"memory"`
	}
	if json.NewDecoder(body).Decode(&h) != nil || h.Memory.HeapInuse == 0 {
		return
	}
	m.HaveRuntime, m.NoGC = true, true
	m.HeapInuse, m.StackInuse, m.Sys, m.Goroutines = h.Memory.HeapInuse, h.Memory.StackInuse, h.Memory.Sys, h.Goroutines
}

func httpGet(ctx context.Context, u string) (io.ReadCloser, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("failed to GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("failed to GET %s: %s", u, resp.Status)
	}
	return &cancelBody{resp.Body, cancel}, nil
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error { err := b.ReadCloser.Close(); b.cancel(); return err }

// saveProfile writes a pprof profile (for example "heap") from debugURL.
func saveProfile(ctx context.Context, debugURL, name, path string) error {
	body, err := httpGet(ctx, debugURL+"/debug/pprof/"+name)
	if err != nil {
		return err
	}
	defer body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
