package server

import (
	"net/http"
	"strings"
	"testing"
)

func TestPublishHandler(t *testing.T) {
	hub := NewHub(HubOptions{Logger: testLogger(t)})
	mux := http.NewServeMux()
	mux.Handle("/publish/{topic}", &PublishHandler{Hub: hub, Token: "s3cret", MaxBytes: 100, Logger: testLogger(t)})
	ts := newSSEServer(t, &SSEHandler{Hub: hub})
	ts.Config.Handler = mux
	auth := http.Header{"Authorization": {"Bearer s3cret"}}

	for _, hdr := range []http.Header{nil, {"Authorization": {"Bearer wrong"}}, {"Authorization": {"Basic s3cret"}}} {
		resp, _ := get(t, "POST", ts.URL+"/publish/t", hdr, "x")
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("auth %v: %s", hdr, resp.Status)
		}
	}
	resp, body := get(t, "POST", ts.URL+"/publish/t?event=update", auth, "a\nb")
	if resp.StatusCode != 200 || body != hub.Epoch()+"-1" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("publish: %s %q", resp.Status, body)
	}
	s := &subscriber{remote: "t", done: make(chan struct{}), notify: make(chan struct{}, 1)}
	hub.subscribe("t", hub.Epoch()+"-0", s)
	batch, _ := s.next(make([]*entry, 0, 4), 1<<20)
	if len(batch) != 1 || string(batch[0].wire) != "id: "+body+"\nevent: update\ndata: a\ndata: b\n\n" {
		t.Errorf("stored %q", batch[0].wire)
	}
	for _, tc := range []struct {
		method, url, body string
		status            int
	}{
		{"POST", "/publish/t", strings.Repeat("x", 101), 413},
		{"POST", "/publish/t", strings.Repeat("x", 100), 200},
		{"POST", "/publish/t?event=a%0Ab", "x", 400},
		{"POST", "/publish/t", "\xff\xfe", 400},
		{"POST", "/publish/" + strings.Repeat("x", MaxTopicLength+1), "x", 400},
		{"GET", "/publish/t", "", 405},
	} {
		if resp, _ := get(t, tc.method, ts.URL+tc.url, auth, tc.body); resp.StatusCode != tc.status {
			t.Errorf("%s %s: %s, want %d", tc.method, tc.url, resp.Status, tc.status)
		}
	}
	hub.Close()
	if resp, _ := get(t, "POST", ts.URL+"/publish/t", auth, "x"); resp.StatusCode != 503 {
		t.Errorf("after Close: %s", resp.Status)
	}
	// Without a token, anyone may publish.
	hub2 := NewHub(HubOptions{Logger: testLogger(t)})
	mux.Handle("/open/{topic}", &PublishHandler{Hub: hub2})
	if resp, body := get(t, "POST", ts.URL+"/open/t", nil, ""); resp.StatusCode != 200 || body != hub2.Epoch()+"-1" {
		t.Errorf("no token: %s %q", resp.Status, body)
	}
}
