// EventSource: the WHATWG interface in front of the Go client (wasm/
// eventsource through wasm/cmd/eventwire/eventsource.go).
//
// JS owns the DOM side: the EventTarget, the event handler attributes, the
// MessageEvents. Go owns the protocol: readyState changes, reconnection,
// parsing. Go reports through one function per source (notify, below), once
// per network chunk with every event of the chunk, read where Go built them
// in the module's memory (wasm/eventsource/pack.go): a header, and two texts
// decoded with one TextDecoder call each, then only slices.
// The HTTP requests are made by the driver in transport.js on Go's behalf.

import { loader } from "./instance.js";
import { createDriver, normalizeHeaders, describe, firstRequestHeaders, CHUNK } from "./transport.js";

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

/** In a batch header: the same type or ID as the previous event's, or a data in the extra text. */
const SAME = 0xffffffff;

/** What esChunk returns (wasm/cmd/eventwire/eventsource.go): call kick(); events wait in the outbox. */
const ES_CHUNK_KICK = 1;
const ES_CHUNK_HELD = 2;

/** Modes of esOpen. */
const MODE = { auto: 0, fetch: 1, xhr: 1, longpoll: 2 };

/** Defaults, for the error messages and the types; Go applies them. */
const DEFAULT_XHR_RENEW_BYTES = 4 * 1024 * 1024;

/** @type {TextDecoder | null} */
let textDecoder = null;

/** @type {ArrayBuffer | null} */
let memBuffer = null;
let memU8 = new Uint8Array(0);
let memU32 = new Uint32Array(0);

/**
 * Views of the whole of the module's memory, made again after it grew (which
 * detaches the old buffer). Only valid until the next call into Go.
 * @param {import("./loader.js").WasmExports} wasm
 */
function memory(wasm) {
  const b = wasm.mem.buffer;
  if (b !== memBuffer) {
    memBuffer = b;
    memU8 = new Uint8Array(b);
    memU32 = new Uint32Array(b);
  }
  return memU8;
}

const addListener = EventTarget.prototype.addEventListener;
const removeListener = EventTarget.prototype.removeEventListener;
const dispatch = EventTarget.prototype.dispatchEvent;

/**
 * @typedef {import("../eventwire.js").EventSourceInit} EventSourceInit
 * @typedef {import("../eventwire.js").EventSourceBatchEvent} BatchEvent
 *
 * @typedef {object} Handler
 * @property {unknown} value
 * @property {(this: EventSource, e: Event) => unknown} listener
 *
 * @typedef {object} State
 * @property {string} url
 * @property {boolean} withCredentials
 * @property {number} readyState
 * @property {number} id                  Go's id, 0 before esOpen and after CLOSED
 * @property {Record<string, any> | null} raw  the Go exports once loaded
 * @property {Record<string, Handler | null>} handlers
 * @property {Options} opts
 * @property {Driver} driver              makes the requests (transport.js)
 * @property {import("./loader.js").WasmExports | null} wasm  the instance's exports once loaded
 * @property {() => void} held  delivers the events esChunk left in the outbox
 *
 * @typedef {ReturnType<typeof createDriver>} Driver
 *
 * @typedef {object} Options
 * @property {"auto" | "fetch" | "xhr" | "longpoll"} transport
 * @property {string} headers             static headers, "name\nvalue\n..."
 * @property {(() => unknown) | undefined} headersFn
 * @property {string} method
 * @property {BodyInit | null | undefined} body
 * @property {string} lastEventIdParam
 * @property {number | undefined} retryMaxDelay
 * @property {number | undefined} heartbeatTimeout
 * @property {number | undefined} bufferingTimeout
 * @property {number} xhrRenewBytes
 * @property {number | undefined} maxEventSize
 * @property {boolean} debug
 * @property {((events: BatchEvent[]) => void) | undefined} onbatch
 * @property {boolean} dispatchEvents
 */

/** @type {WeakMap<object, State>} */
const states = new WeakMap();

/**
 * @param {unknown} es
 * @returns {State}
 */
function state(es) {
  const s = states.get(/** @type {object} */ (es));
  if (!s) throw new TypeError("Illegal invocation");
  return s;
}

/** @returns {string | undefined} the base URL of this document or worker */
function baseURL() {
  const g = /** @type {any} */ (globalThis);
  try {
    if (g.document && typeof g.document.baseURI === "string") return g.document.baseURI;
    if (g.location && typeof g.location.href === "string") return g.location.href;
  } catch {
    // no base
  }
  return undefined;
}

/**
 * @param {string} name
 * @param {unknown} v
 * @param {boolean} [allowInfinity]
 * @returns {number | undefined}
 */
function numberOption(name, v, allowInfinity) {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (Number.isNaN(n) || n < 0 || (!allowInfinity && n === Infinity)) {
    throw new TypeError(`eventwire: option ${name} must be a number >= 0`);
  }
  return n;
}

/**
 * Validates and normalizes the second constructor argument.
 * @param {unknown} init
 * @returns {{ withCredentials: boolean, opts: Options }}
 */
function parseInit(init) {
  if (init !== undefined && init !== null && typeof init !== "object" && typeof init !== "function") {
    throw new TypeError("Failed to construct 'EventSource': The provided value is not of type 'EventSourceInit'.");
  }
  const o = /** @type {Record<string, any>} */ (init || {});
  const withCredentials = Boolean(o.withCredentials);
  const transport = o.transport === undefined ? "auto" : o.transport;
  if (!(transport in MODE)) throw new TypeError('eventwire: option transport must be "auto", "fetch", "xhr" or "longpoll"');
  let headers = "";
  /** @type {(() => unknown) | undefined} */
  let headersFn;
  if (typeof o.headers === "function") {
    headersFn = o.headers;
  } else if (o.headers != null) {
    headers = normalizeHeaders(o.headers)
      .map(([n, v]) => `${n}\n${v}`)
      .join("\n");
  }
  const method = o.method === undefined ? "GET" : String(o.method);
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method)) throw new TypeError(`eventwire: invalid method ${JSON.stringify(method)}`);
  const body = o.body;
  if (body != null && /^(GET|HEAD)$/i.test(method)) throw new TypeError("eventwire: a body needs a method other than GET or HEAD");
  const lastEventIdParam = o.lastEventIdParam == null ? "" : String(o.lastEventIdParam);
  if (o.onbatch !== undefined && o.onbatch !== null && typeof o.onbatch !== "function") {
    throw new TypeError("eventwire: option onbatch must be a function");
  }
  const xhrRenewBytes = numberOption("xhrRenewBytes", o.xhrRenewBytes, true);
  return {
    withCredentials,
    opts: {
      transport,
      headers,
      headersFn,
      method,
      body,
      lastEventIdParam,
      retryMaxDelay: numberOption("retryMaxDelay", o.retryMaxDelay, true),
      heartbeatTimeout: numberOption("heartbeatTimeout", o.heartbeatTimeout, true),
      bufferingTimeout: numberOption("bufferingTimeout", o.bufferingTimeout, true),
      xhrRenewBytes: xhrRenewBytes === undefined || xhrRenewBytes === 0 ? DEFAULT_XHR_RENEW_BYTES : xhrRenewBytes,
      maxEventSize: numberOption("maxEventSize", o.maxEventSize, true),
      debug: Boolean(o.debug),
      onbatch: o.onbatch || undefined,
      dispatchEvents: o.dispatchEvents === undefined ? true : Boolean(o.dispatchEvents),
    },
  };
}

/**
 * Upper-cases ASCII letters only, as Go's client normalizes the method.
 * @param {string} m
 */
function asciiUpper(m) {
  return m.replace(/[a-z]+/g, (x) => x.toUpperCase());
}

/**
 * Reports an exception of a callback of ours without interrupting the
 * dispatch, as the browser does for listeners.
 * @param {unknown} err
 */
function reportError(err) {
  const g = /** @type {any} */ (globalThis);
  if (typeof g.reportError === "function") g.reportError(err);
  else
    setTimeout(() => {
      throw err;
    });
}

/**
 * The response headers of an open or error event: the fetch Headers as they
 * are, the XHR's header text parsed into a Headers.
 * @param {unknown} h
 * @returns {Headers | undefined}
 */
function toHeaders(h) {
  if (typeof h !== "string") return /** @type {Headers | undefined} */ (h || undefined);
  if (typeof Headers !== "function") return undefined;
  const out = new Headers();
  for (const line of h.split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0) {
      try {
        out.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
      } catch {
        // a header the Headers class refuses: leave it out
      }
    }
  }
  return out;
}

/**
 * @param {string} type
 * @param {Record<string, unknown>} fields
 * @returns {Event}
 */
function plainEvent(type, fields) {
  const e = new Event(type);
  for (const k of Object.keys(fields)) {
    Object.defineProperty(e, k, { value: fields[k], enumerable: true, configurable: true });
  }
  return e;
}

/**
 * An EventSource with the WHATWG interface, and extensions in the second
 * constructor argument (see eventwire.d.ts).
 */
export class EventSource extends EventTarget {
  /**
   * The second argument, init, is read from arguments[1] so that length is 1,
   * as WebIDL makes it for an optional argument.
   * @param {string | URL} url
   */
  constructor(url) {
    super();
    /** @type {EventSourceInit | undefined} */
    const init = arguments[1];
    if (arguments.length === 0) {
      throw new TypeError("Failed to construct 'EventSource': 1 argument required, but only 0 present.");
    }
    const text = String(url);
    let href;
    try {
      href = new URL(text, baseURL()).href;
    } catch {
      throw new DOMException(`Failed to construct 'EventSource': The URL '${text}' is invalid.`, "SyntaxError");
    }
    const { withCredentials, opts } = parseInit(init);
    /** @type {State} */
    const s = {
      url: href,
      withCredentials,
      readyState: CONNECTING,
      id: 0,
      raw: null,
      handlers: { open: null, message: null, error: null },
      opts,
      driver: /** @type {any} */ (null),
      wasm: null,
      held: () => {},
    };
    s.driver = createDriver(
      {
        transport: opts.transport,
        withCredentials,
        body: opts.body,
        headersFn: opts.headersFn,
        xhrRenewBytes: opts.xhrRenewBytes,
      },
      (req, kind, ...args) => {
        if (s.id === 0) return; // closed
        const raw = /** @type {Record<string, any>} */ (s.raw);
        if (kind === CHUNK) {
          // A plain WebAssembly call, not a js.FuncOf (wasm/jsbind/inbox.go):
          // the bytes go straight into Go's inbox.
          const chunk = /** @type {Uint8Array} */ (args[0]);
          const wasm = /** @type {import("./loader.js").WasmExports} */ (s.wasm);
          const at = wasm.eventwireInbox(chunk.length);
          memory(wasm).set(chunk, at);
          const flags = wasm.esChunk(s.id, req, chunk.length);
          if (flags & ES_CHUNK_HELD) s.held();
          if (flags & ES_CHUNK_KICK) raw.kick();
          return;
        }
        const r = raw.esNet(s.id, req, kind, ...args);
        if (r instanceof Error) throw r;
      },
    );
    states.set(this, s);
    // The first request need not wait for Go: it is the same whatever Go
    // decides (streaming modes; a URL without the lastEventIdParam).
    if (/^https?:/i.test(href) && opts.transport !== "longpoll" && !(opts.lastEventIdParam && href.includes(opts.lastEventIdParam))) {
      s.driver.preopen(href, asciiUpper(opts.method), firstRequestHeaders(opts.headers), false);
    }
    loader.internal().then(
      (m) => start(this, s, m.raw, m.wasm),
      (err) => {
        s.driver.abortAll();
        if (s.readyState === CLOSED) return;
        s.readyState = CLOSED;
        if (opts.debug) console.debug("eventwire: the module failed to load:", err);
        dispatch.call(this, plainEvent("error", { reason: "module failed to load", status: undefined, headers: undefined, error: err }));
      },
    );
  }

  /** @returns {string} */
  get url() {
    return state(this).url;
  }

  /** @returns {boolean} */
  get withCredentials() {
    return state(this).withCredentials;
  }

  /** @returns {number} */
  get readyState() {
    return state(this).readyState;
  }

  /** Closes the connection for good; no event fires. */
  close() {
    const s = state(this);
    if (s.readyState === CLOSED) return;
    s.readyState = CLOSED;
    const id = s.id;
    s.id = 0;
    if (id !== 0 && s.raw) s.raw.esClose(id);
    else s.driver.abortAll(); // Go has not started: drop the early request
  }
}

for (const [name, value] of /** @type {const} */ ([
  ["CONNECTING", CONNECTING],
  ["OPEN", OPEN],
  ["CLOSED", CLOSED],
])) {
  const desc = { value, enumerable: true, writable: false, configurable: false };
  Object.defineProperty(EventSource, name, desc);
  Object.defineProperty(EventSource.prototype, name, desc);
}

for (const type of ["open", "message", "error"]) {
  Object.defineProperty(EventSource.prototype, "on" + type, {
    enumerable: true,
    configurable: true,
    get() {
      const h = state(this).handlers[type];
      return h ? h.value : null;
    },
    /** @param {unknown} v */
    set(v) {
      // Like an event handler attribute: the first handler takes its place
      // among the listeners; replacing it keeps that place; null removes it.
      const s = state(this);
      const value = typeof v === "function" || (typeof v === "object" && v !== null) ? v : null;
      const h = s.handlers[type];
      if (value === null) {
        if (h) {
          s.handlers[type] = null;
          removeListener.call(this, type, h.listener);
        }
        return;
      }
      if (h) {
        h.value = value;
        return;
      }
      /** @type {Handler} */
      const nh = {
        value,
        listener(e) {
          const f = nh.value;
          if (typeof f === "function") return f.call(this, e);
        },
      };
      s.handlers[type] = nh;
      addListener.call(this, type, nh.listener);
    },
  });
}

// WebIDL attributes and operations are enumerable; class members are not.
for (const name of ["url", "withCredentials", "readyState", "close"]) {
  const d = /** @type {PropertyDescriptor} */ (Object.getOwnPropertyDescriptor(EventSource.prototype, name));
  d.enumerable = true;
  Object.defineProperty(EventSource.prototype, name, d);
}

Object.defineProperty(EventSource.prototype, Symbol.toStringTag, { value: "EventSource", configurable: true });

/**
 * Connects es once the Go module is loaded.
 * @param {EventSource} es
 * @param {State} s
 * @param {Record<string, any>} raw
 * @param {import("./loader.js").WasmExports} wasm
 */
function start(es, s, raw, wasm) {
  if (s.readyState === CLOSED) return;
  s.raw = raw;
  s.wasm = wasm;
  const o = s.opts;
  // The outbox (wasm/jsbind/es_sink.go): a chunk's events as notify(0, ...)
  // would pass them, with the origin of the last such call.
  const outbox = wasm.eventwireOutbox();
  let origin = "";
  s.held = () => {
    memory(wasm);
    const w = outbox >>> 2;
    events(memU32[w], memU32[w + 1], memU32[w + 2], memU32[w + 3], memU32[w + 4], memU32[w + 5], origin);
  };

  /**
   * Everything Go reports; see wasm/jsbind/es_sink.go.
   * @param {number} kind
   * @param {any} a
   * @param {any} b
   * @param {any} c
   * @param {any} d
   * @param {any} e
   * @param {any} f
   * @param {any} g
   */
  function notify(kind, a, b, c, d, e, f, g) {
    if (kind === 0) {
      origin = g;
      events(a, b, c, d, e, f, g);
    } else if (kind === 1) {
      if (s.readyState === CLOSED) return;
      s.readyState = OPEN;
      dispatch.call(es, plainEvent("open", { status: c, headers: toHeaders(d) }));
    } else if (kind === 2) {
      if (s.readyState === CLOSED) return;
      s.readyState = a;
      if (a === CLOSED) s.id = 0; // Go has forgotten it
      if (o.debug) console.debug(`eventwire: error: ${b}${e ? ` (${e})` : ""}; readyState ${a}`);
      dispatch.call(es, plainEvent("error", { reason: b, status: c === null ? undefined : c, headers: toHeaders(d) }));
    } else if (kind === 3) {
      if (o.debug) console.debug(a);
    }
  }

  /**
   * Decodes one chunk's events (an eventsource.Batch in the module's memory,
   * see wasm/jsbind/es_sink.go) and delivers them. Everything is read from
   * memory before the first listener runs: a call into Go may grow the
   * memory, which detaches the old buffer.
   * @param {number} n number of events
   * @param {number} headAt address of the header, 4n uint32
   * @param {number} chunkAt address of the chunk's text
   * @param {number} chunkLen its length in bytes
   * @param {number} extraAt address of the extra text
   * @param {number} extraLen its length in bytes
   * @param {string} origin
   */
  function events(n, headAt, chunkAt, chunkLen, extraAt, extraLen, origin) {
    if (s.readyState === CLOSED) return;
    const u8 = memory(wasm);
    const header = memU32.slice(headAt >>> 2, (headAt >>> 2) + 4 * n);
    if (textDecoder === null) textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
    const chunk = chunkLen === 0 ? "" : textDecoder.decode(u8.subarray(chunkAt, chunkAt + chunkLen));
    const text = extraLen === 0 ? "" : textDecoder.decode(u8.subarray(extraAt, extraAt + extraLen));
    const batch = o.onbatch;
    if (batch === undefined && !o.dispatchEvents) return;
    // With onbatch, the plain objects first, then their MessageEvents;
    // without, each MessageEvent as soon as it is decoded.
    /** @type {BatchEvent[] | null} */
    const list = batch === undefined ? null : new Array(n);
    let at = 0;
    let type = "";
    let id = "";
    for (let i = 0, h = 0; i < n; i++, h += 4) {
      const tl = header[h];
      if (tl !== SAME) type = text.slice(at, (at += tl));
      const da = header[h + 3];
      const data = da === SAME ? text.slice(at, (at += header[h + 1])) : chunk.slice(da, da + header[h + 1]);
      const il = header[h + 2];
      if (il !== SAME) id = text.slice(at, (at += il));
      if (list !== null) {
        list[i] = { type, data, lastEventId: id, origin };
      } else {
        if (s.readyState === CLOSED) return;
        dispatch.call(es, new MessageEvent(type, { data, origin, lastEventId: id }));
      }
    }
    if (list === null || batch === undefined) return;
    try {
      batch.call(es, list);
    } catch (err) {
      reportError(err);
    }
    if (!o.dispatchEvents) return;
    for (let i = 0; i < n; i++) {
      if (s.readyState === CLOSED) return;
      const x = list[i];
      dispatch.call(es, new MessageEvent(x.type, { data: x.data, origin: x.origin, lastEventId: x.lastEventId }));
    }
  }

  try {
    const r = raw.esOpen(
      s.url,
      notify,
      s.driver,
      MODE[o.transport],
      o.headers,
      o.lastEventIdParam,
      o.retryMaxDelay,
      o.heartbeatTimeout,
      o.bufferingTimeout,
      o.maxEventSize,
      o.debug,
      o.method,
    );
    if (r instanceof Error) throw r;
    // esOpen may have failed the source already (a URL that is not http(s)).
    if (s.readyState !== CLOSED) s.id = r;
    else raw.esClose(r);
  } catch (err) {
    s.driver.abortAll();
    s.readyState = CLOSED;
    dispatch.call(es, plainEvent("error", { reason: "internal error", status: undefined, headers: undefined, error: err }));
    if (o.debug) console.debug("eventwire:", describe(err));
  }
}
