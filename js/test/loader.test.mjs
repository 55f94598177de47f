// Tests of dist/eventwire.js in node (node --test js/test/, after make build).
// node has WebAssembly, fetch and crypto but no document: like a worker.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { serveDist, dist } from "./server.mjs";

let srv;
before(async () => {
  srv = await serveDist();
});
after(() => srv.close());

const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));

// Each import with a fresh query string is a separate module instance, i.e. a
// separate loader, as with two copies of eventwire in one page.
let n = 0;
const fresh = () => import(`../../dist/eventwire.js?instance=${++n}`);

// String keys only: node's fetch adds a symbol-keyed dispatcher on first use.
const ownKeys = () => Object.getOwnPropertyNames(globalThis);

test("importing fetches nothing and adds no globals", async () => {
  const keys = ownKeys();
  const ew = await fresh();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(srv.hits.size, 0);
  assert.deepEqual(ownKeys(), keys);
  assert.equal(ew.version(), pkg.version);
  assert.ok(ew.ready instanceof Promise);
});

test("load() resolves ready with the module API; calls round-trip", async () => {
  const ew = await fresh();
  const keys = ownKeys();
  const processBefore = globalThis.process;
  const mod = await ew.load({ wasm: srv.url + "eventwire.wasm" });
  assert.equal(await ew.ready, mod);
  assert.equal(mod.version, pkg.version);

  assert.equal(mod.echo("héllo 👋"), "👋 olléh");
  assert.equal(mod.echo(""), "");
  const bytes = mod.echo(new Uint8Array([1, 2, 3, 255]));
  assert.ok(bytes instanceof Uint8Array);
  assert.deepEqual([...bytes], [255, 3, 2, 1]);
  assert.equal(await mod.echoAsync("abc"), "cba");
  assert.deepEqual([...(await mod.echoAsync(new Uint8Array([7, 8])))], [8, 7]);

  // Go errors and panics arrive as exceptions; the module keeps working.
  assert.throws(() => mod.echo(42), (e) => e instanceof TypeError && /string or a Uint8Array, got number/.test(e.message));
  assert.throws(() => mod._panic("boom"), (e) => e instanceof Error && e.message === "eventwire: Go panic in _panic: boom");
  await assert.rejects(mod.echoAsync({}), TypeError);
  assert.equal(mod.echo("ok"), "ko");

  // wasm_exec.js's globals (Go, fs, path) and the handshake are gone.
  assert.deepEqual(ownKeys(), keys);
  assert.equal(globalThis.process, processBefore);
  assert.equal(globalThis.Go, undefined);
  assert.equal(globalThis.fs, undefined);
});

for (const type of ["application/wasm", "application/octet-stream", "text/plain", "application/wasm; charset=utf-8", ""]) {
  test(`loads when the server sends Content-Type ${JSON.stringify(type)}`, async () => {
    const ew = await fresh();
    const mod = await ew.load({ wasm: `${srv.url}eventwire.wasm?type=${encodeURIComponent(type)}` });
    assert.equal(mod.echo("ab"), "ba");
  });
}

test("loads from bytes, a Response and a WebAssembly.Module", async () => {
  const bytes = await readFile(join(dist, "eventwire.wasm"));
  const sources = [
    bytes,
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    fetch(srv.url + "eventwire.wasm"),
    await fetch(srv.url + "eventwire.wasm?type=application/octet-stream"),
    await WebAssembly.compile(bytes),
  ];
  for (const wasm of sources) {
    const ew = await fresh();
    const mod = await ew.load({ wasm });
    assert.equal(mod.echo("xy"), "yx");
  }
});

test("several loaders at once do not collide", async () => {
  const loaders = await Promise.all([fresh(), fresh(), fresh()]);
  const mods = await Promise.all(loaders.map((ew) => ew.load({ wasm: srv.url + "eventwire.wasm" })));
  assert.equal(new Set(mods).size, 3);
  mods.forEach((m, i) => assert.equal(m.echo(`m${i}`), `${i}m`));
});

test("ready rejects with the reason when the wasm cannot be fetched", async () => {
  let ew = await fresh();
  await assert.rejects(ew.load({ wasm: srv.url + "eventwire.wasm?status=404" }), /eventwire: failed to fetch .*HTTP 404/);
  await assert.rejects(ew.ready, /HTTP 404/);

  ew = await fresh();
  await assert.rejects(ew.load({ wasm: "http://127.0.0.1:1/eventwire.wasm" }), /eventwire: failed to fetch http:\/\/127\.0\.0\.1:1\//);

  ew = await fresh();
  await assert.rejects(ew.load({ wasm: new Uint8Array([0, 1, 2]) }), WebAssembly.CompileError);

  ew = await fresh();
  await assert.rejects(ew.load({ wasm: 42 }), /must be a URL, a Response, bytes or a WebAssembly.Module/);
});

test("the default location is next to eventwire.js", async () => {
  // In node the default is a file: URL, which fetch cannot read: the error
  // names the URL the loader derived from import.meta.url.
  const ew = await fresh();
  await assert.rejects(ew.ready, (e) => e.message.includes(new URL("../../dist/eventwire.wasm", import.meta.url).href));
});

test("load() options after loading started are refused", async () => {
  const ew = await fresh();
  const p = ew.load({ wasm: srv.url + "eventwire.wasm" });
  await assert.rejects(ew.load({ wasm: srv.url + "other.wasm" }), /load\(\{ wasm \}\) was called after eventwire\.wasm had started loading/);
  assert.equal(ew.load(), p);
  await p;
});

// BatchSocket has its own module, eventwire-batch.wasm, with its own loader.

const hitsOf = (/** @type {string} */ file) => srv.hits.get(`/dist/${file}`) || 0;

test("BatchSocket.load() loads eventwire-batch.wasm, and only it", async () => {
  const ew = await fresh();
  const es = hitsOf("eventwire.wasm");
  const batch = hitsOf("eventwire-batch.wasm");
  const p = ew.BatchSocket.load({ wasm: srv.url + "eventwire-batch.wasm" });
  const mod = await p;
  assert.equal(mod.version, pkg.version);
  assert.equal(mod.echo("ab"), "ba");
  assert.equal(await ew.BatchSocket.load(), mod);
  assert.equal(hitsOf("eventwire-batch.wasm"), batch + 1);
  assert.equal(hitsOf("eventwire.wasm"), es, "eventwire.wasm was fetched");
  await assert.rejects(
    ew.BatchSocket.load({ wasm: srv.url + "other.wasm" }),
    /BatchSocket\.load\(\{ wasm \}\) was called after eventwire-batch\.wasm had started loading; call it before the first BatchSocket/,
  );
  await assert.rejects(ew.load({ batchWasm: srv.url + "other.wasm" }), /load\(\{ batchWasm \}\) was called after eventwire-batch\.wasm had started/);
  // The EventSource's module is another instance.
  const esMod = await ew.load({ wasm: srv.url + "eventwire.wasm" });
  assert.notEqual(esMod, mod);
});

test("load({ batchWasm }) says where eventwire-batch.wasm is without loading it", async () => {
  const ew = await fresh();
  const batch = hitsOf("eventwire-batch.wasm");
  await ew.load({ wasm: srv.url + "eventwire.wasm", batchWasm: srv.url + "eventwire-batch.wasm" });
  assert.equal(hitsOf("eventwire-batch.wasm"), batch, "load() fetched eventwire-batch.wasm");
  // The default (a file: URL next to eventwire.js) would fail in node.
  const mod = await ew.BatchSocket.load();
  assert.equal(mod.echo("xy"), "yx");
  assert.equal(hitsOf("eventwire-batch.wasm"), batch + 1);
});

test("the default location of eventwire-batch.wasm is next to eventwire.js", async () => {
  const ew = await fresh();
  await assert.rejects(ew.BatchSocket.load(), (e) => e.message.includes(new URL("../../dist/eventwire-batch.wasm", import.meta.url).href));
});
