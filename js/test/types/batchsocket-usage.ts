// Type checks of the BatchSocket declarations (tsc --noEmit -p js); never run.
import { BatchSocket, QueueFullError, load, type BatchSocketLoadOptions, type BatchSocketStats, type EventwireModule } from "eventwire";

const b = new BatchSocket("wss://example.com/ingest", {
  batchBytes: 32 * 1024,
  batchCount: 512,
  batchDelay: 20,
  maxQueueBytes: 4 << 20,
  queuePolicy: "drop-oldest",
  persist: "telemetry",
  transport: "auto",
  fallbackUrl: new URL("https://example.com/ingest"),
  reconnectDelay: 500,
  heartbeatInterval: 0,
  debug: false,
});
b.send("text");
b.send(new Uint8Array([1, 2]));
b.send(new ArrayBuffer(4));
b.send(new DataView(new ArrayBuffer(2)));
try {
  b.send("x");
} catch (e) {
  if (e instanceof QueueFullError || e instanceof BatchSocket.QueueFullError) console.log(e.name);
}
b.onopen = (e) => console.log(e.transport satisfies "websocket" | "http");
b.onclose = (e) => console.log(e.code, e.reason, e.wasClean, e.reconnecting);
b.onerror = (e) => console.log(e.reason, e.code, e.message);
b.onmessage = (e) => console.log(typeof e.data === "string" ? e.data : e.data.byteLength);
b.addEventListener("close", (e) => console.log(e.reconnecting));
const st: BatchSocketStats = b.stats;
console.log(st.queued + st.inFlight + st.acked + st.batches + st.bytes + st.reconnects + st.dropped + st.queuedBytes, st.transport);
const state: 0 | 1 | 2 | 3 = b.readyState;
console.log(state === BatchSocket.OPEN, b.CLOSED, b.url, b.fallbackUrl, b.transport);
void b.flush().then(() => b.close(1000, "done"));
// @ts-expect-error: numbers are not messages
b.send(42);
// @ts-expect-error: unknown policy
new BatchSocket("ws://x", { queuePolicy: "drop-newest" });

// Its own module, eventwire-batch.wasm: loaded early, from elsewhere, or awaited.
const batchOptions: BatchSocketLoadOptions = { wasm: new URL("/assets/eventwire-batch.wasm", "https://example.test/") };
const batchModule: Promise<EventwireModule> = BatchSocket.load(batchOptions);
void BatchSocket.load();
void BatchSocket.load({ wasm: fetch("/eventwire-batch.wasm") });
void batchModule.then((m) => m.echo("x"));
// Where it is, said with the EventSource's module (which load() loads).
void load({ wasm: "/assets/eventwire.wasm", batchWasm: "/assets/eventwire-batch.wasm" });
// @ts-expect-error: BatchSocket.load takes wasm, not batchWasm
void BatchSocket.load({ batchWasm: "/x.wasm" });
