package e2e

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/eventwire/eventwire/protocol/sse"
)

// recEvent, recError and recSource are what testdata/conformance/record.js
// keeps for one EventSource.
type recEvent struct {
	Type   string `json:"type"`
	Data   string `json:"data"`
	ID     string `json:"id"`
	Origin string `json:"origin"`
}

type recError struct {
	RS     int     `json:"rs"`
	T      float64 `json:"t"`
	Reason string  `json:"reason"`
	Status int     `json:"status"`
}

type recSource struct {
	URL        string     `json:"url"`
	Opened     int        `json:"opened"`
	Opens      []float64  `json:"opens"`
	Errors     []recError `json:"errors"`
	Events     []recEvent `json:"events"`
	Bad        []string   `json:"bad"`
	Count      int        `json:"count"`
	Last       string     `json:"last"`
	ReadyState int        `json:"readyState"`
}

func getRec(p *page, name string) recSource {
	p.t.Helper()
	return evalJS[recSource](p, fmt.Sprintf("recGet(%q)", name))
}

// wantRec is what a page must record for published events, from origin.
func wantRec(origin string, events ...sse.Event) []recEvent {
	out := make([]recEvent, len(events))
	for i, e := range events {
		typ := e.Type
		if typ == "" {
			typ = "message"
		}
		out[i] = recEvent{Type: typ, Data: e.Data, ID: e.ID, Origin: origin}
	}
	return out
}

func checkRec(t *testing.T, what string, got, want []recEvent) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		if len(got) > 20 || len(want) > 20 {
			t.Fatalf("%s: got %d events, want %d; first difference: %s", what, len(got), len(want), firstDiff(got, want))
		}
		t.Fatalf("%s:\n got %d events: %+v\nwant %d events: %+v", what, len(got), got, len(want), want)
	}
}

func firstDiff(got, want []recEvent) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("at %d got %+v, want %+v", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("one is a prefix of the other (at %d)", min(len(got), len(want)))
}

// netRequest is one request of a tab as the browser reports it.
type netRequest struct {
	URL    string
	Type   string // the resource type: "Fetch", "XHR", "EventSource", ...
	Method string
}

// netWatch records the requests of a tab whose URL contains a substring,
// with their resource type: the proof of which transport a client used.
type netWatch struct {
	mu   sync.Mutex
	reqs []netRequest
}

func watchRequests(p *page, substr string) *netWatch {
	events := chromedp.Events(p.ctx, network.RequestWillBeSent)
	w := &netWatch{}
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			if ev.Request != nil && strings.Contains(ev.Request.URL, substr) {
				w.mu.Lock()
				w.reqs = append(w.reqs, netRequest{URL: ev.Request.URL, Type: string(ev.Type), Method: ev.Request.Method})
				w.mu.Unlock()
			}
		}
	}()
	return w
}

func (w *netWatch) seen() []netRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]netRequest(nil), w.reqs...)
}

// checkTypes fails unless every request seen has the resource type want.
func (w *netWatch) checkTypes(t *testing.T, want string) {
	t.Helper()
	reqs := w.seen()
	if len(reqs) == 0 {
		t.Fatalf("the browser reported no request of the stream")
	}
	for _, r := range reqs {
		if r.Type != want {
			t.Errorf("request %s %s has resource type %s, want %s", r.Method, r.URL, r.Type, want)
		}
	}
}

// openTransportPage opens testdata/conformance/transport.html from base,
// after the given init scripts.
func openTransportPage(t *testing.T, base string, initScripts ...string) *page {
	t.Helper()
	p := newPage(t)
	for _, s := range initScripts {
		p.addInitScript(s)
	}
	p.navigate(base + "/e2e/conformance/transport.html")
	p.waitFor("the transport page", `globalThis.state && state.phase === "ready"`)
	if got := evalJS[string](p, `state.ewExport ?? ("missing; import error: " + state.importError)`); got != "function" {
		t.Fatalf("dist/eventwire.js exports no EventSource class: %s", got)
	}
	return p
}

// streamThrough opens name on topic with init, waits for the open (and for
// ready, if not nil), publishes three events (one of them named) and checks
// they arrive, in order, once, as MessageEvents with the server's origin,
// without error events.
func streamThrough(t *testing.T, p *page, srv *testServer, name, topic, init string, ready func()) []sse.Event {
	t.Helper()
	p.run(fmt.Sprintf(`recOpen(%q, ew.EventSource, "/events/%s", %s, ["price"])`, name, topic, init))
	p.waitFor("the stream to open", fmt.Sprintf(`recGet(%q).opened >= 1`, name))
	if ready != nil {
		ready()
	}
	var published []sse.Event
	for _, e := range []sse.Event{{Data: "one"}, {Type: "price", Data: `{"px":1}`}, {Data: "multi\nline ✓"}} {
		got, err := srv.Hub().Publish(topic, e)
		if err != nil {
			t.Fatal(err)
		}
		published = append(published, got)
	}
	p.waitFor("the events", fmt.Sprintf(`recGet(%q).count >= 3`, name))
	s := getRec(p, name)
	checkRec(t, "events", s.Events, wantRec(srv.URL(), published...))
	if s.Opened != 1 || len(s.Errors) != 0 || s.ReadyState != 1 || len(s.Bad) != 0 {
		t.Errorf("opened %d, errors %+v, readyState %d, bad %v; want 1, none, 1 (OPEN), none", s.Opened, s.Errors, s.ReadyState, s.Bad)
	}
	return published
}

// noFetchStreaming takes streaming fetch away from a page: without
// ReadableStream and Response.prototype.body, fetch can only deliver whole
// bodies, as in browsers before streams.
const noFetchStreaming = `delete globalThis.ReadableStream; delete Response.prototype.body;`

// TestTransports exercises each of eventwire's transports for real in
// Chromium, proving from the browser's own network log which one ran.
func TestTransports(t *testing.T) {
	srv := startServer(t, serverConfig{Dist: true})

	// transport "fetch" and the default "auto" stream with fetch.
	for _, tc := range []struct{ name, init string }{
		{"fetch", `{ transport: "fetch" }`},
		{"auto", `{}`},
		{"auto-undefined-options", `undefined`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := openTransportPage(t, srv.URL())
			topic := "t-" + tc.name
			w := watchRequests(p, "/events/"+topic)
			streamThrough(t, p, srv, "a", topic, tc.init, nil)
			w.checkTypes(t, "Fetch")
			for _, r := range w.seen() {
				if strings.Contains(r.URL, "transport=") {
					t.Errorf("streaming request %s asks for another transport", r.URL)
				}
			}
		})
	}

	// transport "xhr" streams with XMLHttpRequest, and renews the request
	// after xhrRenewBytes without the page noticing: no error event, no
	// lost or repeated event.
	t.Run("xhr-renewal", func(t *testing.T) {
		p := openTransportPage(t, srv.URL())
		w := watchRequests(p, "/events/t-xhr")
		gate := srv.Gate()
		before := len(gate.seen())
		streamThrough(t, p, srv, "a", "t-xhr", `{ transport: "xhr", xhrRenewBytes: 4096 }`, nil)
		var published []sse.Event
		pad := strings.Repeat("x", 400)
		for i := range 40 {
			published = append(published, srv.publish("t-xhr", fmt.Sprintf("event %d %s", i, pad)))
			if i%10 == 9 {
				p.waitFor("the batch", fmt.Sprintf(`recGet("a").count >= %d`, 3+i+1))
			}
		}
		s := getRec(p, "a")
		checkRec(t, "events across renewals", s.Events[3:], wantRec(srv.URL(), published...))
		if s.Opened != 1 || len(s.Errors) != 0 {
			t.Errorf("renewals showed: opened %d, errors %+v; want 1 open, no error", s.Opened, s.Errors)
		}
		w.checkTypes(t, "XHR")
		reqs := gate.seen()[before:]
		if len(reqs) < 3 {
			t.Errorf("%d requests for ~20 KB with xhrRenewBytes 4096; want the request renewed", len(reqs))
		}
		ids := map[string]bool{}
		for _, e := range s.Events {
			ids[e.ID] = true
		}
		for i, r := range reqs[1:] {
			if !ids[r.LastEventID] {
				t.Errorf("renewal %d sent Last-Event-ID %q, not an ID the page had received", i+1, r.LastEventID)
			}
		}
		t.Logf("%d requests for %d events (xhrRenewBytes 4096)", len(reqs), len(s.Events))
	})

	// In a page without streaming fetch, "auto" streams with XHR.
	t.Run("xhr-auto-without-fetch-streaming", func(t *testing.T) {
		p := openTransportPage(t, srv.URL(), noFetchStreaming)
		type features struct {
			ReadableStream string `json:"readableStream"`
			ResponseBody   bool   `json:"responseBody"`
		}
		if f := evalJS[features](p, `state.features`); f.ReadableStream != "undefined" || f.ResponseBody {
			t.Fatalf("streaming fetch was not removed from the page: %+v", f)
		}
		w := watchRequests(p, "/events/t-noreadable")
		streamThrough(t, p, srv, "a", "t-noreadable", `{}`, nil)
		w.checkTypes(t, "XHR")
	})

	// transport "longpoll" polls from the start. The events are published
	// while a poll waits at the hub (see longpoll-event-between-polls for
	// what happens otherwise); a server of its own makes the hub's
	// subscriber count this client's alone.
	t.Run("longpoll", func(t *testing.T) {
		srv := startServer(t, serverConfig{Dist: true, Heartbeat: 200 * time.Millisecond})
		p := openTransportPage(t, srv.URL())
		gate := srv.Gate()
		before := len(gate.seen())
		streamThrough(t, p, srv, "a", "t-lp", `{ transport: "longpoll" }`, func() {
			eventually(t, "a poll waiting at the hub", func() bool { return srv.Hub().Stats().Subscribers == 1 })
		})
		reqs := gate.seen()[before:]
		if len(reqs) < 2 {
			t.Errorf("%d requests; want one poll after another", len(reqs))
		}
		for _, r := range reqs {
			if !strings.Contains(r.Query, "transport=longpoll") {
				t.Errorf("request %s?%s is not a long-poll", r.Path, r.Query)
			}
		}
	})

	t.Run("longpoll-event-between-polls", func(t *testing.T) {
		testLongPollBetweenPolls(t)
	})

	t.Run("buffering-proxy-auto-switches-to-longpoll", func(t *testing.T) {
		testBufferingProxy(t)
	})

	t.Run("polyfill-where-eventsource-is-missing", func(t *testing.T) {
		p := newPage(t)
		p.addInitScript(`delete globalThis.EventSource;`)
		p.navigate(srv.URL() + "/e2e/conformance/legacy.html")
		p.waitFor("the legacy page", `globalThis.state && state.phase === "ready"`)
		type globals struct {
			Before struct {
				EventSource string `json:"eventSource"`
			} `json:"before"`
			After struct {
				EventSource string `json:"eventSource"`
				IsEventwire bool   `json:"isEventwire"`
				Native      string `json:"native"`
			} `json:"after"`
		}
		g := evalJS[globals](p, `({ before: state.before, after: state.after })`)
		if g.Before.EventSource != "undefined" {
			t.Fatalf("EventSource was not removed before the polyfill ran: typeof %s", g.Before.EventSource)
		}
		if g.After.EventSource != "function" || !g.After.IsEventwire {
			t.Fatalf("after the polyfill: typeof EventSource %s, is eventwire's: %v; want eventwire's class installed",
				g.After.EventSource, g.After.IsEventwire)
		}
		if g.After.Native != "undefined" {
			t.Errorf("eventwire.NativeEventSource is %s in a page without a native EventSource", g.After.Native)
		}
		p.run(`recOpen("a", EventSource, "/events/t-legacy", undefined, ["price"])`)
		p.waitFor("the stream to open", `recGet("a").opened >= 1`)
		e := srv.publish("t-legacy", "through the global")
		p.waitFor("the event", `recGet("a").count >= 1`)
		s := getRec(p, "a")
		checkRec(t, "events", s.Events, wantRec(srv.URL(), e))
		if len(s.Bad) != 0 || len(s.Errors) != 0 {
			t.Errorf("bad %v, errors %+v", s.Bad, s.Errors)
		}
	})

	t.Run("polyfill-forced", func(t *testing.T) {
		p := newPage(t)
		p.navigate(srv.URL() + "/e2e/conformance/forced.html")
		p.waitFor("the forced page", `globalThis.state && state.phase === "ready"`)
		type after struct {
			EventSource string `json:"eventSource"`
			IsEventwire bool   `json:"isEventwire"`
			NativeKept  bool   `json:"nativeKept"`
		}
		if a := evalJS[after](p, `state.after`); a.EventSource != "function" || !a.IsEventwire || !a.NativeKept {
			t.Fatalf("with data-force: %+v; want eventwire's EventSource as the global and the native one in eventwire.NativeEventSource", a)
		}
		p.run(`recOpen("a", EventSource, "/events/t-forced")`)
		p.waitFor("the stream to open", `recGet("a").opened >= 1`)
		e := srv.publish("t-forced", "forced")
		p.waitFor("the event", `recGet("a").count >= 1`)
		checkRec(t, "events", getRec(p, "a").Events, wantRec(srv.URL(), e))
	})

	t.Run("dedicated-worker", func(t *testing.T) {
		p := openTransportPage(t, srv.URL())
		p.run(`startWorker("w", "/events/t-worker")`)
		w := p.attachWorker("worker", "/e2e/conformance/es-worker.js")
		testWorkerStream(t, p, w, srv, "t-worker", "DedicatedWorkerGlobalScope", "closeWorker")
	})

	// The service worker deletes its EventSource before it loads the
	// polyfill (Chromium has one since version 117; Firefox and older
	// Chromium have none), then uses the global the polyfill installed.
	t.Run("service-worker", func(t *testing.T) {
		p := openTransportPage(t, srv.URL())
		p.run(`startServiceWorker("w", "/events/t-sw")`)
		w := p.attachWorker("service_worker", "/e2e/conformance/es-sw.js")
		testWorkerStream(t, p, w, srv, "t-sw", "ServiceWorkerGlobalScope", "closeServiceWorker")
		type installed struct {
			NativeBefore string `json:"nativeBefore"`
			Global       string `json:"global"`
			IsEventwire  bool   `json:"isEventwire"`
			Native       string `json:"native"`
		}
		in := evalJS[installed](p, `state.workers.w.installed`)
		if in.Global != "function" || !in.IsEventwire || in.Native != "undefined" {
			t.Errorf("in the service worker: %+v; want the polyfill's EventSource installed as the global where there is none", in)
		}
		t.Logf("Chromium's own service worker EventSource before the test deleted it: %s", in.NativeBefore)
	})
}

// workerState is what a worker reports to the page (workers.js).
type workerState struct {
	Phase string    `json:"phase"`
	Error string    `json:"error"`
	Scope string    `json:"scope"`
	Rec   recSource `json:"rec"`
}

func testWorkerStream(t *testing.T, p, w *page, srv *testServer, topic, scope, closeFn string) {
	t.Helper()
	p.waitFor("the worker's stream to open", `state.workers.w.phase === "error" || (state.workers.w.rec && state.workers.w.rec.opened >= 1)`)
	if s := evalJS[workerState](p, `state.workers.w`); s.Phase == "error" {
		t.Fatalf("worker failed: %s", s.Error)
	}
	var published []sse.Event
	for i := range 3 {
		published = append(published, srv.publish(topic, fmt.Sprintf("to the worker %d", i)))
	}
	p.waitFor("the events in the worker", `state.workers.w.rec.count >= 3`)
	p.run(closeFn + `("w")`)
	p.waitFor("the worker to close the source", `state.workers.w.phase === "closed"`)
	s := evalJS[workerState](p, `state.workers.w`)
	if s.Scope != scope {
		t.Errorf("ran in %s, want %s", s.Scope, scope)
	}
	if want := srv.URL() + "/events/" + topic; s.Rec.URL != want {
		t.Errorf("url %q, want %q (resolved against the worker's location)", s.Rec.URL, want)
	}
	checkRec(t, "events in the worker", s.Rec.Events, wantRec(srv.URL(), published...))
	if s.Rec.Opened != 1 || len(s.Rec.Errors) != 0 || len(s.Rec.Bad) != 0 || s.Rec.ReadyState != 2 {
		t.Errorf("opened %d, errors %+v, bad %v, readyState after close %d", s.Rec.Opened, s.Rec.Errors, s.Rec.Bad, s.Rec.ReadyState)
	}
	// The harness evaluates in the worker and captured its console, also
	// what it wrote before the harness attached (an exception there would
	// fail the test).
	if got := evalJS[string](w, `typeof self.eventwire`); got != "object" {
		t.Errorf("typeof eventwire in the worker = %s", got)
	}
	captured := false
	for _, text := range w.consoleTexts() {
		captured = captured || strings.HasPrefix(text, "e2e: es-") && strings.HasSuffix(text, ".js evaluated")
	}
	if !captured {
		t.Errorf("the worker's first console message was not captured; got %q", w.consoleTexts())
	}
}

// testBufferingProxy: behind a proxy that buffers whole responses, native
// EventSource stalls silently in CONNECTING; eventwire's "auto" sees no byte
// of the stream within bufferingTimeout although the server flushes at once,
// switches to long-polling for good, and delivers every event, without an
// error event.
func testBufferingProxy(t *testing.T) {
	// A server of its own, with heartbeats that soon notice the stream
	// eventwire gave up: the hub's subscriber count is then native's
	// stream and eventwire's waiting poll.
	srv := startServer(t, serverConfig{Dist: true, Heartbeat: 200 * time.Millisecond})
	proxy := newBufferingProxy(t, srv.addr)
	p := openTransportPage(t, proxy.URL())
	gate := srv.Gate()
	before := len(gate.seen())
	p.run(`recOpen("native", EventSource, "/events/t-buffered")`)
	p.run(`recOpen("a", ew.EventSource, "/events/t-buffered", { bufferingTimeout: 1000 })`)
	p.waitFor("eventwire to open through the proxy", `recGet("a").opened >= 1`)
	// Publish while a poll waits (see testLongPollBetweenPolls).
	eventually(t, "native's stream and a poll at the hub", func() bool { return srv.Hub().Stats().Subscribers == 2 })
	var published []sse.Event
	for i := range 5 {
		published = append(published, srv.publish("t-buffered", fmt.Sprintf("buffered %d", i)))
		if i == 1 {
			p.waitFor("the first events", `recGet("a").count >= 2`)
		}
	}
	p.waitFor("every event", `recGet("a").count >= 5`)
	s := getRec(p, "a")
	checkRec(t, "events through the buffering proxy", s.Events, wantRec(proxy.URL(), published...))
	if s.Opened != 1 || len(s.Errors) != 0 || s.ReadyState != 1 {
		t.Errorf("opened %d, errors %+v, readyState %d; want the switch invisible: 1 open, no error, OPEN", s.Opened, s.Errors, s.ReadyState)
	}
	var streams, polls int
	for _, r := range gate.seen()[before:] {
		if strings.Contains(r.Query, "transport=longpoll") {
			polls++
		} else {
			streams++
		}
	}
	if polls == 0 {
		t.Errorf("the server saw no ?transport=longpoll request: eventwire did not switch")
	}
	// One stream request each from native and from eventwire before the
	// switch; eventwire never streams again.
	if streams > 2 {
		t.Errorf("%d streaming requests; want eventwire to stay on long-polling after the switch", streams)
	}
	n := getRec(p, "native")
	if n.Count != 0 || n.Opened != 0 || n.ReadyState != 0 {
		t.Errorf("native EventSource through the proxy: %d events, opened %d, readyState %d; the proxy does not buffer", n.Count, n.Opened, n.ReadyState)
	}
	t.Logf("server saw %d streaming and %d long-poll requests", streams, polls)
}

// testLongPollBetweenPolls: an event published after the open event, while
// the long-polling client is between two polls, must still arrive. The gate
// holds the next poll until the event is published, so this happens every
// time. The client has no last event ID yet (nothing arrived), so its next
// poll can only ask for the events after the one it did not see unless the
// empty answer told it the position.
func testLongPollBetweenPolls(t *testing.T) {
	srv := startServer(t, serverConfig{Dist: true, Heartbeat: 200 * time.Millisecond})
	p := openTransportPage(t, srv.URL())
	p.run(`recOpen("a", ew.EventSource, "/events/t-gap", { transport: "longpoll" })`)
	eventually(t, "the first poll waiting at the hub", func() bool { return srv.Hub().Stats().Subscribers == 1 })
	gate := srv.Gate()
	gate.hold()
	// The first poll ends empty after LongPollWait (1 s) and opens the
	// source; the next one waits at the gate.
	p.waitFor("the open", `recGet("a").opened >= 1`)
	eventually(t, "the next poll at the gate", func() bool { return gate.heldCount() >= 1 })
	e := srv.publish("t-gap", "published between two polls")
	gate.release()
	// A few poll cycles are plenty; the wait is bounded so that a failure
	// does not take the whole wait timeout.
	deadline := time.Now().Add(5 * time.Second)
	for getRec(p, "a").Count == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	s := getRec(p, "a")
	if s.Count == 0 {
		var polls []string
		for _, r := range gate.seen() {
			polls = append(polls, fmt.Sprintf("?%s Last-Event-ID=%q", r.Query, r.LastEventID))
		}
		t.Fatalf("the event published after the open, between two polls, never arrived (5 s, polls %v): "+
			"an empty long-poll answer carries no position, so a client without a last event ID asks only for "+
			"events after its next poll begins", polls)
	}
	checkRec(t, "events", s.Events, wantRec(srv.URL(), e))
}
