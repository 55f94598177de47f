// A service worker that loads the classic polyfill script. Chromium has had
// EventSource in service workers since version 117, but other browsers and
// older Chromium have none: the worker deletes it first, so that the
// polyfill's install path runs, and opens the global EventSource the
// polyfill installed. It reports through the message port, every 50 ms and
// on close.
const nativeBefore = typeof self.EventSource;
delete self.EventSource;
importScripts("/dist/eventwire-polyfill.js", "/e2e/conformance/record.js");
// The test checks that the harness captured this, written before it attached.
console.info("e2e: es-sw.js evaluated");

const installed = {
  nativeBefore,
  global: typeof self.EventSource,
  isEventwire: !!self.eventwire && self.EventSource === self.eventwire.EventSource,
  native: typeof (self.eventwire && self.eventwire.NativeEventSource),
};

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));

self.addEventListener("message", (e) => {
  const port = e.ports[0];
  const { name, url, init } = e.data;
  const info = () => ({ phase: "running", scope: self.constructor.name, installed, rec: recGet(name) });
  // waitUntil keeps the worker alive while the source runs (bounded).
  e.waitUntil(
    new Promise((resolve) => {
      try {
        const es = recOpen(name, self.EventSource, url, init);
        const tick = setInterval(() => port.postMessage(info()), 50);
        const stop = () => {
          es.close();
          clearInterval(tick);
          port.postMessage({ ...info(), phase: "closed" });
          resolve();
        };
        port.onmessage = (m) => m.data === "close" && stop();
        setTimeout(stop, 120000);
      } catch (err) {
        port.postMessage({ phase: "error", installed, error: String((err && err.stack) || err) });
        resolve();
      }
    }),
  );
});
