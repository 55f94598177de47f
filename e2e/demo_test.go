package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/eventwire/eventwire/server"
)

// The demo page of `make run`: the live ticker (native EventSource) and the
// live recorder (BatchSocket from /dist/eventwire.js to /ingest).
func TestDemoPage(t *testing.T) {
	sink := &server.MemorySink{}
	srv := startServer(t, serverConfig{Demo: true, Dist: true, IngestSink: sink})
	p := newPage(t)
	p.navigate(srv.URL() + "/")
	p.waitFor("the demo page to show live quotes", `
		document.getElementById("state").textContent === "open" &&
		Number(document.getElementById("count").textContent) >= 3 &&
		document.querySelectorAll("#quotes tr").length === 6 &&
		document.getElementById("lastid").textContent.includes("-")`)

	p.waitFor("the recorder to connect", `document.getElementById("rec-state").textContent === "open"`)
	const clicks = 20 // a pointerdown and a pointerup each
	p.run(`for (let i = 0; i < ` + strconv.Itoa(clicks) + `; i++) {
		dispatchEvent(new PointerEvent("pointerdown", { clientX: 10 + i, clientY: 20, buttons: 1 }));
		dispatchEvent(new PointerEvent("pointerup", { clientX: 10 + i, clientY: 20 }));
	}`)
	p.waitFor("the recorder to show its messages acknowledged",
		`Number(document.getElementById("rec-acked").textContent.replace(/\D/g, "")) >= `+strconv.Itoa(2*clicks))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sink.Wait(ctx, 2*clicks); err != nil {
		t.Fatalf("the sink got %d of %d recorded messages: %v", sink.Len(), 2*clicks, err)
	}
	if err := sink.CheckOrder(); err != nil {
		t.Fatal(err)
	}
}
