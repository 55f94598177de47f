// A scriptable event-stream server on 127.0.0.1 for the EventSource tests:
// each test registers handlers by path; every request is recorded.

import { createServer } from "node:http";

/**
 * @typedef {(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse, n: number) => void} Handler
 * @returns {Promise<{ url: string, origin: string, route(path: string, h: Handler): void, requests: {path: string, url: string, method: string, headers: Record<string, string | string[] | undefined>, body: string}[], close(): Promise<void> }>}
 */
export async function sseServer() {
  /** @type {Map<string, Handler>} */
  const routes = new Map();
  /** @type {Map<string, number>} */
  const counts = new Map();
  const requests = [];
  const sockets = new Set();
  const server = createServer((req, res) => {
    const u = new URL(req.url, "http://x");
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests.push({ path: u.pathname, url: req.url, method: req.method, headers: req.headers, body });
      const n = (counts.get(u.pathname) || 0) + 1;
      counts.set(u.pathname, n);
      const h = routes.get(u.pathname);
      if (!h) {
        res.writeHead(404).end();
        return;
      }
      h(req, res, n);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: origin + "/",
    origin,
    route: (path, h) => {
      routes.set(path, h);
      counts.delete(path);
    },
    requests,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Starts an event stream response. */
export function stream(res, extra = {}) {
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store", ...extra });
  res.flushHeaders();
}
