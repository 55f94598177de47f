// esbuild entry: event-source-polyfill 1.0.31 as an ES module, for the bench.
export { EventSourcePolyfill } from "event-source-polyfill";
