//go:build js && wasm

// Package module is what the eventwire wasm commands have in common: the
// exports object they hand to the JavaScript loader (js/src/loader.js) and the
// life of their main. Each command (wasm/cmd/eventwire for the EventSource,
// wasm/cmd/eventwire-batch for the BatchSocket) is one call:
//
//	func main() { module.Run(exportEventSource) }
//
// Besides what the command's exporters add, the exports object holds the
// foundation's exports (see echo.go), the same in every module:
//
//	version            string: wasm.Version
//	kick()             nothing; see Run
//	echo(x)            x reversed (string by code point, Uint8Array by byte)
//	echoAsync(x)       Promise of echo(x), settled from a goroutine
//	_panic(message)    panics in Go; proves a panic becomes a JavaScript Error
package module

import (
	"syscall"

	"github.com/eventwire/eventwire/wasm"
	"github.com/eventwire/eventwire/wasm/jsbind"
)

// Exporter adds a feature's functions to the exports object.
type Exporter func(exports *jsbind.Object) error

// Run builds the exports object (the foundation's exports, then each
// feature's, in order), hands it to the loader through the readiness
// handshake of wasm/jsbind, and serves calls from JavaScript for the life of
// the page: it never returns. It exits the program with status 2 when the
// exports cannot be built or handed over; the loader reports that exit.
func Run(features ...Exporter) {
	exports, err := newExports(features)
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

func newExports(features []Exporter) (o *jsbind.Object, err error) {
	if o, err = jsbind.NewObject(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			o.Release()
			o = nil
		}
	}()
	if err = o.Set("version", wasm.Version); err != nil {
		return
	}
	if err = SetFuncs(o, map[string]jsbind.Handler{
		// kick(): nothing, as a js.FuncOf: the runtime runs its scheduler
		// before it returns, which starts what a //go:wasmexport function
		// armed (jsbind/inbox.go).
		"kick":      func([]jsbind.Value) (any, error) { return nil, nil },
		"echo":      echo,
		"echoAsync": echoAsync,
		"_panic":    panicNow,
	}); err != nil {
		return
	}
	for _, e := range features {
		if err = e(o); err != nil {
			return
		}
	}
	return o, nil
}

// SetFuncs is a helper for exporters: it sets each name to its handler.
func SetFuncs(o *jsbind.Object, funcs map[string]jsbind.Handler) error {
	for name, h := range funcs {
		if err := o.SetFunc(name, h); err != nil {
			return err
		}
	}
	return nil
}
