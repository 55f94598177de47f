// BatchSocket: batched, acknowledged, loss-free messaging over the browser
// WebSocket, with HTTP POST as a fallback (the JS shell of wasm/batchsocket,
// through wasm/cmd/eventwire-batch/batchsocket.go; protocol in
// protocol/batch/PROTOCOL.md).
//
// Who does what (GUIDE.md §3: a JS→Go call costs 13–17 µs when JS calls a Go
// function, a plain Go→JS call under 1 µs):
//
//  - send() never calls into Go. It appends the message, framed as in a
//    BATCH frame (a header, then the bytes, PROTOCOL.md §5.6), to one
//    growing Uint8Array: binary data and longer strings at once (UTF-8 by
//    encodeInto), strings under 128 UTF-16 units when the batch is handed
//    over, all together (sendShort). The batching triggers live here too, since they
//    are decided per message: size (batchBytes), count (batchCount), delay
//    (batchDelay, one setTimeout per batch), flush(), close(), and the page
//    being hidden. Each trigger hands the whole batch to Go in ONE call
//    (bsPush). Owning the delay timer in Go would cost a crossing for the
//    first message of every batch and a Go timer wake-up that calls back
//    here to collect it: two or three crossings per batch instead of one.
//  - Go owns the protocol: sequence numbers, frames, acknowledgements,
//    resending after reconnecting, backoff, fallback to HTTP, backpressure
//    (bufferedAmount), what to persist. It publishes its counters into a
//    Float64Array shared with this shell, so stats, the queue bound and
//    flush() read them without a call.
//  - The driver below does the browser I/O on Go's behalf (WebSocket, fetch,
//    keepalive/sendBeacon, IndexedDB) and reports through one export (bsNet),
//    which keeps the wasm small (see wasm/jsbind/websocket.go).

import { batchLoader } from "./instance.js";

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** The options' defaults (Go applies its own equal ones; these are for validation and the types). */
const DEFAULTS = {
  batchBytes: 64 * 1024,
  batchCount: 1024,
  batchDelay: 50,
  maxQueueBytes: 8 * 1024 * 1024,
  maxMessageSize: 256 * 1024,
};

// bsOpen's options array (wasm/cmd/eventwire-batch/batchsocket.go, bsOpt*).
const OPT_COUNT = 12;
const MODES = { auto: 0, websocket: 1, http: 2 };

// The stats slots (wasm/jsbind/websocket_sink.go, BSStat*).
const S_STATE = 0;
const S_TRANSPORT = 1;
const S_QUEUED = 2;
const S_INFLIGHT = 3;
const S_HELD = 4;
const S_ACKED = 5;
const S_BATCHES = 6;
const S_BYTES = 7;
const S_RECONNECTS = 8;
const S_DROPPED = 9;
const S_LASTSEQ = 10;
const S_ACKEDSEQ = 11;
const S_COUNT = 12;
const TRANSPORTS = ["", "websocket", "http"];

// notify kinds (BSNotify*), driver reports (BS*), bsCtl ops.
const N_OPEN = 0;
const N_CLOSE = 1;
const N_ERROR = 2;
const N_MESSAGES = 3;
const N_STATS = 4;
const N_DEBUG = 5;
const R_OPEN = 0;
const R_MESSAGE = 1;
const R_CLOSED = 2;
const R_POSTED = 3;
const R_LOADED = 4;
const R_STORED = 5;
const CTL_CLOSE = 0;
const CTL_ONLINE = 1;
const CTL_TAIL = 2;
const CTL_DROP = 3;

const CONTENT_TYPE = "application/vnd.eventwire.batch";
const SUBPROTOCOL = "eventwire.batch";

const encoder = new TextEncoder();
/** @type {TextDecoder | null} */
let decoder = null;

const addListener = EventTarget.prototype.addEventListener;
const removeListener = EventTarget.prototype.removeEventListener;
const dispatch = EventTarget.prototype.dispatchEvent;

/**
 * The error send() throws when the queue is full and queuePolicy is
 * "reject" (the default). Also BatchSocket.QueueFullError.
 */
export class QueueFullError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "QueueFullError";
  }
}

/**
 * @typedef {object} Waiter   a flush() in progress
 * @property {number} seq     the last message before it; -1 until known (Go not started)
 * @property {() => void} resolve
 * @property {(e: unknown) => void} reject
 *
 * @typedef {object} State
 * @property {number} readyState
 * @property {string} url       the WebSocket URL
 * @property {string} fallbackUrl
 * @property {number} id        Go's id; 0 before bsOpen and after CLOSED
 * @property {Record<string, any> | null} raw
 * @property {Uint8Array} buf   pending messages, framed, buf[0:len]
 * @property {number} len
 * @property {string[]} parts   pending short strings after buf[0:len], not encoded yet: header character, string, …
 * @property {number} lazy      their encoded size, if they are ASCII (each string's length + 1)
 * @property {number} count     pending messages, in buf and parts
 * @property {number} jsDropped messages dropped here before Go took them
 * @property {ReturnType<typeof setTimeout> | 0} timer
 * @property {() => void} onTimer
 * @property {Float64Array} stats  Go's counters
 * @property {Uint8Array} stats8
 * @property {Waiter[]} waiters
 * @property {number} depth     > 0 while inside a call into Go
 * @property {{ code: number, reason: string } | null} closing  close() before Go started
 * @property {Record<string, (e: Event) => void>} hooks  window/document listeners
 * @property {Record<string, {value: unknown, listener: (e: Event) => void} | null>} handlers
 * @property {Options} o
 *
 * @typedef {Record<string, unknown> & { persist?: boolean | string, fallbackUrl?: string | URL }} Init
 *
 * @typedef {object} Options
 * @property {number} batchBytes
 * @property {number} batchCount
 * @property {number} batchDelay
 * @property {number} maxQueueBytes
 * @property {boolean} dropOldest
 * @property {number} maxMessageSize
 * @property {string} persist    the IndexedDB name, "" when off
 * @property {boolean} withCredentials
 * @property {boolean} debug
 * @property {Float64Array} go   bsOpen's options
 */

/** @type {WeakMap<BatchSocket, State>} */
const states = new WeakMap();

/** @param {BatchSocket} b */
function state(b) {
  const s = states.get(b);
  if (!s) throw new TypeError("Illegal invocation");
  return s;
}

/**
 * A WebSocket client that batches messages, numbers them, keeps them until
 * the server acknowledges them, resends them after reconnecting, falls back
 * to HTTP POST, and can persist them across page loads. See eventwire.d.ts.
 */
export class BatchSocket extends EventTarget {
  /**
   * @param {string | URL} url ws:, wss:, http: or https: (the latter two mean ws: and wss:), relative to the page
   * @param {Init} [init] see BatchSocketInit in eventwire.d.ts
   */
  constructor(url, init) {
    super();
    const urls = resolveURLs(url, init && init.fallbackUrl);
    const o = parseOptions(init || {}, urls.ws);
    const stats8 = new Uint8Array(8 * S_COUNT);
    /** @type {State} */
    const s = {
      readyState: CONNECTING,
      url: urls.ws,
      fallbackUrl: urls.http,
      id: 0,
      raw: null,
      buf: new Uint8Array(4096),
      len: 0,
      parts: [],
      lazy: 0,
      count: 0,
      jsDropped: 0,
      timer: 0,
      onTimer: () => {
        s.timer = 0;
        guard(this, s, () => drain(s));
      },
      stats: new Float64Array(stats8.buffer),
      stats8,
      waiters: [],
      depth: 0,
      closing: null,
      hooks: {},
      handlers: { open: null, close: null, error: null, message: null },
      o,
    };
    states.set(this, s);
    hook(this, s);
    batchLoader.internal().then(
      (m) => start(this, s, m.raw),
      (err) => fail(this, s, "module failed to load", err),
    );
  }

  /** The WebSocket URL, absolute. */
  get url() {
    return state(this).url;
  }

  /** The URL of the HTTP fallback, absolute. */
  get fallbackUrl() {
    return state(this).fallbackUrl;
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState() {
    return state(this).readyState;
  }

  /** "websocket" or "http" while connected, "" otherwise. */
  get transport() {
    return TRANSPORTS[state(this).stats[S_TRANSPORT]] || "";
  }

  /** The counters (see BatchSocketStats in eventwire.d.ts); reading them costs no call into Go. */
  get stats() {
    const s = state(this);
    const t = s.stats;
    return {
      queued: t[S_QUEUED] + s.count,
      inFlight: t[S_INFLIGHT],
      acked: t[S_ACKED],
      batches: t[S_BATCHES],
      bytes: t[S_BYTES],
      reconnects: t[S_RECONNECTS],
      dropped: t[S_DROPPED] + s.jsDropped,
      transport: TRANSPORTS[t[S_TRANSPORT]] || "",
      queuedBytes: t[S_HELD] + s.len + s.lazy, // exact for ASCII; short non-ASCII strings count once encoded
    };
  }

  /**
   * Queues a message: a string (sent as UTF-8 text, received as a string),
   * an ArrayBuffer or a typed array/DataView (binary). Never waits; throws
   * QueueFullError when the queue is full and queuePolicy is "reject", a
   * RangeError for a message over maxMessageSize, an InvalidStateError after
   * close().
   * @param {string | ArrayBuffer | ArrayBufferView} data
   */
  send(data) {
    const s = state(this);
    if (s.readyState >= CLOSING) throw new DOMException("BatchSocket is closed", "InvalidStateError");
    if (typeof data === "string" && data.length < 128 && 3 * data.length <= s.o.maxMessageSize && sendShort(s, data)) return;
    encodePending(s);
    const start = s.len;
    /** @type {number} */
    let end;
    if (typeof data === "string") {
      end = putString(s, data);
    } else {
      /** @type {Uint8Array} */
      let b;
      if (data instanceof ArrayBuffer) b = new Uint8Array(data);
      else if (ArrayBuffer.isView(data)) b = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      else throw new TypeError("BatchSocket.send: data must be a string, an ArrayBuffer or a typed array");
      end = putBytes(s, b);
    }
    commit(s, start, end);
  }

  /**
   * Sends what is queued now and resolves once every message sent before
   * this call has been acknowledged by the server (or dropped by
   * queuePolicy "drop-oldest"). Rejects if the socket closes first.
   * @returns {Promise<void>}
   */
  flush() {
    const s = state(this);
    if (s.readyState >= CLOSING) return Promise.reject(new DOMException("BatchSocket is closed", "InvalidStateError"));
    return new Promise((resolve, reject) => {
      s.waiters.push({ seq: -1, resolve, reject });
      if (s.id !== 0) {
        drain(s);
        settle(s);
      }
    });
  }

  /**
   * Closes for good: hands what is queued to Go (so that it is persisted,
   * with persist), closes the connection with code and reason, fires
   * "close". Messages not acknowledged yet are lost unless persisted; await
   * flush() first to be sure they arrived.
   * @param {number} [code] 1000 or 3000–4999
   * @param {string} [reason] at most 123 bytes of UTF-8
   */
  close(code, reason) {
    const s = state(this);
    if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999 && Number.isInteger(code))) {
      throw new DOMException("close code must be 1000 or 3000–4999", "InvalidAccessError");
    }
    const why = reason === undefined ? "" : String(reason);
    if (encoder.encode(why).length > 123) throw new DOMException("close reason is longer than 123 bytes", "SyntaxError");
    if (s.readyState >= CLOSING) return;
    s.readyState = CLOSING;
    if (s.id === 0) {
      s.closing = { code: code === undefined ? 1000 : code, reason: why };
      return;
    }
    drain(s);
    ctl(s, CTL_CLOSE, code === undefined ? 1000 : code, why);
  }

  /**
   * Starts loading eventwire-batch.wasm (if not started yet) and resolves
   * with its module API once it runs. options.wasm says where it comes from;
   * given after the module started loading, it makes the promise reject.
   * @param {{ wasm?: import("../eventwire.js").WasmSource }} [options]
   * @returns {Promise<import("../eventwire.js").EventwireModule>}
   */
  static load(options) {
    return batchLoader.load(options, "BatchSocket.load({ wasm })");
  }
}

for (const [name, value] of /** @type {const} */ ([
  ["CONNECTING", CONNECTING],
  ["OPEN", OPEN],
  ["CLOSING", CLOSING],
  ["CLOSED", CLOSED],
])) {
  const desc = { value, enumerable: true, writable: false, configurable: false };
  Object.defineProperty(BatchSocket, name, desc);
  Object.defineProperty(BatchSocket.prototype, name, desc);
}
Object.defineProperty(BatchSocket, "QueueFullError", { value: QueueFullError, enumerable: false });

// onopen, onclose, onerror, onmessage.
for (const type of ["open", "close", "error", "message"]) {
  Object.defineProperty(BatchSocket.prototype, "on" + type, {
    enumerable: true,
    configurable: true,
    /** @this {BatchSocket} */
    get() {
      const h = state(this).handlers[type];
      return h ? h.value : null;
    },
    /** @this {BatchSocket} @param {unknown} f */
    set(f) {
      const s = state(this);
      const old = s.handlers[type];
      if (old) removeListener.call(this, type, old.listener);
      if (typeof f !== "function" && (typeof f !== "object" || f === null)) {
        s.handlers[type] = null;
        return;
      }
      const h = {
        value: f,
        /** @param {Event} e */
        listener: (e) => {
          if (typeof f === "function") f.call(this, e);
        },
      };
      s.handlers[type] = h;
      addListener.call(this, type, h.listener);
    },
  });
}

// ---- options ---------------------------------------------------------

/**
 * @param {string | URL} url
 * @param {string | URL | undefined} fallback
 */
function resolveURLs(url, fallback) {
  const base = typeof location === "object" && location ? location.href : undefined;
  /** @param {string | URL} x */
  const parse = (x) => {
    try {
      return new URL(String(x), base);
    } catch {
      throw new DOMException(`BatchSocket: invalid URL ${JSON.stringify(String(x))}`, "SyntaxError");
    }
  };
  const u = parse(url);
  const secure = { "ws:": false, "http:": false, "wss:": true, "https:": true }[u.protocol];
  if (secure === undefined) throw new DOMException(`BatchSocket: unsupported URL scheme ${u.protocol}`, "SyntaxError");
  u.hash = "";
  u.protocol = secure ? "wss:" : "ws:";
  const ws = u.href;
  u.protocol = secure ? "https:" : "http:";
  let http = u.href;
  if (fallback !== undefined && fallback !== null) {
    const f = parse(fallback);
    if (f.protocol !== "http:" && f.protocol !== "https:") throw new DOMException("BatchSocket: fallbackUrl must be http(s)", "SyntaxError");
    http = f.href;
  }
  return { ws, http };
}

/**
 * @param {Init} init
 * @param {string} url
 * @returns {Options}
 */
function parseOptions(init, url) {
  /**
   * @param {string} name
   * @param {number} def
   * @param {number} min
   */
  const num = (name, def, min) => {
    const v = init[name];
    if (v === undefined) return def;
    const n = Number(v);
    if (!(n >= min) || n > 2 ** 31) throw new RangeError(`BatchSocket: option ${name} must be a number ≥ ${min}, got ${String(v)}`);
    return n;
  };
  const policy = init.queuePolicy === undefined ? "reject" : init.queuePolicy;
  if (policy !== "reject" && policy !== "drop-oldest") {
    throw new TypeError(`BatchSocket: queuePolicy must be "reject" or "drop-oldest", got ${String(policy)}`);
  }
  const transport = init.transport === undefined ? "auto" : init.transport;
  const mode = MODES[/** @type {keyof typeof MODES} */ (transport)];
  if (mode === undefined) throw new TypeError(`BatchSocket: transport must be "auto", "websocket" or "http", got ${String(transport)}`);
  const maxMessageSize = num("maxMessageSize", DEFAULTS.maxMessageSize, 1);
  const maxQueueBytes = num("maxQueueBytes", DEFAULTS.maxQueueBytes, 1);
  if (maxMessageSize > 1 << 27) throw new RangeError("BatchSocket: maxMessageSize must be at most 128 MiB");
  const heartbeat = num("heartbeatInterval", 15000, 0);
  const go = new Float64Array(OPT_COUNT);
  go.set([
    mode,
    num("batchBytes", DEFAULTS.batchBytes, 1),
    num("batchCount", DEFAULTS.batchCount, 1),
    maxMessageSize,
    num("keepaliveBytes", 60 * 1024, 1024),
    num("bufferedAmountLimit", 1 << 20, 1),
    num("reconnectDelay", 1000, 1),
    num("reconnectMaxDelay", 30000, 1),
    heartbeat === 0 ? -1 : heartbeat,
    num("websocketRetry", 30000, 0) || -1,
    num("fallbackAfter", 2, 1),
    0, // flags, below
  ]);
  const persist = init.persist ? (typeof init.persist === "string" ? init.persist : url) : "";
  const debug = !!init.debug;
  const offline = typeof navigator === "object" && navigator && navigator.onLine === false;
  go[OPT_COUNT - 1] = (persist ? 1 : 0) | (debug ? 2 : 0) | (offline ? 4 : 0);
  return {
    batchBytes: go[1],
    batchCount: go[2],
    batchDelay: num("batchDelay", DEFAULTS.batchDelay, 0),
    maxQueueBytes,
    dropOldest: policy === "drop-oldest",
    maxMessageSize,
    persist,
    withCredentials: !!init.withCredentials,
    debug,
    go,
  };
}

// ---- the pending batch -------------------------------------------------

// Message headers (PROTOCOL.md §5.6; protocol/batch/header.go): one uvarint
// h. Text under 128 bytes: h = its length (1 byte). Otherwise h = 128 +
// (length << 1 | kind), kind 1 for binary.

/**
 * @param {number} n payload size
 * @param {boolean} bin
 * @returns {number} bytes of its header
 */
function headerSize(n, bin) {
  return n < 128 && !bin ? 1 : n < 8128 ? 2 : n < 1048512 ? 3 : n < 134217664 ? 4 : 5;
}

/**
 * Writes the header of a message of n bytes at buf[at].
 * @param {Uint8Array} buf
 * @param {number} at
 * @param {number} n
 * @param {boolean} bin
 */
function putHeader(buf, at, n, bin) {
  if (n < 128 && !bin) buf[at] = n;
  else putUvarint(buf, at, 128 + n * 2 + (bin ? 1 : 0));
}

/**
 * @param {Uint8Array} buf
 * @param {number} at
 * @param {number} v
 */
function putUvarint(buf, at, v) {
  while (v >= 128) {
    buf[at++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  buf[at] = v;
}

/** @param {State} s @param {number} need total bytes the buffer must hold */
function ensure(s, need) {
  if (need <= s.buf.length) return;
  const b = new Uint8Array(Math.max(need, s.buf.length * 2));
  b.set(s.buf.subarray(0, s.len));
  s.buf = b;
}

/**
 * Encodes a text message after the pending ones; returns its end. The
 * header's size depends on the UTF-8 length, known only after encoding: it
 * is reserved for the smallest possible length (one byte per UTF-16 unit)
 * and the bytes moved in the rare case it grows (non-ASCII text crossing
 * 128 or 8,128 bytes).
 * @param {State} s
 * @param {string} str
 */
function putString(s, str) {
  const n = str.length;
  const at = s.len;
  const h0 = headerSize(n, false);
  ensure(s, at + h0 + 3 * n + 4);
  const buf = s.buf;
  let p = at + h0;
  let i = 0;
  if (n < 32) {
    for (; i < n; i++) {
      const c = str.charCodeAt(i);
      if (c > 0x7f) break;
      buf[p++] = c;
    }
  }
  if (i < n) p += /** @type {number} */ (encoder.encodeInto(i === 0 ? str : str.slice(i), buf.subarray(p)).written);
  const size = p - at - h0;
  if (size > s.o.maxMessageSize) throw new RangeError(`BatchSocket.send: message of ${size} bytes is over maxMessageSize (${s.o.maxMessageSize})`);
  const h = headerSize(size, false);
  if (h !== h0) buf.copyWithin(at + h, at + h0, p);
  putHeader(buf, at, size, false);
  return at + h + size;
}

/**
 * Appends a binary message after the pending ones; returns its end.
 * @param {State} s
 * @param {Uint8Array} b
 */
function putBytes(s, b) {
  const size = b.length;
  if (size > s.o.maxMessageSize) throw new RangeError(`BatchSocket.send: message of ${size} bytes is over maxMessageSize (${s.o.maxMessageSize})`);
  const at = s.len;
  const h = headerSize(size, true);
  ensure(s, at + h + size);
  putHeader(s.buf, at, size, true);
  s.buf.set(b, at + h);
  return at + h + size;
}

/**
 * Reads the header of the message at buf[at] (valid: this shell or Go wrote it).
 * @param {Uint8Array} buf
 * @param {number} at
 * @returns {number} h, the header's uvarint; its size is hdr.size
 */
function readHeader(buf, at) {
  let v = buf[at];
  if (v < 128) {
    hdr.size = 1;
    return v;
  }
  v &= 127;
  let mul = 128;
  let i = at + 1;
  for (;;) {
    const b = buf[i++];
    v += (b & 127) * mul;
    if (b < 128) break;
    mul *= 128;
  }
  hdr.size = i - at;
  return v;
}
const hdr = { size: 0 };

/** @param {number} h a header's uvarint @returns {number} the length of the data */
function dataLength(h) {
  return h < 128 ? h : Math.floor((h - 128) / 2);
}

/** @param {Uint8Array} buf @param {number} at @returns {number} the encoded size of the message at `at` */
function messageSize(buf, at) {
  const h = readHeader(buf, at);
  return hdr.size + dataLength(h);
}

// Short strings (under 128 UTF-16 units) are the common case: telemetry,
// JSON. Encoding each on its own costs a TextEncoder call and a new view of
// the buffer per message, which dominated send() in profiles. Instead they
// are kept as they come, each after its header as a character (a text under
// 128 bytes has a 1-byte header, its length, PROTOCOL.md §5.6), and encoded
// together when the batch is handed to Go: one join and one encodeInto per
// batch. The bytes are the frame's exactly when every string is ASCII, which
// encodeInto tells (as many bytes written as UTF-16 units read); otherwise
// the strings are encoded again one by one, the same bytes as send() would
// have written at once. Until then the batch's size counts them as ASCII.

/** HEADER[n]: the 1-byte header of a text of n < 128 bytes, as a character. */
const HEADER = Array.from({ length: 128 }, (_, n) => String.fromCharCode(n));

/**
 * Queues a string of under 128 UTF-16 units without encoding it; returns
 * false, having done nothing, when it may not fit the queue bound (which
 * is then checked exactly).
 * @param {State} s
 * @param {string} str
 */
function sendShort(s, str) {
  const o = s.o;
  const size = str.length + 1; // if ASCII; at most 3 times as much
  if (s.stats[S_HELD] + s.len + 3 * (s.lazy + size) > o.maxQueueBytes) return false;
  if (s.count > 0 && s.len + s.lazy + size > o.batchBytes && s.id !== 0) drain(s); // it would take the batch over batchBytes
  s.parts.push(HEADER[str.length], str);
  s.lazy += size;
  s.count++;
  if (s.count >= o.batchCount || s.len + s.lazy >= o.batchBytes) drain(s);
  else if (s.timer === 0) s.timer = setTimeout(s.onTimer, o.batchDelay);
  return true;
}

/**
 * Encodes the pending short strings (sendShort) after buf[0:len].
 * @param {State} s
 */
function encodePending(s) {
  const parts = s.parts;
  if (parts.length === 0) return;
  const text = parts.join("");
  const at = s.len;
  ensure(s, at + 3 * text.length);
  const r = encoder.encodeInto(text, s.buf.subarray(at));
  if (r.written === text.length) {
    s.len = at + text.length; // all ASCII: headers and data are the frame's bytes
  } else {
    for (let i = 1; i < parts.length; i += 2) s.len = putString(s, parts[i]);
  }
  s.parts = [];
  s.lazy = 0;
}

/**
 * Makes the message encoded at buf[start:end] part of the batch: applies
 * the queue bound and the batching triggers.
 * @param {State} s
 * @param {number} start
 * @param {number} end
 */
function commit(s, start, end) {
  const o = s.o;
  const over = s.stats[S_HELD] + end - o.maxQueueBytes;
  if (over > 0) {
    if (!o.dropOldest) {
      throw new QueueFullError(`BatchSocket: the queue is full (${o.maxQueueBytes} bytes); the message was not sent`);
    }
    const moved = makeRoom(s, over, start, end);
    start -= moved;
    end -= moved;
  }
  if (s.count > 0 && end > o.batchBytes && s.id !== 0) {
    // The message would take the batch over batchBytes: send the others.
    const n = s.count;
    s.count = s.len = 0;
    push(s, start, n);
    s.buf.copyWithin(0, start, end);
    end -= start;
  }
  s.len = end;
  s.count++;
  if (s.count >= o.batchCount || s.len >= o.batchBytes) drain(s);
  else if (s.timer === 0) s.timer = setTimeout(s.onTimer, o.batchDelay);
}

/**
 * queuePolicy "drop-oldest": frees at least `need` bytes, oldest messages
 * first (those Go holds, then the pending ones before `start`), in steps of
 * at least 1/64 of the bound so that a full queue does not cost a call per
 * message. Returns by how much the new message, buf[start:end], moved.
 * @param {State} s
 * @param {number} need
 * @param {number} start
 * @param {number} end
 */
function makeRoom(s, need, start, end) {
  let freed = 0;
  if (s.id !== 0 && s.stats[S_HELD] > 0) {
    freed = ctl(s, CTL_DROP, need + Math.floor(s.o.maxQueueBytes / 64), "");
    s.stats[S_HELD] -= freed; // until Go publishes its counters again
  }
  let off = 0;
  while (freed + off < need && off < start) {
    off += messageSize(s.buf, off);
    s.count--;
    s.jsDropped++;
  }
  if (freed + off < need) {
    throw new QueueFullError(`BatchSocket: the message does not fit in the queue (${s.o.maxQueueBytes} bytes)`);
  }
  if (off > 0) s.buf.copyWithin(0, off, end);
  return off;
}

/**
 * Hands the first n pending messages, buf[0:end], to Go.
 * @param {State} s
 * @param {number} end
 * @param {number} n
 */
function push(s, end, n) {
  const last = call(s, "bsPush", s.id, s.buf.subarray(0, end), n);
  for (const w of s.waiters) if (w.seq < 0) w.seq = last;
}

/**
 * Hands every pending message to Go (once it runs).
 * @param {State} s
 */
function drain(s) {
  if (s.timer !== 0) {
    clearTimeout(s.timer);
    s.timer = 0;
  }
  if (s.id === 0) return;
  if (s.count > 0) {
    encodePending(s);
    const n = s.count;
    s.count = 0;
    const len = s.len;
    s.len = 0;
    push(s, len, n);
    if (s.buf.length > 1 << 20 && len < 1 << 16) s.buf = new Uint8Array(1 << 16);
  } else {
    for (const w of s.waiters) if (w.seq < 0) w.seq = s.stats[S_LASTSEQ];
  }
}

/**
 * Resolves the flush() promises whose messages are all acknowledged.
 * @param {State} s
 */
function settle(s) {
  const acked = s.stats[S_ACKEDSEQ];
  if (s.waiters.length === 0) return;
  s.waiters = s.waiters.filter((w) => {
    if (w.seq < 0 || w.seq > acked) return true;
    w.resolve();
    return false;
  });
}

// ---- calls into Go --------------------------------------------------------

/**
 * @param {State} s
 * @param {string} name
 * @param {...unknown} args
 * @returns {any}
 */
function call(s, name, ...args) {
  const raw = /** @type {Record<string, any>} */ (s.raw);
  s.depth++;
  let r;
  try {
    r = raw[name](...args);
  } finally {
    s.depth--;
  }
  if (r instanceof Error) throw r;
  return r;
}

/**
 * @param {State} s
 * @param {number} op
 * @param {number} x
 * @param {string} reason
 */
function ctl(s, op, x, reason) {
  return s.id === 0 ? 0 : call(s, "bsCtl", s.id, op, x, reason);
}

/**
 * Starts the Go side once the module runs.
 * @param {BatchSocket} b
 * @param {State} s
 * @param {Record<string, any>} raw
 */
function start(b, s, raw) {
  if (s.readyState === CLOSED) return;
  if (s.closing) {
    finish(b, s, s.closing.code, s.closing.reason, true);
    return;
  }
  s.raw = raw;
  const session = new Uint8Array(16);
  while (session.every((x) => x === 0)) crypto.getRandomValues(session);
  /** @type {(kind: number, a?: any, b?: any, c?: any, d?: any, e?: any) => void} */
  const notify = (kind, x, y, z, w) => onNotify(b, s, kind, x, y, z, w);
  let id;
  try {
    id = call(s, "bsOpen", s.url, s.fallbackUrl, session, new Uint8Array(s.o.go.buffer), notify, createDriver(b, s), s.stats8);
  } catch (err) {
    fail(b, s, "internal error", err);
    return;
  }
  if (s.readyState === CLOSED) return; // failed at once (reported by notify)
  s.id = id;
  drain(s);
  settle(s);
}

/**
 * What Go reports (jsbind.BSSink).
 * @param {BatchSocket} b
 * @param {State} s
 * @param {number} kind
 * @param {any} x
 * @param {any} y
 * @param {any} z
 * @param {any} w
 */
function onNotify(b, s, kind, x, y, z, w) {
  switch (kind) {
    case N_OPEN:
      if (s.readyState === CONNECTING) s.readyState = OPEN;
      emit(b, s, plainEvent("open", { transport: x }));
      break;
    case N_CLOSE:
      if (w) {
        finish(b, s, x, y, z);
      } else {
        if (s.readyState === OPEN) s.readyState = CONNECTING;
        emit(b, s, plainEvent("close", { code: x, reason: y, wasClean: z, reconnecting: true }));
      }
      break;
    case N_ERROR:
      if (s.o.debug) console.debug("eventwire: BatchSocket error:", x, y, z);
      emit(b, s, plainEvent("error", { reason: x, code: y || undefined, message: z === null ? undefined : z }));
      break;
    case N_MESSAGES:
      deliver(b, s, x);
      break;
    case N_STATS:
      settle(s);
      break;
    case N_DEBUG:
      console.debug("eventwire:", x);
      break;
  }
}

/**
 * Dispatches the server's messages (framed as in a PUSH frame).
 * @param {BatchSocket} b
 * @param {State} s
 * @param {Uint8Array} u8
 */
function deliver(b, s, u8) {
  const origin = new URL(s.url).origin;
  for (let at = 0; at < u8.length; ) {
    const h = readHeader(u8, at);
    at += hdr.size;
    const size = dataLength(h);
    const bytes = u8.subarray(at, at + size);
    at += size;
    if (decoder === null) decoder = new TextDecoder();
    const data = h >= 128 && (h - 128) % 2 === 1 ? bytes.slice().buffer : decoder.decode(bytes);
    emit(b, s, new MessageEvent("message", { data, origin }));
  }
}

/**
 * Dispatches e now, or after the current call into Go (never from inside
 * send(), flush() or close()).
 * @param {BatchSocket} b
 * @param {State} s
 * @param {Event} e
 */
function emit(b, s, e) {
  if (s.depth > 0) queueMicrotask(() => dispatch.call(b, e));
  else dispatch.call(b, e);
}

/**
 * CLOSED for good: the close event, flush() promises settled, listeners
 * removed.
 * @param {BatchSocket} b
 * @param {State} s
 * @param {number} code
 * @param {string} reason
 * @param {boolean} wasClean
 */
function finish(b, s, code, reason, wasClean) {
  if (s.readyState === CLOSED) return;
  s.readyState = CLOSED;
  s.id = 0;
  if (s.timer !== 0) clearTimeout(s.timer);
  s.timer = 0;
  settle(s);
  for (const w of s.waiters) w.reject(new DOMException("BatchSocket closed before the messages were acknowledged", "AbortError"));
  s.waiters = [];
  unhook(s);
  emit(b, s, plainEvent("close", { code, reason, wasClean, reconnecting: false }));
}

/**
 * @param {BatchSocket} b
 * @param {State} s
 * @param {string} reason
 * @param {unknown} err
 */
function fail(b, s, reason, err) {
  if (s.readyState === CLOSED) return;
  if (s.o.debug) console.debug("eventwire: BatchSocket failed:", reason, err);
  emit(b, s, plainEvent("error", { reason, code: undefined, message: err instanceof Error ? err.message : String(err) }));
  finish(b, s, 1011, reason, false);
}

/**
 * @param {string} type
 * @param {Record<string, unknown>} fields
 */
function plainEvent(type, fields) {
  const e = new Event(type);
  for (const k of Object.keys(fields)) {
    Object.defineProperty(e, k, { value: fields[k], enumerable: true, configurable: true });
  }
  return e;
}

// ---- page life ------------------------------------------------------------

/**
 * online/offline, and the flush of the tail when the page is hidden or
 * leaves (pagehide; visibilitychange to hidden): keepalive POST.
 * @param {BatchSocket} b
 * @param {State} s
 */
function hook(b, s) {
  const g = /** @type {any} */ (globalThis);
  if (typeof g.addEventListener !== "function") return;
  s.hooks = {
    online: () => guard(b, s, () => ctl(s, CTL_ONLINE, 1, "")),
    offline: () => guard(b, s, () => ctl(s, CTL_ONLINE, 0, "")),
    pagehide: () => tail(s),
    visibilitychange: () => {
      if (typeof document === "object" && document.visibilityState === "hidden") tail(s);
    },
  };
  for (const [type, f] of Object.entries(s.hooks)) {
    (type === "visibilitychange" && typeof document === "object" ? document : g).addEventListener(type, f);
  }
}

/**
 * Runs f, turning an exception (an internal error of the module) into an
 * error event and CLOSED instead of an uncaught exception in a callback.
 * @param {BatchSocket} b
 * @param {State} s
 * @param {() => unknown} f
 */
function guard(b, s, f) {
  try {
    f();
  } catch (err) {
    fail(b, s, "internal error", err);
  }
}

/** @param {State} s */
function unhook(s) {
  const g = /** @type {any} */ (globalThis);
  for (const [type, f] of Object.entries(s.hooks)) {
    (type === "visibilitychange" && typeof document === "object" ? document : g).removeEventListener(type, f);
  }
  s.hooks = {};
}

/** @param {State} s */
function tail(s) {
  if (s.id === 0 || s.readyState !== OPEN && s.readyState !== CONNECTING) return;
  try {
    drain(s);
    ctl(s, CTL_TAIL, 0, "");
  } catch {
    // The page is going away; nothing to report to.
  }
}

// ---- the driver: browser I/O on Go's behalf (jsbind.BSDriver) ---------------

/**
 * @param {BatchSocket} b
 * @param {State} s
 */
function createDriver(b, s) {
  /** @type {Map<number, WebSocket>} */
  const sockets = new Map();
  /** @type {Map<number, AbortController>} */
  const posts = new Map();
  /** @type {Promise<IDBDatabase> | null} */
  let dbp = null;
  const sameOrigin = (/** @type {string} */ u) => typeof location === "object" && !!location && new URL(u).origin === location.origin;

  /**
   * @param {number} kind
   * @param {number} ref
   * @param {...unknown} args
   */
  const report = (kind, ref, ...args) => {
    if (s.id === 0) return;
    let r;
    try {
      r = /** @type {Record<string, any>} */ (s.raw).bsNet(s.id, kind, ref, ...args);
    } catch (err) {
      r = err;
    }
    if (r instanceof Error) fail(b, s, "internal error", r);
  };

  const db = () => {
    if (dbp === null) {
      dbp = new Promise((resolve, reject) => {
        if (typeof indexedDB !== "object" || !indexedDB) throw new Error("IndexedDB is not available");
        const rq = indexedDB.open("eventwire-batch:" + s.o.persist, 1);
        rq.onupgradeneeded = () => rq.result.createObjectStore("records");
        rq.onsuccess = () => resolve(rq.result);
        rq.onerror = () => reject(rq.error);
        rq.onblocked = () => reject(new Error("IndexedDB upgrade blocked"));
      });
    }
    return dbp;
  };

  return {
    /** @param {number} ref @param {string} url */
    dial(ref, url) {
      if (typeof WebSocket !== "function") return false;
      /** @type {WebSocket} */
      let ws;
      try {
        ws = new WebSocket(url, SUBPROTOCOL);
      } catch {
        return false;
      }
      ws.binaryType = "arraybuffer";
      ws.onopen = () => report(R_OPEN, ref);
      ws.onmessage = (e) => report(R_MESSAGE, ref, typeof e.data === "string" ? e.data : new Uint8Array(e.data));
      ws.onclose = (e) => {
        sockets.delete(ref);
        report(R_CLOSED, ref, e.code, e.reason, e.wasClean);
      };
      sockets.set(ref, ws);
      return true;
    },
    /** @param {number} ref @param {Uint8Array<ArrayBuffer>} frame reused by Go for the next frame @param {number} n */
    send(ref, frame, n) {
      const ws = sockets.get(ref);
      if (ws) ws.send(n === frame.length ? frame : frame.subarray(0, n)); // send copies it
    },
    /** @param {number} ref */
    buffered(ref) {
      const ws = sockets.get(ref);
      return ws ? ws.bufferedAmount : 0;
    },
    /** @param {number} ref @param {number} code @param {string} reason */
    close(ref, code, reason) {
      const ws = sockets.get(ref);
      if (!ws) return;
      sockets.delete(ref);
      ws.onopen = ws.onmessage = ws.onclose = null;
      try {
        ws.close(code, reason);
      } catch {
        ws.close();
      }
    },
    /** @param {number} ref @param {string} url @param {Uint8Array<ArrayBuffer>} body @param {boolean} keepalive */
    post(ref, url, body, keepalive) {
      /** @type {RequestInit} */
      const init = { method: "POST", body, cache: "no-store", credentials: s.o.withCredentials ? "include" : "same-origin", keepalive };
      // Cross-origin, no Content-Type: a CORS-safelisted request needs no
      // preflight, which keepalive requests may not be allowed (the server
      // reads the version byte, PROTOCOL.md §2.2).
      if (sameOrigin(url)) init.headers = { "Content-Type": CONTENT_TYPE };
      if (!keepalive) {
        const ctl = new AbortController();
        posts.set(ref, ctl);
        init.signal = ctl.signal;
      }
      const beacon = () => keepalive && typeof navigator === "object" && typeof navigator.sendBeacon === "function" && navigator.sendBeacon(url, body);
      /** @param {unknown} err */
      const failed = (err) => {
        posts.delete(ref);
        if (!beacon()) report(R_POSTED, ref, 0, null, err instanceof Error ? err.message : String(err));
      };
      let p;
      try {
        p = fetch(url, init);
      } catch (err) {
        queueMicrotask(() => failed(err));
        return;
      }
      p.then(
        (r) =>
          r.arrayBuffer().then((ab) => {
            if (!posts.delete(ref) && !keepalive) return; // aborted
            report(R_POSTED, ref, r.status, new Uint8Array(ab));
          }),
      ).catch(failed);
    },
    /** @param {number} ref */
    abort(ref) {
      const c = posts.get(ref);
      posts.delete(ref);
      if (c) c.abort();
    },
    load() {
      db()
        .then(
          (d) =>
            new Promise((resolve, reject) => {
              const tx = d.transaction("records", "readonly");
              const st = tx.objectStore("records");
              const keys = st.getAllKeys();
              const vals = st.getAll();
              tx.oncomplete = () => resolve(packRecords(/** @type {any[]} */ (keys.result), vals.result));
              tx.onerror = tx.onabort = () => reject(tx.error);
            }),
        )
        .then(
          (u8) => report(R_LOADED, 0, u8),
          (err) => report(R_LOADED, 0, null, err instanceof Error ? err.message : String(err)),
        );
    },
    /** @param {Uint8Array} u8 */
    write(u8) {
      db()
        .then(
          (d) =>
            new Promise((resolve, reject) => {
              const tx = d.transaction("records", "readwrite");
              applyWrite(tx.objectStore("records"), u8);
              tx.oncomplete = () => resolve(undefined);
              tx.onerror = tx.onabort = () => reject(tx.error);
            }),
        )
        .then(
          () => report(R_STORED, 0),
          (err) => report(R_STORED, 0, err instanceof Error ? err.message || "IndexedDB error" : String(err)),
        );
    },
  };
}

// ---- IndexedDB records (formats: wasm/batchsocket/store.go) -----------------
// Keys are [session as 32 hex digits, first sequence number]; a chunk's value
// is its Uint8Array, the floor record (first 0) a number.

const HEX = Array.from({ length: 256 }, (_, i) => (i < 16 ? "0" : "") + i.toString(16));

/** @param {Uint8Array} b @returns {string} */
function hex(b) {
  let h = "";
  for (let i = 0; i < 16; i++) h += HEX[b[i]];
  return h;
}

/**
 * @param {Uint8Array} u8
 * @param {number} at
 * @returns {[number, number]} value and the next offset
 */
function readUvarint(u8, at) {
  let v = 0;
  let mul = 1;
  for (;;) {
    const c = u8[at++];
    v += (c & 127) * mul;
    if (c < 128) return [v, at];
    mul *= 128;
  }
}

/**
 * @param {number[]} out
 * @param {number} v
 */
function pushUvarint(out, v) {
  while (v >= 128) {
    out.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/**
 * Packs loaded records for batchsocket.ParseSaved.
 * @param {any[]} keys
 * @param {any[]} vals
 * @returns {Uint8Array}
 */
export function packRecords(keys, vals) {
  /** @type {Uint8Array[]} */
  const parts = [];
  let size = 0;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (!Array.isArray(k) || typeof k[0] !== "string" || k[0].length !== 32 || typeof k[1] !== "number") continue;
    /** @type {number[]} */
    const head = [];
    for (let j = 0; j < 32; j += 2) head.push(parseInt(k[0].slice(j, j + 2), 16));
    pushUvarint(head, k[1]);
    /** @type {Uint8Array} */
    let data;
    if (k[1] === 0) {
      /** @type {number[]} */
      const f = [];
      pushUvarint(f, Number(vals[i]) || 0);
      data = new Uint8Array(f);
    } else if (vals[i] instanceof Uint8Array) {
      data = vals[i];
    } else continue;
    pushUvarint(head, data.length);
    parts.push(new Uint8Array(head), data);
    size += head.length + data.length;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Applies a write encoded by batchsocket.AppendWrite to an object store.
 * @param {{ put(v: any, k: any): unknown, delete(k: any): unknown }} st
 * @param {Uint8Array} u8
 */
export function applyWrite(st, u8) {
  const session = hex(u8);
  const flags = u8[16];
  let floor, below, first, size;
  let at = 17;
  [floor, at] = readUvarint(u8, at);
  [below, at] = readUvarint(u8, at);
  while (at < u8.length) {
    [first, at] = readUvarint(u8, at);
    [size, at] = readUvarint(u8, at);
    st.put(u8.slice(at, at + size), [session, first]);
    at += size;
  }
  if (below > 1) st.delete(IDBKeyRange.bound([session, 1], [session, below], false, true));
  if (flags & 1) st.put(floor, [session, 0]);
  if (flags & 2) st.delete(IDBKeyRange.bound([session, 0], [session, Infinity]));
}
