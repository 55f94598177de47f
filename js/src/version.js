// The package version. scripts/build.mjs defines __EVENTWIRE_VERSION__ from
// js/package.json; the Go side has the same value in wasm.Version (a Go test
// keeps the two equal) and the loader refuses a wasm of another version.

/* global __EVENTWIRE_VERSION__ */
/** @type {string} */
export const VERSION = __EVENTWIRE_VERSION__;
