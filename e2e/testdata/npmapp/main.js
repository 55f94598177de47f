// A tiny app as a user writes it after `npm install eventwire`: the bare
// specifier is resolved by the bundler through the package's exports map.
import { ready, version } from "eventwire";
import { probe } from "./probe.js";

const state = (globalThis.state = { phase: "bundled" });
probe(state, version, ready);
