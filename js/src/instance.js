// The loaders of this bundle, one per wasm module. The ESM bundle (index.js)
// and the classic polyfill script (polyfill/index.js) each contain their own
// copy of this module, hence their own loaders and Go instances; each entry
// says where its wasm files are (setDefault) before anything loads. Classes
// of the package get the Go exports with internal(): EventSource from
// `loader` (eventwire.wasm), BatchSocket from `batchLoader`
// (eventwire-batch.wasm), so a page downloads only the modules of the classes
// it uses.

import { createLoader } from "./loader.js";

/** The EventSource's module, eventwire.wasm; `ready` and load() are its. */
export const loader = createLoader("eventwire.wasm", "anything awaits ready");

/**
 * The BatchSocket's module, eventwire-batch.wasm. Pure: a bundle without
 * BatchSocket (the polyfill) drops it.
 */
export const batchLoader = /* @__PURE__ */ createLoader("eventwire-batch.wasm", "the first BatchSocket");
