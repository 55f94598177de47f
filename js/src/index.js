// eventwire: the ESM entry (dist/eventwire.js, npm "eventwire").
//
// Importing this module has no side effect: it fetches nothing and defines no
// global. The wasm loads on first use (constructing an EventSource, awaiting
// `ready`, calling load()).

import { loader, setDefaultWasm } from "./instance.js";
import { VERSION } from "./version.js";

// Written literally as new URL("./eventwire.wasm", import.meta.url) so that
// bundlers (webpack, Vite, Parcel, Rollup plugins) see the asset and copy it.
// Evaluated only when loading starts, so importing never throws, even where
// import.meta.url is missing (a bundle in another format).
setDefaultWasm(() => new URL("./eventwire.wasm", import.meta.url));

export { EventSource } from "./eventsource.js";
export { BatchSocket, QueueFullError } from "./batchsocket.js";

/**
 * Resolves with the module API once eventwire.wasm runs; rejects with an Error
 * saying why it could not load. Subscribing to it starts loading.
 */
export const ready = loader.ready;

/**
 * Starts loading (if not started yet) and returns `ready`. `options.wasm`
 * overrides where eventwire.wasm comes from; it must be given before anything
 * starts loading.
 */
export const load = loader.load;

/** The version of this package (the wasm module must have the same). */
export function version() {
  return VERSION;
}
