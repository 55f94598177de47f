//go:build js && wasm

// Command eventwire is the WebAssembly module loaded by the eventwire
// JavaScript package (js/) and the classic polyfill script (polyfill/). It
// registers the JavaScript-facing API and signals readiness to the loader
// through the handshake described in wasm/jsbind; build it with
//
//	GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" -o dist/eventwire.wasm ./wasm/cmd/eventwire
//
// The exports object handed to the loader (js/src/loader.js wraps it):
//
//	version            string: wasm.Version
//	echo(x)            x reversed (string by code point, Uint8Array by byte)
//	echoAsync(x)       Promise of echo(x), settled from a goroutine
//	_panic(message)    panics in Go; proves a panic becomes a JavaScript Error
package main

import (
	"os"

	"github.com/eventwire/eventwire/wasm"
	"github.com/eventwire/eventwire/wasm/jsbind"
)

func main() {
	exports, err := newExports()
	if err == nil {
		// Must happen before main first blocks: the loader checks for the
		// handshake right after the synchronous part of go.run returns.
		err = jsbind.SignalReady(exports)
	}
	if err != nil {
		println("eventwire: failed to start: " + err.Error())
		os.Exit(2)
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
	funcs := []struct {
		name string
		h    jsbind.Handler
	}{
		{"echo", echo},
		{"echoAsync", echoAsync},
		{"_panic", panicNow},
	}
	for _, f := range funcs {
		if err := o.SetFunc(f.name, f.h); err != nil {
			o.Release()
			return nil, err
		}
	}
	return o, nil
}

// echo(x): x reversed, proving a value crosses JS → Go → JS.
func echo(args []jsbind.Value) (any, error) {
	if len(args) != 1 {
		return nil, jsbind.TypeError("eventwire: echo takes exactly one argument")
	}
	switch x := args[0]; {
	case x.IsString():
		s, err := x.String()
		if err != nil {
			return nil, err
		}
		return wasm.EchoString(s), nil
	case x.IsUint8Array():
		b, err := x.Bytes()
		if err != nil {
			return nil, err
		}
		return wasm.EchoBytes(b), nil
	default:
		return nil, jsbind.TypeError("eventwire: echo takes a string or a Uint8Array, got " + x.TypeName())
	}
}

// echoAsync(x): a Promise of echo(x), settled by a goroutine (the path every
// network callback will take: never block in a callback).
func echoAsync(args []jsbind.Value) (any, error) {
	// Convert the arguments now, while they are valid: the goroutine runs after
	// this call returns.
	res, err := echo(args)
	if err != nil {
		return nil, err
	}
	return jsbind.Async("echoAsync", func() (any, error) { return res, nil })
}

// _panic(message): panics, to prove recover() at the seam keeps the module alive.
func panicNow(args []jsbind.Value) (any, error) {
	msg := "_panic called"
	if len(args) > 0 && args[0].IsString() {
		msg, _ = args[0].String()
	}
	panic(msg)
}
