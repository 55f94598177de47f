//go:build js && wasm

package main

import (
	"math"
	"sync"
	"time"

	"github.com/eventwire/eventwire/wasm/batchsocket"
	"github.com/eventwire/eventwire/wasm/internal/module"
	"github.com/eventwire/eventwire/wasm/jsbind"
)

// The BatchSocket exports, used by js/src/batchsocket.js:
//
//	bsOpen(url, fallbackUrl, session, options, notify, driver, stats) → id
//	    Creates and starts a batchsocket.Socket. url is the absolute ws(s)
//	    URL, fallbackUrl the absolute http(s) URL of the POSTs, session a
//	    Uint8Array of 16 random bytes. options is a Uint8Array of float64
//	    (little-endian) in the order of the bsOpt constants below; 0 means
//	    the default of batchsocket.Options, durations are in ms. notify
//	    receives events (jsbind.BSSink), driver does the I/O
//	    (jsbind.BSDriver), stats is a Uint8Array of 8·jsbind.BSStatCount
//	    bytes that Go keeps up to date.
//	bsPush(id, bytes, n) → last sequence number
//	    Hands over n messages framed as in a BATCH frame (PROTOCOL.md §5.6),
//	    in one Uint8Array, copied at once.
//	bsCtl(id, op, x, reason) → number
//	    op 0: close with code x and reason; 1: online (x 1) or offline (x 0);
//	    2: flush the tail by keepalive POST (pagehide); 3: drop the oldest
//	    messages to free x bytes, returning how many bytes were freed.
//	bsNet(id, kind, ref, ...args)
//	    The driver's reports (jsbind.BSDriver.Deliver).
func exportBatchSocket(o *jsbind.Object) error {
	return module.SetFuncs(o, map[string]jsbind.Handler{
		"bsOpen": bsOpen,
		"bsPush": bsPush,
		"bsCtl":  bsCtl,
		"bsNet":  bsNet,
	})
}

// The slots of bsOpen's options.
const (
	bsOptMode = iota // 0 auto, 1 websocket, 2 http
	bsOptBatchBytes
	bsOptBatchCount
	bsOptMaxMessageSize
	bsOptKeepaliveBytes
	bsOptBufferedAmountLimit
	bsOptReconnectDelay
	bsOptReconnectMaxDelay
	bsOptHeartbeatInterval // < 0: none
	bsOptWebSocketRetry    // < 0: never
	bsOptFallbackAfter
	bsOptFlags // 1 persist, 2 debug, 4 offline
	bsOptCount
)

type bsEntry struct {
	id      int
	persist bool
	s       *batchsocket.Socket
	drv     *jsbind.BSDriver
	sink    *jsbind.BSSink
}

var (
	bsMu     sync.Mutex
	bsLastID int
	bsAll    = map[int]*bsEntry{}
)

func bsLookup(v jsbind.Value) *bsEntry {
	f, _ := v.Float()
	bsMu.Lock()
	e := bsAll[int(f)]
	bsMu.Unlock()
	return e
}

func bsOpen(args []jsbind.Value) (any, error) {
	if len(args) < 7 {
		return nil, jsbind.TypeError("eventwire: bsOpen: bad arguments")
	}
	var o batchsocket.Options
	var err error
	if o.URL, err = args[0].String(); err != nil {
		return nil, err
	}
	if o.FallbackURL, err = args[1].String(); err != nil {
		return nil, err
	}
	session, err1 := args[2].Bytes()
	raw, err2 := args[3].Bytes()
	if err1 != nil || err2 != nil || len(session) != 16 || len(raw) != 8*bsOptCount {
		return nil, jsbind.TypeError("eventwire: bsOpen: bad session or options")
	}
	copy(o.Session[:], session)
	var v [bsOptCount]float64
	for i := range v {
		var b uint64
		for j := range 8 {
			b |= uint64(raw[8*i+j]) << (8 * j)
		}
		v[i] = math.Float64frombits(b)
	}
	o.Mode = batchsocket.Mode(v[bsOptMode])
	for i, p := range [...]*int{&o.BatchBytes, &o.BatchCount, &o.MaxMessageSize, &o.KeepaliveBytes, &o.BufferedAmountLimit} {
		*p = int(v[bsOptBatchBytes+i])
	}
	for i, p := range [...]*time.Duration{&o.ReconnectDelay, &o.ReconnectMaxDelay, &o.HeartbeatInterval, &o.WebSocketRetry} {
		*p = time.Duration(v[bsOptReconnectDelay+i] * float64(time.Millisecond))
	}
	o.FallbackAfter = int(v[bsOptFallbackAfter])
	flags := int(v[bsOptFlags])

	e := &bsEntry{persist: flags&1 != 0, drv: jsbind.NewBSDriver(args[5]), sink: jsbind.NewBSSink(args[4], args[6])}
	if e.persist {
		o.Store = e.drv
	}
	if flags&2 != 0 {
		o.Debug = e.sink.Debug
	}
	o.OnPanic = func(v any) { e.sink.Fail(&jsbind.PanicError{Func: "batchsocket", Value: v}) }
	e.s = batchsocket.New(o, e.drv, e.sink)

	bsMu.Lock()
	bsLastID++
	e.id = bsLastID
	bsAll[e.id] = e
	bsMu.Unlock()
	if flags&4 != 0 {
		e.s.SetOnline(false)
	}
	e.s.Start()
	return e.id, nil
}

func bsPush(args []jsbind.Value) (any, error) {
	e := bsLookup(bsArg(args, 0))
	if e == nil {
		return nil, jsbind.TypeError("eventwire: bsPush: closed")
	}
	b, err := bsArg(args, 1).Bytes()
	if err != nil {
		return nil, err
	}
	n, _ := bsArg(args, 2).Float()
	last, err := e.s.Push(b, int(n))
	if err != nil {
		return nil, err
	}
	return float64(last), nil
}

func bsCtl(args []jsbind.Value) (any, error) {
	e := bsLookup(bsArg(args, 0))
	if e == nil {
		return 0, nil
	}
	op, _ := bsArg(args, 1).Float()
	x, _ := bsArg(args, 2).Float()
	switch op {
	case 0:
		reason, _ := bsArg(args, 3).String()
		e.s.Close(int(x), reason)
		// With persistence, resend sockets of earlier pages may still need
		// the driver; they are few and end on their own.
		if !e.persist {
			bsMu.Lock()
			delete(bsAll, e.id)
			bsMu.Unlock()
		}
	case 1:
		e.s.SetOnline(x != 0)
	case 2:
		e.s.FlushTail()
	case 3:
		_, freed := e.s.Drop(int(x))
		return freed, nil
	}
	return 0, nil
}

func bsNet(args []jsbind.Value) (any, error) {
	e := bsLookup(bsArg(args, 0))
	if e == nil {
		return nil, nil // closed meanwhile
	}
	kind, _ := bsArg(args, 1).Float()
	ref, _ := bsArg(args, 2).Float()
	var rest []jsbind.Value
	if len(args) > 3 {
		rest = args[3:]
	}
	return nil, e.drv.Deliver(int(kind), int(ref), rest)
}

func bsArg(args []jsbind.Value, i int) jsbind.Value {
	if i < len(args) {
		return args[i]
	}
	return jsbind.Undefined()
}
