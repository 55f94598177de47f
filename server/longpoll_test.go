package server

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestLongPollImmediate(t *testing.T) {
	hub := NewHub(HubOptions{Logger: testLogger(t)})
	ts := newSSEServer(t, &SSEHandler{Hub: hub, LongPollWait: time.Hour})
	var ids []string
	for i := range 5 {
		ids = append(ids, publish(t, hub, "t", "", strconv.Itoa(i)))
	}
	resp, body := get(t, "GET", ts.URL+"/events/t?transport=longpoll&lastEventId="+ids[1], nil, "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" ||
		resp.Header.Get("Cache-Control") != "no-cache, no-transform" {
		t.Fatalf("%s %v", resp.Status, resp.Header)
	}
	if resp.ContentLength != int64(len(body)) {
		t.Errorf("Content-Length %d, body %d bytes", resp.ContentLength, len(body))
	}
	evs := decodeAll(t, body)
	if len(evs) != 3 {
		t.Fatalf("events %+v, want ids 3..5", evs)
	}
	for i, e := range evs {
		if e.ID != ids[i+2] || e.Data != strconv.Itoa(i+2) {
			t.Errorf("event %d: %+v", i, e)
		}
	}
	// The header works as well, and wins.
	_, body = get(t, "GET", ts.URL+"/events/t?transport=longpoll&lastEventId="+ids[0],
		http.Header{"Last-Event-Id": {ids[3]}}, "")
	if evs := decodeAll(t, body); len(evs) != 1 || evs[0].ID != ids[4] {
		t.Errorf("header resume: %+v", evs)
	}
	// Gap: answered at once even with no event to send.
	_, body = get(t, "GET", ts.URL+"/events/t?transport=longpoll&lastEventId=otherepoch-3", nil, "")
	if evs := decodeAll(t, body); len(evs) != 6 || gapOf(t, evs[0]).Reason != "epoch" {
		t.Errorf("gap: %+v", evs)
	}
	if st := hub.Stats(); st.Subscribers != 0 {
		t.Errorf("long-polls left subscribers: %+v", st)
	}
}

func TestLongPollTimesOutEmpty(t *testing.T) {
	hub := NewHub(HubOptions{Logger: testLogger(t)})
	ts := newSSEServer(t, &SSEHandler{Hub: hub, LongPollWait: 20 * time.Millisecond})
	id := publish(t, hub, "t", "", "old")
	for _, url := range []string{
		ts.URL + "/events/t?transport=longpoll&lastEventId=" + id, // up to date
		ts.URL + "/events/t?transport=longpoll",                   // fresh: only new events
	} {
		// No event, but the position to poll from next: a fresh poller
		// must not miss what is published before its next poll.
		resp, body := get(t, "GET", url, nil, "")
		if want := ": ok\nretry:3000\nid: " + id + "\n\n"; resp.StatusCode != 200 || body != want {
			t.Errorf("%s: %s %q, want %q", url, resp.Status, body, want)
		}
	}
}

func TestLongPollWakesOnPublish(t *testing.T) {
	hub := NewHub(HubOptions{Logger: testLogger(t)})
	ts := newSSEServer(t, &SSEHandler{Hub: hub, LongPollWait: time.Hour})
	first := publish(t, hub, "t", "", "first")
	type result struct {
		status int
		body   string
	}
	done := make(chan result, 1)
	go func() {
		resp, body := get(t, "GET", ts.URL+"/events/t?transport=longpoll&lastEventId="+first, nil, "")
		done <- result{resp.StatusCode, body}
	}()
	waitFor(t, "the long-poll to wait", func() bool { return hub.Stats().Subscribers == 1 })
	id := publish(t, hub, "t", "ping", "hello")
	select {
	case r := <-done:
		evs := decodeAll(t, r.body)
		if r.status != 200 || len(evs) != 1 || evs[0].ID != id || evs[0].Type != "ping" || evs[0].Data != "hello" {
			t.Errorf("%d %+v", r.status, evs)
		}
	case <-time.After(guard):
		t.Fatal("long-poll did not return after a publish")
	}
}

func TestLongPollEndsOnDisconnect(t *testing.T) {
	hub := NewHub(HubOptions{Logger: testLogger(t)})
	ts := newSSEServer(t, &SSEHandler{Hub: hub, LongPollWait: time.Hour})
	done := make(chan string, 1)
	go func() {
		_, body := get(t, "GET", ts.URL+"/events/t?transport=longpoll", nil, "")
		done <- body
	}()
	waitFor(t, "the long-poll to wait", func() bool { return hub.Stats().Subscribers == 1 })
	hub.Disconnect("t")
	select {
	case body := <-done:
		if evs := decodeAll(t, body); len(evs) != 0 {
			t.Errorf("events %+v", evs)
		}
	case <-time.After(guard):
		t.Fatal("long-poll did not end")
	}
}

func TestLongPollBounded(t *testing.T) {
	hub := NewHub(HubOptions{HistorySize: 1000, Logger: testLogger(t)})
	ts := newSSEServer(t, &SSEHandler{Hub: hub, LongPollWait: time.Hour})
	for range 600 {
		publish(t, hub, "t", "", "x")
	}
	last := hub.Epoch() + "-0"
	total := 0
	for range 10 {
		_, body := get(t, "GET", ts.URL+"/events/t?transport=longpoll&lastEventId="+last, nil, "")
		evs := decodeAll(t, body)
		if len(evs) == 0 || len(evs) > LongPollMaxEvents {
			t.Fatalf("%d events in one response", len(evs))
		}
		total += len(evs)
		last = evs[len(evs)-1].ID
		if total == 600 {
			return
		}
	}
	t.Fatalf("got %d of 600 events", total)
}
