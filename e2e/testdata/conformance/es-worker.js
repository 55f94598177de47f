// A dedicated worker that loads the classic polyfill script and opens
// eventwire's EventSource (Chromium's dedicated workers have a native one, so
// the polyfill keeps that global; eventwire.EventSource is used explicitly).
// It reports to the page what it sees, every 50 ms and on close.
importScripts("/dist/eventwire-polyfill.js", "/e2e/conformance/record.js");
// The test checks that the harness captured this, written before it attached.
console.info("e2e: es-worker.js evaluated");

let tick = 0;
let current = "";
const info = () => ({
  phase: "running",
  scope: self.constructor.name,
  nativeGlobal: typeof self.EventSource,
  ctor: typeof (self.eventwire && self.eventwire.EventSource),
});

onmessage = (m) => {
  if (m.data === "close") {
    recClose(current);
    clearInterval(tick);
    postMessage({ ...info(), phase: "closed", rec: recGet(current) });
    return;
  }
  const { name, url, init } = m.data;
  current = name;
  try {
    recOpen(name, self.eventwire.EventSource, url, init);
    tick = setInterval(() => postMessage({ ...info(), rec: recGet(name) }), 50);
  } catch (e) {
    postMessage({ phase: "error", error: String((e && e.stack) || e) });
  }
};
