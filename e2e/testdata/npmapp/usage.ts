// Type-checks the installed package's declarations (through its exports map)
// the way a TypeScript user meets them. The @ts-expect-error lines make the
// check fail if the types were loose (any) instead of precise.
import { BatchSocket, load, ready, version } from "eventwire";
import type { BatchSocketLoadOptions, EventwireModule, LoadOptions, WasmSource } from "eventwire";

const v: string = version();
const m: EventwireModule = await ready;
const s: string = m.echo("abc");
const b: Uint8Array = m.echo(new Uint8Array([1, 2, 3]));
const a: Promise<string> = m.echoAsync("x");
const mv: string = m.version;

const src: WasmSource = "/static/eventwire.wasm";
const opts: LoadOptions = { wasm: src };
const loaded: Promise<EventwireModule> = load(opts);
const both: LoadOptions = { wasm: src, batchWasm: "/static/eventwire-batch.wasm" };
const batchOpts: BatchSocketLoadOptions = { wasm: "/static/eventwire-batch.wasm" };
const batchLoaded: Promise<EventwireModule> = BatchSocket.load(batchOpts);

// @ts-expect-error version is a function returning a string, not a number
const wrong: number = version();
// @ts-expect-error echo takes a string or a Uint8Array
m.echo(42);
// @ts-expect-error ready is a promise of the module, not the module
ready.echo("x");
// @ts-expect-error the module's version is read-only
m.version = "x";
// @ts-expect-error BatchSocket.load takes { wasm }
BatchSocket.load({ batchWasm: src });

export { v, s, b, a, mv, loaded, both, batchLoaded, wrong };
