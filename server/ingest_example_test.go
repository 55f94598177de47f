package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/coder/websocket"

	"github.com/eventwire/eventwire/protocol/batch"
	"github.com/eventwire/eventwire/server"
)

// Receive batches over a WebSocket and by HTTP POST into an NDJSON sink;
// the batch resent by POST is deduplicated.
func ExampleIngestHandler() {
	h := server.NewIngestHandler(server.IngestOptions{Sink: server.NewNDJSONSink(os.Stdout, server.NDJSONOptions{})})
	defer h.Close()
	ts := httptest.NewServer(h)
	defer ts.Close()

	session := batch.SessionID{0xca, 0xfe, 15: 1} // crypto-random in practice
	var w batch.Writer
	w.StartBatch(nil, session, 0, 1)
	w.AddString(`{"k":"click","x":10,"y":20}`)
	w.Add([]byte{0xde, 0xad}, true)
	frame := w.Bytes()

	ctx := context.Background()
	ws, _, err := websocket.Dial(ctx, ts.URL, &websocket.DialOptions{Subprotocols: []string{batch.Subprotocol}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ws.CloseNow()
	ws.Write(ctx, websocket.MessageBinary, batch.AppendHello(nil, batch.Hello{Session: session}))
	_, p, _ := ws.Read(ctx)
	a, _ := batch.DecodeAck(p)
	fmt.Println("hello: ack", a.Seq)
	ws.Write(ctx, websocket.MessageBinary, frame)
	_, p, _ = ws.Read(ctx) // the ACK comes after the sink wrote the records
	a, _ = batch.DecodeAck(p)
	fmt.Println("websocket: ack", a.Seq)

	// The same frame again, as a page's final sendBeacon would send it.
	resp, err := http.Post(ts.URL, "text/plain;charset=UTF-8", bytes.NewReader(frame))
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	a, _ = batch.DecodeAck(body)
	fmt.Println("post:", resp.Status, "ack", a.Seq, "duplicates", h.Stats().Duplicates)
	// Output:
	// hello: ack 0
	// {"session":"cafe0000000000000000000000000001","seq":1,"type":"text","data":"{\"k\":\"click\",\"x\":10,\"y\":20}"}
	// {"session":"cafe0000000000000000000000000001","seq":2,"type":"binary","data":"3q0="}
	// websocket: ack 2
	// post: 200 OK ack 2 duplicates 2
}
