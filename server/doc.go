// Package server is the Go side of eventwire: a Hub of topics with
// bounded, replayable history, and plain http.Handlers that serve it as
// Server-Sent Events streams or long-polls, with CORS, static files and a
// publish endpoint; an IngestHandler that receives batched, acknowledged
// client messages over WebSocket or HTTP POST into a Sink; Server wires
// them into the eventwire-server binary.
//
// # Endpoints of the eventwire-server binary (Server)
//
//	GET  /events/{topic}                    event stream (text/event-stream)
//	GET  /events/{topic}?transport=longpoll long-poll, same format
//	POST /publish/{topic}?event=TYPE        body = data; answers the event ID (only with -publish)
//	GET  /ingest                            batch ingest WebSocket, subprotocol eventwire.batch (with -ingest)
//	POST /ingest                            body = one HELLO or BATCH frame; answers an ACK frame (with -ingest)
//	GET  /healthz                           JSON: hub and ingest counters, goroutines, memory (?gc=1 collects first)
//	GET  /dist/...                          the build output (Static), precompressed variants
//	GET  /                                  demo page: a live ticker (topic "ticker", with -demo) and a
//	                                        pointer recorder sending to /ingest (with -ingest)
//
// All of them sit behind CORS with the configured allow-list (the ingest
// endpoint also checks origins itself; see below).
//
// # Event IDs
//
// Every event a Hub publishes gets the ID "<epoch>-<seq>": seq counts from
// 1 per topic and increases by one with each event; epoch identifies the
// Hub (random hex per NewHub unless HubOptions.Epoch is set), so that a
// server restarted without its history recognises the IDs of its
// predecessor as ones it cannot replay. Clients must treat IDs as opaque.
// "<epoch>-0" names the position before the first event.
//
// # Streams
//
// A stream response has the headers
//
//	Content-Type: text/event-stream; charset=utf-8
//	Cache-Control: no-cache, no-transform
//	X-Accel-Buffering: no
//
// and begins, flushed at once so that the client sees the open before any
// event, with the preamble
//
//	: ok
//	retry:<SSEHandler.Retry in ms>
//	id: <the position the response starts from>
//	<blank line>
//
// The id-only block dispatches no event but sets the client's last event
// ID, so a client that reconnects (or long-polls again) before any event
// reaches it resumes from there and misses nothing published in between.
// When the gap event is due (below), it takes the place of the id line.
// then the replay (if the client resumes), then live events as they are
// published. A comment line ": hb" is written every SSEHandler.Heartbeat
// (default 15 s). Data is UTF-8; multi-line data is sent as several data
// lines. A stream ends when the client goes away, when it falls too far
// behind (see HubOptions.SubscriberBuffer; the eviction is logged), on
// Hub.Disconnect of its topic, and on Hub.Close or Server shutdown.
//
// # Resuming and replay
//
// A client resumes by sending the last ID it received in the Last-Event-ID
// header (what a browser's EventSource does on reconnection) or in the
// query parameter SSEHandler.LastEventIDParam (default "lastEventId"), for
// clients that cannot set headers. When both are present the header wins:
// it is the newer one when a browser reconnects to a URL that carries an
// initial ID. Without either, the stream starts with the next event
// published. With one, the server replays every event after it still in
// the topic's history (HubOptions.HistorySize, default 1024 events), then
// continues live, with no gap and no duplicate.
//
// # The gap event
//
// When the history cannot cover the requested ID, the server says so
// before anything else, with one event of type "gap":
//
//	id: <epoch>-<n>
//	event: gap
//	data: {"lastEventId":"<requested ID>","reason":"<reason>","epoch":"<epoch>","next":"<epoch>-<n+1>"}
//
// reason is "evicted" (the events after the requested ID have left the
// history), "epoch" (the ID is from another epoch: the server restarted or
// is another instance), "ahead" (the ID is of this epoch but newer than
// any event published: the sequence restarted under a fixed Epoch) or
// "invalid" (not an ID of this format). lastEventId echoes the requested ID
// (at most its first 256 bytes). After the gap event the stream carries
// all the history still held, starting with the event whose ID is next,
// then live events. The gap event's own ID is the position just before
// next, so a client that reconnects after it resumes without another gap.
// Browsers' EventSource deliver it to addEventListener("gap", ...), not to
// onmessage.
//
// # Long-poll
//
// With the query parameter transport=longpoll, the same endpoint answers
// like one short stream: the same headers, the preamble, the gap event if
// any, and the events after the requested ID, as soon as there is at least
// one (at most LongPollMaxEvents events and LongPollMaxBytes bytes of
// them, but always one), or none after SSEHandler.LongPollWait (default 25
// s); then it ends the response, with a Content-Length. A client polls
// again at once with the last ID it received; the retry hint applies to
// failed attempts. No heartbeats are sent.
//
// # Memory per stream
//
// An idle stream served the ordinary way costs what net/http costs per
// connection: two goroutines (the connection's and its background reader)
// and about 10 KiB of bufio buffers. Measured on linux/amd64 with Go 1.26,
// 10,000 idle HTTP/1.1 streams held in a separate process: about 26 KB of
// heap and stack per stream. With SSEHandler.Hijack (the binary's default,
// -hijack) an HTTP/1.x stream's connection is taken over after the request:
// no goroutine and no buffer stay behind for an idle stream, the subscriber
// is a cursor into the topic's shared ring, and a writer goroutine exists
// only while a stream has bytes to write. Measured the same way: about
// 0.7 KB of heap and stack (1.5 KB of resident memory) per stream, not
// counting the kernel's socket buffers. Run
//
//	EVENTWIRE_MEMTEST=10000 go test -run MemoryPerStream -v ./server/
//
// to measure on your machine. Publishing encodes an event once; all
// subscribers write the same bytes.
//
// # Batch ingest
//
// IngestHandler serves the batch protocol of package protocol/batch (its
// PROTOCOL.md is the specification) on one URL, /ingest in the binary.
//
// WebSocket (GET with an Upgrade, coder/websocket): the server selects the
// subprotocol eventwire.batch when offered. Every frame is one binary
// message. The first frame must be HELLO; it binds the connection to its
// session, is answered with ACK(last accepted sequence number), and
// closes an older connection of the same session with 4001. The client
// then sends BATCH frames, pipelined; each is answered with an ACK after
// the Sink has accepted its new messages. A BATCH or a second HELLO of
// another session closes the connection with 1002. The read limit is the
// maximum frame (IngestOptions.Limits.MaxFrame, default 1 MiB), so a
// larger message is refused with 1009 before it is buffered.
//
// Heartbeat: when a WebSocket has sent nothing for
// IngestOptions.Heartbeat (default 15 s), the server sends a WebSocket
// ping, which browsers answer by themselves; without a pong within
// HeartbeatTimeout (30 s) the peer is dead and its connection is dropped
// (no close handshake). The client's own heartbeat, an empty BATCH every
// 15 s, counts as traffic and is answered with an ACK. A Sink call that
// blocks for longer than HeartbeatTimeout may cost its connection a
// false "dead" verdict; the client resends what was not acknowledged.
//
// Origins: a browser sends Origin with every WebSocket handshake and
// every POST. Only the request's own host is allowed unless
// IngestOptions.OriginPatterns (-ingest-origins) lists more; a handshake
// from another origin gets 403 (coder/websocket's check), a POST a 403
// with CLOSE 1008. A cross-origin page that wants to read the answers of
// the HTTP fallback also needs its origin in the CORS allow-list
// (-cors-origins); a sendBeacon does not read them.
//
// Exactly once, in order: the handler keeps per session the last accepted
// sequence number and processes the frames of a session one at a time
// (a per-session lock), whatever the connection or transport, so a batch
// resent after a reconnection, re-split differently, or sent over the
// WebSocket and by POST at the same time has its accepted prefix dropped
// and the rest delivered once. A frame that would leave a gap is refused
// (answered with the unchanged ACK) and resent by the client. The ACK is
// written only after the Sink returned, so an acknowledged message is
// never lost by a crash of the server between the two; a crash before
// the ACK makes the client resend, and the resend is deduplicated.
//
// Session states are bounded: at most IngestOptions.MaxSessions (default
// 100,000; the least recently used idle state is evicted first) and an
// idle state lives SessionTTL (24 h) after its last frame. A session in
// use (a WebSocket open, a request in progress) is never evicted: when
// all are in use a new session is refused with 1013 (HTTP 503). When an
// evicted session comes back, the server adopts the client's acked (in
// HELLO and in every BATCH): delivery continues exactly from what the
// client knows was acknowledged. Only messages whose ACK the client never
// received before the eviction can be delivered a second time; every
// record carries (session, seq), so a consumer that must be exact even
// then deduplicates on it.
//
// HTTP POST (the fallback, and a closing page's keepalive fetch or
// sendBeacon): the body is one HELLO or BATCH frame, at most the maximum
// frame; the answer is 200 with an ACK frame (Content-Type
// application/vnd.eventwire.batch, Cache-Control: no-store), or the
// status of the close code below with a CLOSE frame whose reason says
// what was wrong. The declared Content-Type does not matter (a beacon
// sends text/plain, a Blob's own type, or none): the frame's version
// byte identifies it. Only multipart bodies are refused (415), as they
// wrap the frame. The Sink call of a POST is not cancelled when the
// client goes away: the last flush of a closing page is stored even
// though nobody reads its ACK.
//
// Close codes (WebSocket close code; over HTTP, the CLOSE frame's code
// with the status shown):
//
//	1000       normal: the client sent a CLOSE frame
//	1001  503  going away: server shutting down (IngestHandler.Close)
//	1002  400  malformed frame; first frame not HELLO; PUSH from the client; BATCH or HELLO
//	           of another session; ACK above the PUSH messages sent; POST of another type
//	1003  415  a text message; a multipart POST body
//	1008  403  origin not allowed (POST; the handshake itself answers 403)
//	1009  413  frame over the read limit or over a decoder limit
//	1011  500  the Sink failed (nothing of that frame is acknowledged)
//	1013  503  the Sink returned ErrSinkOverloaded; too many sessions in use
//	4000  400  unsupported protocol version; the reason names the supported one
//	4001       superseded by a newer connection of the same session
//
// A bad frame only closes its own connection (or fails its own request);
// other sessions are not affected.
//
// Server to client: IngestHandler.Send queues messages for a session and
// a connected WebSocket writes them as PUSH frames, within the limits of
// the client's HELLO; they are kept until the client acknowledges them
// (ACK frames, or received in its next HELLO) and resent on its next
// WebSocket (HTTP cannot carry them). The queue is bounded per session
// (PushQueueMessages 1,024, PushQueueBytes 1 MiB: Send fails when full).
// With -demo, the server pushes each recording session a JSON stats
// message every second.
//
// Sinks: a Sink receives each accepted message once, in order, with its
// session and sequence number; msgs alias the received frame and are only
// valid during the call. NDJSONSink (-ingest-sink stdout, stderr or
// file:PATH) writes one line per message:
//
//	{"session":"<32 hex digits>","seq":1,"type":"text","data":"<text>"}
//	{"session":"<32 hex digits>","seq":2,"type":"binary","data":"<base64>"}
//
// The records of one call are written with one write before the ACK (and
// fsynced first with -ingest-sync). MemorySink keeps them in memory for
// tests; Discard (-ingest-sink none) drops them.
//
// # Limits and defaults
//
//   - History: 1024 events per topic (HubOptions.HistorySize).
//   - Subscriber lag before eviction: 256 events (HubOptions.SubscriberBuffer).
//   - Topic names: 1 to 256 bytes (MaxTopicLength).
//   - Heartbeat 15 s, retry 3 s, long-poll wait 25 s, write timeout 10 s
//     (SSEHandler).
//   - Publish body: 1 MiB, UTF-8 (PublishHandler.MaxBytes).
//   - Ingest frames: 1 MiB, 4,096 messages, 256 KiB per message
//     (IngestOptions.Limits); heartbeat 15 s, pong timeout 30 s, write
//     timeout 10 s; 100,000 sessions kept for 24 h; 1,024 queued PUSH
//     messages or 1 MiB per session.
package server
