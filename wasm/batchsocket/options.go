package batchsocket

import (
	"math/rand/v2"
	"time"

	"github.com/eventwire/eventwire/protocol/batch"
)

// Defaults of Options, in one place. The JS binding passes absent options as
// zero values so that these stay the only defaults.
const (
	// DefaultBatchBytes bounds the messages of one BATCH frame, in encoded
	// bytes (a single larger message still travels alone).
	DefaultBatchBytes = 64 << 10
	// DefaultBatchCount bounds the messages of one BATCH frame.
	DefaultBatchCount = 1024
	// DefaultMaxMessageSize is the largest message payload: the server's
	// default limit (batch.DefaultMaxMessage).
	DefaultMaxMessageSize = batch.DefaultMaxMessage
	// DefaultBufferedAmountLimit: no frame is written while the WebSocket's
	// bufferedAmount exceeds it.
	DefaultBufferedAmountLimit = 1 << 20
	// DefaultBackpressurePoll is how often bufferedAmount is checked again
	// while it is over the limit (the browser fires no event when it drains).
	DefaultBackpressurePoll = 20 * time.Millisecond
	// DefaultReconnectDelay is the base of the exponential backoff.
	DefaultReconnectDelay = time.Second
	// DefaultReconnectMaxDelay caps the backoff.
	DefaultReconnectMaxDelay = 30 * time.Second
	// DefaultHeartbeatInterval: an idle WebSocket sends an empty BATCH this
	// often, and is given up when three intervals pass without any frame
	// after something was sent (PROTOCOL.md §6.5).
	DefaultHeartbeatInterval = 15 * time.Second
	// DefaultFallbackAfter is how many WebSocket attempts in a row may fail
	// before opening until ModeAuto switches to HTTP.
	DefaultFallbackAfter = 2
	// DefaultWebSocketRetry is how often ModeAuto tries the WebSocket again
	// while it sends over HTTP.
	DefaultWebSocketRetry = 30 * time.Second
	// DefaultPostTimeout aborts an HTTP POST that has not completed.
	DefaultPostTimeout = 30 * time.Second
	// DefaultKeepaliveBytes bounds the frame of the page-hiding flush:
	// browsers allow 64 KiB of keepalive request bodies in flight per page.
	DefaultKeepaliveBytes = 60 << 10
)

// Mode selects the transports.
type Mode uint8

const (
	// ModeAuto uses the WebSocket, switches to HTTP POST when it cannot
	// connect (FallbackAfter failures before opening, or no WebSocket at
	// all), and tries the WebSocket again every WebSocketRetry.
	ModeAuto Mode = iota
	// ModeWebSocket never falls back.
	ModeWebSocket
	// ModeHTTP only POSTs.
	ModeHTTP
)

// Options configure a Socket. The zero value of every field but URL and
// Session gives the default stated on it.
type Options struct {
	// URL is the WebSocket URL (ws: or wss:), absolute; the JS shell
	// resolves it and derives it from an http(s) URL.
	URL string
	// FallbackURL receives the HTTP POSTs (the JS shell defaults it to URL
	// with the scheme http: or https:). Required unless Mode is
	// ModeWebSocket.
	FallbackURL string
	// Session is this socket's session id (a batch.SessionID), from a
	// cryptographically secure source (the JS shell uses
	// crypto.getRandomValues). Required: a Socket with a zero Session
	// fails at Start.
	Session [16]byte
	// Mode selects the transports. Default ModeAuto.
	Mode Mode

	// BatchBytes bounds the encoded messages of one frame. Default 64 KiB.
	BatchBytes int
	// BatchCount bounds the messages of one frame. Default 1,024.
	BatchCount int
	// MaxMessageSize is the largest message payload Push accepts. Default
	// 256 KiB, the server's default limit.
	MaxMessageSize int
	// KeepaliveBytes bounds the frame sent by FlushTail. Default 60 KiB.
	KeepaliveBytes int

	// BufferedAmountLimit: frames wait while the WebSocket's bufferedAmount
	// is above it. Default 1 MiB.
	BufferedAmountLimit int
	// BackpressurePoll is the interval of bufferedAmount checks while over
	// the limit. Default 20 ms.
	BackpressurePoll time.Duration

	// ReconnectDelay and ReconnectMaxDelay shape the backoff: the n-th
	// failure in a row waits a uniform random time in
	// [0, min(ReconnectMaxDelay, ReconnectDelay·2ⁿ⁻¹)) ("full jitter").
	// Defaults 1 s and 30 s.
	ReconnectDelay, ReconnectMaxDelay time.Duration
	// HeartbeatInterval: see DefaultHeartbeatInterval. Default 15 s;
	// negative: no heartbeat.
	HeartbeatInterval time.Duration
	// FallbackAfter: see DefaultFallbackAfter. Default 2.
	FallbackAfter int
	// WebSocketRetry: see DefaultWebSocketRetry. Default 30 s; negative:
	// never try again.
	WebSocketRetry time.Duration
	// PostTimeout aborts a POST that takes longer. Default 30 s.
	PostTimeout time.Duration

	// Store, when set, persists unacknowledged messages (see Store). Default
	// nil: none.
	Store Store

	// Clock provides time and timers. Default nil: package time.
	Clock Clock
	// Rand returns a uniform random number in [0, 1) for the jitter.
	// Default math/rand/v2.Float64.
	Rand func() float64
	// Debug, when set, receives one line per decision.
	Debug func(msg string)
	// OnPanic, when set, receives what a panic in the Socket's processing
	// (a bug, or in the Sink or Transport) was called with, instead of the
	// panic propagating: timers run on goroutines of their own, where an
	// unrecovered panic would end the program. The Socket is closed.
	OnPanic func(v any)

	// restore and drainOnly make an internal Socket that sends a persisted
	// session of an earlier page over HTTP and then deletes it.
	restore   *Saved
	drainOnly bool
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.BatchBytes, DefaultBatchBytes)
	def(&o.BatchCount, DefaultBatchCount)
	def(&o.MaxMessageSize, DefaultMaxMessageSize)
	def(&o.KeepaliveBytes, DefaultKeepaliveBytes)
	def(&o.BufferedAmountLimit, DefaultBufferedAmountLimit)
	def(&o.FallbackAfter, DefaultFallbackAfter)
	defDur(&o.BackpressurePoll, DefaultBackpressurePoll)
	defDur(&o.ReconnectDelay, DefaultReconnectDelay)
	defDur(&o.ReconnectMaxDelay, DefaultReconnectMaxDelay)
	defDur(&o.HeartbeatInterval, DefaultHeartbeatInterval)
	defDur(&o.WebSocketRetry, DefaultWebSocketRetry)
	defDur(&o.PostTimeout, DefaultPostTimeout)
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	return o
}
