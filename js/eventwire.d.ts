// Types of the eventwire package (dist/eventwire.js, npm "eventwire").
// Hand-written; checked with `tsc --noEmit -p js` against js/test/types/usage.ts.

/**
 * Where a wasm module (eventwire.wasm or eventwire-batch.wasm) comes from: a
 * URL (fetched; streamed when served as application/wasm, compiled from the
 * bytes otherwise), a Response or a promise of one, the bytes, or a compiled
 * module.
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
   * Where eventwire.wasm (the EventSource's module) comes from.
   * Default: `new URL("./eventwire.wasm", import.meta.url)`, the file next to
   * eventwire.js (bundlers that understand this pattern copy it).
   */
  wasm?: WasmSource;
  /**
   * Where eventwire-batch.wasm (the BatchSocket's module) comes from. Setting
   * it does not load it: the first BatchSocket or BatchSocket.load() does.
   * Default: `new URL("./eventwire-batch.wasm", import.meta.url)`, the file
   * next to eventwire.js. BatchSocket.load({ wasm }) says the same.
   */
  batchWasm?: WasmSource;
}

/** The options of BatchSocket.load(). */
export interface BatchSocketLoadOptions {
  /**
   * Where eventwire-batch.wasm comes from.
   * Default: `new URL("./eventwire-batch.wasm", import.meta.url)`, the file
   * next to eventwire.js (or what load({ batchWasm }) said).
   */
  wasm?: WasmSource;
}

/**
 * The API of a running wasm module; `ready` resolves with eventwire.wasm's,
 * BatchSocket.load() with eventwire-batch.wasm's.
 */
export interface EventwireModule {
  /** The version of the running module; always equal to version(). */
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
 * Resolves with the module API once eventwire.wasm (the EventSource's module)
 * runs; rejects with an Error saying why it could not (no WebAssembly, fetch
 * failed, version mismatch, …). Importing eventwire fetches nothing: the
 * first subscription to `ready` (`await`, `then`, `catch`, `finally`), a call
 * to load() or the first EventSource starts loading. BatchSocket has its own
 * module: see BatchSocket.load().
 */
export declare const ready: Promise<EventwireModule>;

/**
 * Starts loading eventwire.wasm if it has not started, and returns `ready`.
 * Pass `options.wasm` to load eventwire.wasm from elsewhere, and
 * `options.batchWasm` to say where eventwire-batch.wasm is (without loading
 * it). An option given after its module started loading makes the returned
 * promise reject. A page that uses only BatchSocket calls
 * BatchSocket.load({ wasm }) instead, which does not load eventwire.wasm.
 */
export declare function load(options?: LoadOptions): Promise<EventwireModule>;

/** The version of this package; the wasm module must have the same. */
export declare function version(): string;

// ---------------------------------------------------------------- EventSource

/**
 * The second argument of `new EventSource(url, init)`. `withCredentials` is
 * the standard member; the others are eventwire's extensions. Every option is
 * optional; the default is stated on each.
 */
export interface EventSourceInit {
  /**
   * Send credentials (cookies, HTTP auth) cross-origin: fetch credentials
   * "include" instead of "same-origin" (`xhr.withCredentials` for XHR).
   * Default: `false`.
   */
  withCredentials?: boolean;
  /**
   * How to connect. `"auto"` streams with fetch where response bodies are
   * readable streams, else with XMLHttpRequest, and switches to long-polling
   * for the life of the object when a streaming response delivers no byte
   * within `bufferingTimeout` (a buffering proxy). `"fetch"`, `"xhr"` and
   * `"longpoll"` force one transport (no proxy detection).
   * Default: `"auto"`.
   */
  transport?: "auto" | "fetch" | "xhr" | "longpoll";
  /**
   * Extra request headers: an object, an array of `[name, value]` pairs, a
   * `Headers`, or a function (sync or async) returning one, called before
   * every connection, reconnection and poll (for tokens that expire). A
   * function that throws or rejects counts as a failed connection: an
   * `error` event with reason `"headers callback failed"`, then a retry
   * with backoff. `Last-Event-ID` is eventwire's own and ignored here; an
   * `Accept` header replaces the default `text/event-stream`.
   * Default: none.
   */
  headers?: HeadersInit | (() => HeadersInit | PromiseLike<HeadersInit>);
  /** The request method. Default: `"GET"`. */
  method?: string;
  /**
   * The request body, sent with every request (needs a method other than
   * GET/HEAD). Anything fetch accepts; a stream body only once.
   * Default: none.
   */
  body?: BodyInit | null;
  /**
   * Also send the last event ID as this query parameter, for servers and
   * CORS setups that cannot take the `Last-Event-ID` header (left out while
   * the ID is empty). eventwire's server reads `lastEventId`.
   * Default: none (header only).
   */
  lastEventIdParam?: string;
  /**
   * Cap of the wait (ms) after repeated failures (network errors, timeouts):
   * the n-th failure in a row waits a random time between the reconnection
   * time r (3 s or the stream's `retry:`) and min(retryMaxDelay, max(r, 1 s)·2ⁿ),
   * full jitter; reset when a connection opens. An orderly end of the stream
   * always waits exactly r, as the spec says. `0` disables backoff (always r).
   * Default: `30000`.
   */
  retryMaxDelay?: number;
  /**
   * Reconnect (as a failure, reason `"heartbeat timeout"`) when nothing at
   * all, not even a comment, arrives for this long (ms) on a stream. Set it
   * above your server's heartbeat interval. `0` is off.
   * Default: `0`.
   */
  heartbeatTimeout?: number;
  /**
   * With `transport: "auto"`: how long (ms) a streaming response may stay
   * without its first byte before eventwire assumes a buffering proxy and
   * long-polls for good. Relies on the server flushing something at once
   * (eventwire's server sends a comment). `0` disables detection.
   * Default: `5000`.
   */
  bufferingTimeout?: number;
  /**
   * XHR streaming keeps the whole response in memory: the request is
   * replaced (invisibly, at an event boundary) after this many bytes.
   * Default: `4194304` (4 MiB).
   */
  xhrRenewBytes?: number;
  /**
   * The largest event (and line) in bytes; a larger one fails the
   * connection for good (reason `"event too large"`). `0` or `Infinity`:
   * no limit.
   * Default: `1048576` (1 MiB).
   */
  maxEventSize?: number;
  /** Print diagnostics (requests, state changes, decisions) with console.debug. Default: `false`. */
  debug?: boolean;
  /**
   * Fast path: called once per network chunk with every event decoded from
   * it, as plain objects, before those events are dispatched as
   * `MessageEvent`s (if `dispatchEvents`). An exception it throws is
   * reported (`reportError`) and does not stop the stream.
   * Default: none.
   */
  onbatch?: (this: EventSource, events: EventSourceBatchEvent[]) => void;
  /**
   * Dispatch a `MessageEvent` per event. `false` with `onbatch` skips the
   * DOM events entirely (open and error events still fire).
   * Default: `true`.
   */
  dispatchEvents?: boolean;
}

/** One event as `onbatch` receives it. */
export interface EventSourceBatchEvent {
  /** The event type ("message" unless the stream named it). */
  type: string;
  data: string;
  lastEventId: string;
  /** The origin of the stream's final URL. */
  origin: string;
}

/** Why an `error` event fired (its `reason`). */
export type EventSourceErrorReason =
  /** Reconnecting (readyState CONNECTING): */
  | "network error"
  | "end of stream"
  | "heartbeat timeout"
  | "poll timeout"
  | "headers callback failed"
  /** Failed for good (readyState CLOSED): */
  | "bad status"
  | "bad content type"
  | "unsupported URL scheme"
  | "event too large"
  | "module failed to load"
  | "internal error";

/** The `open` event: a plain `Event` with the response's fields. */
export interface EventSourceOpenEvent extends Event {
  readonly type: "open";
  /** The HTTP status (200). */
  readonly status: number;
  /** The response headers. */
  readonly headers: Headers | undefined;
}

/** The `error` event: a plain `Event` with eventwire's fields. */
export interface EventSourceErrorEvent extends Event {
  readonly type: "error";
  readonly reason: EventSourceErrorReason;
  /** The HTTP status when a response caused the error (bad status or content type). */
  readonly status: number | undefined;
  /** The response headers when a response caused the error. */
  readonly headers: Headers | undefined;
  /** The underlying exception, for "module failed to load" and "internal error". */
  readonly error?: unknown;
}

export interface EventSourceEventMap {
  open: EventSourceOpenEvent;
  message: MessageEvent<string>;
  error: EventSourceErrorEvent;
}

/**
 * EventSource with the WHATWG interface (it extends `EventTarget`), usable
 * synchronously right after import: the first construction loads
 * eventwire.wasm and the connection starts once it runs.
 *
 * - Calling it without `new` throws a `TypeError`; an unparseable URL throws
 *   a `DOMException` "SyntaxError"; a URL that is not http(s) fails the
 *   connection (an `error` event, `CLOSED`).
 * - Messages are `MessageEvent`s with `data`, `origin` (of the final URL
 *   after redirects) and `lastEventId`; named events reach only listeners of
 *   their type; `onmessage` gets type "message" only.
 */
export declare class EventSource extends EventTarget {
  /**
   * @param url resolved against the document's (or worker's) base URL.
   * @param init `withCredentials` and eventwire's options.
   */
  constructor(url: string | URL, init?: EventSourceInit);
  /** The absolute URL given to the constructor (not changed by redirects). */
  readonly url: string;
  readonly withCredentials: boolean;
  /** CONNECTING (0), OPEN (1) or CLOSED (2). */
  readonly readyState: number;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSED: 2;
  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSED: 2;
  onopen: ((this: EventSource, ev: EventSourceOpenEvent) => any) | null;
  onmessage: ((this: EventSource, ev: MessageEvent<string>) => any) | null;
  onerror: ((this: EventSource, ev: EventSourceErrorEvent) => any) | null;
  /** Closes the connection for good: readyState CLOSED at once, no event. */
  close(): void;
  addEventListener<K extends keyof EventSourceEventMap>(
    type: K,
    listener: (this: EventSource, ev: EventSourceEventMap[K]) => any,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: (this: EventSource, ev: MessageEvent<string>) => any, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof EventSourceEventMap>(
    type: K,
    listener: (this: EventSource, ev: EventSourceEventMap[K]) => any,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: (this: EventSource, ev: MessageEvent<string>) => any, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

// ------------------------------------------------------------- classic script

// ---- BatchSocket: batched, acknowledged messaging over WebSocket ----

/** Options of `new BatchSocket(url, init)`; every field is optional. */
export interface BatchSocketInit {
  /**
   * A batch is handed over when its messages reach this many bytes (encoded;
   * a larger single message travels alone). Default 65536 (64 KiB).
   */
  batchBytes?: number;
  /** ... or this many messages. Default 1024. */
  batchCount?: number;
  /** ... or this many ms after its first message. Default 50; 0: next task. */
  batchDelay?: number;
  /**
   * Bound of the queue in bytes: messages not yet handed over plus those
   * not yet acknowledged (sent or not). Default 8388608 (8 MiB).
   */
  maxQueueBytes?: number;
  /**
   * What send() does when the queue is full. "reject" (default): throw a
   * QueueFullError, the message is not queued. "drop-oldest": discard the
   * oldest messages (in steps of at least 1/64 of the bound), even ones
   * already sent but not acknowledged, and count them in stats.dropped; the
   * server is told to skip them, so everything else still arrives once and
   * in order.
   */
  queuePolicy?: "reject" | "drop-oldest";
  /**
   * Largest message in bytes (UTF-8 for strings); send() throws a
   * RangeError above it. Default 262144 (256 KiB), the server's default
   * limit; keep it at or under the server's.
   */
  maxMessageSize?: number;
  /**
   * Keep unacknowledged messages in IndexedDB, so that after a reload or a
   * crash they are sent (once) by the next page that opens a BatchSocket
   * with the same persist name: true (the name is the URL) or a name.
   * Messages still waiting for a batch (up to batchDelay) are not yet
   * persisted. Default false.
   */
  persist?: boolean | string;
  /**
   * "auto" (default): WebSocket; HTTP POST to fallbackUrl when the WebSocket
   * cannot connect (missing, or fallbackAfter attempts in a row that never
   * opened), trying the WebSocket again every websocketRetry ms.
   * "websocket": never POST (except the keepalive flush of a hidden page).
   * "http": only POST.
   */
  transport?: "auto" | "websocket" | "http";
  /** The POST URL. Default: the URL with scheme http: or https:. */
  fallbackUrl?: string | URL;
  /** WebSocket attempts in a row that fail before opening until "auto" falls back. Default 2. */
  fallbackAfter?: number;
  /** While on HTTP, try the WebSocket again this often (ms). Default 30000; 0: never. */
  websocketRetry?: number;
  /** Send POSTs with credentials ("include") cross-origin. Default false. */
  withCredentials?: boolean;
  /**
   * Reconnection backoff with full jitter: the n-th failure in a row waits a
   * random time in [0, min(reconnectMaxDelay, reconnectDelay·2ⁿ⁻¹)) ms.
   * Coming back online reconnects at once; nothing is tried while offline.
   * Defaults 1000 and 30000.
   */
  reconnectDelay?: number;
  reconnectMaxDelay?: number;
  /** No frame is written while the WebSocket's bufferedAmount is above this. Default 1048576 (1 MiB). */
  bufferedAmountLimit?: number;
  /**
   * An idle WebSocket sends an empty batch this often (ms), and is given up
   * (reconnect) when nothing arrives for three intervals after a send.
   * Default 15000; 0: never.
   */
  heartbeatInterval?: number;
  /** Largest frame of the flush on pagehide / hidden (a keepalive POST). Default 61440. */
  keepaliveBytes?: number;
  /** Print diagnostics to the console. Default false. */
  debug?: boolean;
}

/** BatchSocket.stats. */
export interface BatchSocketStats {
  /** Messages not written to the current connection yet. */
  queued: number;
  /** Messages written, not acknowledged yet. */
  inFlight: number;
  /** Messages acknowledged by the server since construction. */
  acked: number;
  /** BATCH frames sent (resends included). */
  batches: number;
  /** Bytes of all frames sent. */
  bytes: number;
  /** Connections opened after the first. */
  reconnects: number;
  /** Messages discarded by queuePolicy "drop-oldest". */
  dropped: number;
  /** "websocket" or "http" while connected, else "". */
  transport: "websocket" | "http" | "";
  /** Bytes held: queued plus in flight (what maxQueueBytes bounds). */
  queuedBytes: number;
}

/** "open": a transport connected (again). */
export interface BatchSocketOpenEvent extends Event {
  readonly transport: "websocket" | "http";
}

/**
 * "close": a connection that was open ended (reconnecting true: it
 * reconnects by itself, readyState CONNECTING), or the socket closed for
 * good (reconnecting false, readyState CLOSED).
 */
export interface BatchSocketCloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  readonly reconnecting: boolean;
}

/**
 * "error": reason is "connect failed", "protocol error", "rejected" (the
 * server closed with an error code; then a close event with reconnecting
 * false follows), "message too big", "heartbeat timeout", "persistence
 * failed", "module failed to load" or "internal error".
 */
export interface BatchSocketErrorEvent extends Event {
  readonly reason: string;
  /** The close code or HTTP status involved, if any. */
  readonly code: number | undefined;
  readonly message: string | undefined;
}

export interface BatchSocketEventMap {
  open: BatchSocketOpenEvent;
  close: BatchSocketCloseEvent;
  error: BatchSocketErrorEvent;
  /** A message from the server: data is a string (text) or an ArrayBuffer (binary). */
  message: MessageEvent<string | ArrayBuffer>;
}

/** Thrown by send() when the queue is full with queuePolicy "reject". */
export declare class QueueFullError extends Error {
  constructor(message: string);
  readonly name: "QueueFullError";
}

/**
 * Batched, acknowledged, loss-free messaging over the browser WebSocket,
 * with HTTP POST as a fallback and optional persistence across page loads.
 * Usable synchronously: the first construction loads eventwire-batch.wasm
 * (its own module; not eventwire.wasm) in the background and what was sent
 * meanwhile goes out once it runs.
 */
export declare class BatchSocket extends EventTarget {
  /**
   * @param url ws:, wss:, http: or https: (http(s) meaning ws(s)), relative
   * to the page. Throws a SyntaxError DOMException for an invalid URL.
   */
  constructor(url: string | URL, init?: BatchSocketInit);

  /** The WebSocket URL, absolute. */
  readonly url: string;
  /** The POST URL, absolute. */
  readonly fallbackUrl: string;
  readonly readyState: 0 | 1 | 2 | 3;
  /** "websocket" or "http" while connected, else "". */
  readonly transport: "websocket" | "http" | "";
  /** A snapshot of the counters (reading it costs no call into the wasm). */
  readonly stats: BatchSocketStats;

  onopen: ((this: BatchSocket, ev: BatchSocketOpenEvent) => any) | null;
  onclose: ((this: BatchSocket, ev: BatchSocketCloseEvent) => any) | null;
  onerror: ((this: BatchSocket, ev: BatchSocketErrorEvent) => any) | null;
  onmessage: ((this: BatchSocket, ev: MessageEvent<string | ArrayBuffer>) => any) | null;

  /**
   * Queues a message: a string (text) or an ArrayBuffer / typed array /
   * DataView (binary, copied at once). Cheap: no call into the wasm per
   * message. Throws QueueFullError (queue full, policy "reject"),
   * RangeError (over maxMessageSize), InvalidStateError (after close()).
   */
  send(data: string | ArrayBuffer | ArrayBufferView): void;
  /**
   * Sends what is queued and resolves when every message sent before this
   * call is acknowledged (or dropped by "drop-oldest"); rejects with an
   * AbortError if the socket closes first.
   */
  flush(): Promise<void>;
  /**
   * Closes for good (code 1000 or 3000–4999; reason ≤ 123 bytes).
   * Unacknowledged messages are lost unless persisted: await flush() first.
   */
  close(code?: number, reason?: string): void;

  addEventListener<K extends keyof BatchSocketEventMap>(
    type: K,
    listener: (this: BatchSocket, ev: BatchSocketEventMap[K]) => any,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof BatchSocketEventMap>(
    type: K,
    listener: (this: BatchSocket, ev: BatchSocketEventMap[K]) => any,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;

  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;
  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSING: 2;
  static readonly CLOSED: 3;
  static readonly QueueFullError: typeof QueueFullError;
  /**
   * Starts loading eventwire-batch.wasm if it has not started, and resolves
   * with its module API once it runs (rejects with an Error saying why it
   * could not). Pass `options.wasm` to load it from elsewhere; given after
   * the module started loading, it makes the returned promise reject.
   * Constructing a BatchSocket loads the module too; this is for those who
   * want to load it early, from elsewhere, or await it.
   */
  static load(options?: BatchSocketLoadOptions): Promise<EventwireModule>;
}

/**
 * The global defined by the classic script eventwire-polyfill.js, as
 * `globalThis.eventwire`, where it runs (see EventwireUnsupported for where
 * it cannot). Its wasm defaults to the eventwire.wasm next to the script (or
 * the URL in the script tag's data-wasm attribute).
 */
export interface EventwireGlobal {
  readonly supported: true;
  /** eventwire's EventSource (installed as globalThis.EventSource where missing, or when forced). */
  readonly EventSource: typeof EventSource;
  /** The EventSource the environment had before the script ran, if any. */
  readonly NativeEventSource: typeof globalThis.EventSource | undefined;
  /**
   * Sets globalThis.EventSource to eventwire's where it is missing, or always
   * with `force` (also: the script tag's `data-force` attribute). Returns
   * whether eventwire's is installed now.
   */
  install(options?: { force?: boolean }): boolean;
  version(): string;
  readonly ready: Promise<EventwireModule>;
  /** As the module's load(); the script has no BatchSocket, hence no `batchWasm`. */
  load(options?: Pick<LoadOptions, "wasm">): Promise<EventwireModule>;
}

/**
 * `globalThis.eventwire` where the environment cannot run eventwire (no
 * WebAssembly, as in IE 11): nothing is installed and the script threw
 * `error` once. Check `eventwire.supported` where such browsers matter.
 */
export interface EventwireUnsupported {
  readonly supported: false;
  /** The error the script threw; its `code` is "EVENTWIRE_UNSUPPORTED". */
  readonly error: Error & { code: string };
  version(): string;
  /** Throws `error`. */
  install(options?: { force?: boolean }): never;
}
