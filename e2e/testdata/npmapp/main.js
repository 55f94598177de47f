// A tiny app as a user writes it after `npm install eventwire`: the bare
// specifier is resolved by the bundler through the package's exports map.
// It loads both wasm modules: the EventSource's (`ready`) and the
// BatchSocket's (BatchSocket.load()).
import { ready, version, BatchSocket } from "eventwire";
import { probe } from "./probe.js";

const state = (globalThis.state = { phase: "bundled", batch: { phase: "bundled" } });
probe(state, version, ready);
probe(state.batch, version, BatchSocket.load());
