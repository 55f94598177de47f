package batch

// Version is the protocol version this package speaks: the first byte of
// every frame.
const Version = 1

// ContentType is the media type of a frame sent as an HTTP request or
// response body.
const ContentType = "application/vnd.eventwire.batch"

// Subprotocol is the WebSocket subprotocol name (Sec-WebSocket-Protocol)
// that clients offer and servers select.
const Subprotocol = "eventwire.batch"

// MaxSeq is the largest valid sequence number, 2⁶³−1, so that sequence
// numbers fit a signed 64-bit integer in any language or database.
// Sequence numbers of messages start at 1; 0 means "none yet".
const MaxSeq = 1<<63 - 1

// Type is the frame type: the second byte of every frame.
type Type byte

// Frame types of version 1.
const (
	TypeHello Type = 0x01 // client → server: session and resume points
	TypeBatch Type = 0x02 // client → server: messages
	TypeAck   Type = 0x03 // both directions: cumulative acknowledgement
	TypePush  Type = 0x04 // server → client: messages
	TypeClose Type = 0x05 // both directions: close code and reason
)

// String returns the frame type's name as written in PROTOCOL.md, such as
// "BATCH", or "0x" and its value in hex when it is not a known type.
func (t Type) String() string {
	switch t {
	case TypeHello:
		return "HELLO"
	case TypeBatch:
		return "BATCH"
	case TypeAck:
		return "ACK"
	case TypePush:
		return "PUSH"
	case TypeClose:
		return "CLOSE"
	}
	return "0x" + string(appendHexByte(nil, byte(t)))
}

// SessionSize is the size of a session id in bytes.
const SessionSize = 16

// SessionID identifies a client session across connections, transports and
// page loads. Clients draw it from a cryptographically secure random source
// (crypto.getRandomValues in the browser). The zero SessionID is invalid:
// decoders reject it, so that a client that forgot to set one cannot have
// its messages deduplicated against another's.
type SessionID [SessionSize]byte

// IsZero reports whether s is the invalid zero session id.
func (s SessionID) IsZero() bool { return s == SessionID{} }

// String returns s as 32 lowercase hex digits.
func (s SessionID) String() string {
	b := make([]byte, 0, 2*SessionSize)
	for _, c := range s {
		b = appendHexByte(b, c)
	}
	return string(b)
}

func appendHexByte(dst []byte, c byte) []byte {
	const digits = "0123456789abcdef"
	return append(dst, digits[c>>4], digits[c&15])
}

// Hello opens a session on a connection: the first frame a client sends on
// a WebSocket. Over HTTP it is optional; the server answers it with an ACK.
type Hello struct {
	// Session is the client's session id; it must not be zero.
	Session SessionID
	// Acked is the highest sequence number of the client's own messages
	// that the client knows to be acknowledged (0: none). A server that
	// has forgotten the session, or knows a lower value, adopts it.
	Acked uint64
	// Received is the sequence number of the last PUSH message the client
	// received in order (0: none). It acknowledges PUSH messages up to it,
	// and the server resumes pushing at Received+1.
	Received uint64
	// Limits are the client's limits for PUSH frames it accepts; a zero
	// field means the default. Each field is at most 2³¹−1.
	Limits Limits
	// Flags are capability bits. Version 1 defines none: senders set 0 and
	// receivers ignore bits they do not know.
	Flags uint64
}

// Batch carries client messages, numbered from FirstSeq. It is
// self-contained, so that it can travel alone in an HTTP request.
type Batch struct {
	// Session is the client's session id; it must not be zero.
	Session SessionID
	// Acked is the highest sequence number that the client knows the
	// server has accepted (0: none); it is less than FirstSeq. A server
	// that has forgotten the session, or knows a lower value, adopts it.
	Acked uint64
	// FirstSeq is the sequence number of the first message, in 1..MaxSeq;
	// the last one must not exceed MaxSeq. In an empty batch it is the
	// next sequence number the client will use.
	FirstSeq uint64
	// Messages are the batch's messages.
	Messages Messages
}

// Push carries server messages to the client, numbered from FirstSeq in
// the server's own sequence for the session.
type Push struct {
	// Acked is the highest sequence number of the server's messages that
	// the server knows the client has accepted (0: none); it is less than
	// FirstSeq.
	Acked uint64
	// FirstSeq is the sequence number of the first message, with the same
	// rules as Batch.FirstSeq.
	FirstSeq uint64
	// Messages are the frame's messages.
	Messages Messages
}

// Ack acknowledges every message with a sequence number up to Seq: from
// the server, the client's BATCH messages; from the client, PUSH messages.
type Ack struct {
	// Seq is the cumulative acknowledged sequence number, in 0..MaxSeq.
	Seq uint64
}

// Close ends a session's connection, or answers an HTTP request that was
// rejected, with a code and a human-readable reason.
type Close struct {
	// Code says why; see the Code constants.
	Code Code
	// Reason is valid UTF-8 of at most MaxReason bytes.
	Reason string
}

// MaxReason is the longest Close.Reason in bytes: what fits a WebSocket
// close frame, so a reason can be passed on unchanged.
const MaxReason = 123

// LastSeq returns the sequence number of the batch's last message, or
// FirstSeq-1 when the batch is empty.
func (b Batch) LastSeq() uint64 { return b.FirstSeq + uint64(b.Messages.Len()) - 1 }

// LastSeq returns the sequence number of the frame's last message, or
// FirstSeq-1 when it is empty.
func (p Push) LastSeq() uint64 { return p.FirstSeq + uint64(p.Messages.Len()) - 1 }
