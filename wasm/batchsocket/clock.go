package batchsocket

import "time"

// Clock is the Socket's source of time, injectable for tests.
type Clock interface {
	// Now returns the current instant as a duration since an origin of the
	// Clock's choice (monotonic time); only differences are used. Not a
	// time.Time: an interface that mentions time.Time keeps its formatting
	// and time zone code in the wasm (about 27 KB gzipped).
	Now() time.Duration
	// AfterFunc calls f on some goroutine once d has elapsed, unless the
	// returned Timer is stopped first. f may run after a Stop that raced
	// with it; the Socket ignores such late calls.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call if it has not started, reporting whether it did.
	Stop() bool
}

// epoch is the origin of the real clock.
var epoch = time.Now()

// now and afterFunc use Options.Clock, or package time when it is nil (in
// js/wasm, the runtime's setTimeout-based timers). The real clock is not a
// type behind the Clock interface, and a *time.Timer is not put in the Timer
// interface, for the same size reason as above.
func (s *Socket) now() time.Duration {
	if c := s.cfg.Clock; c != nil {
		return c.Now()
	}
	return time.Since(epoch)
}

func (s *Socket) afterFunc(d time.Duration, f func()) Timer {
	if c := s.cfg.Clock; c != nil {
		return c.AfterFunc(d, f)
	}
	return stopFunc(time.AfterFunc(d, f).Stop)
}

// stopFunc is a Timer.
type stopFunc func() bool

func (f stopFunc) Stop() bool { return f() }
