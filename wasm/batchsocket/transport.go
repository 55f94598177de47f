package batchsocket

import "errors"

// ErrNoWebSocket is what Transport.Dial returns where there is no WebSocket
// (the constructor is missing, or refuses the URL). The Socket then sends
// over HTTP for good (ModeAuto) or fails (ModeWebSocket).
var ErrNoWebSocket = errors.New("batchsocket: WebSocket is not available")

// Transport reaches the server for a Socket. The JS binding implements it
// with the browser's WebSocket and fetch; tests with fakes. Its methods must
// not block: they are called from the Socket's processing caller, which may
// be a JS callback.
type Transport interface {
	// Dial opens a WebSocket to url that offers the subprotocol
	// batch.Subprotocol and receives binary messages as bytes. It reports
	// through ev, from any goroutine and in this order: ev.Open once
	// connected, ev.Message for each message, ev.Closed once at the end,
	// including when the connection could not be made (code 1006). It
	// returns ErrNoWebSocket (or another error) when no attempt is made.
	Dial(url string, ev *ConnEvents) (Conn, error)
	// Post sends req and calls done once, from any goroutine, with the
	// outcome. The Socket calls the returned abort (if not nil) at most once,
	// to give up the request; done may still be called afterwards, and is
	// then ignored.
	Post(req *PostRequest, done func(PostResult)) (abort func())
}

// Conn is an open or opening WebSocket.
type Conn interface {
	// Send writes one binary message. The Conn does not keep frame.
	Send(frame []byte) error
	// BufferedAmount returns the bytes queued by Send and not yet written
	// to the network (WebSocket.bufferedAmount).
	BufferedAmount() int
	// Close starts the closing handshake with code (1000 or 3000–4999, the
	// codes a browser may send) and reason. Events that follow are ignored.
	Close(code int, reason string)
}

// ConnEvents receives what happens on one Conn. Its methods are safe from
// any goroutine and from JS callbacks, never block beyond a short mutex,
// and keep their order when called from one goroutine.
type ConnEvents struct {
	s   *Socket
	gen uint64
}

// Open reports that the connection is established.
func (e *ConnEvents) Open() { e.s.post(input{kind: inOpen, gen: e.gen}) }

// postMessage is post for a received frame: p is handled in place when
// the Socket is idle, and copied only when it must wait.
func (s *Socket) postMessage(gen uint64, p []byte) {
	s.mu.Lock()
	if s.draining {
		s.inq = append(s.inq, input{kind: inMessage, gen: gen, data: append([]byte(nil), p...)})
		s.mu.Unlock()
		return
	}
	s.draining = true
	s.mu.Unlock()
	s.run(&input{kind: inMessage, gen: gen, data: p})
}

// Message reports a binary message (text: binary false, a protocol error).
// The Socket does not keep p after Message returns.
func (e *ConnEvents) Message(p []byte, binary bool) {
	if !binary {
		p = nil // a protocol error
	}
	e.s.postMessage(e.gen, p)
}

// Closed reports the end of the connection, with the close code and reason
// (1006 and "" when there was no close frame or no connection at all).
func (e *ConnEvents) Closed(code int, reason string, clean bool) {
	e.s.post(input{kind: inClosed, gen: e.gen, code: code, text: reason, ok: clean})
}

// PostRequest is one HTTP POST of a frame.
type PostRequest struct {
	// URL is Options.FallbackURL.
	URL string
	// Body is one HELLO or BATCH frame; the transport must copy it if it
	// needs it after Post returns.
	Body []byte
	// Keepalive asks for a request that outlives the page (fetch keepalive,
	// or navigator.sendBeacon): the flush of a page being hidden. Its
	// response may never be seen.
	Keepalive bool
}

// PostResult is the outcome of a PostRequest.
type PostResult struct {
	// Status is the HTTP status; 0 with Err set for a network error.
	Status int
	// Body is the response body: an ACK frame after 200, a CLOSE frame for
	// an error status.
	Body []byte
	// Err is a network error (or an abort), else nil.
	Err error
}
