package eventsource

import "time"

// Clock is the Client's source of time, injectable for tests.
type Clock interface {
	// Now returns the current time; only differences between its values
	// are used.
	Now() time.Time
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

// realClock uses package time (in js/wasm, the runtime's setTimeout-based
// timers).
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
