package sse_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/eventwire/eventwire/protocol/sse"
)

// A server writes events, comments and a retry hint into one buffer per
// flush.
func ExampleAppendEvent() {
	buf := sse.AppendRetry(nil, 3*time.Second)
	buf, err := sse.AppendEvent(buf, sse.Event{ID: "42", Type: "price", Data: "EUR 1.08\nUSD 1.00"})
	if err != nil {
		panic(err) // only for an ID or Type containing CR, LF or NUL
	}
	buf = sse.AppendComment(buf, "heartbeat")
	fmt.Print(string(buf))
	// Output:
	// retry:3000
	// id: 42
	// event: price
	// data: EUR 1.08
	// data: USD 1.00
	//
	// : heartbeat
}

// A client feeds the decoder whatever chunks the network delivers; events
// come out whole, whatever the chunk boundaries.
func ExampleDecoder() {
	d := sse.NewDecoder(sse.DecoderOptions{})
	d.SetRetry(3 * time.Second) // the client's default reconnection time
	show := func(e sse.Event) { fmt.Printf("%s %q id=%s\n", e.Type, e.Data, e.ID) }
	for _, chunk := range []string{"id: 1\ndata: hel", "lo\r", "\n\r\nevent: bye\ndata", ":\n\ndata: lost"} {
		if err := d.Feed([]byte(chunk), show); err != nil {
			fmt.Println(err) // *sse.EventTooLargeError: drop the connection
			break
		}
	}
	d.End() // connection closed: the unfinished event is discarded
	fmt.Println("reconnect after", d.Retry(), "with Last-Event-ID", d.LastEventID())
	// Output:
	// message "hello" id=1
	// bye "" id=1
	// reconnect after 3s with Last-Event-ID 1
}

// A Go client reads events from a response body.
func ExampleReader() {
	body := strings.NewReader("event: tick\ndata: 1\n\nevent: tick\ndata: 2\n\n")
	r := sse.NewReader(body, sse.DecoderOptions{MaxEventSize: 64 << 10})
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			fmt.Println("stream broke:", err)
			break
		}
		fmt.Println(e.Type, e.Data)
	}
	// Output:
	// tick 1
	// tick 2
}
