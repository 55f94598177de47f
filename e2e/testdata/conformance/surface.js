// The API surface of an EventSource class, as a page can observe it, for
// comparison between the browser's and eventwire's (conformance_surface_test.go).
// surface(Ctor, base) resolves with { check: value } for every check.
globalThis.surface = async function (Ctor, base) {
  const out = {};
  const check = (name, f) => {
    try {
      out[name] = f();
    } catch (e) {
      out[name] = `threw ${e && e.name}`;
    }
  };
  const proto = Ctor.prototype;
  check("typeof", () => typeof Ctor);
  check("name", () => Ctor.name);
  check("length", () => Ctor.length);
  check("constants on the class", () => [Ctor.CONNECTING, Ctor.OPEN, Ctor.CLOSED].join(","));
  check("constants on the prototype", () => [proto.CONNECTING, proto.OPEN, proto.CLOSED].join(","));
  check("constants are read-only", () => {
    const d = Object.getOwnPropertyDescriptor(Ctor, "OPEN");
    return d && !d.writable && d.enumerable && !d.configurable;
  });
  check("extends EventTarget", () => proto instanceof EventTarget);
  check("toStringTag", () => Object.prototype.toString.call(proto));
  for (const p of ["url", "withCredentials", "readyState", "onopen", "onmessage", "onerror"]) {
    check(`${p} is an accessor on the prototype`, () => {
      const d = Object.getOwnPropertyDescriptor(proto, p);
      return !!d && typeof d.get === "function" && d.enumerable && d.configurable;
    });
  }
  check("close is a method on the prototype", () => typeof proto.close === "function" && proto.close.length === 0);
  check("call without new", () => {
    Ctor("/x");
    return "no throw";
  });
  check("unparseable URL", () => {
    new Ctor("http://[::1");
    return "no throw";
  });
  check("getter on a foreign object", () => Object.getOwnPropertyDescriptor(proto, "url").get.call({}));

  // An instance, on a URL that never answers (closed at once).
  const rel = "/conf/nothing?q=1#frag";
  const es = new Ctor(rel);
  check("url resolved against the base", () => es.url === new URL(rel, base).href);
  check("readyState at first", () => es.readyState);
  check("withCredentials default", () => es.withCredentials);
  check("handlers default to null", () => [es.onopen, es.onmessage, es.onerror].map(String).join(","));
  check("instanceof", () => es instanceof Ctor && es instanceof EventTarget);
  check("toString of an instance", () => Object.prototype.toString.call(es));
  check("own properties", () => Object.getOwnPropertyNames(es).join(","));
  check("handler set to a non-function", () => {
    es.onmessage = 42;
    return String(es.onmessage);
  });
  check("handler set to an object", () => {
    const o = { handleEvent() {} };
    es.onmessage = o;
    return es.onmessage === o;
  });
  check("dispatchEvent reaches the handler", () => {
    let got = "";
    es.onmessage = (e) => (got = e.data);
    es.dispatchEvent(new MessageEvent("message", { data: "synthetic" }));
    return got;
  });
  check("handler called with this = the source", () => {
    let self = null;
    es.onopen = function () {
      self = this;
    };
    es.dispatchEvent(new Event("open"));
    return self === es;
  });
  es.close();
  check("readyState after close", () => es.readyState);
  check("close twice", () => {
    es.close();
    return es.readyState;
  });
  const withCreds = new Ctor(rel, { withCredentials: true });
  check("withCredentials option", () => withCreds.withCredentials);
  withCreds.close();
  check("init of a wrong type", () => {
    new Ctor(rel, 5).close();
    return "no throw";
  });

  // A URL that is not http(s): the connection fails (error, CLOSED).
  out["ws: URL"] = await new Promise((resolve) => {
    let es2;
    try {
      es2 = new Ctor("ws://127.0.0.1:1/x");
    } catch (e) {
      resolve(`threw ${e && e.name}`);
      return;
    }
    const timer = setTimeout(() => {
      es2.close();
      resolve(`no error within 5 s, readyState ${es2.readyState}`);
    }, 5000);
    es2.onerror = () => {
      clearTimeout(timer);
      const rs = es2.readyState;
      es2.close();
      resolve(`error, readyState ${rs}`);
    };
  });
  return out;
};
