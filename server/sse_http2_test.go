package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// An idle HTTP/2 stream outlives the write timeout: the deadline of one
// write must not linger and reset the stream while nothing is written.
func TestHTTP2IdleStreamOutlivesWriteTimeout(t *testing.T) {
	hub := NewHub(HubOptions{Logger: testLogger(t)})
	h := &SSEHandler{Hub: hub, WriteTimeout: 100 * time.Millisecond, Heartbeat: -1, Logger: testLogger(t)}
	mux := http.NewServeMux()
	mux.Handle("GET /events/{topic}", h)
	ts := httptest.NewUnstartedServer(mux)
	ts.EnableHTTP2 = true
	ts.StartTLS()
	t.Cleanup(func() { hub.Close(); ts.Close() })

	saved := http.DefaultClient
	http.DefaultClient = ts.Client()
	s := open(t, ts.URL+"/events/t", nil)
	http.DefaultClient = saved
	if s.resp.ProtoMajor != 2 {
		t.Fatalf("stream served over %s, want HTTP/2", s.resp.Proto)
	}
	waitFor(t, "subscriber", func() bool { return hub.Stats().Subscribers == 1 })
	publish(t, hub, "t", "", "before")
	if e := s.next(t); e.Data != "before" {
		t.Fatalf("got %q, want before", e.Data)
	}
	time.Sleep(5 * h.WriteTimeout) // idle well past the write timeout
	publish(t, hub, "t", "", "after")
	if e := s.next(t); e.Data != "after" {
		t.Fatalf("got %q, want after", e.Data)
	}
}
