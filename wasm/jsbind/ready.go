//go:build js && wasm

package jsbind

import (
	"errors"
	"syscall"

	"github.com/hack-pad/safejs"
)

// HandshakeEnv names the environment variable through which the JavaScript
// loader passes the global property name of its handshake object. The name is
// unique per loader instance, so several loaders in one page (the ESM module
// and the classic polyfill script, or two versions) never collide.
const HandshakeEnv = "EVENTWIRE_HANDSHAKE"

// SignalReady hands exports to the loader that started this program: it reads
// globalThis[$EVENTWIRE_HANDSHAKE], removes that property, and calls its
// ready(exports) method. The loader requires this to happen before main first
// blocks (it checks right after the synchronous part of go.run).
func SignalReady(exports *Object) error {
	key, _ := syscall.Getenv(HandshakeEnv)
	if key == "" {
		return errors.New("jsbind: " + HandshakeEnv + " is not set; start the eventwire wasm module with the eventwire loader")
	}
	g := safejs.Global()
	h, err := g.Get(key)
	if err != nil {
		return err
	}
	if h.Type() != safejs.TypeObject {
		return errors.New("jsbind: no handshake object at globalThis." + key)
	}
	if err := g.Delete(key); err != nil {
		return err
	}
	_, err = h.Call("ready", exports.v)
	return err
}
