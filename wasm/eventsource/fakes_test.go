package eventsource

import (
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

// fakeConn is one request made through a fakeTransport.
type fakeConn struct {
	req    *Request
	s      *Stream
	aborts atomic.Int32
}

func (fc *fakeConn) aborted() bool { return fc.aborts.Load() > 0 }

// ok sends a 200 text/event-stream response.
func (fc *fakeConn) ok() *fakeConn {
	fc.s.Response(Response{Status: 200, ContentType: "text/event-stream"})
	return fc
}

func (fc *fakeConn) send(body string) *fakeConn {
	fc.s.Chunk([]byte(body))
	return fc
}

func (fc *fakeConn) header(name string) string {
	for _, h := range fc.req.Header {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// fakeTransport records requests; the test plays the server through them.
type fakeTransport struct {
	mu    sync.Mutex
	conns []*fakeConn
	ch    chan *fakeConn
}

func newFakeTransport() *fakeTransport { return &fakeTransport{ch: make(chan *fakeConn, 1000)} }

func (t *fakeTransport) Open(req *Request, s *Stream) func() {
	fc := &fakeConn{req: req, s: s}
	t.mu.Lock()
	t.conns = append(t.conns, fc)
	t.mu.Unlock()
	t.ch <- fc
	return func() { fc.aborts.Add(1) }
}

// checkAborts fails if the Client aborted a request more than once.
func (t *fakeTransport) checkAborts(tb testing.TB) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, fc := range t.conns {
		if n := fc.aborts.Load(); n > 1 {
			tb.Errorf("request %d aborted %d times", i, n)
		}
	}
}

// next returns the next request, waiting for it only when HeaderFunc makes
// requests asynchronous.
func (t *fakeTransport) next(tb testing.TB) *fakeConn {
	tb.Helper()
	select {
	case fc := <-t.ch:
		return fc
	case <-time.After(10 * time.Second):
		tb.Fatal("no request was made")
		return nil
	}
}

// none fails if a request was made and not yet taken with next.
func (t *fakeTransport) none(tb testing.TB) {
	tb.Helper()
	select {
	case fc := <-t.ch:
		tb.Fatalf("unexpected request %s", fc.req.URL)
	default:
	}
}

func (t *fakeTransport) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// recSink records Sink calls as lines, with the Client's readyState at the
// time of each call.
type recSink struct {
	c *Client

	mu      sync.Mutex
	log     []string
	errs    []ErrorInfo
	batches int
	events  []sse.Event

	onEvents func(evs []sse.Event) // optional hook, called unlocked
}

func (s *recSink) add(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, line+" ["+s.c.ReadyState().String()+"]")
}

func (s *recSink) Open(info *OpenInfo) { s.add("open " + info.Origin) }

func (s *recSink) Events(origin string, b *Batch) {
	evs := b.Events()
	if len(evs) == 0 {
		panic("Events called with no events")
	}
	s.mu.Lock()
	s.batches++
	s.events = append(s.events, evs...)
	s.mu.Unlock()
	for _, e := range evs {
		s.add("event " + e.Type + " " + strconv.Quote(e.Data) + " id=" + e.ID + " " + origin)
	}
	if s.onEvents != nil {
		s.onEvents(evs)
	}
}

func (s *recSink) Error(info *ErrorInfo) {
	s.mu.Lock()
	s.errs = append(s.errs, *info)
	s.mu.Unlock()
	line := "error " + info.State.String() + " " + string(info.Reason)
	if info.Response != nil {
		line += " status=" + strconv.Itoa(info.Response.Status)
	}
	if info.State == Connecting {
		line += " delay=" + info.Delay.String()
	}
	s.add(line)
}

func (s *recSink) nErrs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.errs)
}

func (s *recSink) nBatches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.batches
}

// take returns and clears the log.
func (s *recSink) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.log
	s.log = nil
	return l
}

func (s *recSink) lastErr(tb testing.TB) ErrorInfo {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) == 0 {
		tb.Fatal("no error event")
	}
	return s.errs[len(s.errs)-1]
}

// harness is a Client wired to fakes.
type harness struct {
	t    testing.TB
	c    *Client
	tr   *fakeTransport
	sink *recSink
	clk  *clocktest.Fake
}

const testURL = "https://example.com/events"

func newHarness(t testing.TB, opts Options) *harness {
	return newHarnessURL(t, testURL, opts)
}

func newHarnessURL(t testing.TB, url string, opts Options) *harness {
	h := &harness{t: t, tr: newFakeTransport(), sink: &recSink{}, clk: clocktest.New(0)}
	if opts.Clock == nil {
		opts.Clock = h.clk
	}
	if opts.Rand == nil {
		opts.Rand = func() float64 { return 0.5 }
	}
	h.c = New(url, h.tr, h.sink, opts)
	h.sink.c = h.c
	t.Cleanup(func() {
		h.c.Close()
		h.tr.checkAborts(t)
	})
	return h
}

// start starts the Client and returns its first request.
func (h *harness) start() *fakeConn {
	h.t.Helper()
	h.c.Start()
	return h.tr.next(h.t)
}

// settle waits until no caller is processing inputs, for tests where a
// HeaderFunc goroutine makes the requests: before it, the inputs a test
// sends would queue behind that goroutine while the test moves the clock.
func (h *harness) settle() {
	h.t.Helper()
	waitFor(h.t, func() bool {
		h.c.mu.Lock()
		defer h.c.mu.Unlock()
		return !h.c.draining
	})
}

// nextSettled is tr.next followed by settle.
func (h *harness) nextSettled() *fakeConn {
	h.t.Helper()
	fc := h.tr.next(h.t)
	h.settle()
	return fc
}

// expect compares and clears the sink log.
func (h *harness) expect(want ...string) {
	h.t.Helper()
	got := h.sink.take()
	if !slices.Equal(got, want) {
		h.t.Fatalf("sink log:\n got  %q\n want %q", got, want)
	}
}

func (h *harness) state(want ReadyState) {
	h.t.Helper()
	if got := h.c.ReadyState(); got != want {
		h.t.Fatalf("readyState = %v, want %v", got, want)
	}
}
