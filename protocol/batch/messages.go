package batch

import "iter"

// Message is one application message.
type Message struct {
	// Data is the payload. In a decoded frame it aliases the frame.
	Data []byte
	// Binary is true for binary data (an ArrayBuffer in the browser) and
	// false for UTF-8 text (a string). The decoder does not validate UTF-8.
	Binary bool
}

// Messages is a validated, read-only view of the messages of a decoded
// BATCH or PUSH frame. It aliases the frame and iterates without copying.
// The zero value holds no messages.
type Messages struct {
	data []byte // encoded messages, already validated
	n    int
}

// Len returns the number of messages.
func (m Messages) Len() int { return m.n }

// All yields the messages in order. Their Data aliases the frame.
func (m Messages) All() iter.Seq[Message] {
	return func(yield func(Message) bool) {
		for p := m.data; len(p) > 0; {
			msg, rest, ok := next(p)
			if !ok || !yield(msg) {
				return
			}
			p = rest
		}
	}
}

// All yields the batch's messages in order with their sequence numbers.
func (b Batch) All() iter.Seq2[uint64, Message] { return withSeq(b.FirstSeq, b.Messages) }

// All yields the frame's messages in order with their sequence numbers.
func (p Push) All() iter.Seq2[uint64, Message] { return withSeq(p.FirstSeq, p.Messages) }

func withSeq(seq uint64, m Messages) iter.Seq2[uint64, Message] {
	return func(yield func(uint64, Message) bool) {
		for p := m.data; len(p) > 0; seq++ {
			msg, rest, ok := next(p)
			if !ok || !yield(seq, msg) {
				return
			}
			p = rest
		}
	}
}

// next splits the first message off p, which the decoder has validated.
// Should p be invalid all the same, it reports !ok rather than panic.
func next(p []byte) (msg Message, rest []byte, ok bool) {
	n, bin, i, err := ReadHeader(p)
	if err != nil || n > uint64(len(p)-i) {
		return Message{}, nil, false
	}
	end := i + int(n)
	return Message{Data: p[i:end:end], Binary: bin}, p[end:], true
}
