// Package wasm holds the eventwire browser client's logic in pure Go: it builds
// and tests natively, without a browser. The JavaScript-facing programs are
// two wasm modules: wasm/cmd/eventwire (the EventSource, over wasm/eventsource)
// and wasm/cmd/eventwire-batch (the BatchSocket, over wasm/batchsocket), both
// started by wasm/internal/module; wasm/jsbind is the only package that
// touches JavaScript.
//
// This package holds what every module reports or proves: its Version, and the
// Go-JS path (see EchoString).
package wasm
