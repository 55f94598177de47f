// Ambient names used by the JavaScript sources (not part of the package).

/** Defined by scripts/build.mjs from js/package.json. */
declare const __EVENTWIRE_VERSION__: string;

declare var eventwire: import("./eventwire.js").EventwireGlobal | import("./eventwire.js").EventwireUnsupported | undefined;

/** polyfill/guard.js: the bundle of polyfill/index.js, inserted by scripts/build.mjs. */
declare const __EVENTWIRE_PAYLOAD__: string;

/** polyfill/index.js: what the guard passes to the bundle. */
declare const ew$boot: { scriptURL?: string; wasm?: string | null; force?: boolean } | undefined;
