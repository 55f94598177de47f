// Compiles only if eventwire.d.ts describes the API the way users call it.
import { ready, load, version, type EventwireModule, type EventwireGlobal, type LoadOptions } from "eventwire";

const v: string = version();

async function main(): Promise<void> {
  const mod: EventwireModule = await ready;
  const s: string = mod.echo("héllo");
  const b: Uint8Array = mod.echo(new Uint8Array([1, 2, 3]));
  const sa: string = await mod.echoAsync("x");
  const ba: Uint8Array = await mod.echoAsync(new Uint8Array(1));
  const wasmVersion: string = mod.version;
  console.log(v, s, b, sa, ba, wasmVersion);

  const options: LoadOptions = { wasm: new URL("/dist/eventwire.wasm", "https://example.test/") };
  const again: EventwireModule = await load(options);
  await load({ wasm: fetch("/eventwire.wasm") });
  await load({ wasm: new Uint8Array(8) });
  await load({ batchWasm: "/dist/eventwire-batch.wasm" });
  await load();
  console.log(again === mod);

  // @ts-expect-error echo takes a string or a Uint8Array
  mod.echo(42);
  // @ts-expect-error version is read-only
  mod.version = "x";
}

declare const eventwire: EventwireGlobal;
void eventwire.ready.then((m) => m.echo("x"));
void eventwire.load({ wasm: "/eventwire.wasm" });
// @ts-expect-error the classic script has no BatchSocket, hence no batchWasm
void eventwire.load({ batchWasm: "/eventwire-batch.wasm" });
void main();

// EventSource: the native surface plus the extensions.
import {
  EventSource,
  type EventSourceInit,
  type EventSourceBatchEvent,
  type EventSourceErrorEvent,
  type EventSourceOpenEvent,
  type EventwireUnsupported,
} from "eventwire";

const init: EventSourceInit = {
  withCredentials: true,
  transport: "auto",
  headers: async () => ({ Authorization: "Bearer t" }),
  method: "POST",
  body: JSON.stringify({ topic: "x" }),
  lastEventIdParam: "lastEventId",
  retryMaxDelay: 30000,
  heartbeatTimeout: 45000,
  bufferingTimeout: 5000,
  xhrRenewBytes: 1 << 22,
  maxEventSize: 1 << 20,
  debug: false,
  onbatch(events: EventSourceBatchEvent[]) {
    for (const e of events) console.log(e.type, e.data, e.lastEventId, e.origin, this.url);
  },
  dispatchEvents: true,
};
const es = new EventSource("/events/ticker", init);
new EventSource(new URL("https://example.test/e"), { headers: [["X-A", "1"]] });
new EventSource("/e", { headers: new Headers({ "X-A": "1" }) });
const state: number = es.readyState;
const closed: 2 = EventSource.CLOSED;
console.log(state, closed, es.CONNECTING, es.url, es.withCredentials);
es.onmessage = (e) => {
  const d: string = e.data;
  console.log(d, e.origin, e.lastEventId);
};
es.onopen = (e: EventSourceOpenEvent) => console.log(e.status, e.headers?.get("content-type"));
es.onerror = (e: EventSourceErrorEvent) => {
  if (e.reason === "bad status") console.log(e.status);
};
es.addEventListener("tick", (e) => console.log(e.data));
es.addEventListener("error", (e) => console.log(e.reason));
es.close();
const asTarget: EventTarget = es;
void asTarget;
// @ts-expect-error transport is one of four names
new EventSource("/e", { transport: "websocket" });
// @ts-expect-error readyState is read-only
es.readyState = 1;

declare const legacy: EventwireGlobal | EventwireUnsupported;
if (legacy.supported) {
  legacy.install({ force: true });
  const Native: typeof globalThis.EventSource | undefined = legacy.NativeEventSource;
  void Native;
  void new legacy.EventSource("/e");
} else {
  console.log(legacy.error.code);
}
