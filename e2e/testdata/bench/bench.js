// The in-page part of the browser benchmark (e2e/bench_test.go): the Go test
// calls globalThis.bench.* and reads the results. Nothing here asserts time.
import { loadLib, warmLib, open } from "/bench/contenders.js";

const state = (globalThis.state = { phase: "ready" });
const now = () => performance.now();

function streamURL(path, params) {
  params.r = Math.random().toString(36).slice(2); // no caching, no sharing
  return path + "?" + new URLSearchParams(params);
}

/**
 * Loads the contender's library and waits until it can connect at once.
 * opts.wasm: for eventwire, load the wasm from there (the profile uses a
 * build with function names).
 */
async function prepare(name, opts = {}) {
  try {
    const lib = await loadLib(name);
    if (opts.wasm && name.startsWith("eventwire")) await lib.load({ wasm: opts.wasm });
    await warmLib(name, lib);
    return { lib };
  } catch (e) {
    return { na: String(e && e.message ? e.message : e) };
  }
}

/**
 * Time from opening the stream to the last of n events of size bytes, which
 * the server writes as fast as it can.
 */
async function throughput(name, n, size, timeoutMs, opts = {}) {
  const { lib, na } = await prepare(name, opts);
  if (na) return { na };
  const stats = { batches: 0 };
  return new Promise((resolve) => {
    let count = 0;
    let close = () => {};
    let done = false;
    let timer = 0;
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      close();
      resolve({ ...r, count, batches: stats.batches });
    };
    const url = streamURL("/bench/stream", { n, size });
    const t0 = now();
    close = open(
      name, lib, url,
      (data) => {
        if (++count === n) {
          const ms = now() - t0;
          const seq = parseInt(data.slice(0, 8), 10);
          if (seq !== n - 1 || data.length !== size) {
            finish({ error: `last event: seq ${seq} length ${data.length}, want ${n - 1} and ${size}` });
          } else {
            finish({ ms });
          }
        }
      },
      (reason) => finish({ error: reason }),
      stats,
    );
    timer = setTimeout(() => finish({ error: `timeout after ${timeoutMs} ms` }), timeoutMs);
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/**
 * Patches ReadableStreamDefaultReader.prototype.read so that the time a
 * chunk of a fetch body reaches the page is known (it adds one microtask to
 * each read, so only diagnostic runs use it); returns the undo function.
 */
let chunkAt = 0;
function probeChunks() {
  const proto = ReadableStreamDefaultReader.prototype;
  const read = proto.read;
  proto.read = function () {
    return read.call(this).then((r) => {
      chunkAt = performance.now();
      return r;
    });
  };
  return () => {
    proto.read = read;
  };
}

/**
 * Delivery latency: the server sends n events, one every everyMs, each
 * stamped with its wall-clock send time in microseconds; the page takes
 * performance.timeOrigin + performance.now() when the event reaches its
 * listener. The first warm events are left out.
 *
 * opts.chunkProbe (diagnostics): also measure the time from the fetch
 * body's chunk reaching the page to the listener (the library's own work),
 * returned as c2lP50/c2lP99.
 */
async function latency(name, n, everyMs, warm, timeoutMs, opts = {}) {
  const { lib, na } = await prepare(name, opts);
  if (na) return { na };
  const stats = { batches: 0 };
  const lat = new Float64Array(n);
  const c2l = new Float64Array(n);
  const unprobe = opts.chunkProbe ? probeChunks() : () => {};
  return new Promise((resolve) => {
    let count = 0;
    let close = () => {};
    let done = false;
    let timer = 0;
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      close();
      unprobe();
      const s = Array.from(lat.subarray(warm, count)).sort((a, b) => a - b);
      const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
      const c = Array.from(c2l.subarray(warm, count)).sort((a, b) => a - b);
      resolve({ ...r, count, batches: stats.batches, samples: s.length, clockOffset: clockOffset(),
        p50: percentile(s, 50), p99: percentile(s, 99), min: s[0] ?? null, max: s[s.length - 1] ?? null, mean,
        c2lP50: opts.chunkProbe ? percentile(c, 50) : null, c2lP99: opts.chunkProbe ? percentile(c, 99) : null });
    };
    const url = streamURL("/bench/tick", { n, every: everyMs });
    close = open(
      name, lib, url,
      (data) => {
        const now = performance.now();
        const t = performance.timeOrigin + now;
        const sent = Number(data.slice(0, data.indexOf(" "))) / 1000;
        if (count < n) {
          lat[count] = t - sent;
          c2l[count] = now - chunkAt;
        }
        if (++count === n) finish({});
      },
      (reason) => finish({ error: reason }),
      stats,
    );
    timer = setTimeout(() => finish({ error: `timeout after ${timeoutMs} ms` }), timeoutMs);
  });
}

/**
 * The ceiling of spec-conformant delivery: create and dispatch n real
 * MessageEvents of size bytes on an EventTarget subclass with one listener,
 * with no network.
 */
function ceiling(n, size) {
  class Source extends EventTarget {}
  const src = new Source();
  let count = 0;
  let bytes = 0;
  src.addEventListener("message", (e) => {
    count++;
    bytes += e.data.length;
  });
  const data = "0".repeat(8) + " " + "x".repeat(size - 9);
  const origin = location.origin;
  const t0 = now();
  for (let i = 0; i < n; i++) {
    src.dispatchEvent(new MessageEvent("message", { data, origin, lastEventId: "" }));
  }
  const ms = now() - t0;
  return { ms, count, bytes };
}

/**
 * The offset of the wall clock (Date.now(), the clock the server stamps with)
 * from performance.timeOrigin + performance.now(), in ms: spin until Date.now()
 * ticks to the next millisecond and compare at that instant; the median of 21
 * (a preemption in the loop spoils a sample). Near 0 when the two agree (they
 * should, on one machine).
 */
function clockOffset() {
  const offsets = [];
  for (let i = 0; i < 21; i++) {
    const d0 = Date.now();
    let d = d0;
    let t = 0;
    while (d === d0) {
      t = performance.timeOrigin + performance.now();
      d = Date.now();
    }
    offsets.push(d - t);
  }
  offsets.sort((a, b) => a - b);
  return offsets[10];
}

/** What the Go side prints about the environment. */
async function info() {
  let browser = navigator.userAgent;
  try {
    const v = await navigator.userAgentData.getHighEntropyValues(["fullVersionList"]);
    const b = v.fullVersionList.find((x) => /Chrom/.test(x.brand));
    if (b) browser = `${b.brand} ${b.version}`;
  } catch {}
  return {
    userAgent: browser,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    clockOffsetMs: clockOffset(),
  };
}

globalThis.bench = { throughput, latency, ceiling, info, prepare };
