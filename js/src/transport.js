// The request driver of an EventSource: the HTTP mechanics the Go client
// (wasm/eventsource, through jsbind.ESTransport) asks for. Go decides when to
// connect, with which URL and headers, parses the body and runs the
// readyState machine; this file only makes requests and reports what happens
// to them, in order, through report(requestId, kind, ...args):
//
//   0 response (status, contentType|null, finalURL, headers)   once
//   1 chunk (Uint8Array)                                        any number
//   2 end                                                       orderly end
//   3 fail (message)                                            network error
//   4 headers failed (message)                                  the headers option threw
//   5 renew                                                     XHR: responseText got large
//
// Transports, chosen per request:
//   - polls (longPoll): fetch, whole body (arrayBuffer); XHR where fetch is missing.
//   - streams: fetch with a ReadableStream reader where it works ("auto",
//     "fetch"); else XMLHttpRequest streaming ("auto" fallback, "xhr"): the
//     body is read as x-user-defined text, one character per byte, so the
//     bytes reach Go undecoded whatever charset the server declares, and
//     only the new part of responseText is converted on each progress or
//     readystatechange event. After xhrRenewBytes the driver asks Go to renew
//     the request (at the next event boundary), so responseText stays bounded.
// Every request: Go's headers (Accept, Last-Event-ID, the static headers
// option) plus the headers function's result, credentials "include" or
// "same-origin" (xhr.withCredentials), cache "no-store" (not expressible with
// XHR), redirects followed.
//
// Reports are never made synchronously inside open() or abort(): Go calls
// those while it processes an input.

/** Report kinds; see wasm/jsbind/es_transport.go. */
export const RESPONSE = 0;
export const CHUNK = 1;
export const END = 2;
export const FAIL = 3;
export const HEADERS_FAIL = 4;
export const RENEW = 5;

/**
 * @typedef {object} DriverOptions
 * @property {"auto" | "fetch" | "xhr" | "longpoll"} transport
 * @property {boolean} withCredentials
 * @property {BodyInit | null | undefined} body
 * @property {(() => unknown) | undefined} headersFn  the headers option when it is a function
 * @property {number} xhrRenewBytes
 */

/**
 * @typedef {object} Req
 * @property {number} id                  Go's request id (0 for an early request not adopted yet)
 * @property {boolean} aborted
 * @property {(() => void) | null} cancel
 * @property {unknown[][] | null} queue   reports held for Go (early request), else null
 * @property {number} queued              bytes in queue
 * @property {string} [key]               what Go's open() must ask for to adopt it
 */

/** Set once a fetch response had no readable body although fetch looked streamable. */
let noFetchStreams = false;

/** @returns {boolean} */
function fetchStreams() {
  return (
    !noFetchStreams &&
    typeof fetch === "function" &&
    typeof ReadableStream === "function" &&
    typeof Response === "function" &&
    "body" in Response.prototype
  );
}

/**
 * @param {DriverOptions} opts
 * @param {(id: number, kind: number, ...args: unknown[]) => void} report
 */
export function createDriver(opts, report) {
  /** @type {Map<number, Req>} */
  const live = new Map();
  /** @type {Req | null} the request started by preopen, until Go's first open */
  let early = null;

  /**
   * @param {number} id
   * @param {string} url
   * @param {string} method
   * @param {string} headerText "name\nvalue\n..."
   * @param {boolean} longPoll
   */
  function open(id, url, method, headerText, longPoll) {
    const pre = early;
    early = null;
    if (pre && !pre.aborted) {
      if (pre.key === requestKey(url, method, headerText, longPoll)) {
        adopt(pre, id);
        return;
      }
      cancel(pre);
    }
    /** @type {Req} */
    const req = { id, aborted: false, cancel: null, queue: null, queued: 0 };
    live.set(id, req);
    start(req, url, method, headerText, longPoll);
  }

  /**
   * Starts the first request before Go has loaded (the wasm download and
   * compilation, and Go's start, take tens of milliseconds; the connection
   * can use them). Its reports wait in a queue; Go's first open() with the
   * same URL, method, headers and mode adopts it, any other open() cancels it.
   * @param {string} url
   * @param {string} method
   * @param {string} headerText
   * @param {boolean} longPoll
   */
  function preopen(url, method, headerText, longPoll) {
    /** @type {Req} */
    const req = { id: 0, aborted: false, cancel: null, queue: [], queued: 0, key: requestKey(url, method, headerText, longPoll) };
    early = req;
    start(req, url, method, headerText, longPoll);
  }

  /**
   * @param {Req} req
   * @param {number} id
   */
  function adopt(req, id) {
    req.id = id;
    live.set(id, req);
    Promise.resolve().then(() => {
      const q = /** @type {unknown[][]} */ (req.queue);
      for (let i = 0; i < q.length && !req.aborted; i++) deliver(req, /** @type {number} */ (q[i][0]), q[i].slice(1));
      req.queue = null;
    });
  }

  /** Cancels everything (the source closed, or Go could not load). */
  function abortAll() {
    if (early) cancel(early);
    early = null;
    for (const id of [...live.keys()]) abort(id);
  }

  /**
   * @param {Req} req
   * @param {number} kind
   * @param {unknown[]} args
   */
  function deliver(req, kind, args) {
    if (req.aborted) return;
    if (kind === END || kind === FAIL || kind === HEADERS_FAIL) {
      req.aborted = true; // nothing more from this request
      live.delete(req.id);
    }
    report(req.id, kind, ...args);
  }

  /**
   * @param {Req} req
   * @param {string} url
   * @param {string} method
   * @param {string} headerText
   * @param {boolean} longPoll
   */
  function start(req, url, method, headerText, longPoll) {
    /** @type {(kind: number, ...args: unknown[]) => void} */
    const emit = (kind, ...args) => {
      if (req.aborted) return;
      const q = req.queue;
      if (q === null) {
        deliver(req, kind, args);
        return;
      }
      q.push([kind, ...args]);
      if (kind === CHUNK) req.queued += /** @type {Uint8Array} */ (args[0]).length;
      if (req.queued > maxEarlyBytes && req === early) {
        cancel(req); // Go is slow to come: do not hold the stream in memory
        early = null;
      }
    };
    const fail = (/** @type {unknown} */ err) => emit(FAIL, describe(err));
    /** @type {[string, string][]} */
    const headers = [];
    if (headerText) {
      const parts = headerText.split("\n");
      for (let i = 0; i + 1 < parts.length; i += 2) {
        let value = parts[i + 1];
        // The last event ID goes out as its UTF-8 bytes, as browsers send
        // it; fetch and XHR take header values as byte strings.
        if (parts[i].toLowerCase() === "last-event-id" && /[^\0-\x7f]/.test(value)) value = byteString(value);
        headers.push([parts[i], value]);
      }
    }
    const go = () => {
      if (req.aborted) return;
      try {
        if (longPoll) {
          if (typeof fetch === "function") fetchRequest(req, emit, url, method, headers, false);
          else xhrRequest(req, emit, url, method, headers, false);
        } else if (opts.transport === "xhr") {
          xhrRequest(req, emit, url, method, headers, true);
        } else if (opts.transport === "fetch" || fetchStreams()) {
          fetchRequest(req, emit, url, method, headers, true);
        } else {
          xhrRequest(req, emit, url, method, headers, true);
        }
      } catch (err) {
        fail(err);
      }
    };
    const fn = opts.headersFn;
    if (fn === undefined) {
      Promise.resolve().then(go);
      return;
    }
    Promise.resolve()
      .then(() => fn())
      .then(
        (h) => {
          if (req.aborted) return;
          mergeHeaders(headers, normalizeHeaders(h));
          go();
        },
        (err) => emit(HEADERS_FAIL, describe(err)),
      );
  }

  /** @param {Req} req */
  function cancel(req) {
    req.aborted = true;
    if (req.cancel) {
      try {
        req.cancel();
      } catch {
        // already finished
      }
    }
  }

  /** @param {number} id */
  function abort(id) {
    const req = live.get(id);
    if (!req) return;
    live.delete(id);
    cancel(req);
  }

  /**
   * @param {Req} req
   * @param {(kind: number, ...args: unknown[]) => void} emit
   * @param {string} url
   * @param {string} method
   * @param {[string, string][]} headers
   * @param {boolean} stream
   */
  function fetchRequest(req, emit, url, method, headers, stream) {
    const ctrl = typeof AbortController === "function" ? new AbortController() : null;
    /** @type {ReadableStreamDefaultReader<Uint8Array> | null} */
    let reader = null;
    req.cancel = () => {
      if (ctrl) ctrl.abort();
      else if (reader) reader.cancel().catch(() => {});
    };
    /** @type {RequestInit} */
    const init = {
      method,
      headers,
      credentials: opts.withCredentials ? "include" : "same-origin",
      cache: "no-store",
      redirect: "follow",
      mode: "cors",
    };
    if (opts.body != null) init.body = opts.body;
    if (ctrl) init.signal = ctrl.signal;
    const fail = (/** @type {unknown} */ err) => emit(FAIL, describe(err));
    fetch(url, init).then((resp) => {
      if (req.aborted) return;
      const body = resp.body;
      if (stream && body === undefined && opts.transport !== "fetch") {
        // fetch without streams after all (a partial polyfill): XHR instead.
        noFetchStreams = true;
        if (ctrl) ctrl.abort();
        xhrRequest(req, emit, url, method, headers, true);
        return;
      }
      emit(RESPONSE, resp.status, resp.headers.get("Content-Type"), resp.url, resp.headers);
      if (req.aborted) return; // Go refused the response
      if (!body) {
        emit(END);
        return;
      }
      if (!stream) {
        return resp.arrayBuffer().then((buf) => {
          if (buf.byteLength > 0) emit(CHUNK, new Uint8Array(buf));
          emit(END);
        }, fail);
      }
      if (typeof body.getReader !== "function") {
        fail(new TypeError("the fetch response body cannot be read as a stream"));
        return;
      }
      const r = body.getReader();
      reader = r;
      // Each read starts its own promise chain: returning the next read from
      // then() would link every chunk's promise to the next one, and keep
      // them all for the life of the stream (~100 B per chunk).
      const pump = () => {
        r.read()
          .then((x) => {
            if (req.aborted) return;
            if (x.done) {
              emit(END);
              return;
            }
            if (x.value && x.value.length > 0) emit(CHUNK, x.value);
            if (!req.aborted) pump();
          })
          .catch(fail);
      };
      pump();
    }, fail);
  }

  /**
   * @param {Req} req
   * @param {(kind: number, ...args: unknown[]) => void} emit
   * @param {string} url
   * @param {string} method
   * @param {[string, string][]} headers
   * @param {boolean} stream
   */
  function xhrRequest(req, emit, url, method, headers, stream) {
    if (typeof XMLHttpRequest !== "function") {
      emit(FAIL, "no transport: neither streaming fetch nor XMLHttpRequest is available");
      return;
    }
    const x = new XMLHttpRequest();
    let responded = false;
    let off = 0; // characters of responseText already read
    let got = 0; // bytes read
    let renewed = false;
    // XHR decodes with BOM sniffing: a body that starts with a UTF-8 BOM is
    // decoded as UTF-8 despite x-user-defined (the BOM dropped). Such text
    // shows characters that x-user-defined never produces (non-ASCII outside
    // U+F780-U+F7FF); from the first one on, the text is re-encoded as UTF-8,
    // which is what protocol/sse would have decoded anyway.
    let utf8 = false;
    const detach = () => {
      x.onreadystatechange = x.onprogress = x.onload = x.onerror = x.ontimeout = x.onabort = null;
    };
    req.cancel = () => {
      detach();
      x.abort();
    };
    const respond = () => {
      if (responded) return !req.aborted;
      if (x.readyState < 2 || x.status === 0) return false;
      responded = true;
      emit(RESPONSE, x.status, x.getResponseHeader("Content-Type"), x.responseURL || url, x.getAllResponseHeaders());
      return !req.aborted;
    };
    const pull = () => {
      const text = x.responseText;
      const n = text.length;
      if (n <= off) return;
      /** @type {Uint8Array} */
      let u8;
      if (utf8) {
        u8 = utf8Encode(text.slice(off));
      } else {
        u8 = new Uint8Array(n - off);
        for (let i = off; i < n; i++) {
          const c = text.charCodeAt(i);
          if (c >= 0x80 && (c < 0xf780 || c > 0xf7ff)) {
            utf8 = true;
            // The sniffed BOM was dropped; it matters only right at the start
            // (protocol/sse strips one leading BOM, and keeps a second).
            const bom = i === 0 ? 3 : 0;
            const rest = utf8Encode(text.slice(i));
            const all = new Uint8Array(bom + i - off + rest.length);
            if (bom) all.set([0xef, 0xbb, 0xbf]);
            all.set(u8.subarray(0, i - off), bom);
            all.set(rest, bom + i - off);
            u8 = all;
            break;
          }
          u8[i - off] = c; // x-user-defined: U+F7xx → 0xxx
        }
      }
      off = n;
      got += u8.length;
      emit(CHUNK, u8);
      if (!renewed && got >= opts.xhrRenewBytes && !req.aborted) {
        renewed = true;
        emit(RENEW);
      }
    };
    x.open(method, url, true);
    x.withCredentials = opts.withCredentials;
    for (const [name, value] of headers) x.setRequestHeader(name, value);
    if (stream) x.overrideMimeType("text/plain; charset=x-user-defined");
    else x.responseType = "arraybuffer";
    x.onreadystatechange = x.onprogress = () => {
      if (req.aborted || !respond()) return;
      if (stream && x.readyState >= 3) pull();
    };
    x.onload = () => {
      if (req.aborted) return;
      if (!respond()) {
        emit(FAIL, "XMLHttpRequest ended without a response");
        return;
      }
      if (stream) pull();
      else if (x.response && x.response.byteLength > 0) emit(CHUNK, new Uint8Array(x.response));
      detach();
      emit(END);
    };
    x.onerror = x.ontimeout = x.onabort = (ev) => {
      detach();
      emit(FAIL, "XMLHttpRequest " + (ev && ev.type ? ev.type : "error"));
    };
    x.send(opts.body == null ? null : /** @type {XMLHttpRequestBodyInit} */ (opts.body));
  }

  return { open, abort, preopen, abortAll };
}

/** The most an early request may receive before Go takes it over. */
const maxEarlyBytes = 1 << 20;

/**
 * @param {string} url
 * @param {string} method
 * @param {string} headerText
 * @param {boolean} longPoll
 */
function requestKey(url, method, headerText, longPoll) {
  return `${longPoll}\n${method}\n${url}\n${headerText}`;
}

/**
 * The first request Go will make (wasm/eventsource/request.go): Accept, then
 * the static headers merged in (same rules as Go's mergeHeaders); no
 * Last-Event-ID yet.
 * @param {string} staticHeaders "name\nvalue\n..."
 * @returns {string}
 */
export function firstRequestHeaders(staticHeaders) {
  /** @type {[string, string][]} */
  const h = [["Accept", "text/event-stream"]];
  if (staticHeaders) {
    /** @type {[string, string][]} */
    const add = [];
    const parts = staticHeaders.split("\n");
    for (let i = 0; i + 1 < parts.length; i += 2) add.push([parts[i], parts[i + 1]]);
    mergeHeaders(h, add);
  }
  return h.map(([n, v]) => `${n}\n${v}`).join("\n");
}

/** @type {TextEncoder | null} */
let encoder = null;

/**
 * @param {string} s
 * @returns {Uint8Array}
 */
function utf8Encode(s) {
  if (encoder === null) encoder = new TextEncoder();
  return encoder.encode(s);
}

/**
 * s as a byte string of its UTF-8 encoding.
 * @param {string} s
 * @returns {string}
 */
function byteString(s) {
  let out = "";
  for (const b of utf8Encode(s)) out += String.fromCharCode(b);
  return out;
}

/**
 * The headers option's value as [name, value] pairs: a Headers object, an
 * array of pairs, or a record.
 * @param {unknown} h
 * @returns {[string, string][]}
 */
export function normalizeHeaders(h) {
  /** @type {[string, string][]} */
  const out = [];
  if (h == null) return out;
  if (typeof h !== "object") throw new TypeError("eventwire: headers must be an object, an array of pairs or a Headers");
  const it = /** @type {any} */ (h);
  if (typeof Headers === "function" && h instanceof Headers) {
    h.forEach((value, name) => out.push([name, value]));
  } else if (Array.isArray(h) || typeof it[Symbol.iterator] === "function") {
    for (const pair of /** @type {Iterable<unknown>} */ (it)) {
      if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError("eventwire: headers pairs must be [name, value]");
      out.push([String(pair[0]), String(pair[1])]);
    }
  } else {
    for (const name of Object.keys(it)) out.push([name, String(it[name])]);
  }
  for (const [name, value] of out) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new TypeError(`eventwire: invalid header name ${JSON.stringify(name)}`);
    if (/[\0\r\n]/.test(value)) throw new TypeError(`eventwire: invalid value for header ${name}`);
  }
  return out;
}

/**
 * Adds add to headers; a name already there (any case) takes the new value in
 * place. Last-Event-ID is the client's own and is skipped.
 * @param {[string, string][]} headers
 * @param {[string, string][]} add
 */
export function mergeHeaders(headers, add) {
  next: for (const [name, value] of add) {
    const lower = name.toLowerCase();
    if (lower === "last-event-id") continue;
    for (const h of headers) {
      if (h[0].toLowerCase() === lower) {
        h[0] = name;
        h[1] = value;
        continue next;
      }
    }
    headers.push([name, value]);
  }
}

/**
 * @param {unknown} err
 * @returns {string}
 */
export function describe(err) {
  if (err instanceof Error) return err.name && err.name !== "Error" ? `${err.name}: ${err.message}` : err.message;
  return String(err);
}
