package eventsource_test

import (
	"fmt"

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

func (p *printSink) Events(origin string, b *eventsource.Batch) {
	for _, e := range b.Events() {
		fmt.Printf("%s %q lastEventId=%q origin=%s\n", e.Type, e.Data, e.ID, origin)
	}
	// What a binding hands to JS: the header, and the texts to decode.
	fmt.Printf("%d header words, chunk text %q, extra text %q\n", len(b.Head()), b.Chunk(), b.Extra())
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
	// 8 header words, chunk text "hello\n\nevent: tick\ndata: 42", extra text "message1tick"
	// abort
	// error end of stream CONNECTING retry in 1s
	// CLOSED
}
