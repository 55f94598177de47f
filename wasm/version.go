package wasm

// Version is the eventwire release this code belongs to. It must equal the
// "version" of js/package.json (a test checks it): the JavaScript loader refuses
// a wasm module whose version differs from its own, so a stale cached
// eventwire.wasm next to a newer eventwire.js fails loudly instead of subtly.
const Version = "0.1.0"
