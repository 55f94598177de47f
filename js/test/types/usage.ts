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
  await load();
  console.log(again === mod);

  // @ts-expect-error echo takes a string or a Uint8Array
  mod.echo(42);
  // @ts-expect-error version is read-only
  mod.version = "x";
}

declare const eventwire: EventwireGlobal;
void eventwire.ready.then((m) => m.echo("x"));
void main();
