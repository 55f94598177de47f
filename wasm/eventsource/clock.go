package eventsource

import "time"

// Clock is the Client's source of time, injectable for tests.
type Clock interface {
	// Now returns the current instant as a duration since an origin of the
	// Clock's choice (monotonic time); only differences are used. (Not a
	// time.Time: an interface mentioning time.Time keeps its formatting code
	// in the wasm, 27 KB gzipped.)
	Now() time.Duration
	// AfterFunc calls f on some goroutine once d has elapsed, unless the
	// returned Timer is stopped first. f may run after a Stop that raced
	// with it; the Client ignores such late calls.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call if it has not started, reporting whether it did.
	Stop() bool
}

// now and afterFunc use Options.Clock, or package time when it is nil (in
// js/wasm, the runtime's setTimeout-based timers). The real clock is not put
// behind the Clock interface: a concrete type converted to Clock would keep
// time.Time's methods reachable through the interface (its String and
// formatting, with time zone loading: 27 KB of gzipped wasm).
//
// For the same reason the Client keeps instants as mono, not time.Time: a
// *Stream reaches the Transport interface, and through it the Client's
// fields would keep time.Time's methods too.
func (c *Client) now() mono {
	if c.cfg.Clock != nil {
		return mono(c.cfg.Clock.Now())
	}
	return mono(time.Since(epoch))
}

// mono is an instant: nanoseconds since the Clock's origin (epoch for the
// real clock).
type mono int64

// epoch is the origin of the real clock.
var epoch = time.Now()

func (c *Client) afterFunc(d time.Duration, f func()) Timer {
	if c.cfg.Clock != nil {
		return c.cfg.Clock.AfterFunc(d, f)
	}
	return stopFunc(time.AfterFunc(d, f).Stop)
}

// stopFunc is a Timer. The real *time.Timer is not put in the Timer
// interface either: that too keeps time.Time's methods (through its field C).
type stopFunc func() bool

func (f stopFunc) Stop() bool { return f() }
