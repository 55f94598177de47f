package batchsocket

import "github.com/eventwire/eventwire/wasm/internal/clock"

// Clock is the Socket's source of time, injectable for tests. Now returns
// the current instant as a duration since an origin of the Clock's choice
// (monotonic time; only differences are used). AfterFunc calls f on some
// goroutine once d has elapsed, unless the returned Timer is stopped
// first; f may run after a Stop that raced with it, and the Socket ignores
// such late calls. Neither mentions time.Time, which would keep its
// formatting and time zone code in the wasm (about 27 KB gzipped).
type Clock = clock.Clock

// Timer is a pending Clock.AfterFunc call.
type Timer = clock.Timer
