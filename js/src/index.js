// eventwire: the ESM entry (dist/eventwire.js, npm "eventwire").
//
// Importing this module has no side effect: it fetches nothing and defines no
// global. Each class loads its own wasm module on first use: eventwire.wasm
// for EventSource (also on awaiting `ready` or calling load()),
// eventwire-batch.wasm for BatchSocket (also on BatchSocket.load()).

import { loader, batchLoader } from "./instance.js";
import { VERSION } from "./version.js";

// Written literally as new URL("./<file>.wasm", import.meta.url) so that
// bundlers (webpack, Vite, Parcel, Rollup plugins) see the assets and copy
// them. Evaluated only when loading starts, so importing never throws, even
// where import.meta.url is missing (a bundle in another format).
loader.setDefault(() => new URL("./eventwire.wasm", import.meta.url));
batchLoader.setDefault(() => new URL("./eventwire-batch.wasm", import.meta.url));

export { EventSource } from "./eventsource.js";
export { BatchSocket, QueueFullError } from "./batchsocket.js";

/**
 * Resolves with the module API once eventwire.wasm (the EventSource's module)
 * runs; rejects with an Error saying why it could not load. Subscribing to it
 * starts loading.
 */
export const ready = loader.ready;

/**
 * Starts loading eventwire.wasm (if not started yet) and returns `ready`.
 * `options.wasm` overrides where eventwire.wasm comes from; it must be given
 * before that module starts loading. `options.batchWasm` says where
 * eventwire-batch.wasm comes from, without loading it (the first BatchSocket
 * or BatchSocket.load() does); it must be given before that module starts
 * loading. An option given too late makes the promise reject.
 * @param {import("../eventwire.js").LoadOptions} [options]
 * @returns {Promise<import("../eventwire.js").EventwireModule>}
 */
export function load(options) {
  const err = batchLoader.use(options == null ? undefined : options.batchWasm, "load({ batchWasm })");
  return err ? Promise.reject(err) : loader.load(options);
}

/** The version of this package (the wasm module must have the same). */
export function version() {
  return VERSION;
}
