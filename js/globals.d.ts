// Ambient names used by the JavaScript sources (not part of the package).

/** Defined by scripts/build.mjs from js/package.json. */
declare const __EVENTWIRE_VERSION__: string;

declare var eventwire: import("./eventwire.js").EventwireGlobal | undefined;
