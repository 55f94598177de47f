package eventsource

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventwire/eventwire/protocol/sse"
	"github.com/eventwire/eventwire/wasm/internal/clock/clocktest"
)

const origin = "https://example.com"

var errNet = errors.New("net::ERR_CONNECTION_RESET")

func TestResponseValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		ct     string
		fail   Reason // "" = accepted
	}{
		{"plain", 200, "text/event-stream", ""},
		{"charset param", 200, "text/event-stream;charset=utf-8", ""},
		{"upper case", 200, "TEXT/EVENT-STREAM", ""},
		{"mixed case and spaces", 200, " Text/Event-Stream ; charset=\"x\"", ""},
		{"declared latin1 still decoded as UTF-8", 200, "text/event-stream; charset=iso-8859-1", ""},
		{"combined, last wins", 200, "text/html, text/event-stream", ""},
		{"combined, last is not", 200, "text/event-stream, text/html", ReasonContentType},
		{"text/plain", 200, "text/plain", ReasonContentType},
		{"missing", 200, "", ReasonContentType},
		{"suffix", 200, "text/event-streams", ReasonContentType},
		{"no subtype", 200, "text/", ReasonContentType},
		{"no content 204", 204, "text/event-stream", ReasonStatus},
		{"server error 500", 500, "text/event-stream", ReasonStatus},
		{"unfollowed 301", 301, "text/event-stream", ReasonStatus},
		{"created 201", 201, "text/event-stream", ReasonStatus},
		{"opaque 0", 0, "", ReasonStatus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{})
			fc := h.start()
			h.state(Connecting)
			fc.s.Response(Response{Status: tc.status, ContentType: tc.ct})
			if tc.fail == "" {
				h.state(Open)
				h.expect("open " + origin + " [OPEN]")
				fc.send("data: é\xff\n\n")
				h.expect("event message \"é\ufffd\" id= " + origin + " [OPEN]")
				return
			}
			h.state(Closed)
			h.expect("error CLOSED " + string(tc.fail) + " status=" + itoa(tc.status) + " [CLOSED]")
			if !fc.aborted() {
				t.Error("request not aborted")
			}
			if e := h.sink.lastErr(t); e.Response == nil || e.Response.Status != tc.status || e.Response.ContentType != tc.ct {
				t.Errorf("error response = %+v", e.Response)
			}
			fc.send("data: late\n\n")
			fc.s.End()
			h.clk.Advance(time.Hour)
			h.tr.none(t)
			h.expect()
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestRedirectOrigin(t *testing.T) {
	for _, tc := range []struct {
		final, origin string
	}{
		{"", origin}, // transport did not report: the request URL
		{"https://example.com/events", origin},
		{"https://cdn.example.net:443/stream?x=1", "https://cdn.example.net"},
		{"http://Other.Example:8080/s", "http://other.example:8080"},
	} {
		h := newHarness(t, Options{})
		fc := h.start()
		fc.s.Response(Response{Status: 200, ContentType: "text/event-stream", URL: tc.final})
		fc.send("data: a\n\n")
		h.expect("open "+tc.origin+" [OPEN]", "event message \"a\" id= "+tc.origin+" [OPEN]")
	}
}

func TestReconnectToFinalURL(t *testing.T) {
	h := newHarness(t, Options{LastEventIDParam: "last"})
	fc := h.start()
	if fc.req.URL != testURL {
		t.Fatalf("first request to %s", fc.req.URL)
	}
	const final = "https://cdn.example.net/s?x=1"
	fc.s.Response(Response{Status: 200, ContentType: "text/event-stream", URL: final})
	fc.send("id: 7\ndata: a\n\n").s.End()
	h.clk.Advance(DefaultReconnectionTime)
	fc = h.tr.next(t)
	if want := final + "&last=7"; fc.req.URL != want {
		t.Errorf("reconnection to %s, want %s", fc.req.URL, want)
	}
	// No redirect this time: the next one goes there again.
	fc.s.Response(Response{Status: 200, ContentType: "text/event-stream", URL: fc.req.URL})
	fc.send("id: 8\ndata: b\n\n").s.End()
	h.clk.Advance(DefaultReconnectionTime)
	if fc = h.tr.next(t); fc.req.URL != final+"&last=8" {
		t.Errorf("second reconnection to %s", fc.req.URL)
	}
}

func TestRequestShape(t *testing.T) {
	for _, tc := range []struct {
		name    string
		url     string
		opts    Options
		wantURL string
		method  string
		headers []Header
		creds   bool
		body    any
	}{
		{
			name:    "defaults",
			wantURL: testURL, method: "GET",
			headers: []Header{{"Accept", "text/event-stream"}},
		},
		{
			name: "post with body, credentials, headers",
			opts: Options{Method: "post", Body: "q=1", WithCredentials: true,
				Header: []Header{{"Authorization", "Bearer t"}, {"last-event-id", "ignored"}}},
			wantURL: testURL, method: "POST", creds: true, body: "q=1",
			headers: []Header{{"Accept", "text/event-stream"}, {"Authorization", "Bearer t"}},
		},
		{
			name:    "accept replaced",
			opts:    Options{Header: []Header{{"accept", "text/event-stream, */*"}}},
			wantURL: testURL, method: "GET",
			headers: []Header{{"accept", "text/event-stream, */*"}},
		},
		{
			name:    "initial last event id as header and param",
			url:     testURL + "?topic=a&lastEventId=old#frag",
			opts:    Options{LastEventID: "7 &=é", LastEventIDParam: "lastEventId"},
			wantURL: testURL + "?topic=a&lastEventId=7%20%26%3D%C3%A9#frag", method: "GET",
			headers: []Header{{"Accept", "text/event-stream"}, {"Last-Event-ID", "7 &=é"}},
		},
		{
			name:    "param configured but no id: stale param dropped",
			url:     testURL + "?lastEventId=old&topic=a",
			opts:    Options{LastEventIDParam: "lastEventId"},
			wantURL: testURL + "?topic=a", method: "GET",
			headers: []Header{{"Accept", "text/event-stream"}},
		},
		{
			name:    "initial id with a line break is refused",
			opts:    Options{LastEventID: "a\nb"},
			wantURL: testURL, method: "GET",
			headers: []Header{{"Accept", "text/event-stream"}},
		},
		{
			name:    "long-poll marker",
			url:     testURL + "?topic=a",
			opts:    Options{Mode: ModeLongPoll},
			wantURL: testURL + "?topic=a&transport=longpoll", method: "GET",
			headers: []Header{{"Accept", "text/event-stream"}},
		},
		{
			name:    "long-poll marker off",
			opts:    Options{Mode: ModeLongPoll, LongPollQuery: "-"},
			wantURL: testURL, method: "GET",
			headers: []Header{{"Accept", "text/event-stream"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.url
			if u == "" {
				u = testURL
			}
			h := newHarnessURL(t, u, tc.opts)
			r := h.start().req
			if r.URL != tc.wantURL || r.Method != tc.method || r.WithCredentials != tc.creds ||
				r.Body != tc.body || !slices.Equal(r.Header, tc.headers) ||
				r.LongPoll != (tc.opts.Mode == ModeLongPoll) {
				t.Errorf("request = %+v\nwant URL %s method %s creds %v body %v headers %v",
					*r, tc.wantURL, tc.method, tc.creds, tc.body, tc.headers)
			}
		})
	}
}

func TestReconnectWithLastEventID(t *testing.T) {
	for _, tc := range []struct {
		name   string
		param  string
		url    string
		wantU2 string
	}{
		{"header only", "", testURL, testURL},
		{"header and query param", "lastEventId", testURL, testURL + "?lastEventId=42"},
		{"param replaces one in the URL", "last", testURL + "?last=1&t=x", testURL + "?t=x&last=42"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessURL(t, tc.url, Options{LastEventIDParam: tc.param})
			fc := h.start()
			if fc.header("Last-Event-ID") != "" || strings.Contains(fc.req.URL, "=42") {
				t.Fatalf("first request carries an id: %+v", fc.req)
			}
			fc.ok().send("id: 42\ndata: a\n\n")
			fc.s.End()
			h.state(Connecting)
			h.expect("open "+origin+" [OPEN]", `event message "a" id=42 `+origin+" [OPEN]",
				"error CONNECTING end of stream delay=3s [CONNECTING]")
			if !fc.aborted() {
				t.Error("ended request's context not cancelled")
			}
			h.clk.Advance(3*time.Second - 1)
			h.tr.none(t)
			h.clk.Advance(1)
			fc2 := h.tr.next(t)
			if got := fc2.header("Last-Event-ID"); got != "42" {
				t.Errorf("Last-Event-ID = %q", got)
			}
			if fc2.req.URL != tc.wantU2 {
				t.Errorf("URL = %s, want %s", fc2.req.URL, tc.wantU2)
			}
			h.state(Connecting)
			fc2.ok()
			h.expect("open " + origin + " [OPEN]")
		})
	}
}

func TestRetryHonoured(t *testing.T) {
	for _, tc := range []struct {
		body string
		want time.Duration
	}{
		{"retry: 1500\n\n", 1500 * time.Millisecond},
		{"retry: 1500\n", 1500 * time.Millisecond}, // applies at once, no blank line needed
		{"retry: 0\n\n", 0},
		{"retry: 1000x\n\n", 3 * time.Second}, // invalid: ignored
		{"retry: 5000\nretry: -1\n\n", 5 * time.Second},
		{": only a comment\n\n", 3 * time.Second},
	} {
		h := newHarness(t, Options{})
		fc := h.start().ok()
		fc.send(tc.body)
		fc.s.End()
		if e := h.sink.lastErr(t); e.Delay != tc.want || e.Reason != ReasonEndOfStream {
			t.Errorf("%q: delay %v reason %q, want %v", tc.body, e.Delay, e.Reason, tc.want)
		}
		h.clk.Advance(tc.want)
		h.tr.next(t)
	}
}

func TestInitialReconnectionTimeOption(t *testing.T) {
	h := newHarness(t, Options{ReconnectionTime: 500 * time.Millisecond})
	h.start().ok().s.End()
	if e := h.sink.lastErr(t); e.Delay != 500*time.Millisecond {
		t.Fatalf("delay %v", e.Delay)
	}
}

func TestErrorOpenSequence(t *testing.T) {
	h := newHarness(t, Options{})
	h.state(Connecting)
	fc := h.start()
	h.state(Connecting)
	h.expect()
	fc.ok()
	h.expect("open " + origin + " [OPEN]") // before any body byte
	fc.send("data: 1\n\n")
	fc.s.Fail(errNet)
	h.expect(`event message "1" id= `+origin+" [OPEN]", "error CONNECTING network error delay=4.5s [CONNECTING]")
	if e := h.sink.lastErr(t); !errors.Is(e.Err, errNet) {
		t.Errorf("err = %v", e.Err)
	}
	h.clk.Advance(4500 * time.Millisecond)
	fc = h.tr.next(t)
	fc.s.Fail(errNet) // before the response
	h.expect("error CONNECTING network error delay=7.5s [CONNECTING]")
	h.clk.Advance(7500 * time.Millisecond)
	fc = h.tr.next(t).ok()
	h.expect("open " + origin + " [OPEN]")
	fc.s.End()
	h.expect("error CONNECTING end of stream delay=3s [CONNECTING]")
	h.clk.Advance(3 * time.Second)
	fc = h.tr.next(t)
	fc.s.Response(Response{Status: 500, ContentType: "text/event-stream"})
	h.expect("error CLOSED bad status status=500 [CLOSED]")
	h.clk.Advance(time.Hour)
	h.tr.none(t)
}

func TestCloseMidStream(t *testing.T) {
	h := newHarness(t, Options{HeartbeatTimeout: time.Minute})
	fc := h.start().ok()
	fc.send("data: 1\n\ndata: 2")
	h.c.Close()
	h.state(Closed)
	if !fc.aborted() {
		t.Error("request not aborted")
	}
	fc.send("\n\ndata: 3\n\n")
	fc.s.Fail(errNet)
	fc.s.End()
	h.clk.Advance(time.Hour)
	h.tr.none(t)
	h.expect("open "+origin+" [OPEN]", `event message "1" id= `+origin+" [OPEN]")
	if p := h.clk.Pending(); len(p) != 0 {
		t.Errorf("timers left: %v", p)
	}
	h.c.Close() // idempotent
	h.c.Start() // no effect after close
	h.tr.none(t)
}

func TestCloseDuringReconnectWait(t *testing.T) {
	h := newHarness(t, Options{})
	h.start().ok().s.End()
	h.c.Close()
	h.clk.Advance(time.Hour)
	h.tr.none(t)
	h.expect("open "+origin+" [OPEN]", "error CONNECTING end of stream delay=3s [CONNECTING]")
}

func TestCloseBeforeStart(t *testing.T) {
	h := newHarness(t, Options{})
	h.c.Close()
	h.c.Start()
	h.tr.none(t)
	h.state(Closed)
	h.expect()
}

// A listener calling close() from inside a batch: the rest of the chunk
// is the Sink's business, nothing after it reaches the Sink.
func TestCloseFromListener(t *testing.T) {
	h := newHarness(t, Options{})
	h.sink.onEvents = func([]sse.Event) { h.c.Close() }
	fc := h.start().ok()
	fc.send("data: 1\n\ndata: 2\n\n")
	h.state(Closed)
	if !fc.aborted() {
		t.Error("request not aborted")
	}
	fc.send("data: 3\n\n")
	fc.s.End()
	h.clk.Advance(time.Hour)
	h.tr.none(t)
	h.expect("open "+origin+" [OPEN]", `event message "1" id= `+origin+" [OPEN]", `event message "2" id= `+origin+" [OPEN]")
}

func TestPartialEventDiscardedAtDisconnect(t *testing.T) {
	for _, end := range []string{"fail", "end"} {
		t.Run(end, func(t *testing.T) {
			h := newHarness(t, Options{})
			fc := h.start().ok()
			fc.send("id: 1\ndata: a\n\nid: 2\nevent: x\ndata: b")
			if end == "fail" {
				fc.s.Fail(errNet)
			} else {
				fc.s.End()
			}
			h.clk.Advance(h.sink.lastErr(t).Delay)
			fc = h.tr.next(t)
			if got := fc.header("Last-Event-ID"); got != "1" {
				t.Errorf("Last-Event-ID = %q, want 1 (id 2 was not committed)", got)
			}
			fc.ok().send("\n\ndata: c\n\n") // the new stream starts clean
			got := h.sink.take()
			want := `event message "c" id=1 ` + origin + " [OPEN]"
			if got[len(got)-1] != want || slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, `"b"`) }) {
				t.Errorf("log %q", got)
			}
		})
	}
}

func TestOneSinkCallPerChunk(t *testing.T) {
	h := newHarness(t, Options{})
	fc := h.start().ok()
	var b strings.Builder
	for i := range 100 {
		b.WriteString("data: " + itoa(i) + "\n\n")
	}
	fc.send(b.String() + "data: partial\n")
	if h.sink.nBatches() != 1 || len(h.sink.events) != 100 {
		t.Fatalf("batches %d events %d", h.sink.nBatches(), len(h.sink.events))
	}
	fc.send(": comment\n")
	fc.send("id: 5\n")
	if h.sink.nBatches() != 1 {
		t.Fatalf("empty batch delivered")
	}
	fc.send("\n")
	if h.sink.nBatches() != 2 || h.sink.events[100].ID != "5" || h.sink.events[100].Data != "partial" {
		t.Fatalf("batches %d, last %+v", h.sink.nBatches(), h.sink.events[100])
	}
	fc.send("id: 6\n\n") // commits an id, dispatches nothing
	if h.sink.nBatches() != 2 {
		t.Fatalf("empty batch delivered")
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rand   float64
		opts   Options
		delays []time.Duration
	}{
		{
			name: "no jitter draws the floor", rand: 0,
			delays: []time.Duration{3e9, 3e9, 3e9, 3e9},
		},
		{
			// windows [3,6] [3,12] [3,24] [3,30] [3,30]; 31/32 of each
			name: "near the ceiling grows to the cap", rand: 31.0 / 32,
			delays: []time.Duration{590625e4, 1171875e4, 2334375e4, 2915625e4, 2915625e4, 2915625e4},
		},
		{
			name: "middle", rand: 0.5,
			delays: []time.Duration{4500e6, 7500e6, 13500e6, 16500e6},
		},
		{
			name: "custom cap", rand: 31.0 / 32, opts: Options{BackoffMax: 10 * time.Second},
			delays: []time.Duration{590625e4, 978125e4, 978125e4},
		},
		{
			name: "disabled", rand: 0.999, opts: Options{BackoffMax: -1},
			delays: []time.Duration{3e9, 3e9, 3e9},
		},
		{
			name: "cap below reconnection time", rand: 0.999, opts: Options{BackoffMax: time.Second},
			delays: []time.Duration{3e9, 3e9},
		},
		{
			// retry: 0 — growth base 1 s, floor 0: full jitter in [0, 2ⁿ s]
			name: "zero reconnection time", rand: 0.5, opts: Options{ReconnectionTime: -1},
			delays: []time.Duration{1e9, 2e9, 4e9, 8e9, 15e9, 15e9},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Rand = func() float64 { return tc.rand }
			h := newHarness(t, tc.opts)
			fc := h.start()
			for i, want := range tc.delays {
				fc.s.Fail(errNet)
				e := h.sink.lastErr(t)
				if e.Delay != want || e.State != Connecting || e.Reason != ReasonNetwork {
					t.Fatalf("failure %d: %+v, want delay %v", i+1, e, want)
				}
				h.clk.Advance(want)
				fc = h.tr.next(t)
			}
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	// Random draws: every delay within [r, min(cap, r·2ⁿ)].
	var seed uint64 = 1
	rnd := func() float64 {
		seed = seed*6364136223846793005 + 1442695040888963407
		return float64(seed>>11) / (1 << 53)
	}
	h := newHarness(t, Options{Rand: rnd})
	fc := h.start()
	for n := 1; n <= 50; n++ {
		fc.s.Fail(errNet)
		d := h.sink.lastErr(t).Delay
		hi := min(30*time.Second, 3*time.Second<<min(n, 10))
		if d < 3*time.Second || d > hi {
			t.Fatalf("failure %d: delay %v outside [3s, %v]", n, d, hi)
		}
		h.clk.Advance(d)
		fc = h.tr.next(t)
	}
}

func TestBackoffResetAfterOpen(t *testing.T) {
	h := newHarness(t, Options{Rand: func() float64 { return 31.0 / 32 }})
	fc := h.start()
	for range 3 {
		fc.s.Fail(errNet)
		h.clk.Advance(h.sink.lastErr(t).Delay)
		fc = h.tr.next(t)
	}
	if d := h.sink.lastErr(t).Delay; d < 20*time.Second {
		t.Fatalf("third delay %v did not grow", d)
	}
	fc.ok()
	fc.s.Fail(errNet)
	if d := h.sink.lastErr(t).Delay; d != 590625e4 {
		t.Fatalf("delay after a successful open = %v, want the first window again", d)
	}
	// An orderly end waits the reconnection time exactly, jitter or not.
	h.clk.Advance(590625e4)
	h.tr.next(t).ok().s.End()
	if d := h.sink.lastErr(t).Delay; d != 3*time.Second {
		t.Fatalf("delay after end of stream = %v", d)
	}
}

func TestHeartbeatTimeout(t *testing.T) {
	const hb = 10 * time.Second
	for _, tc := range []struct {
		name string
		play func(h *harness, fc *fakeConn) // returns with the clock at the last activity
	}{
		{"no response at all", func(h *harness, fc *fakeConn) {}},
		{"response but no byte", func(h *harness, fc *fakeConn) {
			h.clk.Advance(4 * time.Second)
			fc.ok()
		}},
		{"bytes then silence", func(h *harness, fc *fakeConn) {
			fc.ok()
			for range 5 {
				h.clk.Advance(9 * time.Second)
				fc.send("data: x\n\n")
			}
		}},
		{"comments keep it alive", func(h *harness, fc *fakeConn) {
			fc.ok()
			for range 5 {
				h.clk.Advance(9 * time.Second)
				fc.send(":\n")
			}
		}},
		{"a single byte keeps it alive", func(h *harness, fc *fakeConn) {
			fc.ok()
			h.clk.Advance(9 * time.Second)
			fc.send(":")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{HeartbeatTimeout: hb, Mode: ModeStream, Rand: func() float64 { return 0 }})
			fc := h.start()
			tc.play(h, fc)
			h.clk.Advance(hb - 1)
			if fc.aborted() || h.sink.nErrs() > 0 {
				t.Fatal("timed out early")
			}
			h.clk.Advance(1)
			if !fc.aborted() {
				t.Fatal("request not aborted")
			}
			e := h.sink.lastErr(t)
			if e.Reason != ReasonHeartbeat || e.State != Connecting || e.Delay != 3*time.Second || string(e.Reason) != "heartbeat timeout" {
				t.Fatalf("error %+v", e)
			}
			h.state(Connecting)
			h.clk.Advance(3 * time.Second)
			h.tr.next(t)
		})
	}
}

// In ModeAuto the proxy detection judges silence before the first byte,
// even with a shorter heartbeat; the heartbeat runs from that byte on.
func TestHeartbeatWithDetection(t *testing.T) {
	h := newHarness(t, Options{HeartbeatTimeout: 2 * time.Second, Rand: func() float64 { return 0 }})
	fc := h.start().ok()
	h.clk.Advance(4 * time.Second)
	if fc.aborted() || h.sink.nErrs() > 0 {
		t.Fatal("heartbeat fired before the first byte")
	}
	fc.send(":ok\n")
	h.clk.Advance(2*time.Second - 1)
	if fc.aborted() {
		t.Fatal("heartbeat fired early")
	}
	h.clk.Advance(1)
	if !fc.aborted() || h.sink.lastErr(t).Reason != ReasonHeartbeat || h.c.LongPolling() {
		t.Fatal("no heartbeat timeout after the first byte")
	}
	h.clk.Advance(3 * time.Second)
	fc = h.tr.next(t)
	h.clk.Advance(5 * time.Second) // silent again: a buffering proxy
	if !fc.aborted() || !h.c.LongPolling() || h.sink.nErrs() != 1 {
		t.Fatal("did not switch")
	}
	h.tr.next(t)
}

func TestLongPoll(t *testing.T) {
	h := newHarness(t, Options{Mode: ModeLongPoll, LastEventIDParam: "lastEventId", HeartbeatTimeout: time.Second})
	if !h.c.LongPolling() {
		t.Fatal("not long-polling")
	}
	fc := h.start()
	if !fc.req.LongPoll || fc.req.URL != testURL+"?transport=longpoll" {
		t.Fatalf("request %+v", fc.req)
	}
	h.clk.Advance(20 * time.Second) // the server holds the poll: no heartbeat timeout
	fc.ok().send("id: 1\ndata: a\n\nid: 2\ndata: b\n\n")
	fc.s.End()
	h.expect("open "+origin+" [OPEN]", `event message "a" id=1 `+origin+" [OPEN]", `event message "b" id=2 `+origin+" [OPEN]")

	// The next poll at once, with the last ID; no error, still OPEN.
	fc = h.tr.next(t)
	h.state(Open)
	if fc.header("Last-Event-ID") != "2" || fc.req.URL != testURL+"?lastEventId=2&transport=longpoll" {
		t.Fatalf("poll %+v", fc.req)
	}
	fc.ok().send("data: c\n\n") // no second open
	fc.s.End()
	h.expect(`event message "c" id=2 ` + origin + " [OPEN]")

	// A poll that brings nothing and ends at once: wait out the
	// reconnection time since it was sent, still OPEN and silent.
	fc = h.tr.next(t)
	h.clk.Advance(time.Second)
	fc.ok().send(": keepalive\n")
	fc.s.End()
	h.tr.none(t)
	h.clk.Advance(2*time.Second - 1)
	h.tr.none(t)
	h.clk.Advance(1)
	fc = h.tr.next(t)
	h.state(Open)
	h.expect()

	// An empty poll that lasted its full wait: next at once.
	h.clk.Advance(25 * time.Second)
	fc.ok().s.End()
	fc = h.tr.next(t)

	// A failing poll is a real failure: error, CONNECTING, backoff, open.
	fc.s.Fail(errNet)
	h.expect("error CONNECTING network error delay=4.5s [CONNECTING]")
	h.clk.Advance(4500 * time.Millisecond)
	fc = h.tr.next(t).ok()
	h.expect("open " + origin + " [OPEN]")

	// A bad status fails for good, even from OPEN.
	fc.send("data: d\n\n").s.End()
	fc = h.tr.next(t)
	fc.s.Response(Response{Status: 204})
	h.expect(`event message "d" id=2 `+origin+" [OPEN]", "error CLOSED bad status status=204 [CLOSED]")
}

func TestLongPollTimeout(t *testing.T) {
	h := newHarness(t, Options{Mode: ModeLongPoll, LongPollTimeout: 40 * time.Second})
	fc := h.start()
	h.clk.Advance(30 * time.Second)
	fc.ok()
	h.clk.Advance(40*time.Second - 1)
	h.expect("open " + origin + " [OPEN]")
	h.clk.Advance(1)
	if !fc.aborted() {
		t.Fatal("poll not aborted")
	}
	h.expect("error CONNECTING poll timeout delay=4.5s [CONNECTING]")
}

func TestBufferingProxyDetection(t *testing.T) {
	for _, tc := range []struct {
		name      string
		headers   bool // the proxy lets the headers through
		wantState ReadyState
	}{
		{"whole response buffered", false, Connecting},
		{"body buffered", true, Open},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Options{}) // ModeAuto, 5 s
			fc := h.start()
			if fc.req.LongPoll || h.c.LongPolling() {
				t.Fatal("started long-polling")
			}
			if tc.headers {
				fc.ok()
				h.sink.take()
			}
			h.clk.Advance(5*time.Second - 1)
			h.tr.none(t)
			h.clk.Advance(1)
			if !fc.aborted() {
				t.Fatal("streaming request not aborted")
			}
			fc = h.tr.next(t)
			if !fc.req.LongPoll || fc.req.URL != testURL+"?transport=longpoll" || !h.c.LongPolling() {
				t.Fatalf("not switched: %+v", fc.req)
			}
			h.state(tc.wantState)
			h.expect() // no error event for the switch

			fc.ok().send("data: a\n\n")
			fc.s.End()
			h.state(Open)
			fc = h.tr.next(t) // polls at once from now on
			if !fc.req.LongPoll {
				t.Fatal("switched back")
			}
			// ...and after failures too, with no new detection.
			fc.s.Fail(errNet)
			h.clk.Advance(h.sink.lastErr(t).Delay)
			fc = h.tr.next(t)
			if !fc.req.LongPoll {
				t.Fatal("switched back after a failure")
			}
			h.clk.Advance(30 * time.Second)
			h.tr.none(t)
		})
	}
}

func TestBufferingProxyNotDetected(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		byte bool
	}{
		{"first byte in time", Options{}, true},
		{"stream mode never switches", Options{Mode: ModeStream}, false},
		{"detection disabled", Options{BufferingTimeout: -1}, false},
		{"custom timeout not reached", Options{BufferingTimeout: 8 * time.Second}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.opts)
			fc := h.start().ok()
			h.clk.Advance(4 * time.Second)
			if tc.byte {
				fc.send(":\n")
			}
			h.clk.Advance(3 * time.Second)
			h.tr.none(t)
			if fc.aborted() || h.c.LongPolling() {
				t.Fatal("switched")
			}
		})
	}
}

func TestHeaderFuncPerRequest(t *testing.T) {
	var calls atomic.Int32
	h := newHarness(t, Options{
		Header: []Header{{"X-Static", "s"}, {"Authorization", "static"}},
		HeaderFunc: func() ([]Header, error) {
			n := calls.Add(1)
			if n == 3 {
				return nil, errors.New("token endpoint down")
			}
			return []Header{{"Authorization", "Bearer " + itoa(int(n))}}, nil
		},
	})
	h.c.Start()
	fc := h.nextSettled()
	want := []Header{{"Accept", "text/event-stream"}, {"X-Static", "s"}, {"Authorization", "Bearer 1"}}
	if !slices.Equal(fc.req.Header, want) {
		t.Fatalf("headers %v", fc.req.Header)
	}
	fc.ok().send("id: 9\ndata: x\n\n")
	fc.s.End()
	h.clk.Advance(3 * time.Second)
	fc = h.nextSettled() // reconnection: called again
	if fc.header("Authorization") != "Bearer 2" || fc.header("Last-Event-ID") != "9" {
		t.Fatalf("headers %v", fc.req.Header)
	}
	fc.s.Fail(errNet)
	h.clk.Advance(h.sink.lastErr(t).Delay)
	waitFor(t, func() bool { return h.sink.nErrs() == 3 })
	if e := h.sink.lastErr(t); e.Reason != ReasonHeaders || e.Err == nil || e.State != Connecting {
		t.Fatalf("error %+v", e)
	}
	h.clk.Advance(h.sink.lastErr(t).Delay)
	fc = h.nextSettled()
	if fc.header("Authorization") != "Bearer 4" {
		t.Fatalf("headers %v", fc.req.Header)
	}
	if calls.Load() != 4 || h.tr.count() != 3 {
		t.Fatalf("calls %d requests %d", calls.Load(), h.tr.count())
	}
}

func TestHeaderFuncResultDroppedAfterClose(t *testing.T) {
	entered, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	h := newHarness(t, Options{HeaderFunc: func() ([]Header, error) {
		defer close(done)
		close(entered)
		<-release // a slow token refresh
		return []Header{{"Authorization", "x"}}, nil
	}})
	h.c.Start()
	<-entered
	h.c.Close()
	close(release)
	<-done
	h.settle()
	h.tr.none(t)
	h.expect()
}

func TestHeaderFuncPanic(t *testing.T) {
	h := newHarness(t, Options{HeaderFunc: func() ([]Header, error) { panic("boom") }})
	h.c.Start()
	waitFor(t, func() bool { return h.sink.nErrs() == 1 })
	if e := h.sink.lastErr(t); e.Reason != ReasonHeaders || !strings.Contains(e.Err.Error(), "boom") {
		t.Fatalf("error %+v", e)
	}
}

func TestEventTooLarge(t *testing.T) {
	h := newHarness(t, Options{MaxEventSize: 16})
	fc := h.start().ok()
	fc.send("data: ok\n\ndata: 0123456789abcdef\n\n")
	h.expect("open "+origin+" [OPEN]", `event message "ok" id= `+origin+" [OPEN]", "error CLOSED event too large [CLOSED]")
	if e := h.sink.lastErr(t); !errors.Is(e.Err, sse.ErrEventTooLarge) {
		t.Fatalf("err %v", e.Err)
	}
	if !fc.aborted() {
		t.Fatal("not aborted")
	}
}

func TestUnsupportedScheme(t *testing.T) {
	for _, u := range []string{"ftp://example.com/x", "data:text/event-stream,data:x", "javascript:1", "HTTPS://EXAMPLE.COM/ok"} {
		h := newHarnessURL(t, u, Options{})
		h.c.Start()
		if strings.HasPrefix(u, "HTTPS") {
			h.tr.next(t)
			continue
		}
		h.tr.none(t)
		h.expect("error CLOSED unsupported URL scheme [CLOSED]")
	}
}

func TestRenew(t *testing.T) {
	h := newHarness(t, Options{})
	fc := h.start().ok()
	h.sink.take()
	fc.send("data: 1\n\nid: 7\ndata: 2")
	fc.s.Renew() // mid-event: wait for the boundary
	h.tr.none(t)
	fc.send("\r\n") // ends the line, not the event
	h.tr.none(t)
	fc.send("\r\n") // CRLF blank line: boundary
	if !fc.aborted() {
		t.Fatal("not renewed")
	}
	fc2 := h.tr.next(t)
	if fc2.header("Last-Event-ID") != "7" {
		t.Fatalf("renewal headers %v", fc2.req.Header)
	}
	fc2.ok()
	fc2.send("data: 3\n\n")
	fc2.s.Renew() // at a boundary: at once
	fc3 := h.tr.next(t)
	h.state(Open)
	fc3.ok()
	h.expect(`event message "1" id= `+origin+" [OPEN]", `event message "2" id=7 `+origin+" [OPEN]",
		`event message "3" id=7 `+origin+" [OPEN]")
}

func TestAtBoundary(t *testing.T) {
	for _, tc := range []struct {
		chunks []string
		want   bool
	}{
		{[]string{""}, true},
		{[]string{"\n"}, true},
		{[]string{"data: x\n\n"}, true},
		{[]string{"data: x\n"}, false},
		{[]string{"data: x\n", "\n"}, true},
		{[]string{"data: x\r\n\r\n"}, true},
		{[]string{"data: x\r\n\r"}, true},
		{[]string{"data: x\r\n", "\r", "\n"}, true},
		{[]string{"data: x\r\r"}, true},
		{[]string{"data: x\n\r"}, true},
		{[]string{"data: x\r\n"}, false},
		{[]string{"data: x\r"}, false},
		{[]string{"data: x\n\nda"}, false},
	} {
		tail := [3]byte{'\n', '\n', '\n'}
		for _, c := range tc.chunks {
			tail = shiftTail(tail, []byte(c))
		}
		if got := atBoundary(tail); got != tc.want {
			t.Errorf("%q: %v", tc.chunks, got)
		}
	}
}

// Chunks posted while the Client is busy are copied: the transport may
// reuse its buffer as soon as Chunk returns, and order is kept.
func TestQueuedChunkCopiedAndOrdered(t *testing.T) {
	h := newHarness(t, Options{})
	fc := h.start().ok()
	release := make(chan struct{})
	var once sync.Once
	h.sink.onEvents = func([]sse.Event) { once.Do(func() { <-release }) }
	go func() {
		fc.send("data: 0\n\n") // blocks in the sink until released
	}()
	waitFor(t, func() bool { return h.sink.nBatches() == 1 })
	buf := []byte("data: 1\n\n")
	fc.s.Chunk(buf) // queued
	copy(buf, "data: X\n\n")
	fc.s.Chunk(buf) // queued
	fc.s.End()      // queued
	close(release)
	waitFor(t, func() bool { return h.sink.nErrs() == 1 })
	var got []string
	for _, e := range h.sink.events {
		got = append(got, e.Data)
	}
	if !slices.Equal(got, []string{"0", "1", "X"}) {
		t.Fatalf("events %q", got)
	}
}

func TestConcurrentProducers(t *testing.T) {
	h := newHarness(t, Options{HeartbeatTimeout: time.Second})
	fc := h.start().ok()
	const n = 2000
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { // the network
		defer wg.Done()
		buf := make([]byte, 0, 32)
		for i := range n {
			buf = append(buf[:0], "data: "...)
			buf = append(buf, itoa(i)...)
			buf = append(buf, "\n\n"...)
			fc.s.Chunk(buf)
		}
	}()
	go func() { // timers
		defer wg.Done()
		for range 200 {
			h.clk.Advance(time.Millisecond)
		}
	}()
	go func() { // the page reading state
		defer wg.Done()
		for range 2000 {
			_ = h.c.ReadyState()
			_ = h.c.LongPolling()
		}
	}()
	wg.Wait()
	if len(h.sink.events) != n {
		t.Fatalf("%d events", len(h.sink.events))
	}
	for i, e := range h.sink.events {
		if e.Data != itoa(i) {
			t.Fatalf("event %d = %q", i, e.Data)
		}
	}
	h.c.Close()
}

type panicSink struct{ recSink }

func (s *panicSink) Events(string, *Batch) { panic("listener bug") }

func TestPanicInSinkClosesClient(t *testing.T) {
	tr, clk := newFakeTransport(), clocktest.New(0)
	s := &panicSink{}
	c := New(testURL, tr, s, Options{Clock: clk})
	s.c = c
	c.Start()
	fc := tr.next(t).ok()
	func() {
		defer func() {
			if r := recover(); r != "listener bug" {
				t.Fatalf("recovered %v", r)
			}
		}()
		fc.send("data: x\n\n")
	}()
	if c.ReadyState() != Closed || !fc.aborted() {
		t.Fatal("not closed")
	}
	fc.send("data: y\n\n") // no deadlock, ignored
	c.Close()
}

func TestAllocsPerChunk(t *testing.T) {
	chunk := []byte(strings.Repeat("data: 0123456789\n\n", 10))
	dec := sse.NewDecoder(sse.DecoderOptions{})
	var evs []sse.Event
	base := testing.AllocsPerRun(100, func() {
		evs = evs[:0]
		if err := dec.Feed(chunk, func(e sse.Event) { evs = append(evs, e) }); err != nil {
			t.Fatal(err)
		}
	})
	h := newHarness(t, Options{HeartbeatTimeout: time.Minute})
	fc := h.start().ok()
	fc.s.Chunk(chunk)
	var null nullSink
	h.c.sink = null
	got := testing.AllocsPerRun(100, func() { fc.s.Chunk(chunk) })
	if got > base {
		t.Fatalf("client: %v allocs per chunk, decoder alone %v", got, base)
	}
	t.Logf("allocs per chunk of 10 events: %v (decoder %v)", got, base)
}

type nullSink struct{}

func (nullSink) Open(*OpenInfo)        {}
func (nullSink) Events(string, *Batch) {}
func (nullSink) Error(*ErrorInfo)      {}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestOnPanicOnTimerGoroutine(t *testing.T) {
	tr, clk := newFakeTransport(), clocktest.New(0)
	got := make(chan any, 1)
	c := New(testURL, tr, panicErrorSink{}, Options{
		Clock: clk, Mode: ModeStream, HeartbeatTimeout: time.Second,
		OnPanic: func(v any) { got <- v },
	})
	c.Start()
	tr.next(t).ok()
	clk.Advance(time.Second) // the heartbeat timer fires: an error event, whose Sink panics
	select {
	case v := <-got:
		if v != "error bug" {
			t.Fatalf("OnPanic got %v", v)
		}
	default:
		t.Fatal("OnPanic was not called")
	}
	if c.ReadyState() != Closed {
		t.Fatal("not closed after the panic")
	}
}

func TestOnPanicOnHeaderFuncGoroutine(t *testing.T) {
	got := make(chan any, 1)
	c := New(testURL, panicTransport{}, &recSink{}, Options{
		Clock:      clocktest.New(0),
		HeaderFunc: func() ([]Header, error) { return nil, nil },
		OnPanic:    func(v any) { got <- v },
	})
	c.Start() // the request is opened by the HeaderFunc goroutine, and Open panics
	select {
	case v := <-got:
		if v != "open bug" {
			t.Fatalf("OnPanic got %v", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnPanic was not called")
	}
	if c.ReadyState() != Closed {
		t.Fatal("not closed after the panic")
	}
}

type panicErrorSink struct{}

func (panicErrorSink) Open(*OpenInfo)        {}
func (panicErrorSink) Events(string, *Batch) {}
func (panicErrorSink) Error(*ErrorInfo)      { panic("error bug") }

type panicTransport struct{}

func (panicTransport) Open(*Request, *Stream) func() { panic("open bug") }

func TestHeadersErrorFromTransport(t *testing.T) {
	h := newHarness(t, Options{})
	fc := h.start()
	fc.s.Fail(&HeadersError{Err: errors.New("token expired")})
	e := h.sink.lastErr(t)
	if e.Reason != ReasonHeaders || e.Err == nil || e.Err.Error() != "token expired" || e.State != Connecting {
		t.Fatalf("error %+v", e)
	}
}

// countSink records the size of each Events call.
type countSink struct {
	nullSink
	calls []int
	last  string
}

func (s *countSink) Events(_ string, b *Batch) {
	evs := b.Events()
	s.calls = append(s.calls, len(evs))
	s.last = evs[len(evs)-1].Data
}

func TestLargeChunkOneSinkCall(t *testing.T) {
	// Larger than feedSlice, with events across the slice boundaries: the
	// decoder is fed in slices, the Sink still gets the chunk's events at once.
	var b strings.Builder
	n := 0
	for b.Len() < 3*feedSlice+100 {
		fmt.Fprintf(&b, "data: %d %s\n\n", n, strings.Repeat("x", 97))
		n++
	}
	h := newHarness(t, Options{})
	fc := h.start().ok()
	cs := &countSink{}
	h.c.sink = cs
	fc.send(b.String())
	if len(cs.calls) != 1 || cs.calls[0] != n {
		t.Fatalf("Sink calls %v, want one of %d events", cs.calls, n)
	}
	if want := fmt.Sprintf("%d %s", n-1, strings.Repeat("x", 97)); cs.last != want {
		t.Fatalf("last event %q, want %q", cs.last, want)
	}
}
