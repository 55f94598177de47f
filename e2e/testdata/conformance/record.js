// A recorder of EventSources for the transport, fault and memory tests: a
// classic script, loaded by a <script> tag in a page or by importScripts in a
// worker. Everything it observes is in globalThis.state.sources[name].
"use strict";

(function (g) {
  const sources = new Map();
  g.state = g.state || {};
  g.state.sources = g.state.sources || {};
  const now = () => Math.round(performance.now());

  // recOpen opens an EventSource of class Ctor named name and records opens,
  // errors (readyState, time and the extension fields reason and status),
  // and every event of type message, gap and the given types.
  g.recOpen = function (name, Ctor, url, init, types) {
    const es = init === undefined ? new Ctor(url) : new Ctor(url, init);
    const s = { url: es.url, opened: 0, opens: [], errors: [], events: [], bad: [], count: 0 };
    g.state.sources[name] = s;
    sources.set(name, es);
    es.onopen = () => {
      s.opened++;
      s.opens.push(now());
    };
    es.onerror = (e) => {
      s.errors.push({ rs: es.readyState, t: now(), reason: e.reason, status: e.status });
    };
    const rec = (e) => {
      s.count++;
      if (!(e instanceof MessageEvent)) s.bad.push("not a MessageEvent: " + e.type);
      s.events.push({ type: e.type, data: e.data, id: e.lastEventId, origin: e.origin });
    };
    for (const t of new Set(["message", "gap", ...(types || [])])) es.addEventListener(t, rec);
    return es;
  };

  // recCount opens an EventSource that only counts its messages (and keeps
  // the last one), for memory measurements.
  g.recCount = function (name, Ctor, url, init) {
    const es = new Ctor(url, init);
    const s = { url: es.url, opened: 0, opens: [], errors: [], events: [], bad: [], count: 0, last: null };
    g.state.sources[name] = s;
    sources.set(name, es);
    es.onopen = () => s.opened++;
    es.onerror = (e) => s.errors.push({ rs: es.readyState, t: now(), reason: e.reason, status: e.status });
    es.onmessage = (e) => {
      s.count++;
      s.last = e.lastEventId;
    };
    return es;
  };

  // recGet returns what the named source saw, with its readyState.
  g.recGet = function (name) {
    const es = sources.get(name);
    return { ...g.state.sources[name], readyState: es ? es.readyState : -1 };
  };

  g.recClose = function (name) {
    sources.get(name).close();
  };
})(globalThis);
