// The start of eventwire-polyfill.js, in ES5 on purpose: it must run in every
// browser, including those that cannot parse the rest (IE 11). It checks that
// the environment can run eventwire, then evaluates the rest (polyfill/
// index.js bundled as ES2017, embedded by scripts/build.mjs as the string
// __EVENTWIRE_PAYLOAD__).
//
// Where something essential is missing it installs nothing and fails with one
// error, documented in js/README.md ("Unsupported browsers"):
//
//   Error: eventwire: this browser cannot run the EventSource polyfill
//   (missing: WebAssembly); EventSource was not installed
//
// thrown once from this script (the page's other scripts run on), with
// error.code "EVENTWIRE_UNSUPPORTED"; globalThis.eventwire is then
// { supported: false, error, version(), install() } (install throws the error).
//
// How the rest is evaluated: new Function, which also turns a syntax the
// browser lacks into the same clear error. When the script tag has a nonce
// (a Content-Security-Policy, which may forbid eval), or when a CSP refused
// new Function, a page gets an inline script element carrying that nonce, a
// worker a blob: URL through importScripts.
/* eslint-disable no-var */
(/**
  * @param {any} g globalThis
  * @param {string} source the bundle
  */ function (g, source) {
  var doc = g.document;
  /** @type {any} */
  var script = doc && doc.currentScript;
  var boot = {
    scriptURL: script && script.src ? script.src : ownURL(),
    wasm: script && script.getAttribute ? script.getAttribute("data-wasm") : null,
    force: !!(script && script.hasAttribute && script.hasAttribute("data-force")),
  };

  var missing = lacking();
  if (missing) {
    unsupported("missing: " + missing);
    return;
  }
  // A script tag with a nonce means a Content-Security-Policy that may forbid
  // eval: run the rest as an inline script with that nonce, without trying
  // (a refused eval would print a CSP violation on the console).
  var nonce = script && (script.nonce || (script.getAttribute && script.getAttribute("nonce")));
  if (nonce) {
    evaluateWithoutEval("the script has a nonce");
    return;
  }
  var run;
  try {
    run = Function("ew$boot", source);
  } catch (/** @type {any} */ e) {
    if (e && e.name === "SyntaxError") {
      unsupported("its JavaScript is too old");
      return;
    }
    evaluateWithoutEval(e);
    return;
  }
  run(boot);

  /** @returns {string} the first essential feature the environment lacks, or "" */
  function lacking() {
    if (typeof globalThis === "undefined") return "globalThis";
    if (typeof g.WebAssembly !== "object" || !g.WebAssembly || typeof g.WebAssembly.instantiate !== "function") return "WebAssembly";
    var names = ["Promise", "Map", "WeakMap", "Symbol", "Uint8Array", "Uint32Array", "TextDecoder", "URL"];
    for (var i = 0; i < names.length; i++) {
      if (typeof g[names[i]] !== "function") return names[i];
    }
    if (typeof g.fetch !== "function" && typeof g.XMLHttpRequest !== "function") return "fetch";
    try {
      new g.EventTarget();
    } catch (e) {
      return "EventTarget constructor";
    }
    try {
      new g.MessageEvent("message", { data: "" });
    } catch (e) {
      return "MessageEvent constructor";
    }
    return "";
  }

  /**
   * Installs nothing, defines the unsupported eventwire global, and throws the
   * one error.
   * @param {string} why
   */
  function unsupported(why) {
    var err = new Error("eventwire: this browser cannot run the EventSource polyfill (" + why + "); EventSource was not installed");
    /** @type {any} */ (err).code = "EVENTWIRE_UNSUPPORTED";
    if (!g.eventwire) {
      g.eventwire = {
        supported: false,
        error: err,
        version: function () {
          return __EVENTWIRE_VERSION__;
        },
        install: function () {
          throw err;
        },
      };
    }
    throw err;
  }

  /**
   * Runs the rest where eval is forbidden by a Content-Security-Policy.
   * @param {unknown} evalError
   */
  function evaluateWithoutEval(evalError) {
    var key = "__eventwire_boot_" + Math.random().toString(36).slice(2);
    g[key] = boot;
    var code = "(function(ew$boot){" + source + "\n})(globalThis." + key + ")";
    try {
      if (doc && doc.createElement) {
        var s = doc.createElement("script");
        if (nonce) s.nonce = nonce;
        s.text = code;
        (doc.head || doc.documentElement).appendChild(s); // runs now
        if (s.parentNode) s.parentNode.removeChild(s);
      } else if (typeof g.importScripts === "function" && g.Blob && g.URL && g.URL.createObjectURL) {
        var url = g.URL.createObjectURL(new g.Blob([code], { type: "text/javascript" }));
        try {
          g.importScripts(url);
        } finally {
          g.URL.revokeObjectURL(url);
        }
      }
    } finally {
      delete g[key];
    }
    if (!g.eventwire || !g.eventwire.EventSource) {
      var err = new Error("eventwire: the polyfill could not be evaluated (" + evalError + "): the Content-Security-Policy refused it or the browser is too old; allow 'unsafe-eval', give the script tag a nonce, or use the ES module dist/eventwire.js");
      /** @type {any} */ (err).code = "EVENTWIRE_CSP";
      throw err;
    }
  }

  /**
   * This script's URL in a worker (importScripts), from a stack trace: the
   * first URL followed by :line:column (V8 "at f (URL:1:2)", Firefox and
   * Safari "f@URL:1:2").
   * @returns {string}
   */
  function ownURL() {
    var stack;
    try {
      throw new Error();
    } catch (/** @type {any} */ e) {
      stack = e.stack;
    }
    if (typeof stack !== "string") return "";
    var m = /(?:https?|file):\/\/[^\s()]*?(?=:\d+:\d+(?:\)|\s|$))/.exec(stack);
    return m ? m[0] : "";
  }
})(
  typeof globalThis !== "undefined" ? globalThis : typeof self !== "undefined" ? self : typeof window !== "undefined" ? window : this,
  __EVENTWIRE_PAYLOAD__
);
