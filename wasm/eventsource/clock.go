package eventsource

import "github.com/eventwire/eventwire/wasm/internal/clock"

// Clock is the Client's source of time, injectable for tests. Now returns
// the current instant as a duration since an origin of the Clock's choice
// (monotonic time; only differences are used). AfterFunc calls f on some
// goroutine once d has elapsed, unless the returned Timer is stopped
// first; f may run after a Stop that raced with it, and the Client ignores
// such late calls. Neither mentions time.Time, which would keep its
// formatting code in the wasm (27 KB gzipped).
type Clock = clock.Clock

// Timer is a pending Clock.AfterFunc call.
type Timer = clock.Timer

// now uses Options.Clock, or package time when it is nil (see
// internal/clock for why the real clock is not behind the interface).
//
// For the same size reason the Client keeps instants as mono, not
// time.Time: a *Stream reaches the Transport interface, and through it the
// Client's fields would keep time.Time's methods too.
func (c *Client) now() mono { return mono(clock.Now(c.cfg.Clock)) }

// mono is an instant: nanoseconds since the Clock's origin.
type mono int64
