// A dedicated worker that loads the classic polyfill with importScripts, as
// GUIDE.md promises it works; it reports to the page with postMessage.
importScripts("/dist/eventwire-polyfill.js");

(async () => {
  try {
    const m = await self.eventwire.ready;
    postMessage({ phase: "done", version: self.eventwire.version(), moduleVersion: m.version, echo: m.echo("worker") });
  } catch (e) {
    postMessage({ phase: "error", error: String((e && e.stack) || e) });
  }
})();
