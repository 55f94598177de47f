package e2e

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventwire/eventwire/protocol/sse"
)

// TestFaultDropMidEvent: the connection drops in the middle of an event.
// The partial event is discarded, the client reconnects with the ID of the
// last whole event, and the Hub's replay delivers the cut event whole: in
// order, nothing lost, nothing twice. Native EventSource runs alongside as
// the reference.
func TestFaultDropMidEvent(t *testing.T) {
	srv := startServer(t, serverConfig{Dist: true})
	proxy := newFaultProxy(t, srv.addr)
	p := openTransportPage(t, proxy.URL())
	impls := []struct{ name, ctor, init string }{
		{"native", "EventSource", "undefined"},
		{"eventwire", "ew.EventSource", `{ retryMaxDelay: 500 }`},
		{"eventwire-xhr", "ew.EventSource", `{ transport: "xhr", retryMaxDelay: 500 }`},
	}
	for _, impl := range impls {
		p.run(fmt.Sprintf(`recOpen(%q, %s, "/events/drop-%s", %s)`, impl.name, impl.ctor, impl.name, impl.init))
	}
	for _, impl := range impls {
		p.waitFor(impl.name+" to open", fmt.Sprintf(`recGet(%q).opened >= 1`, impl.name))
	}
	gate := srv.Gate()
	published := map[string][]sse.Event{}
	for _, impl := range impls {
		for i := 1; i <= 3; i++ {
			published[impl.name] = append(published[impl.name], srv.publish("drop-"+impl.name, fmt.Sprintf("whole %d", i)))
		}
	}
	for _, impl := range impls {
		p.waitFor(impl.name+"'s first events", fmt.Sprintf(`recGet(%q).count >= 3`, impl.name))
	}
	before := len(gate.seen())
	for _, impl := range impls {
		marker := "CUT-" + impl.name + "-HERE"
		proxy.arm(marker)
		data := strings.Repeat("a", 200) + marker + strings.Repeat("z", 200)
		published[impl.name] = append(published[impl.name], srv.publish("drop-"+impl.name, data))
	}
	for _, impl := range impls {
		p.waitFor(impl.name+" to reconnect and get the replay",
			fmt.Sprintf(`recGet(%q).opened >= 2 && recGet(%q).count >= 4`, impl.name, impl.name))
		published[impl.name] = append(published[impl.name], srv.publish("drop-"+impl.name, "live after the drop"))
	}
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			p := p.in(t)
			p.waitFor("the live event", fmt.Sprintf(`recGet(%q).count >= 5`, impl.name))
			s := getRec(p, impl.name)
			checkRec(t, "events across the drop", s.Events, wantRec(proxy.URL(), published[impl.name]...))
			if s.Opened != 2 || len(s.Errors) != 1 || s.Errors[0].RS != 0 {
				t.Errorf("opened %d, errors %+v; want 2 opens and one error in CONNECTING", s.Opened, s.Errors)
			}
			var reconnect *sseRequest
			for _, r := range gate.seen()[before:] {
				if r.Path == "/events/drop-"+impl.name {
					reconnect = &r
					break
				}
			}
			if want := published[impl.name][2].ID; reconnect == nil || reconnect.LastEventID != want {
				t.Errorf("reconnect request %+v, want Last-Event-ID %q (the last whole event)", reconnect, want)
			}
		})
	}
	if cuts := proxy.cutMarkers(); len(cuts) != len(impls) {
		t.Errorf("the proxy cut %d streams (%v), want %d", len(cuts), cuts, len(impls))
	}
}

// TestFaultHeartbeat: a stream that stays idle for several heartbeatTimeouts
// but receives the server's heartbeat comments is not reconnected; without
// heartbeats, the same timeout reconnects with an error event whose reason
// says so, and prints nothing to the console.
func TestFaultHeartbeat(t *testing.T) {
	// Heartbeats every 150 ms against a 1 s timeout: a wide margin for a
	// busy machine.
	const heartbeatTimeout = time.Second
	t.Run("kept-alive", func(t *testing.T) {
		srv := startServer(t, serverConfig{Dist: true, Heartbeat: 150 * time.Millisecond})
		p := openTransportPage(t, srv.URL())
		p.run(fmt.Sprintf(`recOpen("a", ew.EventSource, "/events/idle", { heartbeatTimeout: %d })`, heartbeatTimeout.Milliseconds()))
		p.waitFor("the stream to open", `recGet("a").opened >= 1`)
		// Idle for three heartbeat timeouts; only comments arrive.
		time.Sleep(3 * heartbeatTimeout)
		e := srv.publish("idle", "after the idle time")
		p.waitFor("the event", `recGet("a").count >= 1`)
		s := getRec(p, "a")
		checkRec(t, "events", s.Events, wantRec(srv.URL(), e))
		if s.Opened != 1 || len(s.Errors) != 0 {
			t.Errorf("opened %d, errors %+v: a stream kept alive by heartbeats was reconnected", s.Opened, s.Errors)
		}
		if n := len(srv.Gate().seen()); n != 1 {
			t.Errorf("the server saw %d stream requests, want 1", n)
		}
	})
	t.Run("silent-server", func(t *testing.T) {
		srv := startServer(t, serverConfig{Dist: true, Heartbeat: -1})
		p := openTransportPage(t, srv.URL())
		p.run(fmt.Sprintf(`recOpen("a", ew.EventSource, "/events/silent", { heartbeatTimeout: %d, retryMaxDelay: 300 })`,
			heartbeatTimeout.Milliseconds()))
		p.waitFor("the stream to open", `recGet("a").opened >= 1`)
		first := srv.publish("silent", "before the timeout")
		p.waitFor("a heartbeat timeout and a new connection", `recGet("a").errors.length >= 1 && recGet("a").opened >= 2`)
		s := getRec(p, "a")
		if e := s.Errors[0]; e.RS != 0 || e.Reason != "heartbeat timeout" {
			t.Errorf("error event %+v, want readyState 0 (CONNECTING) and reason \"heartbeat timeout\"", e)
		}
		reqs := srv.Gate().seen()
		if len(reqs) < 2 || reqs[1].LastEventID != first.ID {
			t.Errorf("requests %+v; want a reconnection with Last-Event-ID %q", reqs, first.ID)
		}
		for _, text := range p.consoleTexts() {
			if strings.Contains(strings.ToLower(text), "heartbeat") {
				t.Errorf("the heartbeat timeout printed to the console: %q", text)
			}
		}
	})
}

// reconnectingIn matches eventwire's debug line for a reconnection (see
// wasm/eventsource: "...; reconnecting in 1234ms (failures 2)").
var reconnectingIn = regexp.MustCompile(`reconnecting in (\d+)ms \(failures (\d+)\)`)

// TestFaultDeadServerBackoff: the server goes away (connection refused).
// eventwire retries with exponential backoff and full jitter, capped by
// retryMaxDelay, never faster than the reconnection time; when the server
// comes back it reconnects and resumes. Only generous bounds are asserted:
// the timing of a shared 2-core machine is not exact.
func TestFaultDeadServerBackoff(t *testing.T) {
	const (
		retry    = 50 * time.Millisecond // the server's retry:, the floor
		capDelay = 2500 * time.Millisecond
		slack    = time.Second
		failures = 6
	)
	srv := startServer(t, serverConfig{Dist: true, Retry: retry})
	p := openTransportPage(t, srv.URL())
	p.run(fmt.Sprintf(`recOpen("a", ew.EventSource, "/events/dead", { retryMaxDelay: %d, debug: true })`, capDelay.Milliseconds()))
	p.waitFor("the stream to open", `recGet("a").opened >= 1`)
	before := srv.publish("dead", "before the server died")
	p.waitFor("the first event", `recGet("a").count >= 1`)

	srv.stop()
	// The end of the stream, then one error per refused attempt.
	p.waitFor("the failed attempts", fmt.Sprintf(`recGet("a").errors.length >= %d`, failures+1))
	s := getRec(p, "a")
	for _, e := range s.Errors {
		if e.RS != 0 {
			t.Fatalf("error events %+v: want every one in CONNECTING (reconnecting, never given up)", s.Errors)
		}
	}
	// gaps[i] is the wait after the (i+1)-th failure in a row.
	var gaps []time.Duration
	for i := 1; i+1 < len(s.Errors) && len(gaps) < failures; i++ {
		gaps = append(gaps, time.Duration(s.Errors[i+1].T-s.Errors[i].T)*time.Millisecond)
	}
	t.Logf("waits between attempts after failures 1..%d: %v (reconnection time %v, cap %v)", len(gaps), gaps, retry, capDelay)
	var sum time.Duration
	for i, g := range gaps {
		sum += g
		if g < retry-10*time.Millisecond {
			t.Errorf("wait %d = %v, shorter than the reconnection time %v", i+1, g, retry)
		}
		if g > capDelay+slack {
			t.Errorf("wait %d = %v, above the cap %v (+%v slack)", i+1, g, capDelay, slack)
		}
	}
	// After the first failure the envelope is max(r, 1 s)·2 = 2 s.
	if gaps[0] > 2*time.Second+slack {
		t.Errorf("the wait after the first failure is %v, above its bound 2 s (+%v slack)", gaps[0], slack)
	}
	sorted := append([]time.Duration(nil), gaps...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	if spread := sorted[len(sorted)-1] - sorted[0]; spread < 50*time.Millisecond {
		t.Errorf("waits %v are all within %v: no jitter", gaps, spread)
	}
	// Uniform draws from [50 ms, 2 s or more] average about 1 s; a client
	// that waited only the reconnection time would average 50 ms.
	if mean := sum / time.Duration(len(gaps)); mean < 4*retry {
		t.Errorf("mean wait %v: the client does not back off beyond the reconnection time %v", mean, retry)
	}

	// The debug lines state each wait and the failure count; check the
	// growth of the envelope with them: the n-th failure in a row waits at
	// most min(cap, 2ⁿ s), and the failure count grows one by one.
	var stated []string
	n := 0
	for _, text := range p.consoleTexts() {
		m := reconnectingIn.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		d, _ := strconv.Atoi(m[1])
		f, _ := strconv.Atoi(m[2])
		stated = append(stated, fmt.Sprintf("%dms(n=%d)", d, f))
		if f == 0 {
			continue // the orderly end of the stream waits r exactly
		}
		n++
		if f != n {
			t.Errorf("debug line %q: failure count %d, want %d", text, f, n)
		}
		bound := min(capDelay, time.Duration(1<<min(f, 20))*time.Second)
		if dd := time.Duration(d) * time.Millisecond; dd < retry || dd > bound {
			t.Errorf("debug line %q: wait outside [%v, %v]", text, retry, bound)
		}
	}
	if len(stated) == 0 {
		t.Logf("no debug lines matched %q; the stated waits were not checked", reconnectingIn)
	} else {
		t.Logf("stated waits: %v", stated)
	}

	// The server comes back on the same address (a new hub): the client
	// reconnects within the cap and receives what is published.
	srv.restart(false)
	p.waitFor("the reconnection to the restarted server", `recGet("a").opened >= 2`)
	after := srv.publish("dead", "after the restart")
	p.waitFor("the event after the restart", `recGet("a").events.some((e) => e.data === "after the restart")`)
	got := getRec(p, "a")
	if got.Events[0].Data != before.Data {
		t.Errorf("first event %+v, want %q", got.Events[0], before.Data)
	}
	if last := got.Events[len(got.Events)-1]; last.Data != after.Data {
		t.Errorf("last event %+v, want %q", last, after.Data)
	}
}
