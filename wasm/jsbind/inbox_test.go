//go:build js && wasm

package jsbind

import (
	"testing"
	"time"

	"github.com/eventwire/eventwire/wasm/internal/clock"
)

func TestInbox(t *testing.T) {
	p := exportInbox(10)
	if p == nil || len(inbox) < 10 {
		t.Fatalf("inbox of %d bytes at %p", len(inbox), p)
	}
	if got := len(Inbox(5)); got != 5 {
		t.Fatalf("Inbox(5) has %d bytes", got)
	}
	if got, want := len(Inbox(1<<30)), len(inbox); got != want {
		t.Fatalf("Inbox beyond the buffer: %d bytes, want it clamped to %d", got, want)
	}
	// A huge chunk grows it; a later small one gives the memory back.
	exportInbox(4 << 20)
	if cap(inbox) < 4<<20 {
		t.Fatalf("inbox of %d bytes after asking for 4 MiB", cap(inbox))
	}
	exportInbox(100)
	if cap(inbox) > keepInbox {
		t.Fatalf("inbox kept %d bytes after a small chunk", cap(inbox))
	}
}

func TestSchedulerMark(t *testing.T) {
	m := MarkScheduler()
	if m.Changed() {
		t.Fatal("changed without anything started")
	}
	done := make(chan struct{})
	go func() { <-done }()
	if !m.Changed() {
		t.Fatal("a new goroutine does not change the mark")
	}
	close(done)
	m = MarkScheduler()
	clock.AfterFunc(nil, time.Hour, func() {}).Stop()
	if !m.Changed() {
		t.Fatal("an armed timer does not change the mark")
	}
}
