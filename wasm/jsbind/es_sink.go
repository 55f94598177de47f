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

	// Inside an exported call (BeginExport): a batch left in the outbox,
	// and what keeps its memory alive until the shell has read it.
	inExport  bool
	held      bool
	heldHead  []uint32
	heldBytes [2][]byte
}

// The outbox: how an exported call hands a chunk's events to the shell
// without calling into JavaScript (a Go→JS call costs several µs, and on a
// quiet stream, whose caches went cold between two events, far more).
// Inside an export, Events writes the batch here instead of calling notify,
// and the shell reads it when the export returns (see esChunk):
//
//	n, head, chunk, chunkLen, extra, extraLen   as for NotifyEvents
//
// with the origin of the previous NotifyEvents call.
var outbox [6]uint32

// exportOutbox returns the address of the outbox; it never changes.
//
//go:wasmexport eventwireOutbox
func exportOutbox() unsafe.Pointer { return unsafe.Pointer(&outbox) }

// BeginExport starts an exported call: until EndExport, Events leaves a
// batch in the outbox when it can (the shell knows its origin). Every
// other notification first sends a held batch the usual way, so the page
// sees everything in order.
func (s *ESSink) BeginExport() { s.inExport = true }

// EndExport ends the exported call and reports whether a batch waits in the
// outbox; the shell must read it before anything calls into Go again.
func (s *ESSink) EndExport() (held bool) {
	s.inExport = false
	held, s.held = s.held, false
	s.unhold() // no Go code runs before the shell reads the outbox
	return held
}

// NewESSink returns a Sink calling notify.
func NewESSink(notify Value) *ESSink { return &ESSink{notify: notify} }

// Events implements eventsource.Sink.
func (s *ESSink) Events(origin string, b *eventsource.Batch) {
	s.flush()
	head, chunk, extra := b.Head(), b.Chunk(), b.Extra()
	if s.inExport && origin == s.origin && !s.originJS.IsUndefined() {
		outbox = [6]uint32{uint32(b.Len()), address(head), address(chunk), uint32(len(chunk)), address(extra), uint32(len(extra))}
		s.held, s.heldHead, s.heldBytes = true, head, [2][]byte{chunk, extra}
		return
	}
	if origin != s.origin || s.originJS.IsUndefined() {
		s.origin, s.originJS = origin, Value{}
		v, err := toJS(origin)
		if err != nil {
			panic(err)
		}
		s.originJS = Value{v}
	}
	s.call(NotifyEvents, b.Len(), address(head), address(chunk), len(chunk), address(extra), len(extra), s.originJS)
}

// flush sends a batch held in the outbox through notify.
func (s *ESSink) flush() {
	if !s.held {
		return
	}
	s.held = false
	o := outbox
	s.call(NotifyEvents, o[0], o[1], o[2], o[3], o[4], o[5], s.originJS)
	s.unhold()
}

// unhold lets go of a batch's memory.
func (s *ESSink) unhold() { s.heldHead, s.heldBytes = nil, [2][]byte{} }

// address returns where the elements of p are in the module's memory
// (Go's heap does not move), or 0 for an empty p.
func address[T any](p []T) uint32 {
	if len(p) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(p))))
}

// Open implements eventsource.Sink.
func (s *ESSink) Open(info *eventsource.OpenInfo) {
	s.flush()
	status, headers := responseFields(info.Response)
	s.call(NotifyOpen, info.URL, info.Origin, status, headers)
}

// Error implements eventsource.Sink.
func (s *ESSink) Error(info *eventsource.ErrorInfo) {
	s.flush()
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
	s.flush()
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
func (s *ESSink) Debug(line string) {
	s.flush()
	s.call(NotifyDebug, line)
}

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
