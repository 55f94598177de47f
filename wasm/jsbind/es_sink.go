//go:build js && wasm

package jsbind

import (
	"github.com/eventwire/eventwire/protocol/sse"
	"github.com/eventwire/eventwire/wasm/eventsource"
)

// What an ESSink passes to its notify function as the first argument.
const (
	// NotifyEvents: notify(0, u8, length, origin). u8 is a Uint8Array whose
	// first length bytes hold the events of one network chunk in the layout
	// of eventsource.AppendPacked; the array is reused by the next call.
	NotifyEvents = 0
	// NotifyOpen: notify(1, url, origin, status, headers). readyState is
	// OPEN; fire "open".
	NotifyOpen = 1
	// NotifyError: notify(2, readyState, reason, status, headers, message).
	// Set readyState (0 CONNECTING: a reconnection follows; 2 CLOSED: for
	// good), then fire "error". status and headers (a Headers object, or the
	// XHR's getAllResponseHeaders() string) are undefined unless an HTTP
	// response caused the error; message is the underlying error's text, or
	// undefined.
	NotifyError = 2
	// NotifyDebug: notify(3, line): a diagnostic line for the console, only
	// with the debug option.
	NotifyDebug = 3
)

// ESSink is the eventsource.Sink of the browser: it hands everything the
// page must see to one JavaScript function, notify, with one call per
// network chunk carrying all its events (GUIDE.md §3): the events are packed
// into a Go buffer reused across chunks, copied in one CopyBytesToJS into a
// Uint8Array also reused, and the shell (js/src/eventsource.js) decodes the
// text with one TextDecoder call and dispatches the MessageEvents.
type ESSink struct {
	notify Value
	// OnClosed, when set, is called after an error event that leaves the
	// source CLOSED (failed for good).
	OnClosed func()

	buf      []byte
	u8       Value // Uint8Array of u8Len bytes
	u8Len    int
	origin   string
	originJS Value
}

// NewESSink returns a Sink calling notify.
func NewESSink(notify Value) *ESSink { return &ESSink{notify: notify} }

// Events implements eventsource.Sink.
func (s *ESSink) Events(origin string, events []sse.Event) {
	s.buf = eventsource.AppendPacked(s.buf[:0], events)
	n := len(s.buf)
	if n > s.u8Len || s.u8Len > shrinkPacked && n < s.u8Len/8 {
		// Grow; or give back the memory a rare huge chunk took.
		size := max(n+n/4, 4096)
		u8, err := Global("Uint8Array").New(size)
		if err != nil {
			panic(err) // out of memory: the binding reports it as an error event
		}
		s.u8, s.u8Len = u8, size
	}
	if _, err := s.u8.CopyBytesToJS(s.buf); err != nil {
		panic(err)
	}
	if cap(s.buf) > shrinkPacked && n < cap(s.buf)/8 {
		s.buf = nil
	}
	if origin != s.origin || s.originJS.IsUndefined() {
		s.origin, s.originJS = origin, Value{}
		v, err := toJS(origin)
		if err != nil {
			panic(err)
		}
		s.originJS = Value{v}
	}
	s.call(NotifyEvents, s.u8, n, s.originJS)
}

// shrinkPacked is the size above which the packed buffers are dropped when
// a chunk needs less than an eighth of them.
const shrinkPacked = 1 << 20

// Open implements eventsource.Sink.
func (s *ESSink) Open(info *eventsource.OpenInfo) {
	status, headers := responseFields(info.Response)
	s.call(NotifyOpen, info.URL, info.Origin, status, headers)
}

// Error implements eventsource.Sink.
func (s *ESSink) Error(info *eventsource.ErrorInfo) {
	status, headers := responseFields(info.Response)
	var msg any
	if info.Err != nil {
		msg = info.Err.Error()
	}
	s.call(NotifyError, int(info.State), string(info.Reason), status, headers, msg)
	if info.State == eventsource.Closed && s.OnClosed != nil {
		s.OnClosed()
	}
}

// Fail reports an error the Client could not (a recovered panic, a module
// failure): readyState CLOSED and an error event with reason.
func (s *ESSink) Fail(reason string, err error) {
	var msg any
	if err != nil {
		msg = err.Error()
	}
	s.call(NotifyError, int(eventsource.Closed), reason, nil, nil, msg)
	if s.OnClosed != nil {
		s.OnClosed()
	}
}

// Debug passes a diagnostic line to the page.
func (s *ESSink) Debug(line string) { s.call(NotifyDebug, line) }

func responseFields(r *eventsource.Response) (status, headers any) {
	if r == nil {
		return nil, nil
	}
	status = r.Status
	if v, ok := r.Raw.(Value); ok {
		headers = v
	}
	return status, headers
}

// call invokes notify. An exception thrown by the shell is dropped: the
// shell reports its listeners' exceptions itself.
func (s *ESSink) call(args ...any) {
	_, _ = s.notify.Invoke(args...)
}
