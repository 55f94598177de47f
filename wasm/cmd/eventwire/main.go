//go:build js && wasm

// Command eventwire is the WebAssembly module of eventwire's EventSource: the
// eventwire JavaScript package (js/) loads it on the first EventSource, and
// the classic polyfill script (polyfill/) is built around it. The BatchSocket
// is another module (wasm/cmd/eventwire-batch), so a page that uses one class
// downloads only what that class needs. make build builds it (WASM_BUILD in
// the Makefile has the flags), in essence
//
//	GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" -o dist/eventwire.wasm ./wasm/cmd/eventwire
//
// It registers its exports and signals readiness to the loader through
// wasm/internal/module. The exports object handed to the loader (js/src/loader.js
// wraps it) holds the foundation's exports that every eventwire module has
// (version, kick, echo, echoAsync, _panic: see wasm/internal/module) and the
// EventSource's esOpen, esNet and esClose (eventsource.go). The instance
// exports the //go:wasmexport functions esChunk (eventsource.go) and
// eventwireInbox (wasm/jsbind/inbox.go).
package main

import "github.com/eventwire/eventwire/wasm/internal/module"

func main() { module.Run(exportEventSource) }
