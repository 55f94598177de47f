// Package clock is the injectable source of time of the wasm client cores
// (wasm/eventsource, wasm/batchsocket): a Clock for tests, package time
// otherwise.
//
// Its shape is dictated by the size of the wasm. The interfaces never
// mention time.Time, the real clock is not a type behind Clock, and a
// *time.Timer is never put in a Timer: each of these would keep time.Time's
// methods reachable through an interface (its String and formatting, with
// time zone loading), about 27 KB of gzipped wasm. Instead, Now and
// AfterFunc call package time directly when no Clock is given.
package clock

import (
	"sync/atomic"
	"time"
)

// Clock is a source of time, injectable for tests.
type Clock interface {
	// Now returns the current instant as a duration since an origin of the
	// Clock's choice (monotonic time); only differences are used. Not a
	// time.Time: see the package documentation.
	Now() time.Duration
	// AfterFunc calls f on some goroutine once d has elapsed, unless the
	// returned Timer is stopped first. f may run after a Stop that raced
	// with it; callers must ignore such late calls.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call if it has not started, reporting whether it did.
	Stop() bool
}

// epoch is the origin of the real clock.
var epoch = time.Now()

// Now returns c.Now(), or with a nil c the time since a fixed origin of the
// real (monotonic) clock.
func Now(c Clock) time.Duration {
	if c != nil {
		return c.Now()
	}
	return time.Since(epoch)
}

// AfterFunc returns c.AfterFunc(d, f), or with a nil c a timer of package
// time (in js/wasm, the runtime's setTimeout-based timers).
func AfterFunc(c Clock, d time.Duration, f func()) Timer {
	if c != nil {
		return c.AfterFunc(d, f)
	}
	armed.Add(1)
	return stopFunc(time.AfterFunc(d, f).Stop)
}

// armed counts the timers AfterFunc started on the real clock.
var armed atomic.Uint64

// Armed returns how many timers AfterFunc has started on the real clock: a
// caller that runs outside the Go scheduler (a //go:wasmexport function)
// compares it before and after to know whether the scheduler must run.
func Armed() uint64 { return armed.Load() }

// stopFunc is the Timer of the real clock: the *time.Timer itself is not put
// in the interface (through its field C it would keep time.Time's methods).
type stopFunc func() bool

func (f stopFunc) Stop() bool { return f() }
