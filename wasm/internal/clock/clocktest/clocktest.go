// Package clocktest provides a deterministic clock.Clock for tests.
package clocktest

import (
	"slices"
	"sync"
	"time"

	"github.com/eventwire/eventwire/wasm/internal/clock"
)

// Fake is a manual clock.Clock: time moves only in Advance, which runs the
// due timers in deadline order on the caller's goroutine. It is safe for
// concurrent use.
type Fake struct {
	mu     sync.Mutex
	now    time.Duration
	timers []*timer
}

type timer struct {
	c  *Fake
	at time.Duration
	f  func()
}

// New returns a Fake whose Now starts at start.
func New(start time.Duration) *Fake { return &Fake{now: start} }

// Now returns the current fake time.
func (c *Fake) Now() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc arms a timer that Advance fires once d has elapsed.
func (c *Fake) AfterFunc(d time.Duration, f func()) clock.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{c: c, at: c.now + d, f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	i := slices.Index(t.c.timers, t)
	if i < 0 {
		return false
	}
	t.c.timers = slices.Delete(t.c.timers, i, i+1)
	return true
}

// Advance moves the time forward by d, firing every timer due meanwhile at
// its own deadline (Now returns that deadline while its function runs).
// Timers armed by those functions fire too if they are due by the end.
func (c *Fake) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now + d
	for {
		var next *timer
		for _, t := range c.timers {
			if t.at <= end && (next == nil || t.at < next.at) {
				next = t
			}
		}
		if next == nil {
			break
		}
		c.timers = slices.DeleteFunc(c.timers, func(t *timer) bool { return t == next })
		c.now = next.at
		c.mu.Unlock()
		next.f()
		c.mu.Lock()
	}
	c.now = end
	c.mu.Unlock()
}

// Pending returns the time left on every armed timer, shortest first.
func (c *Fake) Pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ds []time.Duration
	for _, t := range c.timers {
		ds = append(ds, t.at-c.now)
	}
	slices.Sort(ds)
	return ds
}
