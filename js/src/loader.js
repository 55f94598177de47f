// The wasm loader shared by the ESM entry (index.js) and the classic polyfill
// script (polyfill/index.js). There is one loader per wasm module and entry
// (js/src/instance.js): eventwire.wasm for the EventSource, eventwire-batch.wasm
// for the BatchSocket, so a page downloads only the modules of the classes it
// uses. The ESM module and the polyfill script in one page each have their
// own loaders, hence separate Go instances that never share a global.
//
// Life of a loader:
//
//  1. createLoader() does nothing observable: no fetch, no globals, no throw.
//  2. Loading starts the first time someone subscribes to `ready` (await, then,
//     catch, finally), or calls load(), or constructs a class that uses the
//     module (internal()). use() only says where the wasm will come from.
//  3. boot(): wasm_exec.js (Go's JavaScript support, bundled in as a function,
//     see scripts/build.mjs) defines a Go class; the wasm is fetched and
//     instantiated (streaming when the server sends application/wasm, from the
//     bytes otherwise).
//  4. run(): the readiness handshake. The loader puts a handshake object on
//     globalThis under a fresh random name and passes that name to Go in the
//     environment variable EVENTWIRE_HANDSHAKE. Go's main builds its exports,
//     takes the handshake object off globalThis and calls
//     handshake.ready(exports) before it first blocks, all within the
//     synchronous part of go.run() (wasm/internal/module). The globals
//     wasm_exec.js needs during Go's initialisation (fs, process, path: the
//     ones it had to invent) exist only during that synchronous call, so the
//     page never sees them; names cannot collide between loaders, nor with
//     another Go program on the page.
//  5. `ready` resolves with the module API (makeModule), after checking that
//     the wasm's version equals this script's. internal() resolves with the
//     raw Go exports, for the classes of this package (EventSource,
//     BatchSocket), which start loading when constructed.

import { loadGoRuntime } from "go:wasm_exec";
import { VERSION } from "./version.js";

/** Environment variable naming the handshake object; see wasm/jsbind/ready.go. */
const HANDSHAKE_ENV = "EVENTWIRE_HANDSHAKE";

/** @type {WeakMap<Promise<unknown>, () => void>} */
const starters = new WeakMap();

/**
 * A Promise that calls its starter the first time anyone subscribes to it.
 * `await p`, `p.then`, `p.catch` and `p.finally` all go through then();
 * derived promises are plain Promises (Symbol.species).
 * @template T
 * @extends {Promise<T>}
 */
class LazyPromise extends Promise {
  static get [Symbol.species]() {
    return Promise;
  }

  /** @type {Promise<T>["then"]} */
  then(onFulfilled, onRejected) {
    const start = starters.get(this);
    if (start) {
      starters.delete(this);
      start();
    }
    return super.then(onFulfilled, onRejected);
  }
}

let instances = 0;

/**
 * @typedef {import("../eventwire.js").WasmSource} WasmSource
 * @typedef {import("../eventwire.js").LoadOptions} LoadOptions
 * @typedef {import("../eventwire.js").EventwireModule} EventwireModule
 */

/**
 * A loader of one wasm module.
 * @param {string} file the module's file name (eventwire.wasm,
 *   eventwire-batch.wasm): the default source until setDefault() says
 *   otherwise, and the name in error messages
 * @param {string} before when load() options must be given, for the error
 *   message when they come too late ("anything awaits ready")
 */
export function createLoader(file, before) {
  /** @type {() => WasmSource} */
  let defaultWasm = () => file;
  /** @type {WasmSource | undefined} */
  let source;
  /** @type {(m: EventwireModule) => void} */
  let resolveReady = () => {};
  /** @type {(e: unknown) => void} */
  let rejectReady = () => {};
  /** @type {Promise<EventwireModule>} */
  const ready = new LazyPromise((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // A failure is reported to whoever awaits ready; without this handler a
  // failed load that nobody awaited would also be an "unhandled rejection".
  // (Promise.prototype.then directly, so this does not start loading.)
  Promise.prototype.then.call(ready, undefined, () => {});

  /** @type {Promise<Internal> | null} */
  let internalP = null;
  function start() {
    if (internalP !== null) return;
    starters.delete(ready);
    internalP = boot(file, source === undefined ? defaultWasm : source);
    internalP.then((m) => resolveReady(m.api), rejectReady);
  }
  starters.set(ready, start);

  /**
   * Sets where the wasm comes from once loading starts; undefined keeps the
   * default. Once loading has started a source is refused: use() returns the
   * Error to reject with and changes nothing. Loading does not start here.
   * @param {WasmSource | undefined} wasm
   * @param {string} call what the user called, for the error message
   * @returns {Error | null}
   */
  function use(wasm, call) {
    if (wasm === undefined) return null;
    if (internalP !== null) {
      return new Error(`eventwire: ${call} was called after ${file} had started loading; call it before ${before}`);
    }
    source = wasm;
    return null;
  }

  /**
   * Starts loading (if not started yet) from options.wasm, else the default,
   * and returns `ready`; rejects without effect if options.wasm comes after
   * loading started.
   * @param {{ wasm?: WasmSource } | undefined} [options]
   * @param {string} [call] what the user called, for the error message
   * @returns {Promise<EventwireModule>}
   */
  function load(options, call = "load({ wasm })") {
    const err = use(options == null ? undefined : options.wasm, call);
    if (err) return Promise.reject(err);
    start();
    return ready;
  }

  /**
   * For the classes of this package (EventSource, BatchSocket): starts
   * loading like load() and resolves with the raw Go exports.
   * @returns {Promise<Internal>}
   */
  function internal() {
    start();
    return /** @type {Promise<Internal>} */ (internalP);
  }

  /**
   * Sets the default source (each entry, index.js or the polyfill, says
   * where its files are); called when loading starts, not before.
   * @param {() => WasmSource} wasm
   */
  function setDefault(wasm) {
    defaultWasm = wasm;
  }

  return { ready, load, use, internal, setDefault };
}

/**
 * What internal() resolves to: the raw exports of the Go module (functions
 * return an Error object instead of throwing; see wasm/jsbind) and call(),
 * which throws those errors.
 * @typedef {{ raw: Record<string, any>, call: (name: string, ...args: unknown[]) => any, api: EventwireModule, wasm: WasmExports }} Internal
 *
 * The instance's own exports (//go:wasmexport functions: eventwireInbox and
 * eventwireOutbox in wasm/jsbind, in both modules; esChunk in eventwire.wasm
 * only):
 * plain WebAssembly calls for the hot paths, without a js.FuncOf's cost.
 * @typedef {{ mem: WebAssembly.Memory, eventwireInbox: (n: number) => number, eventwireOutbox: () => number, esChunk: (id: number, req: number, n: number) => number }} WasmExports
 */

/**
 * @param {string} file the module's file name, for error messages
 * @param {WasmSource | (() => WasmSource)} source
 * @returns {Promise<Internal>}
 */
async function boot(file, source) {
  if (typeof WebAssembly !== "object" || WebAssembly === null) {
    throw new Error("eventwire: WebAssembly is not available in this environment");
  }
  const runtime = loadGoRuntime();
  const go = new runtime.Go();
  const instance = await instantiate(typeof source === "function" ? source() : source, go.importObject);
  return run(file, runtime, go, instance);
}

/**
 * @param {WasmSource} source
 * @param {WebAssembly.Imports} imports
 * @returns {Promise<WebAssembly.Instance>}
 */
async function instantiate(source, imports) {
  const src = await source;
  if (src instanceof WebAssembly.Module) {
    return WebAssembly.instantiate(src, imports);
  }
  if (src instanceof ArrayBuffer || ArrayBuffer.isView(src)) {
    return (await WebAssembly.instantiate(/** @type {BufferSource} */ (src), imports)).instance;
  }
  /** @type {unknown} */
  let response = src;
  if (typeof src === "string" || src instanceof URL) {
    try {
      response = await fetch(src);
    } catch (err) {
      throw new Error(`eventwire: failed to fetch ${src}: ${describe(err)}`, { cause: err });
    }
  }
  if (!isResponse(response)) {
    throw new TypeError("eventwire: the wasm source must be a URL, a Response, bytes or a WebAssembly.Module");
  }
  if (!response.ok) {
    throw new Error(`eventwire: failed to fetch ${response.url || String(src)}: HTTP ${response.status}`);
  }
  // instantiateStreaming requires exactly this Content-Type (no parameters).
  // Many static servers send another one, so compile from the bytes then.
  const type = (response.headers.get("Content-Type") || "").trim().toLowerCase();
  if (type === "application/wasm" && typeof WebAssembly.instantiateStreaming === "function") {
    return (await WebAssembly.instantiateStreaming(response, imports)).instance;
  }
  return (await WebAssembly.instantiate(await response.arrayBuffer(), imports)).instance;
}

/**
 * @param {unknown} x
 * @returns {x is Response}
 */
function isResponse(x) {
  const r = /** @type {Response | null} */ (x);
  return r !== null && typeof r === "object" && typeof r.arrayBuffer === "function" && typeof r.status === "number";
}

/** @param {unknown} err */
function describe(err) {
  return err instanceof Error ? err.message : String(err);
}

/** @returns {string} a globalThis property name no other loader will pick */
function handshakeKey() {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes); // wasm_exec.js has already required crypto
  let hex = "";
  for (const b of bytes) hex += (b < 16 ? "0" : "") + b.toString(16);
  return `__eventwire_${hex}_${++instances}`;
}

/**
 * @param {string} file the module's file name, for error messages
 * @param {import("go:wasm_exec").GoRuntime} runtime
 * @param {import("go:wasm_exec").Go} go
 * @param {WebAssembly.Instance} instance
 * @returns {Promise<Internal>}
 */
async function run(file, runtime, go, instance) {
  const key = handshakeKey();
  /** @type {Record<string, unknown> | null} */
  let exports = null;
  /** @type {number | null} */
  let exitCode = null;
  go.argv = ["eventwire"];
  go.env = { [HANDSHAKE_ENV]: key };
  go.exit = (code) => {
    exitCode = code; // wasm_exec.js's default prints a warning; we report it instead
  };
  const handshake = {
    /** @param {Record<string, unknown>} x */
    ready(x) {
      exports = x;
    },
  };
  Object.defineProperty(globalThis, key, { value: handshake, configurable: true });
  /** @type {Promise<void>} */
  let done;
  try {
    done = withGlobals(runtime.globals, () => go.run(instance));
  } finally {
    Reflect.deleteProperty(globalThis, key);
  }
  /** @type {{ exited: boolean, error?: unknown }} */
  const state = { exited: false };
  done.then(
    () => {
      state.exited = true;
    },
    (err) => {
      state.exited = true;
      state.error = err;
    },
  );

  if (exports === null) {
    // Go's main signals readiness before it first blocks, so it has either
    // signalled, exited or crashed by now. A macrotask lets `done` settle.
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (state.error !== undefined) {
      throw new Error(`eventwire: ${file} crashed while starting: ${describe(state.error)}`, {
        cause: state.error,
      });
    }
    if (state.exited || go.exited) {
      throw new Error(`eventwire: ${file} exited with code ${exitCode} before it was ready`);
    }
    throw new Error(`eventwire: ${file} did not signal readiness`);
  }
  /** @type {Record<string, unknown>} */
  const raw = exports;
  if (raw.version !== VERSION) {
    throw new Error(
      `eventwire: ${file} is version ${String(raw.version)} but this script is ${VERSION}; serve the files of one release together`,
    );
  }
  return makeModule(raw, state, /** @type {WasmExports} */ (/** @type {unknown} */ (instance.exports)));
}

/**
 * Runs fn with the given globals defined where they are missing, and removes
 * what it defined afterwards. fn must be synchronous in what needs them.
 * @template T
 * @param {Record<string, unknown>} globals
 * @param {() => T} fn
 * @returns {T}
 */
function withGlobals(globals, fn) {
  /** @type {string[]} */
  const added = [];
  for (const name of Object.keys(globals)) {
    if (!(name in globalThis)) {
      Object.defineProperty(globalThis, name, { value: globals[name], configurable: true, writable: true });
      added.push(name);
    }
  }
  try {
    return fn();
  } finally {
    for (const name of added) Reflect.deleteProperty(globalThis, name);
  }
}

/**
 * The object `ready` resolves to: the Go exports with errors turned into
 * exceptions (Go returns an Error object instead of a result; it cannot throw
 * across the seam itself).
 * @param {Record<string, unknown>} raw
 * @param {{ exited: boolean }} state
 * @param {WasmExports} wasm
 * @returns {Internal}
 */
function makeModule(raw, state, wasm) {
  /**
   * @param {string} name
   * @param {unknown[]} args
   * @returns {any}
   */
  function call(name, args) {
    if (state.exited) throw new Error("eventwire: the wasm module has exited");
    const result = Reflect.apply(/** @type {Function} */ (raw[name]), undefined, args);
    if (result instanceof Error) throw result;
    return result;
  }
  const api = Object.freeze({
    version: /** @type {string} */ (raw.version),
    /** @param {string | Uint8Array} value */
    echo: (value) => call("echo", [value]),
    /** @param {string | Uint8Array} value */
    echoAsync: (value) => {
      try {
        return Promise.resolve(call("echoAsync", [value]));
      } catch (err) {
        return Promise.reject(err);
      }
    },
    /** @type {(message?: string) => never} */
    _panic: (message) => {
      call("_panic", [message === undefined ? "_panic called" : message]);
      throw new Error("eventwire: _panic returned without an error");
    },
  });
  return { raw, call: (name, ...args) => call(name, args), api, wasm };
}
