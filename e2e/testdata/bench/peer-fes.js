// esbuild entry: @microsoft/fetch-event-source 2.0.1 as an ES module, for the bench.
export { fetchEventSource } from "@microsoft/fetch-event-source";
