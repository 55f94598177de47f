// Package batch implements eventwire's batch protocol: versioned, compact
// binary frames that carry batched, acknowledged messages between a client
// (the browser, through Go compiled to WebAssembly) and a server. PROTOCOL.md
// in this directory is the specification, with test vectors; this package is
// its reference implementation and runs unchanged on both sides.
//
// # Frames
//
// Every frame starts with the version byte and the frame type:
//
//	HELLO  client → server  session, resume points, the client's limits
//	BATCH  client → server  session, acked, first sequence number, messages
//	ACK    both directions  cumulative sequence number
//	PUSH   server → client  acked, first sequence number, messages
//	CLOSE  both directions  close code and reason
//
// Sequence numbers count messages, not batches: the n-th message (from 0)
// of a BATCH whose first sequence number is s has sequence number s+n. A
// receiver keeps the last sequence number it accepted, raises it to the
// frame's acked, refuses a frame that would leave a gap, and otherwise
// delivers the messages above it: each message once and in order, even
// when a resent batch was re-split differently (PROTOCOL.md, section 6.2).
//
// # Encoding
//
// [Writer] builds BATCH and PUSH frames in a caller-supplied buffer and
// reports their size and message count, so that a client can flush by size
// or by count without extra copies. [AppendHello], [AppendAck] and
// [AppendClose] append the fixed frames.
//
// # Decoding
//
// [Peek] reads the frame type; [DecodeHello], [DecodeBatch], [DecodeAck],
// [DecodePush] and [DecodeClose] validate a whole frame and return its
// value. Decoding BATCH and PUSH checks every message against [Limits] up
// front and allocates nothing: the messages are then iterated as sub-slices
// of the frame.
//
// Aliasing rule: a decoded [Batch] or [Push], its [Messages] and every
// [Message].Data alias the frame passed to the decoder. They are valid only
// while that buffer is neither modified nor reused; copy what must outlive
// it (for example string(m.Data) or bytes.Clone(m.Data)).
//
// # Errors
//
// Decoders never panic and return errors that match [ErrMalformed],
// [ErrVersion] or [ErrLimit] with errors.Is; [*LimitError] and
// [*VersionError] carry the details. [CloseFor] turns any of them into the
// [Close] to answer with.
//
// The package uses only small parts of the standard library (no fmt, no
// reflection), to keep the WebAssembly build small.
package batch
