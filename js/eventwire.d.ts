// Types of the eventwire package (dist/eventwire.js, npm "eventwire").
// Hand-written; checked with `tsc --noEmit -p js` against js/test/types/usage.ts.

/**
 * Where eventwire.wasm comes from: a URL (fetched; streamed when served as
 * application/wasm, compiled from the bytes otherwise), a Response or a promise
 * of one, the bytes, or a compiled module.
 */
export type WasmSource =
  | string
  | URL
  | Response
  | PromiseLike<Response>
  | ArrayBuffer
  | ArrayBufferView
  | WebAssembly.Module;

export interface LoadOptions {
  /**
   * Where eventwire.wasm comes from.
   * Default: `new URL("./eventwire.wasm", import.meta.url)`, the file next to
   * eventwire.js (bundlers that understand this pattern copy it).
   */
  wasm?: WasmSource;
}

/** The API of the running wasm module; `ready` resolves with it. */
export interface EventwireModule {
  /** The version of the running eventwire.wasm; always equal to version(). */
  readonly version: string;
  /**
   * Returns `value` reversed (a string by code point, bytes by byte), computed
   * in Go: proves that a call crosses into Go and back. Throws a TypeError for
   * any other argument.
   */
  echo(value: string): string;
  echo(value: Uint8Array): Uint8Array;
  /** Like echo(), but the result comes from a Go goroutine through a Promise. */
  echoAsync(value: string): Promise<string>;
  echoAsync(value: Uint8Array): Promise<Uint8Array>;
  /**
   * Testing hook: panics in Go. The panic is recovered at the seam and thrown
   * here as an Error ("eventwire: Go panic in _panic: <message>"); the module
   * keeps working. Not a stable API.
   */
  _panic(message?: string): never;
}

/**
 * Resolves with the module API once eventwire.wasm runs; rejects with an Error
 * saying why it could not (no WebAssembly, fetch failed, version mismatch, …).
 * Importing eventwire fetches nothing: the first subscription to `ready`
 * (`await`, `then`, `catch`, `finally`) or a call to load() starts loading.
 */
export declare const ready: Promise<EventwireModule>;

/**
 * Starts loading if it has not started, and returns `ready`. Pass
 * `options.wasm` to load eventwire.wasm from elsewhere; options given after
 * loading has started make the returned promise reject.
 */
export declare function load(options?: LoadOptions): Promise<EventwireModule>;

/** The version of this package; the wasm module must have the same. */
export declare function version(): string;

/**
 * The global defined by the classic script eventwire-polyfill.js, as
 * `globalThis.eventwire`. Its wasm defaults to the eventwire.wasm next to the
 * script (or the URL in the script tag's data-wasm attribute).
 */
export interface EventwireGlobal {
  version(): string;
  readonly ready: Promise<EventwireModule>;
  load(options?: LoadOptions): Promise<EventwireModule>;
}
