package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventwire/eventwire/protocol/sse"
)

func TestSSEHeadersAndFirstFlush(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			hub := NewHub(HubOptions{Logger: testLogger(t)})
			ts := newSSEServer(t, &SSEHandler{Hub: hub, Hijack: m.hijack, Retry: 1500 * time.Millisecond})
			// No event is ever published: the response head and the first
			// bytes must still arrive.
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/events/quiet", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			for k, want := range map[string]string{
				"Content-Type":      "text/event-stream; charset=utf-8",
				"Cache-Control":     "no-cache, no-transform",
				"X-Accel-Buffering": "no",
			} {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			// The comment, the retry hint and the position the stream
			// starts from (before the first event of the topic).
			want := ": ok\nretry:1500\nid: " + hub.Epoch() + "-0\n\n"
			got := make([]byte, len(want))
			if _, err := io.ReadFull(resp.Body, got); err != nil {
				t.Fatalf("first bytes: %v", err)
			}
			if string(got) != want {
				t.Errorf("first bytes %q, want %q", got, want)
			}
		})
	}
}

func TestSSERetryHintDecoded(t *testing.T) {
	hub := NewHub(HubOptions{Logger: testLogger(t)})
	ts := newSSEServer(t, &SSEHandler{Hub: hub, Retry: 2 * time.Second})
	s := open(t, ts.URL+"/events/t", nil)
	waitFor(t, "subscriber", func() bool { return hub.Stats().Subscribers == 1 })
	publish(t, hub, "t", "", "x")
	e := s.next(t)
	if e.Retry != 0 {
		t.Errorf("first event carries retry %v: the hint must not merge with it", e.Retry)
	}
	if r := s.rd.Retry(); r != 2*time.Second {
		t.Errorf("decoder's retry %v, want 2s", r)
	}
	// Negative: no retry field.
	hub2 := NewHub(HubOptions{Logger: testLogger(t)})
	ts2 := newSSEServer(t, &SSEHandler{Hub: hub2, Retry: -1})
	resp, body := get(t, "GET", ts2.URL+"/events/t?transport=longpoll&lastEventId=x", nil, "")
	if resp.StatusCode != 200 || strings.Contains(body, "retry:") {
		t.Errorf("Retry<0: %s %q", resp.Status, body)
	}
}

func TestSSELiveDelivery(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			hub := NewHub(HubOptions{Logger: testLogger(t)})
			ts := newSSEServer(t, &SSEHandler{Hub: hub, Hijack: m.hijack})
			publish(t, hub, "t", "", "before") // not replayed to a fresh client
			streams := []*stream{open(t, ts.URL+"/events/t", nil), open(t, ts.URL+"/events/t", nil)}
			other := open(t, ts.URL+"/events/other", nil)
			waitFor(t, "subscribers", func() bool { return hub.Stats().Subscribers == 3 })
			var ids []string
			for i := range 50 {
				typ := ""
				if i%2 == 1 {
					typ = "odd"
				}
				ids = append(ids, publish(t, hub, "t", typ, fmt.Sprintf("line %d\nsecond line", i)))
			}
			for _, s := range streams {
				for i := range 50 {
					e := s.next(t)
					wantType := "message"
					if i%2 == 1 {
						wantType = "odd"
					}
					if e.ID != ids[i] || e.Type != wantType || e.Data != fmt.Sprintf("line %d\nsecond line", i) {
						t.Fatalf("event %d: %+v, want id %s type %s", i, e, ids[i], wantType)
					}
				}
			}
			publish(t, hub, "other", "", "o")
			if e := other.next(t); e.Data != "o" || e.ID != hub.Epoch()+"-1" {
				t.Errorf("other topic: %+v", e)
			}
		})
	}
}

func TestSSEHeartbeat(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			hub := NewHub(HubOptions{Logger: testLogger(t)})
			ts := newSSEServer(t, &SSEHandler{Hub: hub, Hijack: m.hijack, Heartbeat: 5 * time.Millisecond})
			resp, err := http.Get(ts.URL + "/events/t")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			done := make(chan error, 1)
			go func() {
				br := bufio.NewReader(resp.Body)
				n := 0
				for n < 3 {
					line, err := br.ReadString('\n')
					if err != nil {
						done <- err
						return
					}
					if line == ": hb\n" {
						n++
					}
				}
				done <- nil
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(guard):
				t.Fatal("no heartbeats")
			}
		})
	}
}

func TestSSEResume(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			hub := NewHub(HubOptions{Logger: testLogger(t)})
			ts := newSSEServer(t, &SSEHandler{Hub: hub, Hijack: m.hijack, LastEventIDParam: "since"})
			var ids []string
			for i := range 10 {
				ids = append(ids, publish(t, hub, "t", "", fmt.Sprint(i)))
			}
			check := func(name string, s *stream, from int) {
				t.Helper()
				for i := from; i < len(ids); i++ {
					if e := s.next(t); e.ID != ids[i] {
						t.Fatalf("%s: event %+v, want %s", name, e, ids[i])
					}
				}
				// Then live events, no duplicates.
				id := publish(t, hub, "t", "", "live")
				if e := s.next(t); e.ID != id || e.Data != "live" {
					t.Fatalf("%s: live event %+v, want %s", name, e, id)
				}
				ids = append(ids, id)
			}
			check("header", open(t, ts.URL+"/events/t", http.Header{"Last-Event-Id": {ids[3]}}), 4)
			check("query", open(t, ts.URL+"/events/t?since="+ids[6], nil), 7)
			// The header wins over the query parameter.
			check("both", open(t, ts.URL+"/events/t?since="+ids[1], http.Header{"Last-Event-Id": {ids[8]}}), 9)
			// The default parameter name does not apply when renamed.
			s := open(t, ts.URL+"/events/t?lastEventId="+ids[1], nil)
			waitFor(t, "subscriber", func() bool { return hub.Stats().Subscribers == 4 })
			id := publish(t, hub, "t", "", "only live")
			if e := s.next(t); e.ID != id {
				t.Fatalf("renamed parameter: got %+v, want only the live event %s", e, id)
			}
		})
	}
}

func TestSSEDefaultParamAndCustomTopic(t *testing.T) {
	hub := NewHub(HubOptions{Logger: testLogger(t)})
	ts := newSSEServer(t, &SSEHandler{Hub: hub, Topic: func(r *http.Request) string { return "fixed" }})
	a := publish(t, hub, "fixed", "", "a")
	b := publish(t, hub, "fixed", "", "b")
	s := open(t, ts.URL+"/events/ignored?lastEventId="+a, nil)
	if e := s.next(t); e.ID != b {
		t.Errorf("got %+v, want %s", e, b)
	}
}

// gapOf decodes a gap event's data.
func gapOf(t *testing.T, e sse.Event) gapData {
	t.Helper()
	if e.Type != "gap" {
		t.Fatalf("event %+v, want a gap event", e)
	}
	var g gapData
	if err := json.Unmarshal([]byte(e.Data), &g); err != nil {
		t.Fatalf("gap data %q: %v", e.Data, err)
	}
	return g
}

func TestSSEGap(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			hub := NewHub(HubOptions{HistorySize: 3, Logger: testLogger(t)})
			ts := newSSEServer(t, &SSEHandler{Hub: hub, Hijack: m.hijack})
			var ids []string
			for i := range 5 {
				ids = append(ids, publish(t, hub, "t", "", fmt.Sprint(i)))
			}
			// ids[0] and ids[1] left the 3-event history.
			for _, tc := range []struct {
				name, lastID, reason string
			}{
				{"evicted", ids[0], "evicted"},
				{"restart", "0123456789ab-4", "epoch"},
				{"unparseable", "not an id", "invalid"},
				{"ahead", hub.Epoch() + "-99", "ahead"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					s := open(t, ts.URL+"/events/t", http.Header{"Last-Event-Id": {tc.lastID}})
					e := s.next(t)
					g := gapOf(t, e)
					want := gapData{LastEventID: tc.lastID, Reason: tc.reason, Epoch: hub.Epoch(), Next: ids[2]}
					if g != want {
						t.Errorf("gap %+v, want %+v", g, want)
					}
					if e.ID != ids[1] {
						t.Errorf("gap event id %q, want %q (just before the next event)", e.ID, ids[1])
					}
					for i := 2; i < 5; i++ {
						if e := s.next(t); e.ID != ids[i] || e.Type != "message" {
							t.Fatalf("after the gap: %+v, want %s", e, ids[i])
						}
					}
				})
			}
			// Resuming from the gap event's own ID needs no gap.
			s := open(t, ts.URL+"/events/t", http.Header{"Last-Event-Id": {ids[1]}})
			if e := s.next(t); e.ID != ids[2] {
				t.Errorf("resume from gap id: %+v", e)
			}
		})
	}
}

func TestSSEGapEmptyHistory(t *testing.T) {
	hub := NewHub(HubOptions{HistorySize: -1, Logger: testLogger(t)})
	ts := newSSEServer(t, &SSEHandler{Hub: hub, LongPollWait: time.Millisecond})
	publish(t, hub, "t", "", "a")
	b := publish(t, hub, "t", "", "b")
	_, body := get(t, "GET", ts.URL+"/events/t?transport=longpoll&lastEventId="+hub.Epoch()+"-1", nil, "")
	evs := decodeAll(t, body)
	if len(evs) != 1 {
		t.Fatalf("events %+v, want one gap", evs)
	}
	if g := gapOf(t, evs[0]); g.Reason != "evicted" || evs[0].ID != b || g.Next != hub.Epoch()+"-3" {
		t.Errorf("gap %+v id %s", g, evs[0].ID)
	}
	// Up to date: no gap even without history.
	if _, body = get(t, "GET", ts.URL+"/events/t?transport=longpoll&lastEventId="+b, nil, ""); len(decodeAll(t, body)) != 0 {
		t.Errorf("up to date without history: %q", body)
	}
}

func TestSSEDisconnectAndReconnect(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			hub := NewHub(HubOptions{Logger: testLogger(t)})
			ts := newSSEServer(t, &SSEHandler{Hub: hub, Hijack: m.hijack})
			s := open(t, ts.URL+"/events/t", nil)
			waitFor(t, "subscriber", func() bool { return hub.Stats().Subscribers == 1 })
			a := publish(t, hub, "t", "", "a")
			if e := s.next(t); e.ID != a {
				t.Fatalf("got %+v", e)
			}
			hub.Disconnect("t")
			if err := s.ended(t); !errors.Is(err, io.EOF) {
				t.Errorf("stream ended with %v, want a clean EOF", err)
			}
			b := publish(t, hub, "t", "", "b")
			s2 := open(t, ts.URL+"/events/t", http.Header{"Last-Event-Id": {s.rd.LastEventID()}})
			if e := s2.next(t); e.ID != b || e.Data != "b" {
				t.Fatalf("after reconnect: %+v, want %s", e, b)
			}
		})
	}
}

func TestSSEHubCloseEndsStreams(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			hub := NewHub(HubOptions{Logger: testLogger(t)})
			ts := newSSEServer(t, &SSEHandler{Hub: hub, Hijack: m.hijack})
			s := open(t, ts.URL+"/events/t", nil)
			waitFor(t, "subscriber", func() bool { return hub.Stats().Subscribers == 1 })
			hub.Close()
			s.ended(t)
			resp, _ := get(t, "GET", ts.URL+"/events/t", nil, "")
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("after Close: %s", resp.Status)
			}
		})
	}
}

func TestSSEClientGoneUnsubscribes(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			hub := NewHub(HubOptions{Logger: testLogger(t)})
			// In hijack mode a departed client is noticed at a write:
			// heartbeats make that prompt.
			ts := newSSEServer(t, &SSEHandler{Hub: hub, Hijack: m.hijack, Heartbeat: 5 * time.Millisecond})
			s := open(t, ts.URL+"/events/t", nil)
			waitFor(t, "subscriber", func() bool { return hub.Stats().Subscribers == 1 })
			s.resp.Body.Close()
			waitFor(t, "unsubscribe", func() bool { return hub.Stats().Subscribers == 0 })
		})
	}
}

func TestSSESlowClientEvicted(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			hub := NewHub(HubOptions{HistorySize: 4, SubscriberBuffer: 4, Logger: testLogger(t)})
			// In handler mode the evicted stream ends when its blocked write
			// times out.
			ts := newSSEServer(t, &SSEHandler{Hub: hub, Hijack: m.hijack, WriteTimeout: 2 * time.Second})
			// A raw connection that never reads: kernel buffers fill, the
			// server's writes block, the subscriber falls behind.
			conn, err := net.Dial("tcp", ts.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "GET /events/t HTTP/1.1\r\nHost: x\r\n\r\n")
			waitFor(t, "subscriber", func() bool { return hub.Stats().Subscribers == 1 })
			fast := open(t, ts.URL+"/events/t", nil)
			waitFor(t, "subscribers", func() bool { return hub.Stats().Subscribers == 2 })
			big := strings.Repeat("x", 64<<10)
			var mu sync.Mutex
			var got int
			go func() {
				for {
					e, ok := <-fast.events
					if !ok {
						return
					}
					if e.Data == big {
						mu.Lock()
						got++
						mu.Unlock()
					}
				}
			}()
			published := 0
			for hub.Stats().Evicted == 0 {
				if published == 20000 {
					t.Fatal("slow client never evicted")
				}
				// Publish never blocks, whatever the slow client does. Pace
				// only to let the fast client keep up on a busy machine.
				publish(t, hub, "t", "", big)
				published++
				waitFor(t, "fast client", func() bool { mu.Lock(); defer mu.Unlock(); return got >= published-2 })
			}
			if st := hub.Stats(); st.Subscribers != 1 || st.Evicted != 1 {
				t.Errorf("stats %+v", st)
			}
			// The slow stream ends: reading it now reaches its end (the last
			// chunk, or the connection's end if a write timed out).
			_ = conn.SetReadDeadline(time.Now().Add(guard))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.Copy(io.Discard, resp.Body)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Errorf("slow stream did not end: %v", err)
			}
		})
	}
}

func TestSSEBadRequests(t *testing.T) {
	hub := NewHub(HubOptions{Logger: testLogger(t)})
	h := &SSEHandler{Hub: hub, Logger: testLogger(t)}
	mux := http.NewServeMux()
	mux.Handle("/events/{topic}", h)
	mux.Handle("/none", h)
	ts := newSSEServer(t, &SSEHandler{Hub: hub})
	ts.Config.Handler = mux
	if resp, _ := get(t, "POST", ts.URL+"/events/t", nil, "x"); resp.StatusCode != 405 {
		t.Errorf("POST: %s", resp.Status)
	}
	if resp, _ := get(t, "GET", ts.URL+"/none", nil, ""); resp.StatusCode != 400 {
		t.Errorf("no topic: %s", resp.Status)
	}
	if resp, _ := get(t, "GET", ts.URL+"/events/"+strings.Repeat("x", MaxTopicLength+1), nil, ""); resp.StatusCode != 400 {
		t.Errorf("long topic: %s", resp.Status)
	}
	resp, body := get(t, "HEAD", ts.URL+"/events/t", nil, "")
	if resp.StatusCode != 200 || body != "" || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Errorf("HEAD: %s %q %v", resp.Status, body, resp.Header)
	}
	if st := hub.Stats(); st.Subscribers != 0 || st.Topics != 0 {
		t.Errorf("stats after bad requests %+v", st)
	}
}
