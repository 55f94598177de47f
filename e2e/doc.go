// Package e2e holds the end-to-end tests of eventwire: the Go server runs in
// process on 127.0.0.1, and headless Chromium, driven by chromedp, loads test
// pages from e2e/testdata and the build output from dist/.
//
// Requirements:
//   - Chromium. The tests look for $EVENTWIRE_CHROMIUM, then /usr/bin/chromium,
//     then chromium, chromium-browser and google-chrome in PATH. They fail,
//     never skip, when none is found (Debian: apt-get install chromium).
//   - The build: run `make build` first, so that dist/ holds eventwire.wasm,
//     eventwire-batch.wasm, eventwire.js, eventwire-polyfill.js and
//     eventwire.tgz.
//   - Node and the repository's node_modules (npm ci): the npm package test
//     uses npm, node_modules/.bin/esbuild and node_modules/.bin/tsc.
//
// Every test opens its own tab in a fresh browser context of one shared
// browser, captures the console before it navigates, and fails on any uncaught
// exception, unhandled promise rejection or Go "panic:" line in the console.
// Workers a tab starts are attached the same way (page.attachWorker), init
// scripts take features away from a page before it runs (page.addInitScript),
// and memory is read from the tab itself (page.heapUsage, page.wasmMemory).
//
// What the tests cover:
//   - conformance*_test.go: a script server plays exact bytes, chunkings,
//     statuses, content types, redirects and drops to the browser's
//     EventSource and to eventwire's (fetch and XHR transports) in one page;
//     the observed event logs are compared with the spec, case by case, and
//     known deviations of Chromium are named where they occur. The interface
//     itself (WebIDL surface) is compared too.
//   - transport*_test.go: each transport for real (fetch, XHR with and
//     without streaming fetch, long-poll, a buffering proxy that forces the
//     switch to long-poll), the polyfill script where EventSource is missing
//     or forced, a dedicated worker and a service worker.
//   - fault*_test.go: drops mid-event, heartbeats, a dead server and backoff.
//   - memory*_test.go: 100,000 events through one connection.
//
// The package has no code outside its tests; this file only documents it.
package e2e
