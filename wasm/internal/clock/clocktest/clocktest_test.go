package clocktest

import (
	"slices"
	"testing"
	"time"

	"github.com/eventwire/eventwire/wasm/internal/clock"
)

var _ clock.Clock = (*Fake)(nil)

func TestFake(t *testing.T) {
	c := New(time.Hour)
	var fired []time.Duration
	at := func() { fired = append(fired, c.Now()) }
	c.AfterFunc(3*time.Second, at)
	stopped := c.AfterFunc(2*time.Second, at)
	c.AfterFunc(time.Second, func() {
		at()
		c.AfterFunc(time.Second, at) // due within the same Advance
	})
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop: want true, then false")
	}
	if got, want := c.Pending(), []time.Duration{time.Second, 3 * time.Second}; !slices.Equal(got, want) {
		t.Fatalf("Pending = %v, want %v", got, want)
	}
	c.Advance(2500 * time.Millisecond)
	h := time.Hour
	if want := []time.Duration{h + time.Second, h + 2*time.Second}; !slices.Equal(fired, want) {
		t.Fatalf("fired at %v, want %v", fired, want)
	}
	if got := c.Now(); got != h+2500*time.Millisecond {
		t.Fatalf("Now = %v", got)
	}
	if got, want := c.Pending(), []time.Duration{500 * time.Millisecond}; !slices.Equal(got, want) {
		t.Fatalf("Pending = %v, want %v", got, want)
	}
}
