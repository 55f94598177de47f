package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/eventwire/eventwire/protocol/sse"
	"github.com/eventwire/eventwire/server"
)

// Serve a Hub's topics as event streams, resume with Last-Event-ID, and
// read them with protocol/sse.
func Example() {
	hub := server.NewHub(server.HubOptions{Epoch: "demo"})
	defer hub.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /events/{topic}", &server.SSEHandler{Hub: hub, Retry: 2 * time.Second})
	ts := httptest.NewServer(server.CORS([]string{"https://app.example"}, mux))
	defer ts.Close()

	first, _ := hub.Publish("news", sse.Event{Data: "first"})
	hub.Publish("news", sse.Event{Type: "update", Data: "second\nline"})

	req, _ := http.NewRequest("GET", ts.URL+"/events/news", nil)
	req.Header.Set("Last-Event-ID", first.ID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	e, err := sse.NewReader(resp.Body, sse.DecoderOptions{}).Next()
	fmt.Printf("%s %s %q %v\n", e.ID, e.Type, e.Data, err)
	// Output: demo-2 update "second\nline" <nil>
}
