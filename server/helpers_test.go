package server

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventwire/eventwire/protocol/sse"
)

// guard is how long a test waits for something that should happen at once.
// It only turns a hang into a failure; no test asserts durations.
const guard = 10 * time.Second

// testLogger returns a logger that writes into the test log until the
// test ends (detached streams may log after that).
func testLogger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

// modes are the two ways the SSE handler serves HTTP/1.1 streams.
var modes = []struct {
	name   string
	hijack bool
}{{"handler", false}, {"hijack", true}}

// newSSEServer serves h at /events/{topic} on a loopback test server.
func newSSEServer(t *testing.T, h *SSEHandler) *httptest.Server {
	t.Helper()
	if h.Logger == nil {
		h.Logger = testLogger(t)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /events/{topic}", h)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		h.Hub.Close()
		ts.Close()
	})
	return ts
}

// stream is an open event stream read in the background.
type stream struct {
	resp   *http.Response
	events chan sse.Event
	err    chan error
	rd     *sse.Reader
}

// open starts a GET of url with the given headers and decodes the events.
func open(t *testing.T, url string, header http.Header) *stream {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	s := &stream{resp: resp, events: make(chan sse.Event, 1024), err: make(chan error, 1)}
	s.rd = sse.NewReader(resp.Body, sse.DecoderOptions{})
	go func() {
		for {
			e, err := s.rd.Next()
			if err != nil {
				s.err <- err
				close(s.events)
				return
			}
			s.events <- e
		}
	}()
	return s
}

// next returns the next event, failing the test on the end of the stream.
func (s *stream) next(t *testing.T) sse.Event {
	t.Helper()
	select {
	case e, ok := <-s.events:
		if !ok {
			t.Fatalf("stream ended: %v", <-s.err)
		}
		return e
	case <-time.After(guard):
		t.Fatal("no event")
	}
	return sse.Event{}
}

// ended waits for the end of the stream, failing on any further event.
func (s *stream) ended(t *testing.T) error {
	t.Helper()
	select {
	case e, ok := <-s.events:
		if ok {
			t.Fatalf("event %+v, want the end of the stream", e)
		}
		return <-s.err
	case <-time.After(guard):
		t.Fatal("stream did not end")
	}
	return nil
}

// publish publishes data on topic and returns the assigned ID.
func publish(t *testing.T, h *Hub, topic, typ, data string) string {
	t.Helper()
	e, err := h.Publish(topic, sse.Event{Type: typ, Data: data})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	return e.ID
}

// waitFor polls cond until it holds, failing after guard.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// get performs a request and returns the response with its body read.
func get(t *testing.T, method, url string, header http.Header, body string) (*http.Response, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return resp, string(b)
}

// decodeAll decodes a whole event-stream body.
func decodeAll(t *testing.T, body string) []sse.Event {
	t.Helper()
	rd := sse.NewReader(bufio.NewReader(bytes.NewBufferString(body)), sse.DecoderOptions{})
	var evs []sse.Event
	for {
		e, err := rd.Next()
		if err == io.EOF {
			return evs
		}
		if err != nil {
			t.Fatalf("decoding %q: %v", body, err)
		}
		evs = append(evs, e)
	}
}
