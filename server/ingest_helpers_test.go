package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/eventwire/eventwire/protocol/batch"
)

// newIngest serves an IngestHandler with opts (a MemorySink unless
// opts.Sink is set) on a loopback test server.
func newIngest(t testing.TB, opts IngestOptions) (*IngestHandler, *MemorySink, *httptest.Server) {
	t.Helper()
	sink, _ := opts.Sink.(*MemorySink)
	if opts.Sink == nil {
		sink = &MemorySink{}
		opts.Sink = sink
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	h := NewIngestHandler(opts)
	mux := http.NewServeMux()
	mux.Handle(IngestPath, h)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		h.Close()
		ts.Close()
	})
	return h, sink, ts
}

// sid returns a session id for tests.
func sid(n byte) batch.SessionID {
	return batch.SessionID{0xe7, 0x57, n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, n}
}

// helloFrame returns a HELLO with default limits.
func helloFrame(s batch.SessionID, acked, received uint64) []byte {
	return batch.AppendHello(nil, batch.Hello{Session: s, Acked: acked, Received: received})
}

// batchFrame returns a BATCH of the text messages "m<seq>" for the
// sequence numbers first..last.
func batchFrame(s batch.SessionID, acked, first, last uint64) []byte {
	var w batch.Writer
	w.StartBatch(nil, s, acked, first)
	for seq := first; seq <= last; seq++ {
		w.AddString(msgText(seq))
	}
	return w.Bytes()
}

func msgText(seq uint64) string { return "m" + strconv.FormatUint(seq, 10) }

// wsClient is a native client of the ingest endpoint.
type wsClient struct {
	t  *testing.T
	ws *websocket.Conn
}

// dial opens a WebSocket to the test server's ingest endpoint.
func dial(t *testing.T, ts *httptest.Server, header http.Header) *wsClient {
	t.Helper()
	return dialURL(t, ts.URL, header)
}

// dialURL opens a WebSocket to the ingest endpoint of the server at base.
func dialURL(t *testing.T, base string, header http.Header) *wsClient {
	t.Helper()
	ws, resp, err := dialRawURL(base, header)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	if ws.Subprotocol() != batch.Subprotocol {
		t.Errorf("subprotocol %q", ws.Subprotocol())
	}
	t.Cleanup(func() { ws.CloseNow() })
	return &wsClient{t: t, ws: ws}
}

func dialRaw(ts *httptest.Server, header http.Header) (*websocket.Conn, *http.Response, error) {
	return dialRawURL(ts.URL, header)
}

func dialRawURL(base string, header http.Header) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, base+IngestPath, &websocket.DialOptions{
		HTTPHeader:   header,
		Subprotocols: []string{batch.Subprotocol},
	})
	if ws != nil {
		ws.SetReadLimit(2 << 20)
	}
	return ws, resp, err
}

// send writes one binary frame.
func (c *wsClient) send(frame []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageBinary, frame); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read returns the next frame, or the error that ended the connection.
func (c *wsClient) read() ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	typ, p, err := c.ws.Read(ctx)
	if err == nil && typ != websocket.MessageBinary {
		c.t.Errorf("server sent a %v message", typ)
	}
	return p, err
}

// ack reads the next frame and checks that it is ACK(seq).
func (c *wsClient) ack(seq uint64) {
	c.t.Helper()
	p, err := c.read()
	if err != nil {
		c.t.Fatalf("waiting for ACK %d: %v", seq, err)
	}
	a, err := batch.DecodeAck(p)
	if err != nil || a.Seq != seq {
		c.t.Fatalf("got % x (%v), want ACK %d", p, err, seq)
	}
}

// push reads the next frame and decodes it as a PUSH; the result aliases
// a fresh buffer.
func (c *wsClient) push() batch.Push {
	c.t.Helper()
	p, err := c.read()
	if err != nil {
		c.t.Fatalf("waiting for PUSH: %v", err)
	}
	m, err := batch.DecodePush(p, batch.Limits{})
	if err != nil {
		c.t.Fatalf("got % x (%v), want PUSH", p, err)
	}
	return m
}

// closed reads until the connection ends and checks the close code and,
// if not empty, that the reason contains reason.
func (c *wsClient) closed(code batch.Code, reason string) {
	c.t.Helper()
	for {
		p, err := c.read()
		if err == nil {
			c.t.Logf("frame before the close: % x", p)
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("connection ended with %v, want close %d", err, code)
		}
		if ce.Code != websocket.StatusCode(code) || !strings.Contains(ce.Reason, reason) {
			c.t.Fatalf("close %d %q, want %d with %q", ce.Code, ce.Reason, code, reason)
		}
		return
	}
}

// post sends frame as a POST body with the content type and returns the
// status and the decoded answer: an ACK's sequence number, or a CLOSE.
func post(t *testing.T, ts *httptest.Server, contentType string, header http.Header, frame []byte) (status int, ack uint64, cl batch.Close) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+IngestPath, bytes.NewReader(frame))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST: reading: %v", err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != batch.ContentType {
		t.Errorf("answer Content-Type %q", ct)
	}
	if resp.StatusCode == http.StatusOK {
		a, err := batch.DecodeAck(body)
		if err != nil {
			t.Fatalf("POST: answer % x: %v", body, err)
		}
		return resp.StatusCode, a.Seq, batch.Close{}
	}
	cl, err = batch.DecodeClose(body)
	if err != nil {
		t.Fatalf("POST: %s answer % x: %v", resp.Status, body, err)
	}
	if cl.Code.HTTPStatus() != resp.StatusCode {
		t.Errorf("POST: status %d for close code %d", resp.StatusCode, cl.Code)
	}
	return resp.StatusCode, 0, cl
}

// checkRecords checks that the sink holds exactly the messages first..last
// of session s, once each and in order.
func checkRecords(t *testing.T, sink *MemorySink, s batch.SessionID, first, last uint64) {
	t.Helper()
	if err := sink.CheckOrder(); err != nil {
		t.Error(err)
	}
	rs := sink.Session(s)
	if uint64(len(rs)) != last-first+1 {
		t.Fatalf("session %s: %d records, want %d..%d", s, len(rs), first, last)
	}
	for i, r := range rs {
		seq := first + uint64(i)
		if r.Seq != seq || string(r.Data) != msgText(seq) || r.Binary {
			t.Fatalf("record %d: %d %q, want %d %q", i, r.Seq, r.Data, seq, msgText(seq))
		}
	}
}
