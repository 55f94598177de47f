// Test helpers for pages that use an EventSource (native or eventwire's).
// Everything a test observes is kept in window.state, which the Go side reads
// and prints when a wait fails.
"use strict";

globalThis.state = { sources: {} };
const sources = new Map();

// openES opens an EventSource named name and records what it sees: opens,
// errors, and every event of the given types ("message" and "gap" always).
// ctor is the EventSource class to use (the native one by default).
globalThis.openES = function (name, url, types = [], ctor = globalThis.EventSource) {
  const es = new ctor(url);
  const s = { url, opened: 0, errors: 0, events: [], readyStates: [] };
  state.sources[name] = s;
  sources.set(name, es);
  const log = () => s.readyStates.push(es.readyState);
  es.onopen = () => { s.opened++; log(); };
  es.onerror = () => { s.errors++; log(); };
  const record = (e) => s.events.push({ type: e.type, data: e.data, id: e.lastEventId });
  for (const t of new Set(["message", "gap", ...types])) es.addEventListener(t, record);
  return name;
};

// esState returns what the named source saw plus its current readyState.
globalThis.esState = function (name) {
  return { ...state.sources[name], readyState: sources.get(name).readyState };
};

// readyStates returns the current readyState of every source, by name.
globalThis.readyStates = function () {
  const out = {};
  for (const [name, es] of sources) out[name] = es.readyState;
  return out;
};

globalThis.closeES = function (name) {
  sources.get(name).close();
};

globalThis.closeAllES = function () {
  for (const es of sources.values()) es.close();
};
