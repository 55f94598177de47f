package e2e

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eventwire/eventwire/protocol/sse"
)

// seenEvent is one event as a page's EventSource dispatched it.
type seenEvent struct {
	Type string `json:"type"`
	Data string `json:"data"`
	ID   string `json:"id"`
}

// esState is what testdata/es.js records for one EventSource.
type esState struct {
	Opened     int         `json:"opened"`
	Errors     int         `json:"errors"`
	Events     []seenEvent `json:"events"`
	ReadyState int         `json:"readyState"`
}

func getES(p *page, name string) esState {
	p.t.Helper()
	return evalJS[esState](p, fmt.Sprintf("esState(%q)", name))
}

// want converts published events to what the browser should dispatch.
func want(events ...sse.Event) []seenEvent {
	out := make([]seenEvent, len(events))
	for i, e := range events {
		typ := e.Type
		if typ == "" {
			typ = "message"
		}
		out[i] = seenEvent{Type: typ, Data: e.Data, ID: e.ID}
	}
	return out
}

func checkEvents(t *testing.T, what string, got, want []seenEvent) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %d events: %+v\nwant %d events: %+v", what, len(got), got, len(want), want)
	}
}

// TestNativeEventSource proves the server's stream works with the browser's
// own EventSource: the open is immediate, and events of several types, with
// multi-line and non-ASCII data, published with Hub.Publish and through
// POST /publish/{topic}, arrive in order with their IDs.
func TestNativeEventSource(t *testing.T) {
	srv := startServer(t, serverConfig{})
	p := newPage(t)
	p.navigate(srv.URL() + "/e2e/blank.html")
	p.run(`openES("a", "/events/news", ["price", "note"])`)
	p.waitFor("the stream to open", `esState("a").opened === 1`)

	var published []sse.Event
	for _, e := range []sse.Event{
		{Data: "hello"},
		{Data: "line one\nline two\n\nline four"},
		{Type: "price", Data: `{"sym":"EWR","px":101.25}`},
		{Data: "héllo wörld ✓ 🌍"},
		{Data: " leading space, trailing space "},
	} {
		got, err := srv.Hub().Publish("news", e)
		if err != nil {
			t.Fatalf("Publish: %v", err)
		}
		published = append(published, got)
	}
	// And one through the publish endpoint, from the page.
	id := evalJS[string](p, `fetch("/publish/news?event=note", { method: "POST", body: "posted ✓" }).then(r => r.text())`)
	published = append(published, sse.Event{Type: "note", Data: "posted ✓", ID: strings.TrimSpace(id)})
	wantEvents := want(published...)

	p.waitFor("all events", fmt.Sprintf(`esState("a").events.length >= %d`, len(wantEvents)))
	s := getES(p, "a")
	checkEvents(t, "events seen by the native EventSource", s.Events, wantEvents)
	if s.Opened != 1 || s.Errors != 0 || s.ReadyState != 1 {
		t.Errorf("opened=%d errors=%d readyState=%d, want 1, 0, 1 (OPEN)", s.Opened, s.Errors, s.ReadyState)
	}
}

// TestNativeReconnectResumes proves that after the server side drops the
// stream the browser reconnects with Last-Event-ID and the server replays
// exactly what it missed: events published while it was disconnected arrive
// once, in order, with no gap and no duplicate. The reconnect request is held
// at a gate until those events are published, so the replay path is taken
// every time, not only when the timing happens to allow it.
func TestNativeReconnectResumes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		proxy    bool // cut the TCP connections at a proxy, else Hub.Disconnect
		noHijack bool // serve streams through net/http, not hijacked
	}{
		{name: "hub-disconnect"},
		{name: "hub-disconnect-no-hijack", noHijack: true},
		{name: "proxy-cut", proxy: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, serverConfig{NoHijack: tc.noHijack})
			base := srv.URL()
			var proxy *faultProxy
			if tc.proxy {
				proxy = newFaultProxy(t, srv.addr)
				base = proxy.URL()
			}
			p := newPage(t)
			p.navigate(base + "/e2e/blank.html")
			p.run(`openES("a", "/events/feed")`)
			p.waitFor("the stream to open", `esState("a").opened === 1`)

			var published []sse.Event
			for i := 1; i <= 3; i++ {
				published = append(published, srv.publish("feed", fmt.Sprintf("event %d", i)))
			}
			p.waitFor("the first 3 events", `esState("a").events.length === 3`)

			gate := srv.Gate()
			before := len(gate.seen())
			gate.hold()
			if tc.proxy {
				if n := proxy.cut(); n == 0 {
					t.Fatal("the proxy had no connection to cut")
				}
			} else {
				srv.Hub().Disconnect("feed")
			}
			p.waitFor("the error event of the drop", `esState("a").errors >= 1`)
			eventually(t, "the browser's reconnect request", func() bool { return gate.heldCount() >= 1 })

			// Published while the browser is disconnected: only the replay
			// can deliver these.
			for i := 4; i <= 5; i++ {
				published = append(published, srv.publish("feed", fmt.Sprintf("event %d", i)))
			}
			if s := getES(p, "a"); s.ReadyState != 0 {
				t.Errorf("readyState during the disconnect = %d, want 0 (CONNECTING)", s.ReadyState)
			}
			gate.release()
			p.waitFor("the replayed events", `esState("a").events.length >= 5`)
			published = append(published, srv.publish("feed", "event 6 (live)"))
			p.waitFor("the live event after the resume", `esState("a").events.length >= 6`)

			s := getES(p, "a")
			checkEvents(t, "events across the reconnect", s.Events, want(published...))
			if s.Opened != 2 {
				t.Errorf("opened %d times, want 2", s.Opened)
			}
			reqs := gate.seen()[before:]
			if len(reqs) == 0 || reqs[0].LastEventID != published[2].ID {
				t.Errorf("reconnect requests %+v: want the first with Last-Event-ID %q", reqs, published[2].ID)
			}
		})
	}
}

// longPollResult is what the page's fetch of a long-poll returned.
type longPollResult struct {
	Status      int    `json:"status"`
	ContentType string `json:"contentType"`
	Body        string `json:"body"`
}

// longPollFetch is the page-side fetch of a long-poll; it resolves to a
// longPollResult.
const longPollFetch = `(async (url) => {
	const r = await fetch(url, { cache: "no-store" });
	return { status: r.status, contentType: r.headers.get("content-type"), body: await r.text() };
})`

func decodeBody(t *testing.T, body string) (events []sse.Event, retry time.Duration) {
	t.Helper()
	d := sse.NewDecoder(sse.DecoderOptions{})
	if err := d.Feed([]byte(body), func(e sse.Event) { events = append(events, e) }); err != nil {
		t.Fatalf("decoding the long-poll body %q: %v", body, err)
	}
	// A long-poll body is a whole stream: anything after the last blank
	// line would be an unfinished event.
	if body != "" && !strings.HasSuffix(body, "\n\n") {
		t.Errorf("long-poll body does not end with a blank line: %q", body)
	}
	return events, d.Retry()
}

func asSeen(events []sse.Event) []seenEvent {
	out := make([]seenEvent, len(events))
	for i, e := range events {
		out[i] = seenEvent{Type: e.Type, Data: e.Data, ID: e.ID}
	}
	return out
}

// TestLongPoll proves the long-poll mode from a page's fetch: the response is
// an event-stream body with the events after the given ID when there are
// some; it waits for the next event when there are none; it ends empty after
// the configured wait; and an ID from another epoch gets the gap event
// followed by the history.
func TestLongPoll(t *testing.T) {
	srv := startServer(t, serverConfig{LongPollWait: 500 * time.Millisecond})
	p := newPage(t)
	p.navigate(srv.URL() + "/e2e/blank.html")

	var published []sse.Event
	for i := 1; i <= 5; i++ {
		published = append(published, srv.publish("lp", fmt.Sprintf("poll %d", i)))
	}
	url := func(lastID string) string {
		return "/events/lp?transport=longpoll&lastEventId=" + lastID
	}
	poll := func(t *testing.T, lastID string) longPollResult {
		t.Helper()
		r := evalJS[longPollResult](p.in(t), fmt.Sprintf("%s(%q)", longPollFetch, url(lastID)))
		if r.Status != 200 || !strings.HasPrefix(r.ContentType, "text/event-stream") {
			t.Fatalf("long-poll after %q: status %d, content-type %q", lastID, r.Status, r.ContentType)
		}
		return r
	}

	t.Run("events-after-id", func(t *testing.T) {
		r := poll(t, published[1].ID)
		got, retry := decodeBody(t, r.Body)
		checkEvents(t, "long-poll after event 2", asSeen(got), want(published[2:]...))
		if retry != 100*time.Millisecond {
			t.Errorf("retry hint %v, want 100ms", retry)
		}
	})

	t.Run("waits-for-next-event", func(t *testing.T) {
		// Not awaited here: the promise is kept and awaited after the publish.
		p := p.in(t)
		eventually(t, "the earlier long-polls to end", func() bool { return srv.Hub().Stats().Subscribers == 0 })
		p.run(fmt.Sprintf("window.pending = %s(%q); undefined", longPollFetch, url(published[4].ID)))
		eventually(t, "the long-poll to wait at the hub", func() bool { return srv.Hub().Stats().Subscribers == 1 })
		next := srv.publish("lp", "poll 6")
		published = append(published, next)
		r := evalJS[longPollResult](p, "window.pending")
		got, _ := decodeBody(t, r.Body)
		checkEvents(t, "long-poll answered by a new event", asSeen(got), want(next))
	})

	t.Run("empty-after-wait", func(t *testing.T) {
		r := poll(t, published[5].ID)
		got, _ := decodeBody(t, r.Body)
		if len(got) != 0 {
			t.Errorf("long-poll with nothing new returned events %+v", got)
		}
	})

	t.Run("gap-for-other-epoch", func(t *testing.T) {
		old := "0000deadbeef-3"
		r := poll(t, old)
		got, _ := decodeBody(t, r.Body)
		if len(got) != 1+len(published) {
			t.Fatalf("got %d events, want the gap event and %d events of history: %+v", len(got), len(published), got)
		}
		checkGap(t, got[0].Type, got[0].Data, old, "epoch", srv.Hub().Epoch())
		checkEvents(t, "history after the gap", asSeen(got[1:]), want(published...))
	})
}

// gapData is the documented JSON data of a gap event.
type gapData struct {
	LastEventID string `json:"lastEventId"`
	Reason      string `json:"reason"`
	Epoch       string `json:"epoch"`
	Next        string `json:"next"`
}

func checkGap(t *testing.T, typ, data, lastID, reason, epoch string) {
	t.Helper()
	if typ != "gap" {
		t.Fatalf("event type %q, want gap", typ)
	}
	var g gapData
	if err := json.Unmarshal([]byte(data), &g); err != nil {
		t.Fatalf("gap data %q: %v", data, err)
	}
	if g.LastEventID != lastID || g.Reason != reason || g.Epoch != epoch {
		t.Errorf("gap data %+v, want lastEventId %q, reason %q, epoch %q", g, lastID, reason, epoch)
	}
}

// TestGapAfterRestart proves the epoch in event IDs: the server restarts on
// the same port with a new Hub, the browser's EventSource reconnects on its
// own with an ID of the old epoch, and the first thing it receives is the
// gap event, followed by what the new server published meanwhile and then
// live events.
func TestGapAfterRestart(t *testing.T) {
	srv := startServer(t, serverConfig{})
	p := newPage(t)
	p.navigate(srv.URL() + "/e2e/blank.html")
	p.run(`openES("a", "/events/g")`)
	p.waitFor("the stream to open", `esState("a").opened === 1`)
	old := []sse.Event{srv.publish("g", "before 1"), srv.publish("g", "before 2")}
	p.waitFor("the events before the restart", `esState("a").events.length === 2`)
	oldEpoch := srv.Hub().Epoch()

	srv.restart(true)
	newEpoch := srv.Hub().Epoch()
	if newEpoch == oldEpoch {
		t.Fatalf("the restarted hub kept the epoch %q", oldEpoch)
	}
	gate := srv.Gate()
	eventually(t, "the browser's reconnect to the new server", func() bool { return gate.heldCount() >= 1 })
	if reqs := gate.seen(); reqs[0].LastEventID != old[1].ID {
		t.Errorf("reconnect Last-Event-ID %q, want %q", reqs[0].LastEventID, old[1].ID)
	}
	during := srv.publish("g", "after restart 1")
	gate.release()
	p.waitFor("the gap event and the replay", `esState("a").events.length >= 4`)
	live := srv.publish("g", "after restart 2")
	p.waitFor("the live event", `esState("a").events.length >= 5`)

	s := getES(p, "a")
	checkEvents(t, "events before the restart", s.Events[:2], want(old...))
	checkGap(t, s.Events[2].Type, s.Events[2].Data, old[1].ID, "epoch", newEpoch)
	if !strings.HasPrefix(s.Events[2].ID, newEpoch+"-") {
		t.Errorf("gap event ID %q is not of the new epoch %q", s.Events[2].ID, newEpoch)
	}
	checkEvents(t, "events after the gap", s.Events[3:], want(during, live))
}
