//go:build js && wasm

package jsbind

import "github.com/eventwire/eventwire/wasm/batchsocket"

// Post implements batchsocket.Transport: the driver's post (fetch, or
// fetch with keepalive / navigator.sendBeacon for the flush of a page being
// hidden). See BSDriver.
func (t *BSDriver) Post(req *batchsocket.PostRequest, done func(batchsocket.PostResult)) func() {
	t.mu.Lock()
	ref := t.ref()
	t.posts[ref] = done
	t.mu.Unlock()
	if _, err := t.d.Call("post", ref, req.URL, req.Body, req.Keepalive); err != nil {
		t.forget(ref)
		done(batchsocket.PostResult{Err: err})
		return nil
	}
	return func() {
		t.forget(ref)
		_, _ = t.d.Call("abort", ref)
	}
}
