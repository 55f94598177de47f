// The contenders of the browser benchmark (e2e/bench_test.go) behind one
// interface, so every measure drives them the same way:
//
//   const lib = await loadLib(name);          // the library module, or throws
//   const close = open(name, lib, url, onData, onFail, stats);
//
// onData(data) is called once per event, in order, with the event's data;
// onFail(reason) when the contender gives up for good. Every contender does the
// same work per event: its usual event delivery, then onData.

/** Where each contender's library comes from (native needs none). */
const libURLs = {
  eventwire: "/dist/eventwire.js",
  "eventwire-fast": "/dist/eventwire.js",
  "event-source-polyfill": "/bench/lib/peer-esp.js",
  "fetch-event-source": "/bench/lib/peer-fes.js",
};

export const names = ["native", "eventwire", "eventwire-fast", "event-source-polyfill", "fetch-event-source"];

/**
 * Loads the library of a contender. Rejects with a reason when it is not
 * usable (for eventwire: the build has no EventSource export yet).
 */
export async function loadLib(name) {
  if (name === "native") {
    if (typeof globalThis.EventSource !== "function") throw new Error("no native EventSource");
    return null;
  }
  const url = libURLs[name];
  if (!url) throw new Error("unknown contender " + name);
  const m = await import(url);
  if (name.startsWith("eventwire") && typeof m.EventSource !== "function") {
    throw new Error("dist/eventwire.js has no EventSource export");
  }
  return m;
}

/** Waits until the contender's library is ready to connect at once. */
export async function warmLib(name, lib) {
  if (name.startsWith("eventwire")) await lib.ready;
}

function onClosedError(es, onFail) {
  es.onerror = (ev) => {
    if (es.readyState === 2) onFail("error event, then CLOSED" + (ev && ev.reason ? ": " + ev.reason : ""));
  };
}

/** Opens a stream with the contender; returns a function that closes it. */
export function open(name, lib, url, onData, onFail, stats) {
  switch (name) {
    case "native": {
      const es = new EventSource(url);
      es.onmessage = (e) => onData(e.data);
      onClosedError(es, onFail);
      return () => es.close();
    }
    case "eventwire": {
      const es = new lib.EventSource(url);
      es.onmessage = (e) => onData(e.data);
      onClosedError(es, onFail);
      return () => es.close();
    }
    case "eventwire-fast": {
      const es = new lib.EventSource(url, {
        dispatchEvents: false,
        onbatch(events) {
          stats.batches++;
          for (let i = 0; i < events.length; i++) onData(events[i].data);
        },
      });
      onClosedError(es, onFail);
      return () => es.close();
    }
    case "event-source-polyfill": {
      // The heartbeat timeout (45 s by default) must not cut a slow run.
      const es = new lib.EventSourcePolyfill(url, { heartbeatTimeout: 600000 });
      es.onmessage = (e) => onData(e.data);
      onClosedError(es, onFail);
      return () => es.close();
    }
    case "fetch-event-source": {
      const ac = new AbortController();
      lib
        .fetchEventSource(url, {
          signal: ac.signal,
          openWhenHidden: true,
          onmessage: (m) => onData(m.data),
          onerror(e) {
            onFail("fetchEventSource: " + e);
            throw e; // no retry
          },
        })
        .catch((e) => onFail("fetchEventSource: " + e));
      return () => ac.abort();
    }
  }
  throw new Error("unknown contender " + name);
}
