// The body of eventwire-polyfill.js: what runs once polyfill/guard.js has
// found a capable environment. scripts/build.mjs bundles this file (an IIFE,
// ES2017) and embeds it as a string in the guard, which evaluates it with its
// boot information as the parameter ew$boot:
//
//   { scriptURL, wasm, force }   this script's URL, the data-wasm attribute,
//                                whether data-force was present
//
// It defines globalThis.eventwire = { EventSource, NativeEventSource,
// install({ force }), ready, load(options), version(), supported: true } and
// installs globalThis.EventSource where it is missing (or always, with
// data-force). eventwire.wasm is loaded from next to the script (or data-wasm,
// or eventwire.load({ wasm }) before anything loads), on first use.

import { loader } from "../js/src/instance.js";
import { EventSource } from "../js/src/eventsource.js";
import { VERSION } from "../js/src/version.js";

/** @type {{ scriptURL?: string, wasm?: string | null, force?: boolean }} */
const boot = typeof ew$boot === "object" && ew$boot !== null ? ew$boot : {};
const g = /** @type {any} */ (globalThis);
const first = g.eventwire;

if (first && typeof first.version === "function" && first.supported !== false) {
  // A second copy (or another version) keeps the first one's API; its
  // data-force still counts.
  if (boot.force && typeof first.install === "function") first.install({ force: true });
} else {
  const wasmURL = defaultWasmURL();
  loader.setDefault(() => wasmURL);
  /** @type {typeof globalThis.EventSource | undefined} */
  const NativeEventSource = typeof g.EventSource === "function" ? g.EventSource : undefined;

  /**
   * Sets globalThis.EventSource to eventwire's where it is missing, or
   * always with force. Returns whether eventwire's is installed now.
   * @param {{ force?: boolean }} [options]
   * @returns {boolean}
   */
  const install = (options) => {
    const force = Boolean(options && options.force);
    if (force || typeof g.EventSource !== "function") {
      // Like the native binding: writable, configurable, not enumerable.
      Object.defineProperty(g, "EventSource", { value: EventSource, writable: true, configurable: true, enumerable: false });
    }
    return g.EventSource === EventSource;
  };

  const api = Object.freeze({
    supported: true,
    EventSource,
    NativeEventSource,
    install,
    ready: loader.ready,
    /** @param {{ wasm?: import("../js/eventwire.js").WasmSource }} [options] */
    load: (options) => loader.load(options, "eventwire.load({ wasm })"),
    /** The version of this script (the wasm module must have the same). */
    version: () => VERSION,
  });
  Object.defineProperty(g, "eventwire", { value: api, configurable: true, writable: true });
  install({ force: boot.force });
}

/**
 * Where eventwire.wasm is by default: the data-wasm attribute of the script
 * tag, else next to this script, else next to the document or worker.
 * @returns {string}
 */
function defaultWasmURL() {
  try {
    const base = g.document && typeof g.document.baseURI === "string" ? g.document.baseURI : g.location && g.location.href;
    if (boot.wasm) return new URL(boot.wasm, base).href;
    if (boot.scriptURL) return new URL("eventwire.wasm", boot.scriptURL).href;
    if (base) return new URL("eventwire.wasm", base).href;
  } catch {
    // fall through: a relative URL, resolved by fetch against the base URL
  }
  return "eventwire.wasm";
}
