package eventsource

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventwire/eventwire/protocol/sse"
	"github.com/eventwire/eventwire/wasm/internal/backoff"
	"github.com/eventwire/eventwire/wasm/internal/clock"
)

// errBodyBeforeResponse is reported when a transport breaks its contract.
var errBodyBeforeResponse = errors.New("eventsource: transport delivered body before response")

// Client is one EventSource: it connects through its Transport, decodes the
// stream, reconnects, and reports to its Sink. Create it with New, start it
// with Start, stop it with Close. All methods are safe for concurrent use
// and never block beyond a short mutex.
type Client struct {
	url  string
	cfg  config
	tr   Transport
	sink Sink

	state atomic.Int32 // ReadyState; CLOSED is final

	mu       sync.Mutex
	queue    []msg // inputs waiting for the processing caller
	draining bool  // some caller is processing

	// Everything below belongs to the processing caller.

	spare    []msg // the other queue buffer, swapped with queue
	started  bool
	down     bool // shutdown done
	dec      *sse.Decoder
	emit     func(*sse.EventView) // adds to batch
	batch    Batch                // events of the current chunk, reused
	longPoll bool                 // polling (ModeLongPoll, or switched by ModeAuto)
	polling  atomic.Bool          // longPoll, for LongPolling
	failures int                  // failures in a row since a response was accepted

	// The current request.
	gen         uint64 // its generation, 0 when there is none
	lastGen     uint64
	abort       func() // from Transport.Open
	reqURL      string
	waitHeaders bool    // HeaderFunc is running for it
	haveResp    bool    // its response was accepted
	gotBytes    bool    // a body byte arrived
	sentAt      mono    // when it was sent
	active      mono    // when something last arrived
	events      int     // events it delivered
	renew       bool    // Stream.Renew pending
	boundary    bool    // its body so far ends between events
	tail        [3]byte // its last body bytes ('\n' before the first)

	respURL string // URL of the last accepted response
	origin  string // Origin(respURL)
	base    string // URL of the next request before its query changes: url, or the final URL of a redirect

	seq      uint64
	timers   [numTimers]Timer
	timerSeq [numTimers]uint64 // seq of the armed timer; 0 = none
}

type timerKind uint8

const (
	timerReconnect timerKind = iota // wait before the next request
	timerWatchdog                   // HeartbeatTimeout or LongPollTimeout
	timerProbe                      // buffering-proxy detection
	numTimers
)

type msgKind uint8

const (
	msgStart msgKind = iota
	msgClose
	msgHeaders
	msgResponse
	msgChunk
	msgEnd
	msgFail
	msgRenew
	msgTimer
)

// msg is one input of the Client. gen is the request generation (or the
// timer seq for msgTimer); inputs of an abandoned request are dropped.
type msg struct {
	kind  msgKind
	timer timerKind
	gen   uint64
	resp  *Response
	data  []byte
	hdr   []Header
	err   error
}

// New returns a Client for url, an absolute URL (the JS shell resolves it
// against the base URL and throws SyntaxError when it cannot). The Client
// does nothing until Start.
func New(url string, t Transport, s Sink, opts Options) *Client {
	c := &Client{url: url, base: url, cfg: opts.withDefaults(), tr: t, sink: s}
	c.dec = sse.NewDecoder(c.cfg.decoderOptions())
	c.dec.SetRetry(c.cfg.ReconnectionTime)
	if id := c.cfg.LastEventID; strings.IndexByte(id, 0) < 0 && strings.IndexByte(id, '\r') < 0 && strings.IndexByte(id, '\n') < 0 {
		c.dec.SetLastEventID(id)
	}
	c.emit = c.batch.add
	c.setLongPoll(c.cfg.Mode == ModeLongPoll)
	c.state.Store(int32(Connecting))
	return c
}

// Start begins connecting. It may call the Sink and the Transport before it
// returns (a URL that is not http(s) fails at once), so the JS shell calls
// it after its constructor has returned (for example from a microtask), as
// the spec queues those events as tasks. Later calls do nothing.
func (c *Client) Start() { c.post(msg{kind: msgStart}) }

// Close sets readyState to CLOSED at once, aborts the current request and
// cancels every timer. No Sink call follows, except the rest of a batch the
// Sink is dispatching (which the Sink stops itself). It is close().
func (c *Client) Close() {
	c.state.Store(int32(Closed))
	c.post(msg{kind: msgClose})
}

// ReadyState returns the current readyState.
func (c *Client) ReadyState() ReadyState { return ReadyState(c.state.Load()) }

// URL returns the URL given to New.
func (c *Client) URL() string { return c.url }

// LongPolling reports whether the Client polls (ModeLongPoll, or ModeAuto
// after detecting a buffering proxy).
func (c *Client) LongPolling() bool { return c.polling.Load() }

func (c *Client) setLongPoll(on bool) {
	c.longPoll = on
	c.polling.Store(on)
}

// post hands m to the processing caller, becoming it if there is none.
func (c *Client) post(m msg) {
	c.mu.Lock()
	if c.draining {
		c.queue = append(c.queue, m)
		c.mu.Unlock()
		return
	}
	c.draining = true
	c.mu.Unlock()
	c.run(&m)
}

// postChunk is post for a body chunk: p is decoded in place when the Client
// is idle, and copied only when it must wait in the queue.
func (c *Client) postChunk(gen uint64, p []byte) {
	c.mu.Lock()
	if c.draining {
		c.queue = append(c.queue, msg{kind: msgChunk, gen: gen, data: bytes.Clone(p)})
		c.mu.Unlock()
		return
	}
	c.draining = true
	c.mu.Unlock()
	m := msg{kind: msgChunk, gen: gen, data: p}
	c.run(&m)
}

// run processes m, then the queue until it is empty, then stops being the
// processing caller. A panic (in the Sink, the Transport or a bug) closes
// the Client and propagates to the caller, whose recover reports it.
func (c *Client) run(m *msg) {
	ok := false
	defer func() {
		if !ok {
			c.abandon()
		}
	}()
	c.handle(m)
	for {
		c.mu.Lock()
		q := c.queue
		if len(q) == 0 {
			c.draining = false
			c.mu.Unlock()
			break
		}
		c.queue = c.spare
		c.mu.Unlock()
		for i := range q {
			c.handle(&q[i])
			q[i] = msg{}
		}
		c.spare = q[:0]
	}
	ok = true
}

// guard, deferred on a goroutine the Client started, hands a panic to
// Options.OnPanic, or lets it go on (ending the program) when there is none.
// run has closed the Client by then.
func (c *Client) guard() {
	if f := c.cfg.OnPanic; f != nil {
		if r := recover(); r != nil {
			f(r)
		}
	}
}

// abandon leaves the Client CLOSED and idle after a panic.
func (c *Client) abandon() {
	c.state.Store(int32(Closed))
	c.mu.Lock()
	c.queue, c.spare, c.draining = nil, nil, false
	c.mu.Unlock()
	c.shutdown()
}

// handle processes one input.
func (c *Client) handle(m *msg) {
	if c.closed() {
		c.shutdown()
		return
	}
	switch m.kind {
	case msgStart:
		if c.started {
			return
		}
		c.started = true
		if !httpScheme(c.url) {
			c.fail(ReasonScheme, nil, nil)
			return
		}
		c.connect()
	case msgHeaders:
		if m.gen == c.gen && c.waitHeaders {
			if m.err != nil {
				c.abortRequest()
				c.retryAfterFailure(ReasonHeaders, m.err)
				return
			}
			c.send(m.hdr)
		}
	case msgResponse:
		if m.gen == c.gen && !c.haveResp && !c.waitHeaders {
			c.onResponse(m.resp)
		}
	case msgChunk:
		if m.gen == c.gen {
			c.onChunk(m.data)
		}
	case msgEnd:
		if m.gen == c.gen {
			c.onEnd()
		}
	case msgFail:
		if m.gen == c.gen {
			c.endRequest()
			reason := ReasonNetwork
			if he, ok := m.err.(*HeadersError); ok {
				reason, m.err = ReasonHeaders, he.Err
			}
			c.retryAfterFailure(reason, m.err)
		}
	case msgRenew:
		if m.gen == c.gen && c.haveResp {
			c.renew = true
			if c.boundary {
				c.renewNow()
			}
		}
	case msgTimer:
		if m.gen == c.timerSeq[m.timer] {
			c.timers[m.timer], c.timerSeq[m.timer] = nil, 0
			c.onTimer(m.timer)
		}
	}
}

func (c *Client) closed() bool { return ReadyState(c.state.Load()) == Closed }

// transition moves readyState to OPEN or CONNECTING and returns the state
// it left; CLOSED is final and returned unchanged.
func (c *Client) transition(to ReadyState) ReadyState {
	for {
		from := c.state.Load()
		if ReadyState(from) == Closed || c.state.CompareAndSwap(from, int32(to)) {
			return ReadyState(from)
		}
	}
}

// connect starts a new request: through HeaderFunc when there is one.
func (c *Client) connect() {
	c.abortRequest()
	c.lastGen++
	c.gen = c.lastGen
	c.haveResp, c.gotBytes, c.renew = false, false, false
	c.events, c.boundary, c.tail = 0, true, [3]byte{'\n', '\n', '\n'}
	f := c.cfg.HeaderFunc
	if f == nil {
		c.send(nil)
		return
	}
	c.waitHeaders = true
	gen := c.gen
	go func() {
		defer c.guard()
		h, err := callHeaderFunc(f)
		c.post(msg{kind: msgHeaders, gen: gen, hdr: h, err: err})
	}()
}

// callHeaderFunc calls f, turning a panic into an error: it runs on its own
// goroutine, where a panic would end the program.
func callHeaderFunc(f func() ([]Header, error)) (h []Header, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg := "eventsource: headers callback panicked"
			switch v := r.(type) {
			case string:
				msg += ": " + v
			case error:
				msg += ": " + v.Error()
			}
			h, err = nil, errors.New(msg)
		}
	}()
	return f()
}

// send opens the request with the extra headers from HeaderFunc.
func (c *Client) send(extra []Header) {
	c.waitHeaders = false
	req := c.newRequest(c.dec.LastEventID(), extra)
	c.reqURL = req.URL
	now := c.now()
	c.sentAt, c.active = now, now
	if c.longPoll {
		if t := c.cfg.LongPollTimeout; t > 0 {
			c.arm(timerWatchdog, t)
		}
	} else if c.cfg.Mode == ModeAuto && c.cfg.BufferingTimeout > 0 {
		// Until the first body byte, silence means a buffering proxy; the
		// heartbeat starts with that byte (see onChunk).
		c.arm(timerProbe, c.cfg.BufferingTimeout)
	} else if t := c.cfg.HeartbeatTimeout; t > 0 {
		c.arm(timerWatchdog, t)
	}
	if c.cfg.Debug != nil {
		kind := "stream "
		if req.LongPoll {
			kind = "poll "
		}
		c.cfg.Debug("eventsource: " + kind + req.Method + " " + req.URL)
	}
	c.abort = c.tr.Open(req, &Stream{c: c, gen: c.gen})
}

// onResponse checks the response and announces the connection.
func (c *Client) onResponse(r *Response) {
	c.haveResp = true
	c.touch()
	if r.Status != 200 {
		c.fail(ReasonStatus, nil, r)
		return
	}
	if !isEventStream(r.ContentType) {
		c.fail(ReasonContentType, nil, r)
		return
	}
	u := r.URL
	if u == "" {
		u = c.reqURL
	}
	if u != c.respURL {
		c.respURL, c.origin = u, Origin(u)
	}
	if u != c.reqURL {
		// Redirected: later requests go to the final URL, as browsers do.
		c.base = u
	}
	c.failures = 0
	if c.transition(Open) == Connecting {
		if c.cfg.Debug != nil {
			c.cfg.Debug("eventsource: open " + u)
		}
		c.sink.Open(&OpenInfo{URL: u, Origin: c.origin, Response: r})
	}
}

// onChunk decodes a body chunk and hands its events to the Sink at once.
// feedSlice is the most of a chunk the decoder is fed at once; the events of
// the whole chunk still reach the Sink in one call. In the browser a large
// chunk (fetch hands over a megabyte at a time from a fast server) would
// otherwise be decoded in one call, and V8 only switches a WebAssembly
// function to its optimized code at the function's next call.
const feedSlice = 16 << 10

func (c *Client) onChunk(p []byte) {
	if !c.haveResp {
		c.endRequest()
		c.retryAfterFailure(ReasonNetwork, errBodyBeforeResponse)
		return
	}
	if !c.gotBytes {
		c.gotBytes = true
		if c.timers[timerProbe] != nil {
			c.stop(timerProbe)
			if t := c.cfg.HeartbeatTimeout; t > 0 {
				c.arm(timerWatchdog, t)
			}
		}
	}
	if c.timers[timerWatchdog] != nil {
		c.touch()
	}
	var err error
	c.batch.begin(p)
	for at := 0; at < len(p) && err == nil; at += feedSlice {
		c.batch.base = at
		err = c.dec.FeedView(p[at:min(at+feedSlice, len(p))], c.emit)
	}
	n := c.batch.Len()
	if n > 0 && !c.closed() {
		c.sink.Events(c.origin, &c.batch)
	}
	c.batch.end()
	if n > 0 {
		c.events += n
		if c.closed() { // the Sink's listeners called close()
			c.shutdown()
			return
		}
	}
	if err != nil {
		c.fail(ReasonEventTooLarge, err, nil)
		return
	}
	c.tail = shiftTail(c.tail, p)
	c.boundary = atBoundary(c.tail)
	if c.renew && c.boundary {
		c.renewNow()
	}
}

// onEnd handles the orderly end of a response.
func (c *Client) onEnd() {
	if !c.haveResp {
		c.endRequest()
		c.retryAfterFailure(ReasonNetwork, errBodyBeforeResponse)
		return
	}
	c.endRequest()
	if c.longPoll {
		// The next poll at once; but a poll that brought nothing waits until
		// the reconnection time has passed since it was sent.
		var wait time.Duration
		if c.events == 0 {
			wait = c.dec.Retry() - time.Duration(c.now()-c.sentAt)
		}
		if wait > 0 {
			c.arm(timerReconnect, wait)
		} else {
			c.connect()
		}
		return
	}
	c.reestablish(ReasonEndOfStream, nil, c.dec.Retry())
}

// onTimer handles a timer that fired.
func (c *Client) onTimer(k timerKind) {
	switch k {
	case timerReconnect:
		c.connect()
	case timerWatchdog:
		limit, reason := c.cfg.HeartbeatTimeout, ReasonHeartbeat
		if c.longPoll {
			limit, reason = c.cfg.LongPollTimeout, ReasonPollTimeout
		}
		if idle := time.Duration(c.now() - c.active); idle < limit {
			c.arm(timerWatchdog, limit-idle) // something arrived meanwhile
			return
		}
		c.endRequest()
		c.retryAfterFailure(reason, nil)
	case timerProbe:
		if c.gotBytes || c.longPoll {
			return
		}
		if c.cfg.Debug != nil {
			c.cfg.Debug("eventsource: no byte after " + ms(c.cfg.BufferingTimeout) +
				": buffering proxy assumed, switching to long-polling")
		}
		c.setLongPoll(true)
		c.endRequest()
		c.connect()
	}
}

// renewNow replaces the current request at an event boundary.
func (c *Client) renewNow() {
	if c.cfg.Debug != nil {
		c.cfg.Debug("eventsource: renewing the request")
	}
	c.endRequest()
	c.connect()
}

// touch records that something arrived.
func (c *Client) touch() { c.active = c.now() }

// retryAfterFailure reestablishes the connection after a failure, waiting
// with backoff.
func (c *Client) retryAfterFailure(reason Reason, err error) {
	c.failures++
	c.reestablish(reason, err, c.backoff())
}

// backoff returns the wait after the c.failures-th failure in a row: uniform
// in [r, min(BackoffMax, max(r, 1s)·2ⁿ)].
func (c *Client) backoff() time.Duration {
	r := c.dec.Retry()
	return backoff.Full(r, max(r, minBackoffBase), c.cfg.BackoffMax, c.failures, c.cfg.Rand)
}

// minBackoffBase is the smallest base of the backoff growth, so that
// "retry: 0" does not turn repeated failures into a busy loop.
const minBackoffBase = time.Second

// reestablish is the spec's "reestablish the connection": CONNECTING, an
// error event, then a new request after delay.
func (c *Client) reestablish(reason Reason, err error, delay time.Duration) {
	if c.transition(Connecting) == Closed {
		c.shutdown()
		return
	}
	if c.cfg.Debug != nil {
		s := "eventsource: " + string(reason)
		if err != nil {
			s += " (" + err.Error() + ")"
		}
		c.cfg.Debug(s + "; reconnecting in " + ms(delay) + " (failures " + strconv.Itoa(c.failures) + ")")
	}
	c.arm(timerReconnect, delay)
	c.sink.Error(&ErrorInfo{State: Connecting, Reason: reason, Err: err, Delay: delay})
}

// fail is the spec's "fail the connection": CLOSED and an error event.
func (c *Client) fail(reason Reason, err error, r *Response) {
	if ReadyState(c.state.Swap(int32(Closed))) == Closed {
		c.shutdown()
		return
	}
	c.shutdown()
	if c.cfg.Debug != nil {
		s := "eventsource: failed: " + string(reason)
		if r != nil {
			s += " (status " + strconv.Itoa(r.Status) + ", content type \"" + r.ContentType + "\")"
		}
		c.cfg.Debug(s)
	}
	c.sink.Error(&ErrorInfo{State: Closed, Reason: reason, Err: err, Response: r})
}

// endRequest ends the current request: the decoder drops an unfinished
// event, the transport is told to abort.
func (c *Client) endRequest() {
	c.dec.End()
	c.abortRequest()
}

// abortRequest forgets the current request and its timers.
func (c *Client) abortRequest() {
	if f := c.abort; f != nil {
		c.abort = nil
		f()
	}
	c.gen, c.waitHeaders = 0, false
	c.stop(timerWatchdog)
	c.stop(timerProbe)
}

// shutdown stops everything, once.
func (c *Client) shutdown() {
	if c.down {
		return
	}
	c.down = true
	c.abortRequest()
	c.stop(timerReconnect)
	c.batch = Batch{}
}

func (c *Client) arm(k timerKind, d time.Duration) {
	c.stop(k)
	c.seq++
	seq := c.seq
	c.timerSeq[k] = seq
	c.timers[k] = clock.AfterFunc(c.cfg.Clock, d, func() {
		defer c.guard()
		c.post(msg{kind: msgTimer, timer: k, gen: seq})
	})
}

func (c *Client) stop(k timerKind) {
	if t := c.timers[k]; t != nil {
		t.Stop()
		c.timers[k] = nil
	}
	c.timerSeq[k] = 0
}

// shiftTail returns the last three bytes of tail followed by p.
func shiftTail(tail [3]byte, p []byte) [3]byte {
	if len(p) >= 3 {
		return [3]byte(p[len(p)-3:])
	}
	for _, b := range p {
		tail = [3]byte{tail[1], tail[2], b}
	}
	return tail
}

// atBoundary reports whether a body whose last bytes are tail leaves the
// decoder between events: its last line terminator (CR, LF or CRLF) ends
// an empty line, that is, follows another terminator. Then the blank line
// has dispatched any event and nothing of the next one has arrived.
func atBoundary(tail [3]byte) bool {
	eol := func(b byte) bool { return b == '\r' || b == '\n' }
	switch {
	case tail[1] == '\r' && tail[2] == '\n':
		return eol(tail[0])
	case eol(tail[2]):
		return eol(tail[1])
	}
	return false
}

// ms formats d in milliseconds for Debug (Duration.String costs 4 KB).
func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "ms" }
