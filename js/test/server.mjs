// A throwaway static server for dist/ on 127.0.0.1, for the loader tests.
// ?type=T sets the Content-Type (default application/wasm for .wasm);
// ?status=N answers N with an empty body. It counts requests per path.

import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

export const dist = fileURLToPath(new URL("../../dist/", import.meta.url));

const types = {
  ".wasm": "application/wasm",
  ".js": "text/javascript; charset=utf-8",
  ".html": "text/html; charset=utf-8",
};

/** @returns {Promise<{ url: string, hits: Map<string, number>, close(): Promise<void> }>} */
export async function serveDist() {
  const hits = new Map();
  const server = createServer(async (req, res) => {
    const u = new URL(req.url, "http://x");
    hits.set(u.pathname, (hits.get(u.pathname) || 0) + 1);
    const status = u.searchParams.get("status");
    if (status) {
      res.writeHead(Number(status)).end();
      return;
    }
    const file = normalize(join(dist, decodeURIComponent(u.pathname).replace(/^\/dist\//, "/")));
    if (!file.startsWith(dist)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      const ext = file.slice(file.lastIndexOf("."));
      const type = u.searchParams.get("type") ?? types[ext] ?? "application/octet-stream";
      res.writeHead(200, type ? { "Content-Type": type } : {}).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/dist/`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
