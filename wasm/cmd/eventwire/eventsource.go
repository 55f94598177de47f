//go:build js && wasm

package main

import (
	"math"
	"sync"
	"time"

	"github.com/eventwire/eventwire/wasm/eventsource"
	"github.com/eventwire/eventwire/wasm/internal/module"
	"github.com/eventwire/eventwire/wasm/jsbind"
)

// The EventSource exports, used by js/src/eventsource.js:
//
//	esOpen(url, notify, driver, mode, headers, lastEventIdParam,
//	       retryMaxDelay, heartbeatTimeout, bufferingTimeout, maxEventSize,
//	       debug, method) → id
//	    Creates and starts an eventsource.Client for the absolute URL url.
//	    notify receives what the page must see (jsbind.ESSink: a chunk's
//	    events in one call, open, error, debug lines); driver makes the requests
//	    (jsbind.ESTransport). mode: 0 auto (stream, switch to polling behind
//	    a buffering proxy), 1 stream, 2 long-poll. headers: the static
//	    request headers as "name\nvalue\n...". The numbers may be undefined
//	    for the defaults of eventsource.Options; retryMaxDelay <= 0 disables
//	    backoff, heartbeatTimeout <= 0 is off, bufferingTimeout <= 0
//	    disables proxy detection, maxEventSize <= 0 or Infinity is no limit
//	    (all in ms or bytes). The connection starts at once: the shell calls
//	    esOpen from a task after its constructor.
//	esNet(id, requestId, kind, ...args)
//	    The driver's reports (jsbind.ESTransport.Deliver), except chunks.
//	esChunk(id, requestId, n) → flags   (a //go:wasmexport, on the instance)
//	    The next n bytes of the body, written into the inbox
//	    (jsbind/inbox.go). A plain WebAssembly call instead of a js.FuncOf:
//	    one per network chunk, 0.1 µs instead of 13–17 µs. The flags:
//	    esChunkHeld, the chunk's events wait in the outbox
//	    (jsbind.ESSink.EndExport; its address comes from the export
//	    eventwireOutbox), for the shell to deliver first; esChunkKick, then
//	    call kick() (a timer or goroutine started).
//	esClose(id)
//	    close(): CLOSED at once, no event. Unknown ids are ignored.
func exportEventSource(o *jsbind.Object) error {
	return module.SetFuncs(o, map[string]jsbind.Handler{
		"esOpen":  esOpen,
		"esNet":   esNet,
		"esClose": esClose,
	})
}

// esSource is one EventSource of the page.
type esSource struct {
	id   int
	c    *eventsource.Client
	tr   *jsbind.ESTransport
	sink *jsbind.ESSink
	once sync.Once
}

var (
	esMu     sync.Mutex
	esLastID int
	esAll    = map[int]*esSource{}
)

func esLookup(v jsbind.Value) *esSource {
	f, err := v.Float()
	if err != nil {
		return nil
	}
	return esByID(int(f))
}

func esByID(id int) *esSource {
	esMu.Lock()
	defer esMu.Unlock()
	return esAll[id]
}

func (e *esSource) forget() {
	esMu.Lock()
	delete(esAll, e.id)
	esMu.Unlock()
}

// crash reports a recovered panic: the Client is closed (run closed it
// already) and the page gets an error event and CLOSED.
func (e *esSource) crash(err error) {
	e.once.Do(func() {
		e.forget()
		e.c.Close()
		e.sink.Fail("internal error", err)
	})
}

func esOpen(args []jsbind.Value) (any, error) {
	if len(args) < 12 || !args[1].IsFunction() || !args[2].IsObject() {
		return nil, jsbind.TypeError("eventwire: esOpen: bad arguments")
	}
	url, err := args[0].String()
	if err != nil {
		return nil, err
	}
	var o eventsource.Options
	mode, _ := args[3].Float()
	o.Mode = eventsource.Mode(mode)
	if h, _ := args[4].String(); h != "" {
		o.Header = splitHeaders(h)
	}
	o.LastEventIDParam, _ = args[5].String()
	if ms, err := args[6].Float(); err == nil {
		o.BackoffMax = duration(ms)
	}
	if ms, err := args[7].Float(); err == nil && ms > 0 {
		o.HeartbeatTimeout = duration(ms)
	}
	if ms, err := args[8].Float(); err == nil {
		o.BufferingTimeout = duration(ms)
	}
	if n, err := args[9].Float(); err == nil {
		o.MaxEventSize = -1
		if n > 0 && n < math.MaxInt32 {
			o.MaxEventSize = int(n)
		}
	}
	o.Method, _ = args[11].String()

	e := &esSource{sink: jsbind.NewESSink(args[1]), tr: jsbind.NewESTransport(args[2])}
	e.sink.OnClosed = e.forget
	o.OnPanic = func(v any) { e.crash(&jsbind.PanicError{Func: "eventsource", Value: v}) }
	if args[10].Truthy() {
		o.Debug = e.sink.Debug
	}
	e.c = eventsource.New(url, e.tr, e.sink, o)

	esMu.Lock()
	esLastID++
	e.id = esLastID
	esAll[e.id] = e
	esMu.Unlock()
	defer e.recover()
	e.c.Start()
	return e.id, nil
}

// recover, deferred, turns a panic in the Client's processing into crash.
func (e *esSource) recover() {
	if r := recover(); r != nil {
		e.crash(&jsbind.PanicError{Func: "eventsource", Value: r})
	}
}

func esNet(args []jsbind.Value) (any, error) {
	e := esLookup(arg(args, 0))
	if e == nil {
		return nil, nil // closed meanwhile
	}
	req, err1 := arg(args, 1).Float()
	kind, err2 := arg(args, 2).Float()
	if err1 != nil || err2 != nil {
		return nil, jsbind.TypeError("eventwire: esNet: bad arguments")
	}
	defer e.recover()
	var rest []jsbind.Value
	if len(args) > 3 {
		rest = args[3:]
	}
	return nil, e.tr.Deliver(int(req), int(kind), rest)
}

// The flags esChunk returns (js/src/eventsource.js has the same values).
const (
	esChunkKick = 1
	esChunkHeld = 2
)

//go:wasmexport esChunk
func esChunk(id, req, n int32) (flags int32) {
	e := esByID(int(id))
	if e == nil {
		return 0 // closed meanwhile
	}
	mark := jsbind.MarkScheduler()
	e.sink.BeginExport()
	defer func() {
		if e.sink.EndExport() {
			flags |= esChunkHeld
		}
		if mark.Changed() {
			flags |= esChunkKick
		}
	}()
	defer e.recover() // runs first
	e.tr.Chunk(int(req), jsbind.Inbox(int(n)))
	return 0
}

func esClose(args []jsbind.Value) (any, error) {
	if e := esLookup(arg(args, 0)); e != nil {
		e.forget()
		defer e.recover()
		e.c.Close()
	}
	return nil, nil
}

func arg(args []jsbind.Value, i int) jsbind.Value {
	if i < len(args) {
		return args[i]
	}
	return jsbind.Undefined()
}

// duration converts milliseconds; <= 0 becomes -1 (the Options' "off").
func duration(ms float64) time.Duration {
	switch {
	case !(ms > 0):
		return -1
	case ms >= float64(math.MaxInt64/int64(time.Millisecond)):
		return math.MaxInt64
	}
	return time.Duration(ms * float64(time.Millisecond))
}

// splitHeaders parses "name\nvalue\nname\nvalue...".
func splitHeaders(s string) []eventsource.Header {
	var h []eventsource.Header
	for s != "" {
		var name, value string
		name, s, _ = cut(s)
		value, s, _ = cut(s)
		h = append(h, eventsource.Header{Name: name, Value: value})
	}
	return h
}

func cut(s string) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
