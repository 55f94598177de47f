package eventsource_test

import (
	"fmt"

	"github.com/eventwire/eventwire/protocol/sse"
	"github.com/eventwire/eventwire/wasm/eventsource"
)

// oneShot plays a fixed body for every request. A real binding calls
// fetch here and reports from its promise callbacks.
type oneShot struct{ body string }

func (o oneShot) Open(req *eventsource.Request, s *eventsource.Stream) (abort func()) {
	fmt.Println("request", req.Method, req.URL, req.Header)
	s.Response(eventsource.Response{Status: 200, ContentType: "text/event-stream; charset=utf-8", URL: req.URL})
	s.Chunk([]byte(o.body))
	s.End()
	return func() { fmt.Println("abort") }
}

// printSink stands for the JS EventTarget.
type printSink struct{ c *eventsource.Client }

func (p *printSink) Open(info *eventsource.OpenInfo) { fmt.Println("open", info.Origin) }

func (p *printSink) Events(origin string, evs []sse.Event) {
	for _, e := range evs {
		fmt.Printf("%s %q lastEventId=%q origin=%s\n", e.Type, e.Data, e.ID, origin)
	}
	packed := eventsource.AppendPacked(nil, evs) // what a binding copies to JS
	fmt.Println("packed", len(packed), "bytes for", len(evs), "events")
}

func (p *printSink) Error(info *eventsource.ErrorInfo) {
	fmt.Println("error", info.Reason, info.State, "retry in", info.Delay)
	p.c.Close() // what a page might do in onerror
}

func Example() {
	sink := &printSink{}
	c := eventsource.New("https://example.com/events?topic=a",
		oneShot{body: "retry: 1000\nid: 1\ndata: hello\n\nevent: tick\ndata: 42\n\n"},
		sink, eventsource.Options{LastEventIDParam: "lastEventId"})
	sink.c = c
	c.Start()
	fmt.Println(c.ReadyState())
	// Output:
	// request GET https://example.com/events?topic=a [{Accept text/event-stream}]
	// open https://example.com
	// message "hello" lastEventId="1" origin=https://example.com
	// tick "42" lastEventId="1" origin=https://example.com
	// packed 47 bytes for 2 events
	// abort
	// error end of stream CONNECTING retry in 1s
	// CLOSED
}
