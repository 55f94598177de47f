package batch

// Default limits of the decoder. They bound what one frame can cost a
// receiver, while leaving the client's own defaults (flush at 64 KiB or
// 1,024 messages) a wide margin:
//
//   - DefaultMaxFrame, 1 MiB: 16 times the client's flush size, so a client
//     tuned for throughput still fits; a server holds at most this much per
//     connection while it decodes. A WebSocket server sets its read limit
//     to MaxFrame.
//   - DefaultMaxMessages, 4,096: 4 times the client's flush count. It also
//     bounds the work (Sink records) behind one acknowledgement, and stops a
//     frame of empty messages from yielding a million records.
//   - DefaultMaxMessage, 256 KiB: a quarter of the frame, so that a large
//     message still travels in an ordinary frame. Larger payloads belong
//     in an upload, not a message.
const (
	DefaultMaxFrame    = 1 << 20
	DefaultMaxMessages = 4096
	DefaultMaxMessage  = 256 << 10
)

// maxLimit is the largest value of a Limits field on the wire.
const maxLimit = 1<<31 - 1

// Limits bound what the decoder accepts in a BATCH or PUSH frame. A zero
// or negative field means its default. A frame that exceeds a limit fails
// with a *LimitError (close code 1009).
type Limits struct {
	// MaxFrame is the largest frame in bytes, headers included.
	// Default DefaultMaxFrame (1 MiB).
	MaxFrame int
	// MaxMessages is the largest number of messages in one frame.
	// Default DefaultMaxMessages (4,096).
	MaxMessages int
	// MaxMessage is the largest message payload in bytes.
	// Default DefaultMaxMessage (256 KiB).
	MaxMessage int
}

// Normalize returns l with every zero or negative field replaced by its
// default.
func (l Limits) Normalize() Limits {
	if l.MaxFrame <= 0 {
		l.MaxFrame = DefaultMaxFrame
	}
	if l.MaxMessages <= 0 {
		l.MaxMessages = DefaultMaxMessages
	}
	if l.MaxMessage <= 0 {
		l.MaxMessage = DefaultMaxMessage
	}
	return l
}
