package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/eventwire/eventwire/protocol/batch"
	"github.com/eventwire/eventwire/server"
)

// End-to-end tests of BatchSocket (issue 4) in headless Chromium: a page of
// e2e/testdata/batch sends through the real client (dist/eventwire.js and its
// wasm) to the real ingest endpoint (server.Config{Ingest: true}), and the
// test checks at the Sink that every message arrived exactly once and in
// order, under faults injected on loopback by faultProxy (faults_test.go).

// Bounds of the longer waits. They only guard against a hang; no test
// asserts a duration.
const (
	batchLongWait  = 3 * time.Minute
	batchShortWait = 60 * time.Second
)

// batchPage is the path of the test page.
const batchPage = "/e2e/batch/batch.html"

// batchMessage is message seq of the page's sequence prefix (batch.js,
// message()): its bytes and whether it was sent as binary.
func batchMessage(prefix string, size int) func(seq uint64) (string, bool) {
	return func(seq uint64) (string, bool) {
		s := prefix + ":" + strconv.FormatUint(seq, 10) + ":"
		if len(s) < size {
			s += strings.Repeat("x", size-len(s))
		}
		return s, seq%10 == 0
	}
}

// batchStats is the page's view of BatchSocket.stats.
type batchStats struct {
	Queued     int    `json:"queued"`
	InFlight   int    `json:"inFlight"`
	Acked      int    `json:"acked"`
	Batches    int    `json:"batches"`
	Bytes      int    `json:"bytes"`
	Reconnects int    `json:"reconnects"`
	Dropped    int    `json:"dropped"`
	Transport  string `json:"transport"`
	// QueuedBytes are the bytes held: queued and in flight.
	QueuedBytes int `json:"queuedBytes"`
}

// jsError is an exception as the page describes it.
type jsError struct {
	Name        string `json:"name"`
	Message     string `json:"message"`
	Constructor string `json:"constructor"`
}

// openBatchPage loads the test page from base in p and fails the test when
// the page cannot get BatchSocket from dist/eventwire.js.
func openBatchPage(p *page, base string) {
	p.t.Helper()
	p.navigate(base + batchPage)
	p.waitFor("the BatchSocket page to load", `globalThis.state && state.phase !== "loading"`)
	if msg := evalJS[string](p, `state.importError || ""`); msg != "" {
		p.t.Fatalf("the page has no BatchSocket: %s", msg)
	}
}

// waitLong is waitFor with a longer bound.
func waitLong(p *page, what, cond string, timeout time.Duration) {
	p.t.Helper()
	p.poll(what, cond, timeout, 50*time.Millisecond)
}

// idbRecord is one record of bt.idbDump.
type idbRecord struct {
	DB       string `json:"db"`
	Store    string `json:"store"`
	Key      string `json:"key"`
	Type     string `json:"type"`
	Messages int    `json:"messages"`
}

// waitIDB waits until the number of messages persisted in the page's
// IndexedDB satisfies ok, and logs the records when it does not.
func waitIDB(p *page, what string, ok func(n int) bool) {
	p.t.Helper()
	deadline := time.Now().Add(batchShortWait)
	for {
		recs := evalJS[[]idbRecord](p, `bt.idbDump()`)
		n := 0
		for _, r := range recs {
			n += r.Messages
		}
		if ok(n) {
			return
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, r := range recs {
				fmt.Fprintf(&b, "\n  %s/%s %s: %s, %d messages", r.DB, r.Store, r.Key, r.Type, r.Messages)
			}
			p.t.Fatalf("waiting for %s: %d messages persisted after %v; records:%s\npage state: %s", what, n, batchShortWait, b.String(), p.state())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pageStats reads the socket's stats.
func pageStats(p *page) batchStats {
	p.t.Helper()
	return evalJS[batchStats](p, `bt.stats()`)
}

// onlySession returns the one session that reached the sink, failing the
// test when there is not exactly one.
func onlySession(t *testing.T, sink *recordingSink) batch.SessionID {
	t.Helper()
	ids := sink.sessions()
	if len(ids) != 1 {
		t.Fatalf("%d sessions reached the Sink, want 1: %v", len(ids), ids)
	}
	return ids[0]
}

// newClosablePage is newPage for a test that closes the tab itself
// (closeTab), keeping the browser context alive so that the tab's keepalive
// requests may complete; exceptions and Go panics in the console still fail
// the test.
func newClosablePage(t *testing.T) (*page, func()) {
	t.Helper()
	p, cancel := openTab(t, mainBrowser, "e2e tests need a browser")
	ctx := p.ctx
	var closed atomic.Bool
	t.Cleanup(func() {
		p.stop(!closed.Load(), cancel)
		p.check()
	})
	closeTab := func() {
		t.Helper()
		c := chromedp.FromContext(ctx)
		if c == nil || c.Target == nil {
			t.Fatal("closeTab: the tab was never opened")
		}
		closed.Store(true)
		cctx, ccancel := context.WithTimeout(ctx, evalTimeout)
		defer ccancel()
		if _, err := chromedp.CallBrowser(cctx, target.CloseTarget, target.CloseTargetParams{TargetID: c.Target.TargetID}); err != nil {
			t.Fatalf("Target.closeTarget: %v", err)
		}
	}
	return p, closeTab
}

// TestBatchDeliveryUnderCuts: 100,000 messages sent from a page reach the
// Sink exactly once and in order while the proxy resets the WebSocket every
// second. The page sends them over several seconds (1,250 every 100 ms), so
// that the transfer spans several cuts, then awaits flush().
func TestBatchDeliveryUnderCuts(t *testing.T) {
	const total = 100_000
	srv := startBatchServer(t, batchServerConfig{})
	px := newFaultProxy(t, srv.addr)
	p := newPage(t)
	openBatchPage(p, px.URL())
	p.run(`bt.open({})`)
	p.waitFor("the first open event", `state.counts.open >= 1`)

	stopCuts := px.cutEvery(time.Second)
	start := time.Now()
	p.run(`bt.sendPaced("c", ` + strconv.Itoa(total) + `, 1250, 100, 0)`)
	waitLong(p, "all messages sent and acknowledged", `state.paced.flushed || state.paced.error`, batchLongWait)
	ticks, cuts := stopCuts()
	elapsed := time.Since(start)
	if e := evalJS[string](p, `JSON.stringify(state.paced.error)`); e != "null" {
		t.Fatalf("the page failed to send: %s", e)
	}
	st := evalJS[batchStats](p, `state.paced.stats`)

	sink := srv.sink
	session := onlySession(t, sink)
	checkSession(t, sink, session, total, batchMessage("c", 0))
	is := srv.Ingest().Stats()
	t.Logf("%d messages in %v; %d cuts of %d ticks hit an open WebSocket; page stats %+v; server: %d frames, %d duplicates dropped, %d gaps; delivered via %v",
		total, elapsed.Round(time.Millisecond), cuts, ticks, st, is.Frames, is.Duplicates, is.Gaps, sink.via(session))
	// The point of the test: the connection really was lost several times
	// while messages were in flight.
	if cuts < 3 {
		t.Errorf("only %d cuts hit an open WebSocket; the test needs at least 3", cuts)
	}
	if st.Reconnects < 3 {
		t.Errorf("stats.reconnects = %d after %d cuts, want at least 3", st.Reconnects, cuts)
	}
	if st.Acked != total || st.Queued != 0 || st.InFlight != 0 {
		t.Errorf("stats after flush() = %+v, want acked %d and nothing queued or in flight", st, total)
	}
}

// TestBatchReloadPersisted: with persistence on, the page reloads while
// messages are not acknowledged (the Sink refuses them, so neither the
// WebSocket nor the keepalive flush of the unloading page gets them
// through); after the reload, the new page sends them from IndexedDB, and
// each reaches the Sink once, in order, under the old page's session.
func TestBatchReloadPersisted(t *testing.T) {
	const acked, total = 1000, 3000
	srv := startBatchServer(t, batchServerConfig{})
	sink := srv.sink
	p := newPage(t)
	openBatchPage(p, srv.URL())
	p.run(`bt.open({persist: true})`)
	p.run(`bt.send("r", 1, ` + strconv.Itoa(acked) + `)`)
	evalJS[batchStats](p, `bt.flush()`)
	sink.wait(t, "the acknowledged part", acked, batchShortWait)
	old := onlySession(t, sink)

	// From now on the Sink refuses: the WebSocket is closed with 1013, and
	// POSTs get 503.
	sink.SetError(server.ErrSinkOverloaded)
	p.run(`bt.send("r", ` + strconv.Itoa(acked+1) + `, ` + strconv.Itoa(total) + `)`)
	eventually(t, "the Sink to refuse a batch", func() bool { return srv.Ingest().Stats().SinkErrors > 0 })
	// Wait until IndexedDB holds the unacknowledged messages.
	waitIDB(p, "the unacknowledged messages to be persisted", func(n int) bool { return n >= total-acked })
	before := sink.Len()

	// Reload, then let the Sink accept again before the new page starts.
	openBatchPage(p, srv.URL())
	if n := sink.Len(); n != acked || before != acked {
		t.Fatalf("%d messages (%d before the reload) reached the refusing Sink, want %d", n, before, acked)
	}
	sink.SetError(nil)
	p.run(`bt.open({persist: true})`)
	p.run(`bt.send("n", 1, 10)`)
	evalJS[batchStats](p, `bt.flush()`)
	sink.wait(t, "the persisted messages and the new page's", total+10, batchShortWait)
	checkSession(t, sink, old, total, batchMessage("r", 0))
	var fresh batch.SessionID
	for _, id := range sink.sessions() {
		if id != old {
			fresh = id
		}
	}
	checkSession(t, sink, fresh, 10, batchMessage("n", 0))
	t.Logf("old session %s delivered via %v; new session %s via %v; server stats %+v",
		old, sink.via(old), fresh, sink.via(fresh), srv.Ingest().Stats())

	// Once acknowledged, the old session is gone from IndexedDB: a second
	// reload sends nothing more.
	waitIDB(p, "IndexedDB to be drained", func(n int) bool { return n == 0 })
	openBatchPage(p, srv.URL())
	p.run(`bt.open({persist: true})`)
	p.run(`bt.send("z", 1, 1)`)
	evalJS[batchStats](p, `bt.flush()`)
	sink.wait(t, "the third page's message", total+11, batchShortWait)
	if err := sink.CheckOrder(); err != nil {
		t.Errorf("after the second reload: %v", err)
	}
	if n := len(sink.Session(old)); n != total {
		t.Errorf("after the second reload the old session has %d messages at the Sink, want %d", n, total)
	}
}

// TestBatchHTTPFallback: where the WebSocket cannot connect, every message
// arrives over HTTP POST.
func TestBatchHTTPFallback(t *testing.T) {
	const total = 5000
	run := func(t *testing.T, opts string, setup func(p *page, px *faultProxy)) (*batchServer, *faultProxy, *page) {
		srv := startBatchServer(t, batchServerConfig{})
		px := newFaultProxy(t, srv.addr)
		p := newPage(t)
		setup(p, px)
		openBatchPage(p, px.URL())
		p.run(`bt.open(` + opts + `)`)
		p.run(`bt.send("h", 1, ` + strconv.Itoa(total) + `, 40)`)
		p.run(`bt.flushLater()`)
		waitLong(p, "flush() over HTTP", `state.flush.done || state.flush.error`, batchShortWait)
		if e := evalJS[string](p, `JSON.stringify(state.flush.error)`); e != "null" {
			t.Fatalf("flush() failed: %s", e)
		}
		st := evalJS[batchStats](p, `state.flush.stats`)
		sink := srv.sink
		session := onlySession(t, sink)
		checkSession(t, sink, session, total, batchMessage("h", 40))
		via := sink.via(session)
		if via["http"] != total {
			t.Errorf("delivered via %v, want all %d over http", via, total)
		}
		if st.Transport != "http" {
			t.Errorf("stats.transport = %q, want \"http\"", st.Transport)
		}
		if n := srv.upgrades.Load(); n != 0 {
			t.Errorf("%d WebSocket handshakes reached the server, want 0", n)
		}
		t.Logf("page stats %+v; %d POSTs; %d WebSocket handshakes at the proxy (%d refused); events %s",
			st, srv.posts.Load(), px.wsConns.Load(), px.refused.Load(), evalJS[string](p, `JSON.stringify(state.counts)`))
		return srv, px, p
	}
	t.Run("upgrade-refused", func(t *testing.T) {
		// websocketRetry: while on HTTP, the WebSocket is tried again
		// every second.
		srv, px, p := run(t, `{websocketRetry: 1000}`, func(p *page, px *faultProxy) { px.setMode(proxyRefuse) })
		if px.refused.Load() == 0 {
			t.Errorf("the proxy refused no WebSocket handshake: the client never tried")
		}
		// Once the proxy lets WebSockets through, the client goes back to
		// the WebSocket, and what follows arrives there, in order.
		px.setMode(proxyPass)
		p.waitFor("the WebSocket to be used again", `bt.stats().transport === "websocket"`)
		p.run(`bt.send("h", ` + strconv.Itoa(total+1) + `, ` + strconv.Itoa(total+100) + `, 40)`)
		evalJS[batchStats](p, `bt.flush()`)
		sink := srv.sink
		session := onlySession(t, sink)
		checkSession(t, sink, session, total+100, batchMessage("h", 40))
		if via := sink.via(session); via["websocket"] != 100 {
			t.Errorf("after the WebSocket came back: delivered via %v, want the last 100 over the WebSocket", via)
		}
	})
	t.Run("no-websocket", func(t *testing.T) {
		_, px, _ := run(t, `{}`, func(p *page, px *faultProxy) {
			p.in(t).addInitScript(batchInitScript(t, "no-websocket.js"))
		})
		if n := px.wsConns.Load(); n != 0 {
			t.Errorf("%d WebSocket handshakes from a page without WebSocket", n)
		}
	})
}

// TestBatchKeepaliveTail: a tab with a pending tail (messages written to a
// WebSocket whose proxy has stopped forwarding them, so never acknowledged)
// is hidden, or closed: the tail arrives through the keepalive flush, over
// HTTP.
//
//   - hidden: the page turns hidden (visibilitychange, as a tab switch); the
//     tail arrives while the tab still exists, and the page takes the ACK
//     of the keepalive POST; then the tab is closed.
//   - closed: the tab is closed with the tail pending (Target.closeTarget:
//     Chromium fires visibilitychange and pagehide as the page unloads).
func TestBatchKeepaliveTail(t *testing.T) {
	const total = 300 // about 30 KB: within one keepalive frame
	run := func(t *testing.T, hide bool) {
		srv := startBatchServer(t, batchServerConfig{})
		px := newFaultProxy(t, srv.addr)
		px.setMode(proxyStall)
		p, closeTab := newClosablePage(t)
		openBatchPage(p, px.URL())
		p.run(`bt.open({})`)
		p.waitFor("the WebSocket to open", `state.counts.open >= 1`)
		p.run(`bt.send("k", 1, ` + strconv.Itoa(total) + `, 100)`)
		p.waitFor("the messages to be written", `bt.stats().queued === 0 && bt.stats().inFlight === `+strconv.Itoa(total))
		if n := srv.sink.Len(); n != 0 {
			t.Fatalf("%d messages reached the Sink through the stalled WebSocket", n)
		}
		sink := srv.sink
		if hide {
			p.run(`bt.hide()`)
			sink.wait(t, "the tail after visibilitychange", total, batchShortWait)
			p.waitFor("the page to take the ACK of the keepalive POST", `bt.stats().acked === `+strconv.Itoa(total))
		}
		closeTab()
		sink.wait(t, "the tail", total, batchShortWait)
		session := onlySession(t, sink)
		checkSession(t, sink, session, total, batchMessage("k", 100))
		if via := sink.via(session); via["http"] != total {
			t.Errorf("delivered via %v, want all %d over http (the keepalive flush)", via, total)
		}
		t.Logf("%d POSTs; server stats %+v", srv.posts.Load(), srv.Ingest().Stats())
	}
	t.Run("hidden", func(t *testing.T) { run(t, true) })
	t.Run("closed", func(t *testing.T) { run(t, false) })
}

// fillResult is what bt.fill resolves with.
type fillResult struct {
	Sent        int        `json:"sent"`
	Thrown      *thrownAt  `json:"thrown"`
	MaxBuffered int        `json:"maxBuffered"`
	FirstDropAt int        `json:"firstDropAt"`
	Stats       batchStats `json:"stats"`
}

type thrownAt struct {
	Seq   int     `json:"seq"`
	Error jsError `json:"error"`
}

// TestBatchBackpressure: against a server that stops reading (the proxy
// stops reading from the browser), the socket writes until the WebSocket's
// bufferedAmount passes bufferedAmountLimit, then stops writing; its queue
// fills up to maxQueueBytes (the default, 8 MiB) and never beyond; then
// send() throws a QueueFullError ("reject") or the oldest messages are
// dropped and counted ("drop-oldest"). When the server reads again, what was
// kept arrives.
func TestBatchBackpressure(t *testing.T) {
	const (
		size        = 1024
		maxQueue    = 8 << 20   // the default maxQueueBytes
		bufferedMax = 256 << 10 // bufferedAmountLimit
		maxFrame    = 64 << 10  // the default batchBytes
		maxFill     = 200_000   // bound of the fill loop: 200 MB
		burst       = 256
		afterDrop   = 64 // bursts sent after the first drop
	)
	run := func(t *testing.T, policy string) (*batchServer, *page, fillResult) {
		srv := startBatchServer(t, batchServerConfig{})
		px := newFaultProxy(t, srv.addr)
		px.rcvBuf = 64 << 10 // little kernel buffering, so bufferedAmount grows sooner
		px.setMode(proxyStall)
		p := newPage(t)
		p.addInitScript(batchInitScript(t, "track-websockets.js"))
		openBatchPage(p, px.URL())
		p.run(fmt.Sprintf(`bt.open({bufferedAmountLimit: %d, queuePolicy: %q})`, bufferedMax, policy))
		p.waitFor("the WebSocket to open", `state.counts.open >= 1`)
		r := evalLong[fillResult](p, fmt.Sprintf(`bt.fill("b", %d, %d, %d, %d)`, size, burst, maxFill, afterDrop), batchLongWait)
		t.Logf("%s: sent %d, bufferedAmount up to %d, first drop after %d, thrown %+v, stats %+v",
			policy, r.Sent, r.MaxBuffered, r.FirstDropAt, r.Thrown, r.Stats)
		// The socket wrote until bufferedAmount passed the limit, and then
		// no more than one frame.
		if r.MaxBuffered < bufferedMax || r.MaxBuffered > bufferedMax+2*maxFrame {
			t.Errorf("bufferedAmount reached %d bytes, want between bufferedAmountLimit (%d) and one frame more", r.MaxBuffered, bufferedMax)
		}
		if r.Stats.QueuedBytes > maxQueue {
			t.Errorf("stats.queuedBytes = %d, over maxQueueBytes %d", r.Stats.QueuedBytes, maxQueue)
		}
		if n := srv.sink.Len(); n != 0 {
			t.Errorf("%d messages reached the Sink through the stalled proxy", n)
		}
		// The server reads again: what the socket kept is delivered.
		px.setMode(proxyPass)
		p.run(`bt.flushLater()`)
		waitLong(p, "flush() once the server reads again", `state.flush.done || state.flush.error`, batchLongWait)
		if e := evalJS[string](p, `JSON.stringify(state.flush.error)`); e != "null" {
			t.Fatalf("flush() failed: %s", e)
		}
		return srv, p, r
	}
	t.Run("reject", func(t *testing.T) {
		srv, _, r := run(t, "reject")
		if r.Thrown == nil {
			t.Fatalf("send() never threw after %d messages of %d bytes with maxQueueBytes %d", r.Sent, size, maxQueue)
		}
		// The documented error (js/src/batchsocket.d.ts).
		if r.Thrown.Error.Name != batchQueueFullName {
			t.Errorf("send() threw %+v, want a %s", r.Thrown.Error, batchQueueFullName)
		}
		if r.Stats.Dropped != 0 {
			t.Errorf("stats.dropped = %d with queuePolicy \"reject\"", r.Stats.Dropped)
		}
		sink := srv.sink
		session := onlySession(t, sink)
		checkSession(t, sink, session, r.Sent, batchMessage("b", size))
	})
	t.Run("drop-oldest", func(t *testing.T) {
		srv, p, r := run(t, "drop-oldest")
		if r.Thrown != nil {
			t.Fatalf("send() threw %+v with queuePolicy \"drop-oldest\"", r.Thrown)
		}
		if r.Stats.Dropped == 0 {
			t.Fatalf("nothing was dropped after %d messages of %d bytes with maxQueueBytes %d", r.Sent, size, maxQueue)
		}
		st := pageStats(p)
		sink := srv.sink
		session := onlySession(t, sink)
		rs := sink.Session(session)
		// The page's messages are numbered in the order of send(); messages
		// dropped before they were handed to the wasm get no sequence
		// number, so the number is read from the data. Dropped messages
		// are the oldest: every message after the last one dropped
		// arrives; dropped ones may have arrived too (if written before
		// they were dropped), but nothing arrives twice or out of order.
		want := batchMessage("b", size)
		var prevSeq, prevIdx uint64
		got := map[uint64]bool{}
		for _, rec := range rs {
			idx, ok := batchIndex(string(rec.Data), "b")
			if !ok {
				t.Fatalf("seq %d holds %q", rec.Seq, clip(string(rec.Data)))
			}
			if rec.Seq <= prevSeq || idx <= prevIdx {
				t.Fatalf("seq %d (message %d) after seq %d (message %d): out of order or duplicate", rec.Seq, idx, prevSeq, prevIdx)
			}
			prevSeq, prevIdx = rec.Seq, idx
			got[idx] = true
			if d, bin := want(idx); string(rec.Data) != d || rec.Binary != bin {
				t.Fatalf("message %d holds %q (binary %v)", idx, clip(string(rec.Data)), rec.Binary)
			}
		}
		dropped := st.Dropped
		for idx := uint64(dropped + 1); idx <= uint64(r.Sent); idx++ {
			if !got[idx] {
				t.Fatalf("message %d (after the %d dropped) never reached the Sink", idx, dropped)
			}
		}
		if len(rs)+dropped < r.Sent {
			t.Errorf("%d delivered + %d dropped < %d sent: messages lost without being counted", len(rs), dropped, r.Sent)
		}
		t.Logf("%d sent, %d dropped, %d delivered", r.Sent, dropped, len(rs))
	})
}

// batchIndex returns the page's number of a message of prefix.
func batchIndex(data, prefix string) (uint64, bool) {
	rest, ok := strings.CutPrefix(data, prefix+":")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(num, 10, 64)
	return n, err == nil
}

// batchQueueFullName is the name of the error send() throws when the queue
// is full with queuePolicy "reject" (js/src/batchsocket.d.ts).
const batchQueueFullName = "QueueFullError"

// batchInitScript returns the init script testdata/batch/name.
func batchInitScript(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir(t), "batch", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rawWSResult is what bt.rawWebSocket resolves with.
type rawWSResult struct {
	Opened bool `json:"opened"`
	Error  bool `json:"error"`
	Close  *struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	} `json:"close"`
}

// TestBatchOriginRejected: the ingest endpoint refuses a WebSocket from a
// page of an origin that is not allowed (another port of 127.0.0.1), and
// nothing from that page reaches the Sink; the same page is served when its
// origin is in the allow-list.
func TestBatchOriginRejected(t *testing.T) {
	// otherOrigin serves h on another port: another origin.
	otherOrigin := func(t *testing.T, ln net.Listener, h http.Handler) string {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		return "http://" + ln.Addr().String()
	}
	listen := func(t *testing.T) net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("failed to listen: %v", err)
		}
		return ln
	}
	t.Run("refused", func(t *testing.T) {
		srv := startBatchServer(t, batchServerConfig{})
		other := otherOrigin(t, listen(t), srv.srv.Handler)
		wsURL := "ws://" + srv.addr + server.IngestPath
		p := newPage(t)
		openBatchPage(p, other)

		raw := evalJS[rawWSResult](p, fmt.Sprintf(`bt.rawWebSocket(%q)`, wsURL))
		if raw.Opened || !raw.Error || raw.Close == nil || raw.Close.Code != 1006 {
			t.Errorf("a plain WebSocket from %s: %+v, want an error and close code 1006 without opening", other, raw)
		}
		rejected := srv.Ingest().Stats().Rejected
		if rejected == 0 {
			t.Errorf("the server counted no rejected handshake")
		}

		p.run(fmt.Sprintf(`bt.open({}, %q)`, wsURL))
		p.run(`bt.send("o", 1, 100)`)
		// Two WebSocket attempts and an HTTP one (cross-origin POST,
		// refused at the preflight or with 403) fail.
		waitLong(p, "three error events", `state.counts.error >= 3`, batchShortWait)
		if n := srv.sink.Len(); n != 0 {
			t.Errorf("%d messages from the other origin reached the Sink", n)
		}
		st := pageStats(p)
		if st.Acked != 0 {
			t.Errorf("stats.acked = %d", st.Acked)
		}
		is := srv.Ingest().Stats()
		if is.Rejected <= rejected {
			t.Errorf("the server rejected no handshake of the BatchSocket (stats %+v)", is)
		}
		if !strings.Contains(srv.logs.String(), "ingest handshake refused") {
			t.Errorf("the server log does not mention the refused handshake")
		}
		t.Logf("events %s; page stats %+v; server stats %+v", evalJS[string](p, `JSON.stringify(state.events.slice(0, 6))`), st, is)
	})
	t.Run("allowed", func(t *testing.T) {
		ln := listen(t)
		srv := startBatchServer(t, batchServerConfig{Origins: []string{ln.Addr().String()}})
		other := otherOrigin(t, ln, srv.srv.Handler)
		p := newPage(t)
		openBatchPage(p, other)
		p.run(fmt.Sprintf(`bt.open({}, %q)`, "ws://"+srv.addr+server.IngestPath))
		p.run(`bt.send("a", 1, 100)`)
		st := evalJS[batchStats](p, `bt.flush()`)
		sink := srv.sink
		checkSession(t, sink, onlySession(t, sink), 100, batchMessage("a", 0))
		if st.Transport != "websocket" {
			t.Errorf("stats.transport = %q, want websocket", st.Transport)
		}
	})
}
