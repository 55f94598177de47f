// Tests of dist/eventwire-polyfill.js in node, evaluated as a classic script
// whose URL is on the test server: node has no document.currentScript, so the
// script finds its URL in a stack trace, as it does in a worker.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { runInThisContext, createContext, runInContext } from "node:vm";
import { serveDist, dist } from "./server.mjs";

let srv;
before(async () => {
  srv = await serveDist();
});
after(() => srv.close());

const source = await readFile(`${dist}eventwire-polyfill.js`, "utf8");
const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));

test("defines globalThis.eventwire, loads lazily from next to the script", async () => {
  runInThisContext(source, { filename: srv.url + "eventwire-polyfill.js" });
  const ew = globalThis.eventwire;
  assert.equal(typeof ew, "object");
  assert.equal(ew.version(), pkg.version);
  assert.ok(Object.isFrozen(ew));

  await new Promise((r) => setTimeout(r, 20));
  assert.equal(srv.hits.get("/dist/eventwire.wasm"), undefined, "nothing fetched before use");

  const mod = await ew.ready;
  assert.equal(srv.hits.get("/dist/eventwire.wasm"), 1);
  assert.equal(mod.version, pkg.version);
  assert.equal(mod.echo("polyfill"), "llifylop");
  assert.equal(globalThis.Go, undefined);

  // A second copy keeps the first one's API.
  runInThisContext(source, { filename: srv.url + "eventwire-polyfill.js?again" });
  assert.equal(globalThis.eventwire, ew);
});

/**
 * A fresh global (vm context) with the web APIs the polyfill needs, as in a
 * worker; extra overrides or removes (undefined) some.
 */
function sandbox(extra = {}) {
  const g = {
    console,
    setTimeout,
    clearTimeout,
    queueMicrotask,
    fetch,
    Headers,
    Request,
    Response,
    ReadableStream,
    AbortController,
    EventTarget,
    Event,
    MessageEvent,
    DOMException,
    TextDecoder,
    TextEncoder,
    URL,
    crypto,
    performance,
    WebAssembly,
    ...extra,
  };
  for (const k of Object.keys(g)) if (g[k] === undefined) delete g[k];
  const ctx = createContext(g);
  runInContext("globalThis.self = globalThis;", ctx);
  return ctx;
}

test("installs EventSource where it is missing; the global works", async () => {
  const ctx = sandbox();
  runInContext(source, ctx, { filename: srv.url + "eventwire-polyfill.js" });
  const ew = runInContext("globalThis.eventwire", ctx);
  assert.equal(ew.supported, true);
  assert.equal(runInContext("typeof EventSource", ctx), "function");
  assert.equal(runInContext("EventSource === eventwire.EventSource", ctx), true);
  assert.equal(ew.NativeEventSource, undefined);
  assert.equal(Object.getOwnPropertyDescriptor(ctx, "EventSource").enumerable, false);
  // An EventSource made before the module loaded connects once it has: the
  // wasm comes from next to the script.
  const url = runInContext(`new EventSource("${srv.url}nothing-here").url`, ctx);
  assert.equal(url, srv.url + "nothing-here");
  await ew.ready;
  assert.equal(srv.hits.get("/dist/eventwire.wasm") >= 1, true);
});

test("keeps a native EventSource unless forced; NativeEventSource stays reachable", () => {
  class FakeNative {}
  const ctx = sandbox({ EventSource: FakeNative });
  runInContext(source, ctx, { filename: srv.url + "eventwire-polyfill.js" });
  const ew = runInContext("globalThis.eventwire", ctx);
  assert.equal(runInContext("EventSource", ctx), FakeNative);
  assert.equal(ew.NativeEventSource, FakeNative);
  assert.equal(ew.install(), false);
  assert.equal(runInContext("EventSource", ctx), FakeNative);
  assert.equal(ew.install({ force: true }), true);
  assert.equal(runInContext("EventSource === eventwire.EventSource", ctx), true);
  assert.equal(ew.NativeEventSource, FakeNative);
});

test("data-force on the script tag forces the install; data-wasm says where the wasm is", async () => {
  class FakeNative {}
  const attrs = { "data-force": "", "data-wasm": "../dist/eventwire.wasm?from=attr" };
  const ctx = sandbox({
    EventSource: FakeNative,
    document: {
      baseURI: srv.url,
      currentScript: {
        src: srv.url + "eventwire-polyfill.js",
        getAttribute: (n) => (n in attrs ? attrs[n] : null),
        hasAttribute: (n) => n in attrs,
      },
    },
  });
  runInContext(source, ctx, { filename: srv.url + "eventwire-polyfill.js" });
  assert.equal(runInContext("EventSource === eventwire.EventSource", ctx), true);
  assert.equal(runInContext("eventwire.NativeEventSource", ctx), FakeNative);
  const before = srv.hits.get("/dist/eventwire.wasm") || 0;
  await runInContext("eventwire.ready", ctx);
  assert.equal(srv.hits.get("/dist/eventwire.wasm"), before + 1);
});

for (const [what, extra, missing] of [
  ["WebAssembly", { WebAssembly: undefined }, "WebAssembly"],
  ["a constructible EventTarget", { EventTarget: undefined }, "EventTarget constructor"],
]) {
  test(`without ${what}: one clear error, nothing installed`, () => {
    const ctx = sandbox(extra);
    // A vm context has its own WebAssembly builtin: remove that too.
    if ("WebAssembly" in extra) runInContext("delete globalThis.WebAssembly;", ctx);
    assert.throws(
      () => runInContext(source, ctx, { filename: srv.url + "eventwire-polyfill.js" }),
      (e) =>
        e.code === "EVENTWIRE_UNSUPPORTED" &&
        e.message === `eventwire: this browser cannot run the EventSource polyfill (missing: ${missing}); EventSource was not installed`,
    );
    const ew = runInContext("globalThis.eventwire", ctx);
    assert.equal(ew.supported, false);
    assert.equal(ew.version(), pkg.version);
    assert.throws(() => ew.install(), (e) => e === ew.error);
    assert.equal(runInContext("typeof EventSource", ctx), "undefined");
  });
}

test("the classic script starts with ES5: no later syntax before the embedded bundle", () => {
  // The bundle is one string literal; everything around it is the guard.
  const i = source.indexOf('"(()=>');
  const guard = i > 0 ? source.slice(0, i) : source.slice(0, 3000);
  assert.ok(guard.length < 4000, "the guard is small");
  assert.doesNotMatch(guard, /=>|`|\b(?:let|const|class)\s|\?\.|\?\?/);
  assert.match(source, /^\/\*! eventwire [^*]+\*\/\n\(function\(/);
});
