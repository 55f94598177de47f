// Package wasm holds the eventwire browser client's logic in pure Go: it builds
// and tests natively, without a browser. The JavaScript-facing program is
// wasm/cmd/eventwire; wasm/jsbind is the only package that touches JavaScript.
//
// At this stage the module only reports its version and proves the Go-JS path
// (see Echo). The EventSource state machine and the batch queue come next.
package wasm
