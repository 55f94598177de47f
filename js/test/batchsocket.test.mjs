// Tests of BatchSocket in node: the JS shell (js/src/batchsocket.js) with the
// real wasm and its driver, against an in-memory batch server behind fake
// WebSocket, fetch and IndexedDB globals (node 20 has none of WebSocket and
// IndexedDB). The wasm is EVENTWIRE_BATCH_WASM or dist/eventwire-batch.wasm
// (make build).
//
// The sources are bundled here with esbuild, as scripts/build.mjs does,
// because dist/eventwire.js exports BatchSocket only once index.js does.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";

const root = fileURLToPath(new URL("../../", import.meta.url));
const wasmPath = process.env.EVENTWIRE_BATCH_WASM || join(root, "dist", "eventwire-batch.wasm");

/** @type {any} */
let ew;
let tmp = "";
/** @type {any} the module BatchSocket.load() resolved with */
let batchModule;
let esLoads = 0; // how often the EventSource's module started loading

before(async () => {
  const goroot = execFileSync("go", ["env", "GOROOT"], { encoding: "utf8" }).trim();
  const wasmExec = readFileSync(join(goroot, "lib", "wasm", "wasm_exec.js"), "utf8");
  const pkg = JSON.parse(readFileSync(join(root, "js", "package.json"), "utf8"));
  // Go's wasm_exec.js as the module the loader imports (see scripts/build.mjs).
  const runtime = `export function loadGoRuntime() {
  const g = globalThis, names = ["Go", "fs", "process", "path"];
  const before = names.map((n) => Object.getOwnPropertyDescriptor(g, n));
  let fs;
  try {
${wasmExec.replace(/^"use strict";\s*$/m, "")}
    fs = g.fs;
    const globals = {};
    for (let i = 1; i < names.length; i++) if (!before[i]) globals[names[i]] = g[names[i]];
    return { Go: g.Go, globals };
  } finally {
    names.forEach((n, i) => { if (!before[i]) Reflect.deleteProperty(g, n); else Object.defineProperty(g, n, before[i]); });
  }
}`;
  const entry = `export { BatchSocket, QueueFullError, packRecords, applyWrite } from ${JSON.stringify(join(root, "js/src/batchsocket.js"))};
export { loader, batchLoader } from ${JSON.stringify(join(root, "js/src/instance.js"))};`;
  const out = await esbuild.build({
    stdin: { contents: entry, resolveDir: root, loader: "js" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    write: false,
    define: { __EVENTWIRE_VERSION__: JSON.stringify(pkg.version) },
    plugins: [
      {
        name: "go-wasm-exec",
        setup(b) {
          b.onResolve({ filter: /^go:wasm_exec$/ }, () => ({ path: "wasm_exec", namespace: "go" }));
          b.onLoad({ filter: /.*/, namespace: "go" }, () => ({ contents: runtime, loader: "js" }));
        },
      },
    ],
    logLevel: "warning",
  });
  tmp = mkdtempSync(join(tmpdir(), "batchsocket-test-"));
  writeFileSync(join(tmp, "bundle.mjs"), out.outputFiles[0].text);
  ew = await import(pathToFileURL(join(tmp, "bundle.mjs")).href);
  ew.batchLoader.setDefault(() => readFileSync(wasmPath));
  // BatchSocket must never need the EventSource's module: count its loads.
  ew.loader.setDefault(() => {
    esLoads++;
    return new Uint8Array(0);
  });
  batchModule = await ew.BatchSocket.load();
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// ---- the batch protocol, server side (protocol/batch/PROTOCOL.md) ----------

/** @param {Uint8Array} u8 @param {number} at @returns {[number, number]} */
function uvarint(u8, at) {
  let v = 0;
  let mul = 1;
  for (;;) {
    if (at >= u8.length) throw new Error("truncated uvarint");
    const c = u8[at++];
    v += (c & 127) * mul;
    if (c < 128) return [v, at];
    mul *= 128;
  }
}

/** @param {number[]} out @param {number} v */
function putUvarint(out, v) {
  while (v >= 128) {
    out.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

const ack = (/** @type {number} */ seq) => {
  const b = [1, 3];
  putUvarint(b, seq);
  return new Uint8Array(b);
};

/** A PUSH frame. @param {number} acked @param {number} first @param {(string | Uint8Array)[]} msgs */
function pushFrame(acked, first, msgs) {
  const b = [1, 4];
  putUvarint(b, acked);
  putUvarint(b, first);
  for (const m of msgs) {
    const bytes = typeof m === "string" ? new TextEncoder().encode(m) : m;
    // PROTOCOL.md §5.6: text under 128 bytes has the 1-byte short header.
    if (typeof m === "string" && bytes.length < 128) b.push(bytes.length);
    else putUvarint(b, 128 + bytes.length * 2 + (typeof m === "string" ? 0 : 1));
    b.push(...bytes);
  }
  return new Uint8Array(b);
}

const hexOf = (/** @type {Uint8Array} */ s) => Buffer.from(s).toString("hex");

/** The receiver's rule per session, whatever the transport; records deliveries. */
class Server {
  constructor() {
    /** @type {Map<string, number>} */
    this.last = new Map();
    /** @type {Map<string, (string | Uint8Array)[]>} */
    this.got = new Map();
    this.frames = [];
    this.ackEnabled = true;
    this.dups = 0;
  }
  /** @param {string} s */
  messages(s) {
    return this.got.get(s) || [];
  }
  all() {
    return [...this.got.values()].flat();
  }
  /** @param {Uint8Array} p @returns {Uint8Array | null} the reply */
  handle(p) {
    assert.equal(p[0], 1, "version");
    const type = p[1];
    this.frames.push(type);
    if (type === 3) {
      // ACK of PUSH messages
      this.pushAcks = (this.pushAcks || []).concat(uvarint(p, 2)[0]);
      return null;
    }
    const session = hexOf(p.subarray(2, 18));
    let at = 18;
    let acked;
    [acked, at] = uvarint(p, at);
    let last = Math.max(this.last.get(session) || 0, acked);
    if (type === 1) {
      // HELLO
      this.last.set(session, last);
      return ack(last);
    }
    assert.equal(type, 2, "BATCH");
    let first;
    [first, at] = uvarint(p, at);
    if (first <= last + 1) {
      for (let seq = first; at < p.length; seq++) {
        let h;
        [h, at] = uvarint(p, at);
        assert.ok(h < 128 || h - 128 >= 256 || (h - 128) % 2 === 1, "short text in a long header");
        const bin = h >= 128 && (h - 128) % 2 === 1;
        const size = h < 128 ? h : Math.floor((h - 128) / 2);
        const data = p.slice(at, at + size);
        at += size;
        if (seq <= last) {
          this.dups++;
          continue;
        }
        const list = this.got.get(session) || [];
        list.push(bin ? data : new TextDecoder().decode(data));
        this.got.set(session, list);
        last = seq;
      }
    }
    this.last.set(session, last);
    return this.ackEnabled ? ack(last) : null;
  }
}

// ---- fake browser globals -------------------------------------------------

/** @type {Server} */
let server = new Server();
/** @type {FakeWebSocket[]} */
let sockets = [];
let refuse = false; // WebSockets fail before opening

class FakeWebSocket {
  /** @param {string} url @param {string} protocol */
  constructor(url, protocol) {
    this.url = url;
    this.protocol = protocol;
    this.binaryType = "blob";
    this.bufferedAmount = 0;
    this.readyState = 0;
    /** @type {((e: any) => void) | null} */ this.onopen = null;
    /** @type {((e: any) => void) | null} */ this.onmessage = null;
    /** @type {((e: any) => void) | null} */ this.onclose = null;
    /** @type {((e: any) => void) | null} */ this.onerror = null;
    this.closedWith = null;
    sockets.push(this);
    setTimeout(() => {
      if (refuse) this.serverClose(1006, "");
      else {
        this.readyState = 1;
        this.onopen?.({});
      }
    }, 1);
  }
  /** @param {Uint8Array} data */
  send(data) {
    if (this.readyState !== 1) throw new DOMException("not open", "InvalidStateError");
    assert.ok(data instanceof Uint8Array);
    const reply = server.handle(data.slice());
    if (reply) setTimeout(() => this.readyState === 1 && this.onmessage?.({ data: reply.buffer }), 0);
  }
  /** @param {number} code @param {string} reason */
  close(code, reason) {
    this.closedWith = { code, reason };
    this.serverClose(code, reason);
  }
  /** @param {number} code @param {string} reason */
  serverClose(code, reason) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    setTimeout(() => this.onclose?.({ code, reason, wasClean: code !== 1006 }), 0);
  }
  /** @param {Uint8Array} frame */
  deliver(frame) {
    this.onmessage?.({ data: frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) });
  }
}

/** @type {{ url: string, keepalive: boolean, body: Uint8Array }[]} */
let posts = [];
/** @param {string} url @param {RequestInit} init */
async function fakeFetch(url, init) {
  const body = new Uint8Array(/** @type {Uint8Array} */ (init.body));
  posts.push({ url, keepalive: !!init.keepalive, body });
  await new Promise((r) => setTimeout(r, 1));
  if (init.signal?.aborted) throw new DOMException("aborted", "AbortError");
  const reply = server.handle(body);
  return new Response(reply || ack(0), { status: 200, headers: { "Content-Type": "application/vnd.eventwire.batch" } });
}

// A minimal IndexedDB: one object store per database, array keys [string, number].
/** @type {Map<string, Map<string, { key: [string, number], value: any }>>} */
const databases = new Map();
const keyString = (/** @type {[string, number]} */ k) => k[0] + ":" + String(k[1]).padStart(17, "0");
const fakeIDB = {
  /** @param {string} name */
  open(name) {
    const rq = /** @type {any} */ ({});
    setTimeout(() => {
      if (!databases.has(name)) {
        databases.set(name, new Map());
      }
      const recs = /** @type {Map<string, any>} */ (databases.get(name));
      rq.result = {
        transaction() {
          const tx = /** @type {any} */ ({});
          const ops = [];
          const store = {
            getAllKeys() {
              const r = /** @type {any} */ ({});
              ops.push(() => (r.result = [...recs.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v.key)));
              return r;
            },
            getAll() {
              const r = /** @type {any} */ ({});
              ops.push(() => (r.result = [...recs.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v.value)));
              return r;
            },
            put(/** @type {any} */ value, /** @type {[string, number]} */ key) {
              ops.push(() => recs.set(keyString(key), { key, value }));
            },
            delete(/** @type {{ lo: [string, number], hi: [string, number], hiOpen: boolean }} */ range) {
              ops.push(() => {
                for (const [k, v] of recs) {
                  const c = v.key;
                  const geLo = c[0] > range.lo[0] || (c[0] === range.lo[0] && c[1] >= range.lo[1]);
                  const leHi = c[0] < range.hi[0] || (c[0] === range.hi[0] && (range.hiOpen ? c[1] < range.hi[1] : c[1] <= range.hi[1]));
                  if (geLo && leHi) recs.delete(k);
                }
              });
            },
          };
          tx.objectStore = () => store;
          setTimeout(() => {
            for (const op of ops) op();
            tx.oncomplete?.();
          }, 1);
          return tx;
        },
      };
      rq.onsuccess?.();
    }, 1);
    return rq;
  },
};
const fakeKeyRange = {
  /** @param {any} lo @param {any} hi @param {boolean} loOpen @param {boolean} hiOpen */
  bound(lo, hi, loOpen, hiOpen) {
    return { lo, hi, loOpen, hiOpen };
  },
};

globalThis.WebSocket = /** @type {any} */ (FakeWebSocket);
globalThis.fetch = /** @type {any} */ (fakeFetch);
globalThis.indexedDB = /** @type {any} */ (fakeIDB);
globalThis.IDBKeyRange = /** @type {any} */ (fakeKeyRange);

function reset() {
  server = new Server();
  sockets = [];
  posts = [];
  refuse = false;
  globalThis.WebSocket = /** @type {any} */ (FakeWebSocket);
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
/** @param {() => boolean} cond */
async function until(cond, what = "condition", ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await tick(2);
  }
}

/** @param {any} b @param {string} type */
const events = (b, type) => {
  /** @type {any[]} */
  const list = [];
  b.addEventListener(type, (/** @type {any} */ e) => list.push(e));
  return list;
};

// ---- tests ------------------------------------------------------------------

test("BatchSocket.load() resolves with eventwire-batch.wasm's module; eventwire.wasm is never loaded", async () => {
  assert.equal(batchModule.version, JSON.parse(readFileSync(join(root, "js", "package.json"), "utf8")).version);
  assert.equal(batchModule.echo("ab"), "ba");
  assert.equal(await ew.BatchSocket.load(), batchModule);
  await assert.rejects(
    ew.BatchSocket.load({ wasm: new Uint8Array(8) }),
    /BatchSocket\.load\(\{ wasm \}\) was called after eventwire-batch\.wasm had started loading/,
  );
  reset();
  const b = new ew.BatchSocket("ws://example.test/ingest");
  await until(() => b.readyState === 1, "open");
  b.close();
  assert.equal(esLoads, 0, "a BatchSocket started loading eventwire.wasm");
});

test("messages of every kind arrive once, in order; flush resolves after the ACK", async () => {
  reset();
  const b = new ew.BatchSocket("ws://example.test/ingest");
  assert.equal(b.url, "ws://example.test/ingest");
  assert.equal(b.fallbackUrl, "http://example.test/ingest");
  assert.equal(b.readyState, ew.BatchSocket.CONNECTING);
  const opens = events(b, "open");
  const sent = [
    "",
    "hello",
    "x".repeat(63),
    "x".repeat(64),
    "x".repeat(127), // the longest 1-byte header
    "x".repeat(128), // the shortest 2-byte one
    "é".repeat(64), // 128 bytes: the header grows from 1 to 2 bytes
    "é".repeat(63) + "x", // 127 bytes: it does not
    "日".repeat(2709), // 8,127 bytes: 2-byte header, reserved as such
    "日".repeat(2709) + "x", // 8,128 bytes: the header grows from 2 to 3 bytes
    "a😀b",
    "日本語".repeat(3000), // over 8 KiB of UTF-8
    "lone \ud800 surrogate",
  ];
  for (const m of sent) b.send(m);
  b.send(new Uint8Array([1, 2, 3]).buffer);
  b.send(new Uint16Array([0x0102, 0x0304]));
  b.send(new DataView(new Uint8Array([9, 8, 7, 6]).buffer, 1, 2));
  b.send(new Uint8Array(0));
  b.send(new Uint8Array(127).fill(1)); // binary: 2-byte headers below 8,128 bytes
  b.send(new Uint8Array(8127).fill(2));
  b.send(new Uint8Array(8128).fill(3)); // 3 bytes
  await b.flush();
  assert.equal(b.readyState, ew.BatchSocket.OPEN);
  assert.equal(opens.length, 1);
  assert.equal(opens[0].transport, "websocket");
  assert.equal(b.transport, "websocket");
  assert.equal(sockets[0].protocol, "eventwire.batch");
  const got = server.all();
  assert.deepEqual(
    got.slice(0, sent.length),
    sent.map((m) => m.replace("\ud800", "\ufffd")),
  );
  assert.deepEqual(
    got.slice(sent.length).map((x) => [...x]),
    [
      [1, 2, 3],
      [...new Uint8Array(new Uint16Array([0x0102, 0x0304]).buffer)],
      [8, 7],
      [],
      Array(127).fill(1),
      Array(8127).fill(2),
      Array(8128).fill(3),
    ],
  );
  const st = b.stats;
  assert.equal(st.acked, got.length);
  assert.equal(st.inFlight, 0);
  assert.equal(st.queued, 0);
  assert.equal(st.dropped, 0);
  assert.equal(st.transport, "websocket");
  assert.ok(st.batches >= 1 && st.bytes > 0);
  b.close();
});

test("short strings, encoded per batch, keep their order among other messages; non-ASCII ones too", async () => {
  reset();
  const b = new ew.BatchSocket("ws://example.test/ingest", { batchDelay: 1000 });
  await until(() => b.readyState === 1, "open");
  const bin = new Uint8Array([7, 7]);
  /** @type {(string | Uint8Array)[]} */
  const sent = ["a", bin, "b", "ç", "x".repeat(127), "y".repeat(128), "", "日本", bin, "z", "\ud83d", "end"];
  for (const m of sent) b.send(m);
  // Pending: the ASCII ones count their exact bytes before they are encoded.
  assert.equal(b.stats.queued, sent.length);
  await b.flush();
  assert.deepEqual(
    server.all().map((x) => (typeof x === "string" ? x : [...x])),
    sent.map((m) => (typeof m === "string" ? m.replace("\ud83d", "\ufffd") : [...m])),
  );
  // All ASCII: one batch of exact bytes.
  for (let i = 0; i < 300; i++) b.send("m" + i);
  assert.equal(b.stats.queuedBytes, [...Array(300).keys()].reduce((n, i) => n + 2 + String(i).length, 0));
  await b.flush();
  assert.deepEqual(server.all().slice(sent.length), [...Array(300).keys()].map((i) => "m" + i));
  b.close();
});

test("batching by count, by size and by delay; one frame per batch", async () => {
  reset();
  const b = new ew.BatchSocket("ws://example.test/ingest", { batchCount: 10, batchBytes: 100, batchDelay: 30 });
  await until(() => b.readyState === 1, "open");
  for (let i = 0; i < 25; i++) b.send("m" + String(i).padStart(2, "0")); // 4 bytes each
  await tick(2);
  // Two batches of 10 by count went at once; 5 wait for the delay.
  assert.equal(server.all().length, 20);
  await until(() => server.all().length === 25, "the delayed batch");
  const before = server.frames.filter((t) => t === 2).length;
  for (let i = 0; i < 3; i++) b.send("y".repeat(40)); // 41 bytes each: the third would go over 100
  await until(() => server.all().length === 27, "size trigger");
  await b.flush();
  assert.equal(server.all().length, 28);
  assert.equal(server.frames.filter((t) => t === 2).length - before, 2);
  b.close();
});

test("the server's messages arrive as MessageEvents, once, and are acknowledged", async () => {
  reset();
  const b = new ew.BatchSocket("ws://example.test/ingest");
  const msgs = events(b, "message");
  /** @type {any[]} */
  const viaHandler = [];
  b.onmessage = (/** @type {any} */ e) => viaHandler.push(e.data);
  await until(() => b.readyState === 1, "open");
  const ws = sockets[0];
  ws.deliver(pushFrame(0, 1, ["a", new Uint8Array([5, 6])]));
  ws.deliver(pushFrame(0, 2, [new Uint8Array([5, 6]), "c"])); // resent prefix
  await until(() => msgs.length === 3, "messages");
  assert.deepEqual(
    msgs.map((e) => (typeof e.data === "string" ? e.data : [...new Uint8Array(e.data)])),
    ["a", [5, 6], "c"],
  );
  assert.equal(msgs[0].origin, "ws://example.test");
  assert.equal(viaHandler.length, 3);
  assert.deepEqual(/** @type {any} */ (server).pushAcks, [2, 3]);
  b.close();
});

test("reconnects after a cut and resends what was not acknowledged, exactly once", async () => {
  reset();
  const b = new ew.BatchSocket("ws://example.test/ingest", { reconnectDelay: 5, batchCount: 7 });
  const closes = events(b, "close");
  await until(() => b.readyState === 1, "open");
  server.ackEnabled = false;
  for (let i = 0; i < 50; i++) b.send("m" + i);
  await tick(5);
  sockets[0].serverClose(1006, "");
  await until(() => closes.length === 1, "close event");
  assert.equal(closes[0].reconnecting, true);
  assert.equal(b.readyState, 0);
  server.ackEnabled = true;
  for (let i = 50; i < 60; i++) b.send("m" + i);
  await b.flush();
  assert.deepEqual(
    server.all(),
    Array.from({ length: 60 }, (_, i) => "m" + i),
  );
  assert.ok(server.dups >= 0);
  assert.equal(b.stats.reconnects, 1);
  b.close();
});

test("queue full: reject throws QueueFullError, drop-oldest drops and counts", async () => {
  reset();
  refuse = true; // never connects
  const b = new ew.BatchSocket("ws://example.test/ingest", { maxQueueBytes: 1000, transport: "websocket", reconnectDelay: 10000 });
  let thrown = null;
  let n = 0;
  try {
    for (; n < 1000; n++) b.send("x".repeat(20));
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof ew.QueueFullError, String(thrown));
  assert.ok(thrown instanceof ew.BatchSocket.QueueFullError);
  assert.equal(thrown.name, "QueueFullError");
  assert.ok(n >= 40 && n < 50, `accepted ${n}`);
  assert.ok(b.stats.queuedBytes <= 1000);
  b.close();

  const d = new ew.BatchSocket("ws://example.test/ingest", { maxQueueBytes: 1000, queuePolicy: "drop-oldest", transport: "websocket", reconnectDelay: 10000 });
  await tick(20); // the module runs: the oldest are in Go
  for (let i = 0; i < 500; i++) d.send("y".repeat(20));
  await tick(80);
  for (let i = 0; i < 500; i++) d.send("z".repeat(20));
  const st = d.stats;
  assert.ok(st.queuedBytes <= 1000, `queuedBytes ${st.queuedBytes}`);
  assert.equal(st.dropped + st.queued + st.inFlight, 1000);
  assert.ok(st.dropped >= 950, `dropped ${st.dropped}`);
  d.close();
});

test("drop-oldest keeps order and exactly-once for what is left", async () => {
  reset();
  server.ackEnabled = false;
  const b = new ew.BatchSocket("ws://example.test/ingest", { maxQueueBytes: 2000, queuePolicy: "drop-oldest", reconnectDelay: 5 });
  await until(() => b.readyState === 1, "open");
  for (let i = 0; i < 600; i++) b.send("m" + String(i).padStart(3, "0"));
  await tick(80);
  sockets[0].serverClose(1006, "");
  server.ackEnabled = true;
  await b.flush();
  const got = server.all();
  const dropped = b.stats.dropped;
  assert.ok(dropped > 0);
  // What arrived is increasing and without duplicates; the last ones are there.
  const idx = got.map((m) => Number(String(m).slice(1)));
  for (let i = 1; i < idx.length; i++) assert.ok(idx[i] > idx[i - 1]);
  assert.equal(idx[idx.length - 1], 599);
  b.close();
});

test("no WebSocket: everything goes by POST to the fallback URL", async () => {
  reset();
  globalThis.WebSocket = /** @type {any} */ (undefined);
  const b = new ew.BatchSocket("wss://example.test/ingest", { fallbackUrl: "https://other.test/post" });
  const opens = events(b, "open");
  for (let i = 0; i < 30; i++) b.send("h" + i);
  await b.flush();
  assert.deepEqual(
    server.all(),
    Array.from({ length: 30 }, (_, i) => "h" + i),
  );
  assert.equal(opens[0].transport, "http");
  assert.equal(b.transport, "http");
  assert.ok(posts.every((p) => p.url === "https://other.test/post" && !p.keepalive));
  b.close();
});

test("a WebSocket that never opens falls back to HTTP", async () => {
  reset();
  refuse = true;
  const b = new ew.BatchSocket("ws://example.test/ingest", { reconnectDelay: 5 });
  const errors = events(b, "error");
  b.send("a");
  await b.flush();
  assert.deepEqual(server.all(), ["a"]);
  assert.equal(b.transport, "http");
  assert.equal(errors.length, 2);
  assert.equal(errors[0].reason, "connect failed");
  b.close();
});

test("close(): final close event, unacknowledged flush rejects, send throws", async () => {
  reset();
  server.ackEnabled = false;
  const b = new ew.BatchSocket("ws://example.test/ingest");
  const closes = events(b, "close");
  await until(() => b.readyState === 1, "open");
  b.send("x");
  const f = b.flush();
  b.close(4000, "bye");
  assert.equal(b.readyState, ew.BatchSocket.CLOSED); // Go closed at once; the event follows
  await assert.rejects(f, (e) => e instanceof DOMException && e.name === "AbortError");
  assert.equal(b.readyState, ew.BatchSocket.CLOSED);
  await tick();
  assert.equal(closes.length, 1);
  assert.equal(closes[0].code, 4000);
  assert.equal(closes[0].reason, "bye");
  assert.equal(closes[0].reconnecting, false);
  assert.deepEqual(sockets[0].closedWith, { code: 4000, reason: "bye" });
  assert.throws(() => b.send("y"), (e) => e instanceof DOMException && e.name === "InvalidStateError");
  assert.throws(() => b.close(1001), (e) => e instanceof DOMException && e.name === "InvalidAccessError");
  await assert.rejects(b.flush());
});

test("bad arguments", () => {
  assert.throws(() => new ew.BatchSocket("ftp://x/"), (e) => e instanceof DOMException && e.name === "SyntaxError");
  assert.throws(() => new ew.BatchSocket("ws://x/", { queuePolicy: "nope" }), TypeError);
  assert.throws(() => new ew.BatchSocket("ws://x/", { batchBytes: -1 }), RangeError);
  const b = new ew.BatchSocket("ws://x/", { maxMessageSize: 10 });
  assert.throws(() => b.send("x".repeat(11)), RangeError);
  assert.throws(() => b.send(new Uint8Array(11)), RangeError);
  assert.throws(() => b.send(/** @type {any} */ (42)), TypeError);
  b.send("x".repeat(10));
  b.close();
});

test("persistence: unacknowledged messages of a page are sent by the next one, once", async () => {
  reset();
  server.ackEnabled = false; // the server receives but never acknowledges
  const a = new ew.BatchSocket("ws://example.test/ingest", { persist: "test", batchDelay: 0 });
  await until(() => a.readyState === 1, "open");
  for (let i = 0; i < 20; i++) a.send("p" + i);
  await tick(30);
  const db = databases.get("eventwire-batch:test");
  assert.ok(db && db.size >= 1, "persisted");
  // The "crashed" page's socket goes quiet (it would be gone).
  globalThis.WebSocket = /** @type {any} */ (undefined);
  sockets[0].onmessage = sockets[0].onclose = null;
  const sessionA = [...server.got.keys()][0];
  assert.equal(server.messages(sessionA).length, 20);

  // The next page: its own session; page A's goes again by POST.
  server.ackEnabled = true;
  const b = new ew.BatchSocket("ws://example.test/ingest", { persist: "test" });
  await until(() => posts.length >= 2 && [...(db?.keys() || [])].every((k) => !k.startsWith(sessionA)), "resend and cleanup");
  assert.equal(server.messages(sessionA).length, 20); // once: deduplicated
  b.close();
  a.close();
});

test("the driver's record formats match Go's (ParseSaved / AppendWrite)", () => {
  const keys = [
    ["000102030405060708090a0b0c0d0e0f", 0],
    ["000102030405060708090a0b0c0d0e0f", 5],
  ];
  const u8 = ew.packRecords(keys, [4, new Uint8Array([2, 0x61])]);
  assert.deepEqual(
    [...u8],
    [...Array.from({ length: 16 }, (_, i) => i), 0, 1, 4, ...Array.from({ length: 16 }, (_, i) => i), 5, 2, 2, 0x61],
  );
  /** @type {any[]} */
  const ops = [];
  const st = { put: (/** @type {any} */ v, /** @type {any} */ k) => ops.push(["put", k, v instanceof Uint8Array ? [...v] : v]), delete: (/** @type {any} */ r) => ops.push(["delete", r]) };
  // Session 0..15, flags 3, floor 4, below 200, one put of first 5.
  ew.applyWrite(st, new Uint8Array([...Array.from({ length: 16 }, (_, i) => i), 3, 4, 0xc8, 0x01, 5, 2, 2, 0x61]));
  const s = "000102030405060708090a0b0c0d0e0f";
  assert.deepEqual(ops, [
    ["put", [s, 5], [2, 0x61]],
    ["delete", { lo: [s, 1], hi: [s, 200], loOpen: false, hiOpen: true }],
    ["put", [s, 0], 4],
    ["delete", { lo: [s, 0], hi: [s, Infinity], loOpen: undefined, hiOpen: undefined }],
  ]);
});

test("no BatchSocket of this file loaded eventwire.wasm", () => {
  assert.equal(esLoads, 0);
});
