// Init script (Page.addScriptToEvaluateOnNewDocument) of the backpressure
// test: keeps every WebSocket the page creates in globalThis.__sockets, so
// that the test can read bufferedAmount, which BatchSocket does not expose.
(() => {
  const Native = globalThis.WebSocket;
  if (typeof Native !== "function") return;
  const sockets = (globalThis.__sockets = []);
  class TrackedWebSocket extends Native {
    constructor(...args) {
      super(...args);
      sockets.push(this);
    }
  }
  globalThis.WebSocket = TrackedWebSocket;
})();
