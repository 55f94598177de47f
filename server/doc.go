// Package server is the Go side of eventwire: a Hub of topics with
// bounded, replayable history, and plain http.Handlers that serve it as
// Server-Sent Events streams or long-polls, with CORS, static files and a
// publish endpoint; Server wires them into the eventwire-server binary.
//
// # Endpoints of the eventwire-server binary (Server)
//
//	GET  /events/{topic}                    event stream (text/event-stream)
//	GET  /events/{topic}?transport=longpoll long-poll, same format
//	POST /publish/{topic}?event=TYPE        body = data; answers the event ID (only with -publish)
//	GET  /healthz                           JSON: hub counters, goroutines, memory (?gc=1 collects first)
//	GET  /dist/...                          the build output (Static), precompressed variants
//	GET  /                                  demo page: a live ticker (topic "ticker", with -demo)
//
// All of them sit behind CORS with the configured allow-list.
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
//	<blank line>
//
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
// # Limits and defaults
//
//   - History: 1024 events per topic (HubOptions.HistorySize).
//   - Subscriber lag before eviction: 256 events (HubOptions.SubscriberBuffer).
//   - Topic names: 1 to 256 bytes (MaxTopicLength).
//   - Heartbeat 15 s, retry 3 s, long-poll wait 25 s, write timeout 10 s
//     (SSEHandler).
//   - Publish body: 1 MiB, UTF-8 (PublishHandler.MaxBytes).
package server
