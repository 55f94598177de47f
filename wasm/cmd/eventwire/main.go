//go:build js && wasm

// Command eventwire is the WebAssembly module loaded by the eventwire
// JavaScript package (js/) and the classic polyfill script (polyfill/). It
// registers the JavaScript-facing API and signals readiness to the loader
// through the handshake described in wasm/jsbind; build it with
//
//	GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" -o dist/eventwire.wasm ./wasm/cmd/eventwire
//
// Each feature registers its exports from its own file, in an init function:
//
//	func init() { register(func(o *jsbind.Object) error { return o.SetFunc("esOpen", esOpen) }) }
//
// so that features added side by side (eventsource.go, batchsocket.go) never
// edit the same lines. The exports object handed to the loader
// (js/src/loader.js wraps it) holds at least:
//
//	version            string: wasm.Version
//	echo(x)            x reversed (string by code point, Uint8Array by byte)
//	echoAsync(x)       Promise of echo(x), settled from a goroutine
//	_panic(message)    panics in Go; proves a panic becomes a JavaScript Error
//
// plus what the feature files register (see their doc comments). Names
// starting with "es" belong to eventsource.go, "bs" to batchsocket.go.
package main

import (
	"syscall"

	"github.com/eventwire/eventwire/wasm"
	"github.com/eventwire/eventwire/wasm/jsbind"
)

// exporter adds a feature's functions to the exports object.
type exporter func(exports *jsbind.Object) error

// exporters are run in registration order by newExports. Append to it only
// from init functions (through register).
var exporters []exporter

// register adds an exporter; call it from an init function.
func register(e exporter) { exporters = append(exporters, e) }

func main() {
	exports, err := newExports()
	if err == nil {
		// Must happen before main first blocks: the loader checks for the
		// handshake right after the synchronous part of go.run returns.
		err = jsbind.SignalReady(exports)
	}
	if err != nil {
		println("eventwire: failed to start: " + err.Error())
		syscall.Exit(2)
	}
	select {} // serve calls from JavaScript for the life of the page
}

func newExports() (*jsbind.Object, error) {
	o, err := jsbind.NewObject()
	if err != nil {
		return nil, err
	}
	if err := o.Set("version", wasm.Version); err != nil {
		return nil, err
	}
	// kick(): nothing, as a js.FuncOf: the runtime runs its scheduler before
	// it returns, which starts what a //go:wasmexport function armed
	// (jsbind/inbox.go).
	if err := o.SetFunc("kick", func([]jsbind.Value) (any, error) { return nil, nil }); err != nil {
		return nil, err
	}
	for _, e := range exporters {
		if err := e(o); err != nil {
			o.Release()
			return nil, err
		}
	}
	return o, nil
}

// setFuncs is a helper for exporters: it sets each name to its handler.
func setFuncs(o *jsbind.Object, funcs map[string]jsbind.Handler) error {
	for name, h := range funcs {
		if err := o.SetFunc(name, h); err != nil {
			return err
		}
	}
	return nil
}
