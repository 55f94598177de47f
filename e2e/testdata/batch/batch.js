// The BatchSocket test page. The Go test (e2e/batch_test.go) calls the
// functions of globalThis.bt and checks at the server's Sink what arrived;
// everything the page observes is kept in globalThis.state for failure
// messages.
//
// Messages are numbered from 1 in the order they are sent, which is their
// sequence number in the BatchSocket's session, so the Go side can say what
// each record must hold (batchMessage in batch_test.go): the text
// `${prefix}:${seq}:` padded with "x" to size bytes; every 10th message is
// sent as binary (the same bytes), alternately as an ArrayBuffer and as a
// Uint8Array view with an offset into a larger buffer.

const state = (globalThis.state = {
  phase: "loading",
  counts: {},
  events: [], // the last maxEvents events
  sent: 0,
  thrown: null,
});
const maxEvents = 200;

let BatchSocket;
try {
  const lib = await import("/dist/eventwire.js");
  BatchSocket = lib.BatchSocket;
  state.exports = Object.keys(lib);
  if (typeof BatchSocket !== "function") {
    state.importError = "dist/eventwire.js does not export BatchSocket (exports: " + state.exports.join(", ") + ")";
  }
} catch (e) {
  state.importError = String((e && e.stack) || e);
}

const encoder = new TextEncoder();

/** The text of message seq. */
function text(prefix, seq, size) {
  const s = `${prefix}:${seq}:`;
  return s.length >= size ? s : s + "x".repeat(size - s.length);
}

/** Message seq as send() gets it. */
function message(prefix, seq, size) {
  const s = text(prefix, seq, size);
  if (seq % 10 !== 0) return s;
  const bytes = encoder.encode(s);
  if (seq % 20 === 0) return bytes.buffer; // an ArrayBuffer
  const big = new Uint8Array(bytes.length + 16); // a view with an offset
  big.fill(0x2a);
  big.set(bytes, 7);
  return new Uint8Array(big.buffer, 7, bytes.length);
}

function describeError(e) {
  if (e == null) return null;
  return { name: e.name, message: String(e.message ?? e), constructor: e.constructor && e.constructor.name };
}

function record(type, e) {
  state.counts[type] = (state.counts[type] || 0) + 1;
  const r = { type, t: Math.round(performance.now()) };
  for (const k of ["code", "reason", "wasClean", "transport", "reconnecting", "message"]) {
    if (e[k] !== undefined && typeof e[k] !== "object" && typeof e[k] !== "function") r[k] = e[k];
  }
  if (e.error) r.error = describeError(e.error);
  if (type === "message") r.data = typeof e.data === "string" ? e.data.slice(0, 80) : `<${e.data && e.data.constructor.name}>`;
  state.events.push(r);
  if (state.events.length > maxEvents) state.events.splice(0, state.events.length - maxEvents);
}

let sock = null;

/** The socket's stats as a plain object. */
function stats() {
  if (!sock) return null;
  const s = sock.stats;
  const o = {};
  for (const k in s) {
    const v = s[k];
    if (typeof v !== "function" && typeof v !== "object") o[k] = v;
  }
  return o;
}

const bt = {
  /** Creates the socket (url: the ingest WebSocket URL of this origin by default). */
  open(opts = {}, url = `ws://${location.host}/ingest`) {
    if (!BatchSocket) throw new Error(state.importError || "no BatchSocket");
    sock = new BatchSocket(url, opts);
    globalThis.sock = sock;
    for (const type of ["open", "close", "error", "message"]) sock.addEventListener(type, (e) => record(type, e));
    state.phase = "open called";
    return true;
  },

  /**
   * Sends messages from..to (inclusive); stops at the first exception and
   * returns {sent, thrown}.
   */
  send(prefix, from, to, size = 0) {
    let seq = from;
    try {
      for (; seq <= to; seq++) {
        sock.send(message(prefix, seq, size));
        state.sent = seq;
      }
    } catch (e) {
      state.thrown = { seq, error: describeError(e) };
      return { sent: seq - from, thrown: state.thrown };
    }
    return { sent: to - from + 1, thrown: null };
  },

  /**
   * Starts sending total messages, perTick every tickMs, in the background;
   * then calls flush(). Progress and the outcome go to state.paced.
   */
  sendPaced(prefix, total, perTick, tickMs, size = 0) {
    const p = (state.paced = { sent: 0, done: false, flushed: false, error: null });
    let next = 1;
    const tick = () => {
      const to = Math.min(total, next + perTick - 1);
      const r = bt.send(prefix, next, to, size);
      p.sent += r.sent;
      next = to + 1;
      if (r.thrown) {
        p.error = r.thrown;
        return;
      }
      if (next <= total) {
        setTimeout(tick, tickMs);
        return;
      }
      p.done = true;
      sock.flush().then(
        () => {
          p.flushed = true;
          p.stats = stats();
        },
        (e) => (p.error = describeError(e)),
      );
    };
    setTimeout(tick, 0);
    return true;
  },

  /** flush(), resolved with the stats once everything sent is acknowledged. */
  async flush() {
    await sock.flush();
    return stats();
  },

  /** Starts flush() in the background; its outcome goes to state.flush. */
  flushLater() {
    const f = (state.flush = { done: false, error: null });
    sock.flush().then(
      () => {
        f.done = true;
        f.stats = stats();
      },
      (e) => (f.error = describeError(e)),
    );
    return true;
  },

  stats,

  close() {
    sock.close();
    return true;
  },

  /** What the page observed, for the test. */
  state() {
    return JSON.parse(JSON.stringify(state));
  },

  /**
   * Sends messages of size bytes in bursts of burst, yielding to the event
   * loop between bursts (so the socket writes and the WebSocket fills up),
   * until send() throws, or stats.dropped > 0 and then `after` more bursts,
   * or max messages. Records the largest bufferedAmount of the page's
   * WebSockets (see track-websockets.js). Resolves with what happened.
   */
  async fill(prefix, size, burst, max, after) {
    const r = { sent: 0, thrown: null, maxBuffered: 0, firstDropAt: 0, stats: null };
    let extra = -1;
    let seq = 1;
    while (seq <= max) {
      const out = bt.send(prefix, seq, Math.min(max, seq + burst - 1), size);
      seq += out.sent;
      r.sent += out.sent;
      for (const ws of globalThis.__sockets || []) r.maxBuffered = Math.max(r.maxBuffered, ws.bufferedAmount);
      if (out.thrown) {
        r.thrown = out.thrown;
        break;
      }
      const st = stats();
      if (extra < 0 && st.dropped > 0) {
        r.firstDropAt = r.sent;
        extra = after;
      }
      if (extra >= 0 && extra-- === 0) break;
      await new Promise((res) => setTimeout(res, 0));
    }
    // Let the socket write what it can before the final reading.
    await new Promise((res) => setTimeout(res, 100));
    for (const ws of globalThis.__sockets || []) r.maxBuffered = Math.max(r.maxBuffered, ws.bufferedAmount);
    r.stats = stats();
    state.fill = r;
    return r;
  },

  /** The bufferedAmount of every WebSocket the page created. */
  buffered() {
    return (globalThis.__sockets || []).map((ws) => ({ url: ws.url, readyState: ws.readyState, bufferedAmount: ws.bufferedAmount }));
  },

  /** Makes the document look hidden and fires visibilitychange, as a tab switch does. */
  hide() {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
    Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
    document.dispatchEvent(new Event("visibilitychange"));
    return true;
  },

  /** Counts the records of every IndexedDB database of the origin. */
  async idbCount() {
    let total = 0;
    const names = [];
    for (const info of await indexedDB.databases()) {
      names.push(info.name);
      const db = await new Promise((res, rej) => {
        const req = indexedDB.open(info.name);
        req.onsuccess = () => res(req.result);
        req.onerror = () => rej(req.error);
      });
      try {
        for (const store of db.objectStoreNames) {
          total += await new Promise((res, rej) => {
            const req = db.transaction(store, "readonly").objectStore(store).count();
            req.onsuccess = () => res(req.result);
            req.onerror = () => rej(req.error);
          });
        }
      } finally {
        db.close();
      }
    }
    return { total, names };
  },

  /**
   * Counts the messages persisted in IndexedDB, whatever the layout: every
   * binary value (ArrayBuffer or view) found in the records of every store
   * of every database of the origin is parsed as BATCH-framed messages
   * (PROTOCOL.md §5.6: a uvarint h, the length of a short text when under
   * 128, else 128 + (length << 1 | kind); then the data); values
   * that do not parse to the end count for nothing.
   */
  async idbMessages() {
    return (await bt.idbDump()).reduce((n, r) => n + r.messages, 0);
  },

  /**
   * Every record of every store of every IndexedDB database of the origin:
   * {db, store, key, type, messages}, where messages counts the messages
   * framed in the record's binary values (see idbMessages).
   */
  async idbDump() {
    const out = [];
    let total = 0;
    const countFramed = (u8) => {
      let i = 0;
      let n = 0;
      while (i < u8.length) {
        let v = 0;
        let mul = 1;
        for (;;) {
          if (i >= u8.length || mul > 2 ** 35) return 0;
          const b = u8[i++];
          v += (b & 0x7f) * mul;
          mul *= 128;
          if (b < 0x80) break;
        }
        i += v < 128 ? v : Math.floor((v - 128) / 2);
        if (i > u8.length) return 0;
        n++;
      }
      return n;
    };
    const walk = (v, depth) => {
      if (v == null || depth > 4) return;
      if (v instanceof ArrayBuffer) total += countFramed(new Uint8Array(v));
      else if (ArrayBuffer.isView(v)) total += countFramed(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      else if (Array.isArray(v)) v.forEach((x) => walk(x, depth + 1));
      else if (typeof v === "object") for (const k in v) walk(v[k], depth + 1);
    };
    for (const info of await indexedDB.databases()) {
      const db = await new Promise((res, rej) => {
        const req = indexedDB.open(info.name);
        req.onsuccess = () => res(req.result);
        req.onerror = () => rej(req.error);
      });
      try {
        for (const store of db.objectStoreNames) {
          const [keys, values] = await new Promise((res, rej) => {
            const tx = db.transaction(store, "readonly");
            const ks = tx.objectStore(store).getAllKeys();
            const vs = tx.objectStore(store).getAll();
            tx.oncomplete = () => res([ks.result, vs.result]);
            tx.onerror = tx.onabort = () => rej(tx.error);
          });
          values.forEach((v, i) => {
            total = 0;
            walk(v, 0);
            const type = v == null ? String(v) : typeof v === "object" ? v.constructor.name : typeof v;
            out.push({ db: info.name, store, key: JSON.stringify(keys[i]), type, messages: total });
          });
        }
      } finally {
        db.close();
      }
    }
    return out;
  },

  /** A plain WebSocket to url: resolves with what happened once it closed or after ms. */
  rawWebSocket(url, ms = 5000) {
    return new Promise((resolve) => {
      const r = { opened: false, error: false, close: null };
      let ws;
      try {
        ws = new WebSocket(url, "eventwire.batch");
      } catch (e) {
        resolve({ ...r, thrown: describeError(e) });
        return;
      }
      ws.onopen = () => (r.opened = true);
      ws.onerror = () => (r.error = true);
      ws.onclose = (e) => {
        r.close = { code: e.code, reason: e.reason, wasClean: e.wasClean };
        resolve(r);
      };
      setTimeout(() => resolve(r), ms);
    });
  },
};
globalThis.bt = bt;
state.phase = BatchSocket ? "ready" : "no BatchSocket";
