// The conformance page. The Go test (e2e/conformance_test.go) scripts a
// stream on its server, then calls runImpls() here, which opens the same URL
// with the browser's EventSource and with eventwire's (in one or more
// configurations) at the same time, and resolves with what each observed:
// every open, error and message event in order, with the fields a page can
// see that do not depend on isTrusted. Everything observed is also kept in
// window.state for failure messages.

const state = (globalThis.state = { phase: "loading", runs: {} });
const NativeEventSource = globalThis.EventSource;

let eventwire = null;
try {
  eventwire = await import("/dist/eventwire.js");
  state.eventwireExport = typeof eventwire.EventSource;
} catch (e) {
  state.importError = String((e && e.stack) || e);
}

/** The constructor of an implementation, or undefined. */
function ctorOf(impl) {
  if (impl === "native") return NativeEventSource;
  if (impl === "eventwire") return eventwire ? eventwire.EventSource : undefined;
  return undefined;
}

// Long data is compared by length and FNV-1a of its UTF-16 code units, so
// that a 1 MB event does not travel back through the protocol twice.
const maxPlain = 256;
function summarize(s) {
  if (typeof s !== "string") return `<${typeof s}>`;
  if (s.length <= maxPlain) return s;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `<len=${s.length} fnv=${h.toString(16).padStart(8, "0")}>`;
}

// shape lists what is wrong with an event as dispatched to es, independent
// of isTrusted: empty when it is right.
function shape(ev, es, message) {
  const bad = [];
  if (ev.target !== es) bad.push("target");
  if (ev.currentTarget !== es) bad.push("currentTarget");
  if (ev.bubbles) bad.push("bubbles");
  if (ev.cancelable) bad.push("cancelable");
  if (ev.eventPhase !== Event.AT_TARGET) bad.push("eventPhase=" + ev.eventPhase);
  if (!(ev instanceof Event)) bad.push("not an Event");
  if (message) {
    if (!(ev instanceof MessageEvent)) bad.push("not a MessageEvent");
    if (typeof ev.data !== "string") bad.push("data type " + typeof ev.data);
    if (ev.source !== null) bad.push("source");
    if (!Array.isArray(ev.ports) || ev.ports.length !== 0) bad.push("ports");
  } else if (ev instanceof MessageEvent) {
    bad.push("a MessageEvent");
  }
  return bad;
}

const t0 = performance.now();
const now = () => Math.round(performance.now() - t0);

/**
 * Opens one EventSource and records until the case is over.
 * c: { url, types, withCredentials, init, closeOnData, closeInOpen,
 *      closeOnError, settleMs, timeoutMs, maxEntries }
 */
function runCase(name, impl, c) {
  return new Promise((resolve) => {
    const Ctor = ctorOf(impl);
    const run = { impl, log: [], info: {}, timeout: false, error: "" };
    state.runs[name] = run;
    if (typeof Ctor !== "function") {
      run.error = `${impl} EventSource is not available (eventwire export: ${state.eventwireExport}; import error: ${state.importError || "none"})`;
      resolve(run);
      return;
    }
    const init = { ...(c.init || {}) };
    if (c.withCredentials) init.withCredentials = true;
    let es;
    try {
      es = new Ctor(c.url, init);
    } catch (e) {
      run.error = `constructor threw ${e && e.name}: ${e && e.message}`;
      resolve(run);
      return;
    }
    run.info = { url: es.url, withCredentials: es.withCredentials, readyState0: es.readyState };
    let over = false;
    let timer = 0;
    const finish = (why) => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      run.info.finish = why;
      // A source that failed for good is not closed here, so that a
      // reconnection it must not make would still show in the settle time.
      if (why !== "closed") es.close();
      run.info.readyStateAfterClose = es.readyState;
      setTimeout(() => {
        run.info.readyStateEnd = es.readyState;
        es.onopen = es.onmessage = es.onerror = null;
        resolve(run);
      }, c.settleMs || 0);
    };
    const max = c.maxEntries || 20000;
    const push = (e) => {
      if (run.log.length < max) run.log.push(e);
      else run.info.truncated = true;
    };
    const onMessage = (ev) => {
      push({
        k: "event", type: ev.type, data: summarize(ev.data), id: ev.lastEventId, origin: ev.origin,
        rs: es.readyState, bad: shape(ev, es, true), t: now(),
      });
      if (ev.type === "end") finish("end event");
      else if (c.closeOnData !== undefined && c.closeOnData !== null && ev.data === c.closeOnData) finish("closeOnData");
    };
    es.onopen = (ev) => {
      push({ k: "open", rs: es.readyState, bad: shape(ev, es, false), t: now() });
      if (c.closeInOpen) finish("closeInOpen");
    };
    es.onerror = (ev) => {
      const x = {};
      for (const f of ["reason", "status"]) if (ev[f] !== undefined) x[f] = ev[f];
      if (ev.headers !== undefined) {
        x.headers = ev.headers instanceof Headers ? `Headers content-type=${ev.headers.get("content-type")}` : String(ev.headers);
      }
      push({ k: "error", rs: es.readyState, bad: shape(ev, es, false), t: now(), x });
      if (es.readyState === 2) finish("closed");
      else if (c.closeOnError) finish("closeOnError");
    };
    es.onmessage = onMessage;
    for (const type of new Set(["end", ...(c.types || [])])) {
      if (type !== "message") es.addEventListener(type, onMessage);
    }
    timer = setTimeout(() => {
      run.timeout = true;
      finish("timeout");
    }, c.timeoutMs || 10000);
  });
}

/**
 * Runs one case with several implementations at once. impls is a list of
 * { name, impl, init } (init: extra options of eventwire's constructor);
 * urls maps a name to its session URL. Resolves with { name: run }.
 */
globalThis.runImpls = async function (impls, urls, c) {
  const runs = await Promise.all(
    impls.map((i) => runCase(i.name, i.impl, { ...c, url: urls[i.name], init: { ...(c.init || {}), ...(i.init || {}) } })),
  );
  const out = {};
  impls.forEach((i, n) => (out[i.name] = runs[n]));
  return out;
};

globalThis.setCookie = function (cookie) {
  document.cookie = cookie;
  return document.cookie;
};

state.phase = "ready";
