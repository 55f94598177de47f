package clock

import (
	"testing"
	"time"
)

func TestRealClock(t *testing.T) {
	a := Now(nil)
	done := make(chan struct{})
	armed := Armed()
	AfterFunc(nil, time.Millisecond, func() { close(done) })
	if got := Armed(); got != armed+1 {
		t.Fatalf("Armed went from %d to %d across one AfterFunc, want +1", armed, got)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("timer did not fire")
	}
	if b := Now(nil); b < a+time.Millisecond {
		t.Fatalf("Now went from %v to %v across a 1ms timer", a, b)
	}
	if AfterFunc(nil, time.Hour, func() {}).Stop() != true {
		t.Fatal("Stop of a pending timer: want true")
	}
}
