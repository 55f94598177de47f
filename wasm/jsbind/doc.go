// Package jsbind is the only code in eventwire that touches JavaScript. It is
// built on github.com/hack-pad/safejs, so a JavaScript exception becomes a Go
// error instead of a panic; nothing else under wasm/ imports safejs or
// syscall/js (a test in package wasm enforces it).
//
// The rules of the seam (GUIDE.md §3), which this package makes easy to follow:
//
//   - Every Go function callable from JavaScript is made by [Object.SetFunc] or
//     [Async]. Each call runs under recover(): a Go panic becomes a JavaScript
//     Error returned to the caller, never a dead module.
//   - A [Handler] must not block: it runs inside a JavaScript call and blocking
//     there deadlocks the Go runtime. Work that waits goes to a goroutine, and
//     its result to JavaScript through a Promise ([Async]).
//   - Every js.Func is released when no longer needed: the Promise executor of
//     [Async] right after use, the functions of an [Object] by [Object.Release].
//
// Errors cross as values: a Handler's error (or recovered panic) is returned to
// JavaScript as an Error object (a TypeError for [TypeError]), and the
// JavaScript loader (js/src/loader.js) throws it. Functions made here never
// return an Error object as a regular result.
//
// Readiness: the loader starts the program with a unique global name in the
// environment variable EVENTWIRE_HANDSHAKE; [SignalReady] hands the module's
// exports to the object under that name. See js/src/loader.js for the other
// half of the handshake.
package jsbind
