#!/usr/bin/env node
// scripts/build.mjs: everything `make build` does after compiling the wasm.
//
//   $(WASM_BUILD) -o dist/eventwire.wasm ./wasm/cmd/eventwire
//   $(WASM_BUILD) -o dist/eventwire-batch.wasm ./wasm/cmd/eventwire-batch
//   node scripts/build.mjs [--strict-budget]
//
// (WASM_BUILD: the go build command with its flags, in the Makefile.)
//
// Writes into dist/:
//   eventwire.wasm.gz, eventwire.wasm.br   gzip -9 and brotli -q 11 of dist/eventwire.wasm
//                                          (the EventSource's module), and likewise
//   eventwire-batch.wasm.gz, .br           of dist/eventwire-batch.wasm (the BatchSocket's)
//   wasm_exec.js                           copied from $(go env GOROOT)/lib/wasm
//   eventwire.js                           ESM bundle of js/src (esbuild), wasm_exec.js bundled in
//   eventwire-polyfill.js                  classic script from polyfill/: an ES5 guard
//                                          (polyfill/guard.js) that evaluates the
//                                          minified ES2017 bundle of polyfill/index.js,
//                                          embedded as a string
//   eventwire.d.ts                         copied from js/
//   npm/                                   the staged npm package (js/package.json + the files above)
//   eventwire-<version>.tgz, eventwire.tgz `npm pack` of dist/npm (the second a stable name for tests)
// and prints the sizes of each wasm module against the budget of GUIDE.md §4
// (gzip ≤ 850,000 B, brotli ≤ 650,000 B, each), marking OVER BUDGET;
// --strict-budget makes that fail. It fails when either wasm is missing.

import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants as zc, gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const BUDGET = { gzip: 850_000, brotli: 650_000 };

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const rel = (p) => relative(process.cwd(), p) || ".";
const args = new Set(process.argv.slice(2));
for (const a of args) {
  if (a !== "--strict-budget") fail(`unknown argument ${a}\nusage: node scripts/build.mjs [--strict-budget]`);
}

function fail(msg) {
  console.error(`build.mjs: ${msg}`);
  process.exit(1);
}

// 1. Inputs: the two wasm modules and the Go commands they are built from.
const MODULES = [
  { file: "eventwire.wasm", cmd: "./wasm/cmd/eventwire" },
  { file: "eventwire-batch.wasm", cmd: "./wasm/cmd/eventwire-batch" },
];
const missing = MODULES.filter((m) => !existsSync(join(dist, m.file)));
if (missing.length) {
  fail(
    `${missing.map((m) => rel(join(dist, m.file))).join(" and ")} ${missing.length > 1 ? "are" : "is"} missing: run make build, which compiles the Go modules (see WASM_BUILD in the Makefile) and then runs this script.`,
  );
}
let goroot, goversion;
try {
  [goroot, goversion] = execFileSync("go", ["env", "GOROOT", "GOVERSION"], { encoding: "utf8" }).trim().split("\n");
} catch (err) {
  fail(`cannot run "go env GOROOT": ${err.message}`);
}
const wasmExecPath = join(goroot, "lib", "wasm", "wasm_exec.js");
if (!existsSync(wasmExecPath)) fail(`${wasmExecPath} is missing (Go ${goversion}); wasm_exec.js must match the Go that built the wasm`);
const wasmExec = readFileSync(wasmExecPath, "utf8");
const pkg = JSON.parse(readFileSync(join(root, "js", "package.json"), "utf8"));

// 2. Go's JavaScript support as a lazily evaluated module. wasm_exec.js is a
// script that, when run, defines globalThis.Go and (where missing) the globals
// fs, process and path, and throws where crypto, performance, TextEncoder or
// TextDecoder are missing. Bundled as is, it would run (and could throw) at
// import time and leave those globals on the page. Wrapped, it runs when the
// loader calls loadGoRuntime(), which restores globalThis and returns the Go
// class plus the globals it invented; the loader defines those only during
// go.run(), when Go's syscall package reads them (see js/src/loader.js).
// Unchanged otherwise, apart from the "use strict" directive (the module is
// strict anyway).
if (!/globalThis\.Go = class/.test(wasmExec) || !/\bfs\.writeSync\(/.test(wasmExec)) {
  fail(`${wasmExecPath} (Go ${goversion}) no longer looks like the wasm_exec.js this build wraps; review the wrapper in scripts/build.mjs`);
}
const wasmExecModule = `/*! wasm_exec.js of ${goversion}. Copyright 2018 The Go Authors. All rights reserved. Use of this source code is governed by a BSD-style license that can be found in the LICENSE file of the Go distribution. */
export function loadGoRuntime() {
  const g = globalThis;
  const names = ["Go", "fs", "process", "path"];
  const before = names.map((n) => Object.getOwnPropertyDescriptor(g, n));
  // runtime.wasmWrite (Go's println and panic output) calls fs.writeSync by
  // name: bound here, it keeps working once the global fs is gone.
  let fs;
  try {
${wasmExec.replace(/^"use strict";\s*$/m, "")}
    fs = g.fs;
    const globals = {};
    for (let i = 1; i < names.length; i++) {
      if (!before[i]) globals[names[i]] = g[names[i]];
    }
    return { Go: g.Go, globals };
  } finally {
    names.forEach((n, i) => {
      const was = before[i];
      const now = Object.getOwnPropertyDescriptor(g, n);
      if (!was) {
        Reflect.deleteProperty(g, n);
      } else if (!now || now.value !== was.value || now.get !== was.get || now.set !== was.set) {
        try { Object.defineProperty(g, n, was); } catch { /* not restorable: leave it */ }
      }
    });
  }
}
`;
const wasmExecPlugin = {
  name: "go-wasm-exec",
  setup(build) {
    build.onResolve({ filter: /^go:wasm_exec$/ }, () => ({ path: "wasm_exec", namespace: "go" }));
    build.onLoad({ filter: /.*/, namespace: "go" }, () => ({ contents: wasmExecModule, loader: "js" }));
  },
};

// 3. Bundles.
const common = {
  bundle: true,
  target: "es2020",
  define: { __EVENTWIRE_VERSION__: JSON.stringify(pkg.version) },
  plugins: [wasmExecPlugin],
  banner: { js: `/*! eventwire ${pkg.version} | MIT License */` },
  logLevel: "warning",
  write: false,
};
const builds = await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: [join(root, "js", "src", "index.js")],
    outfile: join(dist, "eventwire.js"),
    format: "esm",
    platform: "neutral",
    // Readable: apps' bundlers minify; errors in the page point at real names.
    minify: false,
  }),
  esbuild.build({
    ...common,
    entryPoints: [join(root, "polyfill", "index.js")],
    outfile: join(dist, "eventwire-polyfill.js"),
    format: "iife",
    platform: "browser",
    // Evaluated by the guard only where it can run: browsers with
    // WebAssembly, whose syntax reaches ES2017.
    target: "es2017",
    banner: undefined,
    minify: true,
  }),
]);
for (const b of builds) {
  if (b.warnings.length) fail("esbuild warnings (see above) are errors here");
}
const esm = builds[0].outputFiles[0].text;
const payload = builds[1].outputFiles[0].text;

// The classic script: the ES5 guard, with the bundle as a string literal
// (see polyfill/guard.js for why and how it is evaluated). The guard is
// compiled for ES5, which fails the build if it uses later syntax.
const guardSrc = readFileSync(join(root, "polyfill", "guard.js"), "utf8");
if (!guardSrc.includes("__EVENTWIRE_PAYLOAD__")) fail("polyfill/guard.js lost its __EVENTWIRE_PAYLOAD__ placeholder");
const guard = await esbuild.transform(guardSrc, {
  target: "es5",
  minify: true,
  define: { __EVENTWIRE_VERSION__: JSON.stringify(pkg.version) },
  logLevel: "warning",
});
if (/=>|`|\b(?:const|let|class)\s/.test(guard.code.replace(/"(?:[^"\\]|\\.)*"/g, '""'))) {
  fail("polyfill/guard.js compiled to something that is not ES5");
}
const iife =
  `/*! eventwire ${pkg.version} | MIT License */\n` +
  guard.code.replace("__EVENTWIRE_PAYLOAD__", () => JSON.stringify(payload.trim() + "\n//# sourceURL=eventwire-polyfill.body.js"));
for (const { file } of MODULES) {
  if (!esm.includes(`new URL("./${file}", import.meta.url)`)) {
    fail(`dist/eventwire.js lost the literal new URL("./${file}", import.meta.url) that bundlers look for`);
  }
}
// The polyfill has only EventSource: nothing of BatchSocket or its module.
if (/eventwire-batch\.wasm|bsOpen/.test(payload)) {
  fail("dist/eventwire-polyfill.js bundles BatchSocket code; polyfill/index.js must import only what EventSource needs");
}
if (/\bimport\.meta\b|^\s*(?:import|export)\s/m.test(iife)) {
  fail("dist/eventwire-polyfill.js contains module syntax; it must be a classic script");
}

mkdirSync(dist, { recursive: true });
writeFileSync(join(dist, "eventwire.js"), esm);
writeFileSync(join(dist, "eventwire-polyfill.js"), iife);
copyFileSync(join(root, "js", "eventwire.d.ts"), join(dist, "eventwire.d.ts"));
copyFileSync(wasmExecPath, join(dist, "wasm_exec.js"));

// 4. Precompressed wasm, for servers that pick a variant by Accept-Encoding.
const wasmSizes = MODULES.map(({ file }) => {
  const p = join(dist, file);
  const wasm = readFileSync(p);
  const gz = gzipSync(wasm, { level: 9 });
  const br = brotliCompressSync(wasm, {
    params: {
      [zc.BROTLI_PARAM_QUALITY]: zc.BROTLI_MAX_QUALITY,
      [zc.BROTLI_PARAM_MODE]: zc.BROTLI_MODE_GENERIC,
      [zc.BROTLI_PARAM_SIZE_HINT]: wasm.length,
    },
  });
  writeFileSync(`${p}.gz`, gz);
  writeFileSync(`${p}.br`, br);
  return { file, raw: wasm.length, gz: gz.length, br: br.length };
});

// 5. The npm package, staged and packed.
const npmDir = join(dist, "npm");
rmSync(npmDir, { recursive: true, force: true });
mkdirSync(npmDir);
const shipped = pkg.files;
for (const f of ["package.json", "README.md"]) copyFileSync(join(root, "js", f), join(npmDir, f));
copyFileSync(join(root, "LICENSE"), join(npmDir, "LICENSE"));
for (const f of shipped) {
  if (!existsSync(join(dist, f))) fail(`js/package.json lists ${f} in "files", but dist/${f} was not built`);
  copyFileSync(join(dist, f), join(npmDir, f));
}
for (const f of readdirSync(dist)) {
  if (/^eventwire-.*\.tgz$/.test(f)) rmSync(join(dist, f));
}
let packed;
try {
  const out = execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dist], {
    cwd: npmDir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" },
  });
  packed = JSON.parse(out)[0];
} catch (err) {
  fail(`npm pack failed: ${err.message}`);
}
const inTarball = new Set(packed.files.map((f) => f.path));
for (const f of [...shipped, "package.json", "README.md", "LICENSE"]) {
  if (!inTarball.has(f)) fail(`npm pack left ${f} out of ${packed.filename}`);
}
const tgz = join(dist, packed.filename);
copyFileSync(tgz, join(dist, "eventwire.tgz"));

// 6. Sizes.
const gzipOf = (p) => gzipSync(readFileSync(p), { level: 9 }).length;
const brotliOf = (p) =>
  brotliCompressSync(readFileSync(p), { params: { [zc.BROTLI_PARAM_QUALITY]: zc.BROTLI_MAX_QUALITY } }).length;
const n = (x) => x.toLocaleString("en-US");
const rows = [
  ...wasmSizes.map((m) => [m.file, m.raw, m.gz, m.br]),
  ...["eventwire.js", "eventwire-polyfill.js", "wasm_exec.js"].map((f) => {
    const p = join(dist, f);
    return [f, statSync(p).size, gzipOf(p), brotliOf(p)];
  }),
  [packed.filename, statSync(tgz).size, null, null],
];
const w = [24, 12, 12, 12];
const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join("");
console.log(`eventwire ${pkg.version} (${goversion}) → ${rel(dist)}/`);
console.log(line(["file", "raw B", "gzip B", "brotli B"]));
for (const [f, raw, g, b] of rows) console.log(line([f, n(raw), g === null ? "" : n(g), b === null ? "" : n(b)]));
const over = [];
for (const { file, gz, br } of wasmSizes) {
  const mine = [];
  if (gz > BUDGET.gzip) mine.push(`gzip ${n(gz)} B > ${n(BUDGET.gzip)} B`);
  if (br > BUDGET.brotli) mine.push(`brotli ${n(br)} B > ${n(BUDGET.brotli)} B`);
  console.log(
    `${file} budget: gzip ${n(gz)} / ${n(BUDGET.gzip)} B, brotli ${n(br)} / ${n(BUDGET.brotli)} B` +
      (mine.length ? "  OVER BUDGET" : ""),
  );
  if (mine.length) over.push(`${file}: ${mine.join(", ")}`);
}
if (over.length && args.has("--strict-budget")) fail(`over the size budget (GUIDE.md §4, each wasm module): ${over.join("; ")}`);
