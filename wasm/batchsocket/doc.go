// Package batchsocket is the pure-Go core of eventwire's BatchSocket:
// batched, acknowledged, exactly-once, in-order messaging from a browser to
// a server over the batch protocol (protocol/batch/PROTOCOL.md), on a
// WebSocket with HTTP POST as a fallback. It touches no JavaScript and no
// network: the JS binding gives it a Transport (the browser's WebSocket and
// fetch), a Sink (the EventTarget the page sees) and optionally a Store
// (IndexedDB); it builds and tests natively with fakes. It imports neither
// fmt, net/http, encoding/json nor reflection, to keep the wasm small.
//
// # Seam (GUIDE.md §3)
//
// The JS shell (js/src/batchsocket.js) owns the pending batch: send()
// appends each message, already framed as in a BATCH frame, to one
// Uint8Array, and the batching triggers (size, count, delay, flush(),
// close(), the page being hidden) hand the whole batch to Push in one call.
// The triggers are in JS because they are decided per message; the delay
// timer too, since in Go it would cost a crossing for the first message of
// every batch plus a timer wake-up calling back into JS to collect it. Go
// owns everything after: sequence numbers, frames, acknowledgement, resends,
// backoff, transports, backpressure, persistence. It publishes its counters
// (Sink.Stats) into memory the shell reads without a call, and hands server
// messages over once per frame (Sink.Messages).
//
// # Delivery
//
// Push numbers messages consecutively from 1 and keeps each until an ACK
// covers it. On every connection the Socket sends HELLO with its session and
// the highest sequence number it knows is acknowledged, then every message
// not acknowledged, in frames of at most Options.BatchBytes and BatchCount,
// pipelined (not waiting for the HELLO's ACK: the server skips what it has).
// Frames carry the acknowledged floor in their acked field, so a server that
// lost the session's state still continues in order. A message dropped by
// the "drop-oldest" queue policy (Drop) moves that floor, which tells the
// server to skip it: everything else still arrives once and in order.
//
// # Connections
//
//	event                                 what the Socket does              page sees
//	WebSocket opens                       HELLO, resend, heartbeat          open (websocket)
//	ACK                                   trim; failures reset              (stats)
//	PUSH                                  deliver new messages, ACK         message events
//	connection lost (was open)            reconnect after backoff           close (reconnecting)
//	attempt failed (never opened)         retry after backoff; after        error "connect failed"
//	                                      FallbackAfter in a row: HTTP
//	no WebSocket (Dial fails)             HTTP for good                     -
//	invalid frame from the server         close 4002, reconnect             error "protocol error"
//	close 1000, 1003, 1008, 4000, 4001    closed for good                   error "rejected", close
//	close 1009                            halve the frame limits            error "message too big"
//	close 1013                            longer backoff                    close (reconnecting)
//	3 heartbeats without any frame        close 3008, reconnect             error "heartbeat timeout"
//	offline                               no attempts until online          -
//	online                                connect at once                   -
//	Close                                 close the connection              close (final)
//
// Backoff: the n-th failure in a row waits a uniform random time in
// [0, min(ReconnectMaxDelay, ReconnectDelay·2ⁿ⁻¹)) ("full jitter"); 1013 adds
// two failures; an ACK resets the count.
//
// Backpressure: no frame is written while the WebSocket's bufferedAmount is
// above BufferedAmountLimit; the browser fires no event when it drains, so
// the Socket checks again every BackpressurePoll. The queue is bounded in
// bytes by the shell (maxQueueBytes): it rejects, or calls Drop.
//
// HTTP: one POST at a time, each a self-contained BATCH answered by an ACK;
// "open" is a HELLO answered by an ACK. While on HTTP in ModeAuto, the
// WebSocket is tried again every WebSocketRetry; when it opens, it takes
// over (a POST in flight completes on its own; its ACK still counts).
//
// Page hiding: FlushTail sends the oldest unacknowledged messages in ONE
// keepalive POST of at most KeepaliveBytes: requests sent together may
// overtake each other, the server refuses a frame that would leave a gap,
// and a page that is gone cannot resend; browsers allow only 64 KiB of
// keepalive bodies in flight anyway.
//
// # Persistence
//
// With a Store, every chunk Push receives is written (asynchronously,
// coalesced: one write in flight, the next one carrying everything since),
// and acknowledged chunks and the floor are trimmed the same way. Each page
// has its own session. At Start, the Socket loads every session persisted
// under the store's name; those of earlier pages are resent over HTTP by
// internal drain Sockets, under their own session ids and sequence numbers
// (no new message is ever numbered in them), and deleted once acknowledged.
// A resent message has the number and content it first had, so the server
// delivers it once even when it had already arrived, or when another live
// tab still sends it too; HTTP, because a HELLO on a WebSocket would
// supersede (4001) a live tab's connection of that session. Messages still
// in the shell's pending batch (up to batchDelay) are not persisted.
//
// # Concurrency
//
// All inputs (Push, Drop, transport reports, timer fires, Store results)
// go through one serializing queue, as in wasm/eventsource: the caller that
// finds the Socket idle processes its input and everything queued meanwhile,
// in order; a caller that finds it busy appends and returns. Push and Drop
// update the queue under the mutex at once, so they can answer
// synchronously. Sink, Transport and Store calls are made from the
// processing caller, never under a lock, one at a time.
//
// # Size
//
// About 44 KB of gzipped wasm with its binding (GUIDE.md §4). Reasons for
// some choices: the client codec (wire.go) is written here rather than
// taken from protocol/batch's decoders (typed errors, UTF-8 checks,
// iterators: several KB), and checked against them in tests; the Clock
// works with time.Duration, not time.Time (an interface mentioning
// time.Time keeps its formatting code: 27 KB); the browser I/O is a small JS
// driver reporting through one export rather than safejs/syscall/js
// bindings with a js.Func per callback (see wasm/jsbind/websocket.go).
package batchsocket
