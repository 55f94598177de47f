// Package e2e holds the end-to-end tests of eventwire: the Go server runs in
// process on 127.0.0.1, and headless Chromium, driven by chromedp, loads test
// pages from e2e/testdata and the build output from dist/.
//
// Requirements:
//   - Chromium. The tests look for $EVENTWIRE_CHROMIUM, then /usr/bin/chromium,
//     then chromium, chromium-browser and google-chrome in PATH. They fail,
//     never skip, when none is found (Debian: apt-get install chromium).
//   - The build: run `make build` first, so that dist/ holds eventwire.wasm,
//     eventwire.js, eventwire-polyfill.js and eventwire.tgz.
//   - Node and the repository's node_modules (npm ci): the npm package test
//     uses npm, node_modules/.bin/esbuild and node_modules/.bin/tsc.
//
// Every test opens its own tab in a fresh browser context of one shared
// browser, captures the console before it navigates, and fails on any uncaught
// exception, unhandled promise rejection or Go "panic:" line in the console.
//
// The package has no code outside its tests; this file only documents it.
package e2e
