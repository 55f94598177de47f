//go:build js && wasm

package jsbind

import (
	"errors"
	"sync"

	"github.com/eventwire/eventwire/wasm/batchsocket"
)

// What the BatchSocket driver reports through BSDriver.Deliver, as its kind
// argument (the export bsNet in wasm/cmd/eventwire-batch passes them on).
const (
	// BSOpen: WebSocket ref is open.
	BSOpen = 0
	// BSMessage: (data): a message on WebSocket ref, a Uint8Array (binary)
	// or a string (text, a protocol error).
	BSMessage = 1
	// BSClosed: (code, reason, wasClean): WebSocket ref closed, or could
	// not connect (1006).
	BSClosed = 2
	// BSPosted: (status, body, message): POST ref completed with status and
	// body (a Uint8Array), or failed (status 0) with the error message.
	BSPosted = 3
	// BSLoaded: (records, message): the persisted records
	// (batchsocket.ParseSaved), or null and why they could not be read.
	BSLoaded = 4
	// BSStored: (message): the oldest write in progress completed, or failed
	// with message.
	BSStored = 5
)

// BSDriver is the browser's batchsocket.Transport and batchsocket.Store.
// The mechanics run in a small JavaScript driver (js/src/batchsocket.js):
// WebSocket, fetch (with keepalive, or navigator.sendBeacon), IndexedDB; Go
// keeps the protocol (sequence numbers, acknowledgement, resend, backoff,
// fallback, what to persist). The split is for size, as for ESTransport:
// safejs bindings with a js.Func per callback cost several KB of gzipped
// wasm each, and the driver needs none, since it reports through one export
// that calls Deliver. Frames cross as one Uint8Array each (GUIDE.md §3: per
// batch, never per message).
//
// The driver object has these methods, refs being numbers chosen by Go:
//
//	dial(ref, url) → boolean
//	    Open a WebSocket offering the subprotocol eventwire.batch, with
//	    binaryType "arraybuffer"; false when there is no WebSocket or it
//	    refuses the URL. Reports BSOpen, BSMessage*, then BSClosed.
//	send(ref, frame, n)   ws.send(frame.subarray(0, n)); frame is a Uint8Array
//	                      that Go reuses for the next frame (send copies it)
//	buffered(ref) → number  ws.bufferedAmount
//	close(ref, code, reason)  ws.close; reports nothing more
//	post(ref, url, body, keepalive)
//	    POST body (Uint8Array); reports BSPosted. keepalive: fetch with
//	    keepalive (navigator.sendBeacon where that fails), for a page being
//	    hidden.
//	abort(ref)            give up POST ref; reports nothing more
//	load()                read every record; reports BSLoaded
//	write(records)        one transaction (batchsocket.AppendWrite); reports
//	                      BSStored; writes complete in order
type BSDriver struct {
	d Value

	mu     sync.Mutex
	out    Value // the Uint8Array that frames are copied into for send
	outCap int
	next   int
	conns  map[int]*batchsocket.ConnEvents
	posts  map[int]func(batchsocket.PostResult)
	load   func([]batchsocket.Saved, error)
	writes []func(error) // in progress, oldest first
}

// NewBSDriver returns the Transport and Store that drive d.
func NewBSDriver(d Value) *BSDriver {
	return &BSDriver{d: d, conns: map[int]*batchsocket.ConnEvents{}, posts: map[int]func(batchsocket.PostResult){}}
}

func (t *BSDriver) ref() int {
	t.next++
	return t.next
}

// Dial implements batchsocket.Transport.
func (t *BSDriver) Dial(url string, ev *batchsocket.ConnEvents) (batchsocket.Conn, error) {
	t.mu.Lock()
	ref := t.ref()
	t.conns[ref] = ev
	t.mu.Unlock()
	ok, err := t.d.Call("dial", ref, url)
	if err == nil && !ok.Truthy() {
		err = batchsocket.ErrNoWebSocket
	}
	if err != nil {
		t.forget(ref)
		return nil, err
	}
	return &bsConn{t, ref}, nil
}

func (t *BSDriver) forget(ref int) {
	t.mu.Lock()
	delete(t.conns, ref)
	delete(t.posts, ref)
	t.mu.Unlock()
}

// bsConn is a WebSocket of the driver.
type bsConn struct {
	t   *BSDriver
	ref int
}

// Send copies frame into the driver's reusable Uint8Array, grown as needed
// (to the largest frame sent), and has it sent: WebSocket.send copies what
// it is given, so there is no new ArrayBuffer, and no new Go reference to
// one, per frame.
func (c *bsConn) Send(frame []byte) error {
	t := c.t
	t.mu.Lock()
	var err error
	if t.outCap < len(frame) {
		n := max(len(frame), 64<<10)
		var arr Value
		if arr, err = Global("Uint8Array").New(n); err == nil {
			t.out, t.outCap = arr, n
		}
	}
	if err == nil {
		_, err = t.out.CopyBytesToJS(frame)
	}
	if err == nil {
		_, err = t.d.Call("send", c.ref, t.out, len(frame))
	}
	t.mu.Unlock()
	return err
}

func (c *bsConn) BufferedAmount() int {
	v, _ := c.t.d.Call("buffered", c.ref)
	n, _ := v.Float()
	return int(n)
}

func (c *bsConn) Close(code int, reason string) {
	c.t.forget(c.ref)
	_, _ = c.t.d.Call("close", c.ref, code, reason)
}

// Deliver passes a report of the driver on; reports about a connection or
// request that was given up are ignored.
func (t *BSDriver) Deliver(kind, ref int, args []Value) error {
	t.mu.Lock()
	ev, post, load := t.conns[ref], t.posts[ref], t.load
	var write func(error)
	switch kind {
	case BSClosed, BSPosted:
		delete(t.conns, ref)
		delete(t.posts, ref)
	case BSLoaded:
		t.load = nil
	case BSStored:
		if len(t.writes) > 0 {
			write, t.writes = t.writes[0], t.writes[1:]
		}
	}
	t.mu.Unlock()
	a0 := arg(args, 0)
	switch {
	case kind == BSOpen && ev != nil:
		ev.Open()
	case kind == BSMessage && ev != nil:
		if !a0.IsUint8Array() {
			ev.Message(nil, false)
			return nil
		}
		b, err := a0.Bytes()
		if err != nil {
			return err
		}
		ev.Message(b, true)
	case kind == BSClosed && ev != nil:
		code, _ := a0.Float()
		reason, _ := arg(args, 1).String()
		ev.Closed(int(code), reason, arg(args, 2).Truthy())
	case kind == BSPosted && post != nil:
		var r batchsocket.PostResult
		st, _ := a0.Float()
		r.Status = int(st)
		if b := arg(args, 1); b.IsUint8Array() {
			r.Body, _ = b.Bytes()
		}
		if r.Status == 0 {
			r.Err = bsErr(arg(args, 2))
		}
		post(r)
	case kind == BSLoaded && load != nil:
		if !a0.IsUint8Array() {
			load(nil, bsErr(arg(args, 1)))
			return nil
		}
		b, err := a0.Bytes()
		if err != nil {
			return err
		}
		saved, err := batchsocket.ParseSaved(b)
		load(saved, err)
	case kind == BSStored && write != nil:
		var err error
		if m := a0; m.IsString() {
			err = bsErr(m)
		}
		write(err)
	}
	return nil
}

// bsErr makes an error of a message string from the driver.
func bsErr(v Value) error {
	s, err := v.String()
	if err != nil || s == "" {
		s = "unknown error"
	}
	return errors.New(s)
}
