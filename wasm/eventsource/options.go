package eventsource

import (
	"math/rand/v2"
	"strings"
	"time"

	"github.com/eventwire/eventwire/protocol/sse"
)

// Defaults of Options, in one place. The JS binding passes absent options as
// zero values so that these stay the only defaults.
const (
	// DefaultReconnectionTime is the spec's initial reconnection time.
	DefaultReconnectionTime = 3 * time.Second
	// DefaultBackoffMax caps the wait after repeated failures.
	DefaultBackoffMax = 30 * time.Second
	// DefaultBufferingTimeout is how long ModeAuto waits for the first body
	// byte of a streaming request before assuming a buffering proxy.
	DefaultBufferingTimeout = 5 * time.Second
	// DefaultLongPollTimeout bounds the silence of one poll.
	DefaultLongPollTimeout = 60 * time.Second
	// DefaultLongPollQuery marks a long-poll request for eventwire's server.
	DefaultLongPollQuery = "transport=longpoll"
	// DefaultMethod is the request method.
	DefaultMethod = "GET"
)

// Mode selects streaming or long-polling.
type Mode uint8

const (
	// ModeAuto streams, and switches to long-polling for the life of the
	// Client when a buffering proxy is detected (see BufferingTimeout). It is
	// the default, matching the JS option transport: "auto".
	ModeAuto Mode = iota
	// ModeStream streams, like native EventSource, without detection.
	ModeStream
	// ModeLongPoll polls from the start.
	ModeLongPoll
)

// Header is one request or response header field.
type Header struct {
	Name, Value string
}

// Options configure a Client. The zero value gives the defaults stated on
// each field; every default is one of the Default constants above.
type Options struct {
	// Method is the request method. Default "GET" (DefaultMethod), the only
	// one native EventSource uses; "POST" with Body is the usual extension.
	Method string
	// Body is sent with every request. It is opaque to the Client and passed
	// to the Transport unchanged (the JS binding passes init.body through).
	// Default nil: no body.
	Body any
	// Header lists extra request headers sent with every request. Default
	// none. Last-Event-ID is ignored here (see LastEventID); an Accept header
	// replaces the default Accept: text/event-stream.
	Header []Header
	// HeaderFunc, when set, is called before every request (first
	// connection, reconnection, each long-poll and renewal), on a goroutine
	// of its own so that it may wait (for example for a JS promise that
	// refreshes a token); if the Client is closed meanwhile, the result is
	// dropped. Its headers follow Header (a name present in both takes the
	// value from HeaderFunc). An error or a panic counts as a failed
	// connection: an error event with reason "headers callback failed", then
	// backoff. Default nil.
	HeaderFunc func() ([]Header, error)
	// WithCredentials asks the transport to send credentials cross-origin
	// (fetch credentials "include" rather than "same-origin"). Default false.
	WithCredentials bool
	// LastEventID is the last event ID to start with, for a page that resumes
	// a stream from a stored ID. Default "": no Last-Event-ID on the first
	// request, as in native EventSource.
	LastEventID string
	// LastEventIDParam, when set, also sends the last event ID as this query
	// parameter (replacing any parameter of that name in the URL), for
	// servers and CORS setups that cannot take the header. It is omitted
	// while the ID is empty. Default "": header only.
	LastEventIDParam string

	// ReconnectionTime is the initial reconnection time, replaced by the
	// stream's retry: field. Default 3 s (DefaultReconnectionTime); a
	// negative value means 0.
	ReconnectionTime time.Duration
	// BackoffMax caps the wait after repeated failures: the n-th failure in a
	// row waits a uniform random time in [r, min(BackoffMax, max(r, 1s)·2ⁿ)],
	// r being the reconnection time (a cap below r leaves r). Default 30 s
	// (DefaultBackoffMax); a negative value disables backoff (always r, the
	// spec's fixed delay).
	BackoffMax time.Duration
	// HeartbeatTimeout aborts and retries a streaming request when nothing at
	// all arrives (headers, body bytes, comments) for this long after it was
	// sent, reason "heartbeat timeout". In ModeAuto, until the first body
	// byte, BufferingTimeout judges silence instead (it means a buffering
	// proxy), and the heartbeat counts from that byte. Polls use
	// LongPollTimeout. Default 0: never (as native EventSource).
	HeartbeatTimeout time.Duration

	// Mode selects streaming or long-polling. Default ModeAuto.
	Mode Mode
	// BufferingTimeout is how long a streaming request in ModeAuto may go
	// without its first body byte before the Client assumes a buffering proxy
	// and switches to long-polling for good. Default 5 s
	// (DefaultBufferingTimeout); a negative value disables detection.
	BufferingTimeout time.Duration
	// LongPollTimeout aborts a poll that receives nothing for this long,
	// reason "poll timeout"; it must exceed the server's long-poll wait.
	// Default 60 s (DefaultLongPollTimeout); a negative value means never.
	LongPollTimeout time.Duration
	// LongPollQuery is a "name=value" query parameter added to long-poll
	// requests so that the server answers with one poll. Default
	// "transport=longpoll" (DefaultLongPollQuery, what eventwire's server
	// understands); "-" adds nothing.
	LongPollQuery string

	// MaxEventSize bounds one event and one line, in bytes; a larger one
	// fails the connection with reason "event too large". Default 0: the
	// decoder's default, 1 MiB (sse.DefaultMaxEventSize); negative: no limit.
	MaxEventSize int

	// Clock provides time and timers. Default nil: the real clock.
	Clock Clock
	// Rand returns a uniform random number in [0, 1) for backoff jitter.
	// Default nil: math/rand/v2.Float64.
	Rand func() float64
	// OnPanic, when set, receives a panic recovered on a goroutine the
	// Client started (a timer's, or HeaderFunc's): from the Sink, the
	// Transport or a bug. The Client is CLOSED by then and makes no further
	// Sink call, so OnPanic is where the page learns of it. Default nil: the
	// panic is not recovered and ends the program, as on any goroutine.
	// (Panics on the caller's goroutine, in Stream methods, Start or Close,
	// close the Client the same way and propagate to that caller.)
	OnPanic func(v any)
	// Debug, when set, receives one line per state change and decision.
	// Default nil: the Client prints nothing.
	Debug func(msg string)
}

// config is Options with the defaults applied.
type config struct {
	Options
	idName, idEsc     string // LastEventIDParam, raw and escaped
	pollName, pollVal string // LongPollQuery split at '='
}

func (o Options) withDefaults() config {
	if o.Method == "" {
		o.Method = DefaultMethod
	} else {
		o.Method = asciiUpper(o.Method)
	}
	switch {
	case o.ReconnectionTime == 0:
		o.ReconnectionTime = DefaultReconnectionTime
	case o.ReconnectionTime < 0:
		o.ReconnectionTime = 0
	}
	if o.BackoffMax == 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.HeartbeatTimeout < 0 {
		o.HeartbeatTimeout = 0
	}
	if o.BufferingTimeout == 0 {
		o.BufferingTimeout = DefaultBufferingTimeout
	}
	if o.LongPollTimeout == 0 {
		o.LongPollTimeout = DefaultLongPollTimeout
	}
	if o.LongPollQuery == "" {
		o.LongPollQuery = DefaultLongPollQuery
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	c := config{Options: o}
	if o.LastEventIDParam != "" {
		c.idName, c.idEsc = o.LastEventIDParam, escapeQuery(o.LastEventIDParam)
	}
	if q := o.LongPollQuery; q != "-" {
		c.pollName = q
		if i := strings.IndexByte(q, '='); i >= 0 {
			c.pollName, c.pollVal = q[:i], q[i+1:]
		}
	}
	return c
}

// decoderOptions maps the Options onto protocol/sse.
func (o *Options) decoderOptions() sse.DecoderOptions {
	return sse.DecoderOptions{MaxEventSize: o.MaxEventSize}
}
