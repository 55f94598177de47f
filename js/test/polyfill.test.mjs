// Tests of dist/eventwire-polyfill.js in node, evaluated as a classic script
// whose URL is on the test server: node has no document.currentScript, so the
// script finds its URL in a stack trace, as it does in a worker.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { runInThisContext } from "node:vm";
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
