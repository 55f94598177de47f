// The BatchSocket benchmark page (e2e/batch_bench_test.go). For each measure
// the Go side calls prepare(kind, size) (connects and waits for the open
// event), reads the server's byte counter, calls run(n) (sends n messages
// and waits until the server acknowledged them all), reads the counter
// again, and calls finish().
//
//   kind "batchsocket": BatchSocket.send() n times, then flush().
//   kind "raw": a plain WebSocket, one message per frame, to /bench/raw,
//     whose server counts the messages and sends the count back (a
//     cumulative acknowledgement, coalesced); done when it reaches n.
//
// Both send the same strings: a pool of 1,024 distinct messages of size
// bytes, cycled.

const state = (globalThis.state = { phase: "loading" });

let BatchSocket;
try {
  ({ BatchSocket } = await import("/dist/eventwire.js"));
  if (typeof BatchSocket !== "function") state.importError = "dist/eventwire.js does not export BatchSocket";
} catch (e) {
  state.importError = String((e && e.stack) || e);
}

function pool(size) {
  const out = [];
  for (let i = 0; i < 1024; i++) {
    const s = `${i}:`;
    out.push(s + "x".repeat(Math.max(0, size - s.length)));
  }
  return out;
}

function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: timeout after ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

let cur = null;

const bench = {
  // Loads BatchSocket's module (eventwire-batch.wasm) from wasm (a build
  // with function names, for profiles) instead of the default; before the
  // first prepare.
  async load(wasm) {
    await BatchSocket.load({ wasm });
    return true;
  },

  async prepare(kind, size, opts = {}) {
    const msgs = pool(size);
    if (kind === "batchsocket") {
      const s = new BatchSocket(`ws://${location.host}/ingest`, opts);
      await withTimeout(
        new Promise((res, rej) => {
          s.addEventListener("open", res, { once: true });
          s.addEventListener("close", (e) => e.final && rej(new Error("closed: " + e.code)), { once: true });
        }),
        10000,
        "open",
      );
      cur = { kind, s, msgs };
    } else {
      const ws = new WebSocket(`ws://${location.host}/bench/raw`);
      await withTimeout(
        new Promise((res, rej) => {
          ws.onopen = res;
          ws.onerror = () => rej(new Error("raw WebSocket error"));
        }),
        10000,
        "open",
      );
      cur = { kind, ws, msgs, acked: 0, waiter: null };
      ws.onmessage = (e) => {
        cur.acked = Number(e.data);
        if (cur.waiter && cur.acked >= cur.waiter.n) cur.waiter.resolve();
      };
    }
    return true;
  },

  async run(n, timeoutMs) {
    const { msgs } = cur;
    if (cur.kind === "batchsocket") {
      const s = cur.s;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) s.send(msgs[i & 1023]);
      const t1 = performance.now();
      await withTimeout(s.flush(), timeoutMs, "flush");
      const t2 = performance.now();
      const st = {};
      for (const k in s.stats) if (typeof s.stats[k] !== "object") st[k] = s.stats[k];
      return { ms: t2 - t0, sendMs: t1 - t0, stats: st };
    }
    const ws = cur.ws;
    const done = new Promise((resolve) => (cur.waiter = { n, resolve }));
    const t0 = performance.now();
    for (let i = 0; i < n; i++) ws.send(msgs[i & 1023]);
    const t1 = performance.now();
    await withTimeout(done, timeoutMs, "ack");
    const t2 = performance.now();
    return { ms: t2 - t0, sendMs: t1 - t0, stats: { acked: cur.acked } };
  },

  finish() {
    if (cur && cur.s) cur.s.close();
    if (cur && cur.ws) cur.ws.close();
    cur = null;
    return true;
  },

  info() {
    return { userAgent: navigator.userAgent };
  },
};
globalThis.bench = bench;
state.phase = BatchSocket ? "ready" : "no BatchSocket";
