// Page side of the worker tests: starts a dedicated worker or a service
// worker that opens eventwire's EventSource (see es-worker.js, es-sw.js) and
// keeps what it reports in state.workers[name].
"use strict";

globalThis.state = globalThis.state || {};
state.workers = {};

// startWorker starts a dedicated worker that opens url with eventwire's
// EventSource from the polyfill script.
globalThis.startWorker = function (name, url, init) {
  const w = new Worker("/e2e/conformance/es-worker.js");
  const s = (state.workers[name] = { phase: "starting" });
  w.onmessage = (e) => Object.assign(s, e.data);
  w.onerror = (e) => {
    s.phase = "error";
    s.error = `${e.message} (${e.filename}:${e.lineno})`;
    e.preventDefault();
  };
  w.postMessage({ name, url, init });
  globalThis["worker_" + name] = w;
};

globalThis.closeWorker = function (name) {
  globalThis["worker_" + name].postMessage("close");
};

// startServiceWorker registers es-sw.js, waits for it to be active, and asks
// it to open url with the global EventSource the polyfill installed there.
globalThis.startServiceWorker = async function (name, url, init) {
  const s = (state.workers[name] = { phase: "registering" });
  try {
    const reg = await navigator.serviceWorker.register("/e2e/conformance/es-sw.js", { scope: "/e2e/conformance/" });
    const sw = reg.active || (await navigator.serviceWorker.ready).active;
    s.phase = "starting";
    const ch = new MessageChannel();
    ch.port1.onmessage = (e) => Object.assign(s, e.data);
    sw.postMessage({ name, url, init }, [ch.port2]);
    globalThis["sw_" + name] = ch.port1;
  } catch (e) {
    s.phase = "error";
    s.error = String((e && e.stack) || e);
  }
};

globalThis.closeServiceWorker = function (name) {
  globalThis["sw_" + name].postMessage("close");
};
