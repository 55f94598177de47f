package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eventwire/eventwire/protocol/batch"
)

func TestServerIngest(t *testing.T) {
	sink := &MemorySink{}
	s, url := startServer(t, Config{Ingest: true, IngestSink: sink, Demo: true, CORSOrigins: []string{"http://app.test"}})
	id := sid(1)
	c := dialURL(t, url, nil)
	c.send(helloFrame(id, 0, 0))
	c.ack(0)
	c.send(batchFrame(id, 0, 1, 3))
	c.ack(3)
	checkRecords(t, sink, id, 1, 3)

	// The demo pushes the recorder's stats to the session.
	p := c.push()
	var stats recorderMessage
	for _, m := range p.All() {
		if err := json.Unmarshal(m.Data, &stats); err != nil {
			t.Fatalf("stats %q: %v", m.Data, err)
		}
	}
	if stats.Kind != "stats" || stats.Session.Messages != 3 || stats.Session.LastSeq != 3 || stats.Server.Sessions != 1 {
		t.Errorf("stats %+v", stats)
	}
	c.send(batch.AppendAck(nil, batch.Ack{Seq: p.LastSeq()}))

	resp, body := get(t, "GET", url+"/healthz", nil, "")
	var h health
	if err := json.Unmarshal([]byte(body), &h); err != nil || h.Ingest == nil || h.Ingest.Messages != 3 || h.Ingest.Connections != 1 {
		t.Errorf("healthz: %s %s", resp.Status, body)
	}
	// The HTTP fallback sits behind CORS: a listed origin may read the ACK.
	resp, _ = get(t, "OPTIONS", url+IngestPath, http.Header{"Origin": {"http://app.test"}, "Access-Control-Request-Method": {"POST"},
		"Access-Control-Request-Headers": {"content-type"}}, "")
	if resp.StatusCode != 204 || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight: %s %v", resp.Status, resp.Header)
	}
	// The WebSocket origin allow-list is a separate one (IngestOrigins).
	if _, resp, err := dialRawURL(url, http.Header{"Origin": {"http://app.test"}}); err == nil || resp.StatusCode != 403 {
		t.Errorf("WebSocket from a CORS origin not in IngestOrigins: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(ctx) }()
	c.closed(batch.CodeGoingAway, "shutting down")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestServerIngestOffByDefault(t *testing.T) {
	s, url := startServer(t, Config{})
	if resp, _ := get(t, "POST", url+IngestPath, nil, "x"); resp.StatusCode != 404 && resp.StatusCode != 405 {
		t.Errorf("ingest while disabled: %s", resp.Status)
	}
	if s.Ingest() != nil {
		t.Error("Ingest() != nil")
	}
}
