//go:build js && wasm

package jsbind

import (
	"runtime"
	"unsafe"

	"github.com/eventwire/eventwire/wasm/internal/clock"
)

// The fast way in: bytes and calls from JavaScript without a js.FuncOf.
//
// A js.FuncOf callback costs 13–17 µs (GUIDE.md §3), because the runtime
// parks the event goroutine and runs the scheduler before it returns to
// JavaScript. A //go:wasmexport function is a plain WebAssembly call
// (measured in node 20: 0.1 µs, 0.3 µs with one Go→JS call inside) that runs
// on the stack of the goroutine that last paused. The hot paths use it: the
// shell writes a network chunk into the inbox (its address comes from the
// export eventwireInbox) and calls an exported function that reads it
// (esChunk), so a chunk costs two plain calls and one copy.
//
// An exported function runs without the scheduler, so it must never block
// (no channel wait, no contended mutex: the module is single-threaded and
// the mutexes are never held across a call into JavaScript), and what it
// starts — goroutines, timers — only takes effect when the scheduler runs
// next. A function that may have started anything takes a SchedulerMark
// first and, when the mark has changed, returns a flag telling the shell to
// call the js.FuncOf export "kick", which runs the scheduler once. Calls
// back into Go from JavaScript made during an exported function (a listener
// calling close()) work as from any Go→JS call.

// inbox is the buffer behind eventwireInbox, shared by every caller: the
// shell fills it and calls the reading export at once, and the exports
// never read it after they return.
var inbox []byte

// keepInbox is the largest inbox kept after a smaller request: a rare huge
// chunk does not hold its memory for the life of the page.
const keepInbox = 1 << 20

// exportInbox returns the address in the module's memory of a buffer of at
// least n bytes, for the shell to write into before calling an export that
// reads it (Inbox). It may grow the memory, so the shell makes its view of
// memory.buffer after the call.
//
//go:wasmexport eventwireInbox
func exportInbox(n int32) unsafe.Pointer {
	size := max(int(n), 1)
	if cap(inbox) < size || cap(inbox) > keepInbox && size < keepInbox/4 {
		inbox = make([]byte, max(size, 64<<10))
	}
	return unsafe.Pointer(unsafe.SliceData(inbox[:cap(inbox)]))
}

// Inbox returns the first n bytes the shell wrote into the inbox, valid
// until the exported call reading them returns. n beyond the inbox is
// clamped (the shell asked for the size first).
func Inbox(n int) []byte {
	return inbox[:min(max(n, 0), len(inbox))]
}

// SchedulerMark records what an exported function may start that only the
// scheduler carries out: timers armed through the real clock and
// goroutines.
type SchedulerMark struct {
	timers     uint64
	goroutines int
}

// MarkScheduler takes a mark at the start of an exported function.
func MarkScheduler() SchedulerMark {
	return SchedulerMark{clock.Armed(), runtime.NumGoroutine()}
}

// Changed reports whether a timer was armed or a goroutine started since
// the mark: the shell must then call "kick".
func (m SchedulerMark) Changed() bool {
	return clock.Armed() != m.timers || runtime.NumGoroutine() > m.goroutines
}
