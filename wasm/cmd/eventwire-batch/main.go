//go:build js && wasm

// Command eventwire-batch is the WebAssembly module of eventwire's
// BatchSocket: the eventwire JavaScript package (js/) loads it on the first
// BatchSocket (or BatchSocket.load()), separately from the EventSource's
// module (wasm/cmd/eventwire), so a page that uses one class downloads only
// what that class needs. make build builds it (WASM_BUILD in the Makefile
// has the flags), in essence
//
//	GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" -o dist/eventwire-batch.wasm ./wasm/cmd/eventwire-batch
//
// It registers its exports and signals readiness to the loader through
// wasm/internal/module. The exports object handed to the loader (js/src/loader.js
// wraps it) holds the foundation's exports that every eventwire module has
// (version, kick, echo, echoAsync, _panic: see wasm/internal/module) and the
// BatchSocket's bsOpen, bsPush, bsCtl and bsNet (batchsocket.go). The
// instance exports the //go:wasmexport function eventwireInbox
// (wasm/jsbind/inbox.go), unused by the BatchSocket.
package main

import "github.com/eventwire/eventwire/wasm/internal/module"

func main() { module.Run(exportBatchSocket) }
