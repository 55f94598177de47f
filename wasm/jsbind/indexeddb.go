//go:build js && wasm

package jsbind

import "github.com/eventwire/eventwire/wasm/batchsocket"

// Load implements batchsocket.Store: the driver's load (IndexedDB getAll of
// the socket's database). See BSDriver.
func (t *BSDriver) Load(done func([]batchsocket.Saved, error)) {
	t.mu.Lock()
	t.load = done
	t.mu.Unlock()
	if _, err := t.d.Call("load"); err != nil {
		t.mu.Lock()
		t.load = nil
		t.mu.Unlock()
		done(nil, err)
	}
}

// Write implements batchsocket.Store: one IndexedDB transaction of the
// driver; they complete in the order they were started.
func (t *BSDriver) Write(w *batchsocket.Write, done func(error)) {
	t.mu.Lock()
	t.writes = append(t.writes, done)
	t.mu.Unlock()
	if _, err := t.d.Call("write", batchsocket.AppendWrite(nil, w)); err != nil {
		t.mu.Lock()
		t.writes = t.writes[:len(t.writes)-1]
		t.mu.Unlock()
		done(err)
	}
}
