//go:build js && wasm

package jsbind

import (
	"math"

	"github.com/eventwire/eventwire/wasm/batchsocket"
)

// What a BSSink passes to its notify function as the first argument.
const (
	// BSNotifyOpen: notify(0, transport): "websocket" or "http"; OPEN.
	BSNotifyOpen = 0
	// BSNotifyClose: notify(1, code, reason, wasClean, final, delay):
	// CONNECTING again (a reconnection follows after delay ms), or CLOSED
	// for good (final).
	BSNotifyClose = 1
	// BSNotifyError: notify(2, reason, code, message, final).
	BSNotifyError = 2
	// BSNotifyMessages: notify(3, u8, n): n server messages framed as in a
	// PUSH frame, in a new Uint8Array.
	BSNotifyMessages = 3
	// BSNotifyStats: notify(4): the stats array was updated (BSStat*).
	BSNotifyStats = 4
	// BSNotifyDebug: notify(5, line).
	BSNotifyDebug = 5
)

// The float64 slots of the stats array (little-endian, as a Float64Array
// over the Uint8Array given to NewBSSink).
const (
	BSStatState = iota
	BSStatTransport
	BSStatQueued
	BSStatInFlight
	BSStatHeldBytes
	BSStatAcked
	BSStatBatches
	BSStatBytes
	BSStatReconnects
	BSStatDropped
	BSStatLastSeq
	BSStatAckedSeq
	BSStatCount
)

// BSSink is the batchsocket.Sink of the browser: one JavaScript function,
// notify, receives what the page must see; the counters go to a Uint8Array
// shared with the shell (js/src/batchsocket.js), which reads them without
// calling into Go.
type BSSink struct {
	notify Value
	stats  Value
	buf    [8 * BSStatCount]byte
}

// NewBSSink returns a Sink calling notify and writing the counters into
// stats (a Uint8Array of 8·BSStatCount bytes).
func NewBSSink(notify, stats Value) *BSSink { return &BSSink{notify: notify, stats: stats} }

func (s *BSSink) Open(k batchsocket.Kind) { s.call(BSNotifyOpen, k.String()) }

func (s *BSSink) Close(i *batchsocket.CloseInfo) {
	s.call(BSNotifyClose, i.Code, i.Reason, i.WasClean, i.Final, int(i.Delay.Milliseconds()))
}

func (s *BSSink) Error(i *batchsocket.ErrorInfo) {
	var msg any
	if i.Err != nil {
		msg = i.Err.Error()
	}
	s.call(BSNotifyError, string(i.Reason), i.Code, msg, i.Final)
}

func (s *BSSink) Messages(p []byte, n int) { s.call(BSNotifyMessages, p, n) }

func (s *BSSink) Stats(st *batchsocket.Stats) {
	v := [BSStatCount]float64{
		float64(st.State), float64(st.Transport), float64(st.Queued), float64(st.InFlight),
		float64(st.HeldBytes), float64(st.Acked), float64(st.Batches), float64(st.Bytes),
		float64(st.Reconnects), float64(st.Dropped), float64(st.LastSeq), float64(st.AckedSeq),
	}
	for i, f := range v {
		b := math.Float64bits(f)
		for j := range 8 {
			s.buf[8*i+j] = byte(b >> (8 * j))
		}
	}
	if _, err := s.stats.CopyBytesToJS(s.buf[:]); err == nil {
		s.call(BSNotifyStats)
	}
}

// Debug passes a diagnostic line to the page.
func (s *BSSink) Debug(line string) { s.call(BSNotifyDebug, line) }

// Fail reports what the Socket could not (a recovered panic): an error
// event, then CLOSED.
func (s *BSSink) Fail(err error) {
	s.call(BSNotifyError, "internal error", 0, err.Error(), true)
	s.call(BSNotifyClose, 1011, "internal error", false, true, 0)
}

// call invokes notify; an exception of the shell is dropped (it reports its
// listeners' exceptions itself).
func (s *BSSink) call(args ...any) { _, _ = s.notify.Invoke(args...) }
