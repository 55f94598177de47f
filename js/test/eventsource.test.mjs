// Tests of EventSource from dist/eventwire.js in node (after make build): node
// has fetch with ReadableStream bodies, EventTarget, MessageEvent and
// DOMException, like a worker. XHR streaming is covered in Chromium (e2e).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { dist } from "./server.mjs";
import { sseServer, stream } from "./sse-server.mjs";

const ew = await import("../../dist/eventwire.js");
const { EventSource } = ew;

let srv;
before(async () => {
  srv = await sseServer();
  await ew.load({ wasm: await readFile(join(dist, "eventwire.wasm")) });
});
after(() => srv.close());

/** Records the events of es: "open", "error:<state>:<reason>", "<type>:<data>:<id>". */
function record(es, types = ["message"]) {
  const log = [];
  const waiters = [];
  const push = (x) => {
    log.push(x);
    for (const w of [...waiters]) w();
  };
  es.addEventListener("open", () => push("open"));
  es.addEventListener("error", (e) => push(`error:${es.readyState}:${e.reason}`));
  for (const t of types) es.addEventListener(t, (e) => push(`${e.type}:${e.data}:${e.lastEventId}`));
  /** Resolves once pred(log) holds. */
  const until = (pred, ms = 8000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (pred(log)) {
          waiters.splice(waiters.indexOf(check), 1);
          clearTimeout(t);
          resolve(log);
        }
      };
      const t = setTimeout(() => {
        waiters.splice(waiters.indexOf(check), 1);
        reject(new Error("timeout; log: " + JSON.stringify(log)));
      }, ms);
      waiters.push(check);
      check();
    });
  Object.defineProperty(log, "until", { value: until });
  Object.defineProperty(log, "count", { value: (n) => until((l) => l.length >= n) });
  return log;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test("the interface", () => {
  assert.equal(EventSource.CONNECTING, 0);
  assert.equal(EventSource.OPEN, 1);
  assert.equal(EventSource.CLOSED, 2);
  assert.equal(EventSource.prototype.CLOSED, 2);
  assert.ok(EventSource.prototype instanceof EventTarget);
  assert.throws(() => EventSource(srv.url), TypeError);
  assert.throws(() => new EventSource(), TypeError);
  assert.throws(
    () => new EventSource("http://[bad"),
    (e) => e instanceof DOMException && e.name === "SyntaxError",
  );
  assert.throws(() => new EventSource(srv.url, 5), TypeError);
  assert.throws(() => new EventSource(srv.url, { transport: "carrier-pigeon" }), TypeError);
  assert.throws(() => new EventSource(srv.url, { body: "x" }), TypeError);
  assert.throws(() => new EventSource(srv.url, { headers: { "X-A": "a\nb" } }), TypeError);
  assert.throws(() => Object.getOwnPropertyDescriptor(EventSource.prototype, "readyState").get.call({}), TypeError);
  const es = new EventSource(new URL("/x?a=1#f", srv.url), { withCredentials: 1 });
  assert.equal(es.url, srv.url + "x?a=1#f");
  assert.equal(es.withCredentials, true);
  assert.equal(es.readyState, 0);
  assert.equal(es.onmessage, null);
  assert.equal(Object.prototype.toString.call(es), "[object EventSource]");
  es.close();
  assert.equal(es.readyState, 2);
});

test("events: MessageEvents with data, origin and lastEventId; named events; onmessage", async () => {
  srv.route("/basic", (req, res) => {
    stream(res);
    res.write(": ok\n\nid: 1\ndata: a\ndata: b\n\nevent: tick\ndata: t\n\ndata: é👋\n\nid\ndata: noid\n\n");
  });
  const es = new EventSource(srv.url + "basic");
  const log = record(es, ["message", "tick"]);
  const seen = [];
  es.onmessage = (e) => seen.push(e);
  await log.count(5);
  assert.deepEqual(log, ["open", "message:a\nb:1", "tick:t:1", "message:é👋:1", "message:noid:"]);
  assert.equal(seen.length, 3);
  const e = seen[0];
  assert.ok(e instanceof MessageEvent);
  assert.equal(e.origin, srv.origin);
  assert.equal(e.type, "message");
  assert.equal(e.bubbles, false);
  assert.equal(e.cancelable, false);
  assert.equal(e.target, es);
  assert.equal(es.readyState, 1);
  es.close();
  assert.equal(es.readyState, 2);
});

test("request: Accept, no-store, credentials; a non-http(s) URL fails", async () => {
  srv.route("/req", (req, res) => {
    stream(res);
    res.write("data: x\n\n");
  });
  const es = new EventSource(srv.url + "req");
  const log = record(es);
  await log.count(2);
  es.close();
  const r = srv.requests.findLast((x) => x.path === "/req");
  assert.equal(r.headers.accept, "text/event-stream");
  assert.equal(r.headers["last-event-id"], undefined);

  const bad = new EventSource("ftp://127.0.0.1/x");
  const blog = record(bad);
  await blog.count(1);
  assert.deepEqual(blog, ["error:2:unsupported URL scheme"]);
});

test("reconnects after the end of the stream with Last-Event-ID, honouring retry", async () => {
  srv.route("/reconnect", (req, res, n) => {
    stream(res);
    if (n === 1) res.end("retry: 50\nid: 7\ndata: one\n\ndata: partial");
    else res.write(`data: again ${req.headers["last-event-id"]}\n\n`);
  });
  const es = new EventSource(srv.url + "reconnect");
  const log = record(es);
  await log.count(5);
  es.close();
  assert.deepEqual(log, ["open", "message:one:7", "error:0:end of stream", "open", "message:again 7:7"]);
});

for (const [name, status, type] of [
  ["204", 204, "text/event-stream"],
  ["500", 500, "text/event-stream"],
  ["content type", 200, "text/plain"],
]) {
  test(`fails for good on ${name}, with status and headers`, async () => {
    srv.route("/fail", (req, res) => {
      res.writeHead(status, { "Content-Type": type, "X-Why": "test" });
      res.end(status === 204 ? undefined : "data: no\n\n");
    });
    const es = new EventSource(srv.url + "fail");
    let ev;
    es.onerror = (e) => (ev = e);
    const log = record(es);
    await log.count(1);
    await sleep(50);
    assert.equal(log.length, 1);
    assert.equal(es.readyState, 2);
    assert.equal(ev.status, status);
    assert.equal(ev.reason, status === 200 ? "bad content type" : "bad status");
    assert.equal(ev.headers.get("x-why"), "test");
    assert.ok(!(ev instanceof MessageEvent));
  });
}

test("content type with parameters and any case; charset ignored (always UTF-8)", async () => {
  srv.route("/ctype", (req, res) => {
    res.writeHead(200, { "Content-Type": "Text/Event-Stream; charset=iso-8859-1" });
    res.write(Buffer.from("data: \xc3\xa9\n\n", "latin1"));
  });
  const es = new EventSource(srv.url + "ctype");
  const log = record(es);
  await log.count(2);
  es.close();
  assert.deepEqual(log, ["open", "message:é:"]);
});

test("headers (object and async function), method, body, lastEventIdParam", async () => {
  srv.route("/hdr", (req, res, n) => {
    stream(res);
    if (n === 1) res.end("id: 42\ndata: first\n\nretry: 10\n\n");
    else res.write("data: second\n\n");
  });
  let calls = 0;
  const es = new EventSource(srv.url + "hdr?x=1", {
    headers: async () => {
      calls++;
      return { Authorization: `Bearer t${calls}`, "Last-Event-ID": "ignored" };
    },
    method: "post",
    body: "payload",
    lastEventIdParam: "lastId",
  });
  const log = record(es);
  await log.count(5);
  es.close();
  const rs = srv.requests.filter((x) => x.path === "/hdr");
  assert.equal(rs.length, 2);
  assert.equal(rs[0].method, "POST");
  assert.equal(rs[0].body, "payload");
  assert.equal(rs[0].headers.authorization, "Bearer t1");
  assert.equal(rs[0].headers["last-event-id"], undefined);
  assert.equal(rs[0].url, "/hdr?x=1");
  assert.equal(rs[1].headers.authorization, "Bearer t2");
  assert.equal(rs[1].headers["last-event-id"], "42");
  assert.equal(rs[1].url, "/hdr?x=1&lastId=42");

  const es2 = new EventSource(srv.url + "hdr", { headers: { "X-Static": "s" } });
  const log2 = record(es2);
  await log2.count(2);
  es2.close();
  assert.equal(srv.requests.findLast((x) => x.path === "/hdr").headers["x-static"], "s");
});

test("a failing headers function: error with reason, backoff, retry", async () => {
  srv.route("/hfail", (req, res) => {
    stream(res);
    res.write("data: ok\n\n");
  });
  let n = 0;
  const es = new EventSource(srv.url + "hfail", {
    headers: () => {
      if (++n === 1) throw new Error("token expired");
      return [["X-N", String(n)]];
    },
    retryMaxDelay: 0,
  });
  const log = record(es);
  await log.count(3);
  es.close();
  assert.deepEqual(log, ["error:0:headers callback failed", "open", "message:ok:"]);
}, { timeout: 10000 });

test("long-polling: polls without error events, last id as header and parameter", async () => {
  srv.route("/poll", (req, res, n) => {
    const u = new URL(req.url, "http://x");
    assert.equal(u.searchParams.get("transport"), "longpoll");
    stream(res);
    if (n <= 3) res.end(`id: ${n}\ndata: poll ${n} after ${req.headers["last-event-id"]} ${u.searchParams.get("lastEventId")}\n\n`);
    else setTimeout(() => res.end(), 2000);
  });
  const es = new EventSource(srv.url + "poll", { transport: "longpoll", lastEventIdParam: "lastEventId" });
  const log = record(es);
  await log.count(4);
  es.close();
  assert.deepEqual(log, [
    "open",
    "message:poll 1 after undefined null:1",
    "message:poll 2 after 1 1:2",
    "message:poll 3 after 2 2:3",
  ]);
});

test("auto: a stream that delivers nothing switches to long-polling for good", async () => {
  srv.route("/buffered", (req, res) => {
    const u = new URL(req.url, "http://x");
    stream(res);
    if (u.searchParams.get("transport") === "longpoll") res.end("data: polled\n\n");
    // else: headers only, no first flush (a buffering proxy)
  });
  const es = new EventSource(srv.url + "buffered", { bufferingTimeout: 200 });
  const log = record(es);
  await log.count(3);
  es.close();
  assert.deepEqual(log.slice(0, 3), ["open", "message:polled:", "message:polled:"]);
  const rs = srv.requests.filter((x) => x.path === "/buffered");
  assert.ok(!rs[0].url.includes("longpoll"));
  assert.ok(rs.slice(1).every((r) => r.url.includes("transport=longpoll")));
});

test("heartbeatTimeout: an idle stream reconnects with reason heartbeat timeout", async () => {
  srv.route("/idle", (req, res) => {
    stream(res);
    res.write("retry: 20\n: ok\n\ndata: x\n\n");
  });
  const es = new EventSource(srv.url + "idle", { heartbeatTimeout: 150, retryMaxDelay: 0 });
  const log = record(es);
  await log.count(4);
  es.close();
  assert.deepEqual(log.slice(0, 4), ["open", "message:x:", "error:0:heartbeat timeout", "open"]);
});

test("onbatch once per chunk, before DOM dispatch; dispatchEvents: false", async () => {
  srv.route("/batch", (req, res) => {
    stream(res);
    res.write("data: 1\n\nevent: e\ndata: 2\n\nid: 3\ndata: 3\n\n");
  });
  const order = [];
  const batches = [];
  const es = new EventSource(srv.url + "batch", {
    onbatch(events) {
      batches.push(events);
      order.push("batch");
    },
  });
  es.onmessage = (e) => order.push(e.data);
  await new Promise((r) => es.addEventListener("message", (e) => e.data === "3" && r()));
  es.close();
  assert.deepEqual(order, ["batch", "1", "3"]);
  assert.equal(batches.length, 1);
  assert.deepEqual(batches[0], [
    { type: "message", data: "1", lastEventId: "", origin: srv.origin },
    { type: "e", data: "2", lastEventId: "", origin: srv.origin },
    { type: "message", data: "3", lastEventId: "3", origin: srv.origin },
  ]);

  let got;
  const es2 = new EventSource(srv.url + "batch", { dispatchEvents: false, onbatch: (ev) => (got = ev) });
  let dom = 0;
  es2.onmessage = () => dom++;
  await new Promise((r) => es2.addEventListener("open", r));
  while (!got) await sleep(5);
  await sleep(20);
  es2.close();
  assert.equal(got.length, 3);
  assert.equal(dom, 0);
});

test("close() in a listener stops the rest of the chunk", async () => {
  srv.route("/closing", (req, res) => {
    stream(res);
    res.write("data: 1\n\ndata: 2\n\ndata: 3\n\n");
  });
  const es = new EventSource(srv.url + "closing");
  const got = [];
  es.onmessage = (e) => {
    got.push(e.data);
    if (e.data === "2") es.close();
  };
  await new Promise((r) => es.addEventListener("message", (e) => e.data === "2" && setTimeout(r, 50)));
  assert.deepEqual(got, ["1", "2"]);
  assert.equal(es.readyState, 2);
});

test("event handler attributes keep their place among listeners", async () => {
  srv.route("/order", (req, res) => {
    stream(res);
    res.write("data: x\n\n");
  });
  const es = new EventSource(srv.url + "order");
  const calls = [];
  es.addEventListener("message", () => calls.push("a"));
  es.onmessage = () => calls.push("h1");
  es.addEventListener("message", () => calls.push("b"));
  es.onmessage = () => calls.push("h2"); // replaces h1 in its place
  es.onerror = 5; // not an object: null
  assert.equal(es.onerror, null);
  await new Promise((r) => es.addEventListener("message", () => setTimeout(r, 10)));
  es.close();
  assert.deepEqual(calls, ["a", "h2", "b"]);
});

test("parsing through chunks: one byte per chunk, a 1 MiB event, 10,000 events in one chunk", async () => {
  const text = "id: ü\r\ndata: 👋 split\r\n\r\ndata: \uFEFFbom kept\n\n";
  srv.route("/bytes", async (req, res) => {
    stream(res);
    for (const b of Buffer.from(text)) {
      res.write(Buffer.from([b]));
      await sleep(1);
    }
  });
  const es = new EventSource(srv.url + "bytes");
  const log = record(es);
  await log.count(3);
  es.close();
  assert.deepEqual(log, ["open", "message:👋 split:ü", "message:\uFEFFbom kept:ü"]);

  const big = "x".repeat(1 << 20);
  let many = "";
  for (let i = 0; i < 10000; i++) many += `data: ${i}\n\n`;
  srv.route("/big", (req, res) => {
    stream(res);
    res.write(`data: ${big}\n\n` + many);
  });
  const es2 = new EventSource(srv.url + "big", { maxEventSize: 2 << 20 });
  const data = [];
  es2.onmessage = (e) => data.push(e.data);
  while (data.length < 10001) await sleep(10);
  es2.close();
  assert.equal(data[0].length, 1 << 20);
  assert.equal(data[10000], "9999");
});

test("an event over maxEventSize fails for good", async () => {
  srv.route("/toolarge", (req, res) => {
    stream(res);
    res.write(`data: ${"y".repeat(2000)}\n\n`);
  });
  const es = new EventSource(srv.url + "toolarge", { maxEventSize: 1000 });
  const log = record(es);
  await log.count(2);
  assert.deepEqual(log, ["open", "error:2:event too large"]);
});

test("a network error reconnects with backoff, then resumes", async () => {
  srv.route("/drop", (req, res, n) => {
    if (n === 1) {
      req.socket.destroy();
      return;
    }
    stream(res);
    res.write("data: back\n\n");
  });
  const es = new EventSource(srv.url + "drop", { retryMaxDelay: 0 });
  const log = record(es);
  await log.count(3);
  es.close();
  assert.deepEqual(log, ["error:0:network error", "open", "message:back:"]);
}, { timeout: 10000 });

test("a long stream of small chunks keeps the heap flat", async () => {
  // fetch as a browser gives a quiet stream: one event per chunk, here
  // 200,000 of them. The heap must not grow with the number of chunks (it
  // did by ~100 B per chunk when each read's promise chained the next).
  const v8 = await import("node:v8");
  const vm = await import("node:vm");
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc");
  const n = 200000;
  const chunk = new TextEncoder().encode("data: x\n\n");
  const realFetch = globalThis.fetch;
  globalThis.fetch = async () => {
    let i = 0;
    const body = new ReadableStream({
      pull(c) {
        if (i++ < n) c.enqueue(chunk.slice());
        else c.close();
      },
    });
    return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
  };
  try {
    const heap = [];
    let count = 0;
    const es = new EventSource(srv.url + "fake", {
      dispatchEvents: false,
      onbatch(events) {
        count += events.length;
        if (count === n / 4 || count === (3 * n) / 4) {
          gc();
          heap.push(process.memoryUsage().heapUsed);
        }
      },
    });
    await new Promise((resolve) => es.addEventListener("error", resolve)); // the end of the stream
    es.close();
    assert.equal(count, n);
    const growth = heap[1] - heap[0];
    assert.ok(growth < 3e6, `the heap grew by ${growth} B over ${n / 2} chunks`);
  } finally {
    globalThis.fetch = realFetch;
  }
}, { timeout: 60000 });
