// The loader of this bundle. The ESM bundle (index.js) and the classic
// polyfill script (polyfill/index.js) each contain their own copy of this
// module, hence their own loader and Go instance; each entry says where its
// eventwire.wasm is before anything loads. Classes of the package
// (EventSource, BatchSocket) get the Go exports with loader.internal().

import { createLoader } from "./loader.js";

/** @typedef {import("../eventwire.js").WasmSource} WasmSource */

/** @type {() => WasmSource} */
let defaultWasm = () => "eventwire.wasm";

/**
 * Sets where eventwire.wasm is unless load() says otherwise; evaluated when
 * loading starts.
 * @param {() => WasmSource} source
 */
export function setDefaultWasm(source) {
  defaultWasm = source;
}

export const loader = createLoader(() => defaultWasm());
