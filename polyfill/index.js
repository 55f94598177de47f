// eventwire-polyfill.js: the classic-script entry (an IIFE, no module syntax).
//
//   <script src="/dist/eventwire-polyfill.js"></script>       in a page
//   importScripts("/dist/eventwire-polyfill.js");             in a worker
//
// It defines globalThis.eventwire = { version(), ready, load(options) } and
// loads eventwire.wasm from next to its own URL (override in a page with
// <script src=".../eventwire-polyfill.js" data-wasm="URL">, or anywhere with
// eventwire.load({ wasm }) before anything awaits eventwire.ready). Nothing is
// fetched until something needs the module.
//
// Next: install() sets globalThis.EventSource where it is missing (or always,
// when forced) and keeps the native one reachable; it will live here, using
// the same loader.

import { createLoader } from "../js/src/loader.js";
import { VERSION } from "../js/src/version.js";

const g = globalThis;

// A second copy of the script (or another version) keeps the first one's API.
if (!(g.eventwire && typeof g.eventwire.version === "function")) {
  const wasmURL = defaultWasmURL(); // now: document.currentScript exists only during this evaluation
  const loader = createLoader(() => wasmURL);
  const api = Object.freeze({
    /** The version of this script (the wasm module must have the same). */
    version: () => VERSION,
    ready: loader.ready,
    load: loader.load,
  });
  Object.defineProperty(g, "eventwire", { value: api, configurable: true, writable: true });
}

/**
 * Where eventwire.wasm is by default: the data-wasm attribute of this script
 * tag, else next to this script. In a worker (importScripts) the script's URL
 * is read from a stack trace, since there is no document.currentScript; the
 * worker's own location is the last resort.
 * @returns {string}
 */
function defaultWasmURL() {
  try {
    const doc = g.document;
    const script = doc && /** @type {HTMLScriptElement | null} */ (doc.currentScript);
    if (script && script.src) {
      const attr = script.getAttribute("data-wasm");
      return attr ? new URL(attr, doc.baseURI).href : new URL("eventwire.wasm", script.src).href;
    }
    const own = scriptURLFromStack();
    if (own) return new URL("eventwire.wasm", own).href;
    if (g.location) return new URL("eventwire.wasm", g.location.href).href;
  } catch {
    // fall through: a relative URL, resolved by fetch against the base URL
  }
  return "eventwire.wasm";
}

/**
 * The URL of the script running this function, from a stack trace: the first
 * http(s) or file URL followed by :line:column (V8 "at f (URL:1:2)", Firefox
 * and Safari "f@URL:1:2").
 * @returns {string | undefined}
 */
function scriptURLFromStack() {
  const stack = new Error().stack;
  if (typeof stack !== "string") return undefined;
  const m = /(?:https?|file):\/\/[^\s()]*?(?=:\d+:\d+(?:\)|\s|$))/.exec(stack);
  return m ? m[0] : undefined;
}
