//go:build js && wasm

package jsbind

import (
	"unsafe"

	"github.com/eventwire/eventwire/wasm/eventsource"
)

// What an ESSink passes to its notify function as the first argument.
const (
	// NotifyEvents: notify(0, n, head, chunk, chunkLen, extra, extraLen,
	// origin): the n events of one network chunk, an eventsource.Batch
	// read in place from the module's memory (memory.buffer): head is the
	// address of its header (4n uint32, little-endian, 4-aligned), chunk
	// and extra the addresses of the bytes of its two texts. They are valid
	// only during the call, and only until the shell calls into Go, which
	// may grow the memory: the shell copies the header and decodes both
	// texts first.
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
// network chunk carrying all its events (GUIDE.md §3). The events are not
// copied: the shell reads the Batch where it is, in the module's memory,
// decodes its texts with one TextDecoder call each and dispatches the
// MessageEvents (js/src/eventsource.js).
type ESSink struct {
	notify Value
	// OnClosed, when set, is called after an error event that leaves the
	// source CLOSED (failed for good).
	OnClosed func()

	origin   string
	originJS Value
}

// NewESSink returns a Sink calling notify.
func NewESSink(notify Value) *ESSink { return &ESSink{notify: notify} }

// Events implements eventsource.Sink.
func (s *ESSink) Events(origin string, b *eventsource.Batch) {
	if origin != s.origin || s.originJS.IsUndefined() {
		s.origin, s.originJS = origin, Value{}
		v, err := toJS(origin)
		if err != nil {
			panic(err)
		}
		s.originJS = Value{v}
	}
	chunk, extra := b.Chunk(), b.Extra()
	s.call(NotifyEvents, b.Len(), address(b.Head()), address(chunk), len(chunk), address(extra), len(extra), s.originJS)
}

// address returns where the elements of p are in the module's memory
// (Go's heap does not move), or 0 for an empty p.
func address[T any](p []T) int {
	if len(p) == 0 {
		return 0
	}
	return int(uintptr(unsafe.Pointer(unsafe.SliceData(p))))
}

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
