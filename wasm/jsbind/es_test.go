//go:build js && wasm

package jsbind

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/eventwire/eventwire/wasm/eventsource"
)

// These tests run the Go side of the EventSource binding in node: a real
// eventsource.Client with ESTransport and ESSink, a JavaScript driver that
// records what Go asks for, and a JavaScript notify that decodes the packed
// events as js/src/eventsource.js does. The driver's own HTTP mechanics
// (js/src/transport.js) are tested with node's fetch in js/test.

// jsFunc compiles a JavaScript function from its source (a function
// expression).
func jsFunc(t *testing.T, src string) Value {
	t.Helper()
	f, err := Global("Function").New("return (" + src + ");")
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.Invoke()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// recorder is a JavaScript notify function that logs what it receives as
// strings, decoding the events the shell's way from the module's memory,
// which it reads through mem(address, length) (newRecorder).
const recorderSrc = `function (mem) {
	const log = [];
	const dec = new TextDecoder("utf-8", { ignoreBOM: true });
	const notify = (kind, a, b, c, d, e, f, g) => {
		if (kind === 0) {
			const h = new Uint32Array(mem(b, 16 * a).buffer);
			const chunk = dec.decode(mem(c, d)), extra = dec.decode(mem(e, f));
			let x = 0, type = "", id = "";
			for (let j = 0; j < 4 * a; j += 4) {
				if (h[j] !== 0xffffffff) type = extra.slice(x, (x += h[j]));
				const data = h[j + 3] === 0xffffffff ? extra.slice(x, (x += h[j + 1])) : chunk.slice(h[j + 3], h[j + 3] + h[j + 1]);
				if (h[j + 2] !== 0xffffffff) id = extra.slice(x, (x += h[j + 2]));
				log.push("event " + type + " " + JSON.stringify(data) + " id=" + id + " " + g);
			}
			log.push("chunk");
		} else if (kind === 1) {
			log.push("open " + a + " " + b + " " + c + " " + typeof d);
		} else if (kind === 2) {
			log.push("error " + a + " " + b + " " + c + " " + (d === undefined ? "-" : typeof d));
		} else {
			log.push("debug " + a);
		}
	};
	notify.log = log;
	return notify;
}`

// driverSrc records open and abort calls.
const driverSrc = `function () {
	const calls = [];
	return {
		calls,
		open(id, url, method, headers, longPoll) { calls.push(["open", id, url, method, headers, longPoll]); },
		abort(id) { calls.push(["abort", id]); },
	};
}`

type esHarness struct {
	t      *testing.T
	notify Value
	driver Value
	tr     *ESTransport
	sink   *ESSink
	c      *eventsource.Client
}

func newESHarness(t *testing.T, opts eventsource.Options) *esHarness {
	h := &esHarness{t: t}
	var err error
	h.notify = newRecorder(t)
	if h.driver, err = jsFunc(t, driverSrc).Invoke(); err != nil {
		t.Fatal(err)
	}
	h.tr = NewESTransport(h.driver)
	h.sink = NewESSink(h.notify)
	h.c = eventsource.New("https://example.com/events?x=1", h.tr, h.sink, opts)
	t.Cleanup(h.c.Close)
	return h
}

// log returns and clears what notify recorded.
func (h *esHarness) log() []string {
	h.t.Helper()
	l, _ := h.notify.Get("log")
	n, _ := l.Length()
	out := make([]string, n)
	for i := range n {
		v, _ := l.Index(i)
		out[i], _ = v.String()
	}
	_ = l.Set("length", 0)
	return out
}

func (h *esHarness) expect(want ...string) {
	h.t.Helper()
	got := h.log()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		h.t.Fatalf("notify log:\n got  %q\n want %q", got, want)
	}
}

// calls returns the driver calls, as strings, and clears them.
func (h *esHarness) calls() []string {
	h.t.Helper()
	l, _ := h.driver.Get("calls")
	j, err := Global("JSON").Call("stringify", l)
	if err != nil {
		h.t.Fatal(err)
	}
	s, _ := j.String()
	_ = l.Set("length", 0)
	return []string{s}
}

// chunk delivers body bytes for request id as esChunk does: through the
// inbox, which is larger than the body and holds stale bytes after it.
func (h *esHarness) chunk(id int, body string) {
	h.t.Helper()
	exportInbox(int32(len(body)))
	copy(inbox[:cap(inbox)], body+"data: stale\n\n")
	h.tr.Chunk(id, Inbox(len(body)))
}

func mustFloat(n int) Value {
	v, _ := toJS(float64(n))
	return Value{v}
}

func str(s string) Value {
	v, _ := toJS(s)
	return Value{v}
}

func (h *esHarness) respond(id, status int, ctype string) {
	h.t.Helper()
	headers, err := Global("Object").New()
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.tr.Deliver(id, NetResponse, []Value{mustFloat(status), str(ctype), str("https://cdn.example.com/s"), headers}); err != nil {
		h.t.Fatal(err)
	}
}

func TestESBindingStream(t *testing.T) {
	h := newESHarness(t, eventsource.Options{Header: []eventsource.Header{{Name: "X-A", Value: "1"}}})
	h.c.Start()
	if got, want := h.calls()[0], `[["open",1,"https://example.com/events?x=1","GET","Accept\ntext/event-stream\nX-A\n1",false]]`; got != want {
		t.Fatalf("driver calls %s, want %s", got, want)
	}
	h.respond(1, 200, "text/event-stream")
	h.expect("open https://cdn.example.com/s https://cdn.example.com 200 object")

	h.chunk(1, "retry: 20\nid: é1\ndata: a\ndata: b\n\nevent: tick\ndata: 👋\n\ndata: c\n")
	h.expect(
		`event message "a\nb" id=é1 https://cdn.example.com`,
		`event tick "👋" id=é1 https://cdn.example.com`,
		"chunk",
	)
	// The rest of the event; then an empty chunk, which does nothing.
	h.chunk(1, "\n")
	h.expect(`event message "c" id=é1 https://cdn.example.com`, "chunk")
	h.chunk(1, "")
	h.expect()

	// The end of the stream: error (CONNECTING), then a new request after
	// retry (20 ms), to the final URL, with Last-Event-ID.
	if err := h.tr.Deliver(1, NetEnd, nil); err != nil {
		t.Fatal(err)
	}
	h.expect("error 0 end of stream undefined -")
	deadline := time.Now().Add(5 * time.Second)
	var calls string
	for time.Now().Before(deadline) {
		if calls = h.calls()[0]; calls != "[]" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if want := `[["open",2,"https://cdn.example.com/s","GET","Accept\ntext/event-stream\nX-A\n1\nLast-Event-ID\né1",false]]`; calls != want {
		t.Fatalf("driver calls %s, want %s", calls, want)
	}
	// Reports about the ended request are ignored.
	h.chunk(1, "data: late\n\n")
	h.expect()

	// A bad status fails for good and aborts the request.
	h.respond(2, 204, "text/event-stream")
	h.expect("error 2 bad status 204 object")
	if got := h.calls()[0]; got != `[["abort",2]]` {
		t.Fatalf("driver calls %s, want the abort", got)
	}
}

// TestESSinkOutbox: inside an exported call, a chunk's events wait in the
// outbox instead of a notify call, once the shell knows their origin; any
// other notification sends them first, so the order holds.
func TestESSinkOutbox(t *testing.T) {
	h := newESHarness(t, eventsource.Options{MaxEventSize: 64})
	h.c.Start()
	h.calls()
	h.respond(1, 200, "text/event-stream")
	h.log()
	inExport := func(body string) bool {
		h.sink.BeginExport()
		h.chunk(1, body)
		return h.sink.EndExport()
	}
	// The shell has not seen this response's origin yet: notify.
	if inExport("data: a\n\n") {
		t.Fatal("the first batch was held")
	}
	h.expect(`event message "a" id= https://cdn.example.com`, "chunk")
	if !inExport("id: 7\ndata: b\n\ndata: c\n\n") {
		t.Fatal("the batch was not held")
	}
	h.expect()
	// The shell's s.held(): the outbox as notify's arguments.
	args := []any{NotifyEvents}
	for _, x := range outbox {
		args = append(args, x)
	}
	if _, err := h.notify.Invoke(append(args, "https://cdn.example.com")...); err != nil {
		t.Fatal(err)
	}
	h.expect(`event message "b" id=7 https://cdn.example.com`, `event message "c" id=7 https://cdn.example.com`, "chunk")
	// Events, then an event too large: the events are sent before the error.
	if inExport("data: d\n\ndata: " + strings.Repeat("x", 100) + "\n\n") {
		t.Fatal("a batch followed by an error is still held")
	}
	h.expect(`event message "d" id=7 https://cdn.example.com`, "chunk", "error 2 event too large undefined -")
}

// TestESSinkOutboxAllocs: a chunk of one event through the outbox costs no
// allocation (what a quiet stream does per event).
func TestESSinkOutboxAllocs(t *testing.T) {
	h := newESHarness(t, eventsource.Options{})
	h.c.Start()
	h.calls()
	h.respond(1, 200, "text/event-stream")
	h.chunk(1, "data: first\n\n") // notify: the shell learns the origin
	h.log()
	chunk := []byte("id: 1\ndata: 12345 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n\n")
	allocs := testing.AllocsPerRun(100, func() {
		h.sink.BeginExport()
		exportInbox(int32(len(chunk)))
		h.tr.Chunk(1, Inbox(copy(inbox, chunk)))
		if !h.sink.EndExport() {
			t.Fatal("the batch was not held")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per chunk, want 0", allocs)
	}
}

func TestESBindingFailAndHeaders(t *testing.T) {
	h := newESHarness(t, eventsource.Options{BackoffMax: -1, ReconnectionTime: time.Hour})
	h.c.Start()
	h.calls()
	if err := h.tr.Deliver(1, NetHeadersFail, []Value{str("token expired")}); err != nil {
		t.Fatal(err)
	}
	h.expect("error 0 headers callback failed undefined -")
	h.c.Close()
	if got := h.calls()[0]; got != `[]` {
		t.Fatalf("driver calls %s after a failed request and close; want none (nothing live)", got)
	}

	h = newESHarness(t, eventsource.Options{BackoffMax: -1, ReconnectionTime: time.Hour})
	h.c.Start()
	h.calls()
	if err := h.tr.Deliver(1, NetFail, []Value{str("TypeError: Failed to fetch")}); err != nil {
		t.Fatal(err)
	}
	h.expect("error 0 network error undefined -")
	if err := h.tr.Deliver(1, 99, nil); err != nil {
		t.Fatal("a report for an ended request must be ignored, even of an unknown kind:", err)
	}
}

func TestESBindingCloseAborts(t *testing.T) {
	h := newESHarness(t, eventsource.Options{})
	h.c.Start()
	h.calls()
	h.respond(1, 200, "text/event-stream")
	h.log()
	h.c.Close()
	if got := h.calls()[0]; got != `[["abort",1]]` {
		t.Fatalf("driver calls %s, want the abort", got)
	}
	h.chunk(1, "data: after close\n\n")
	h.expect()
}

// newRecorder returns a recorder reading the module's memory as the shell
// does with memory.buffer (a Go test cannot reach its own instance's).
func newRecorder(t *testing.T) Value {
	t.Helper()
	o, err := NewObject()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Release)
	err = o.SetFunc("mem", func(args []Value) (any, error) {
		at, _ := args[0].Float()
		n, _ := args[1].Float()
		return bytes.Clone(unsafe.Slice((*byte)(unsafe.Add(nil, int(at))), int(n))), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mem, _ := o.Value().Get("mem")
	notify, err := jsFunc(t, recorderSrc).Invoke(mem)
	if err != nil {
		t.Fatal(err)
	}
	return notify
}
