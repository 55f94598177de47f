// Types of the virtual module "go:wasm_exec" that scripts/build.mjs generates
// from $(go env GOROOT)/lib/wasm/wasm_exec.js: Go's JavaScript support, wrapped
// in a function so that it runs only when loading starts and leaves no globals.
declare module "go:wasm_exec" {
  /** The class wasm_exec.js defines (normally as globalThis.Go). */
  export class Go {
    argv: string[];
    env: Record<string, string>;
    exit: (code: number) => void;
    exited: boolean;
    importObject: WebAssembly.Imports;
    run(instance: WebAssembly.Instance): Promise<void>;
  }
  export interface GoRuntime {
    Go: typeof Go;
    /**
     * The globals wasm_exec.js had to invent because the environment lacks
     * them (fs, process, path in a browser). Go reads them while it
     * initialises, so the loader defines them only around go.run().
     */
    globals: Record<string, unknown>;
  }
  /**
   * Evaluates wasm_exec.js and returns its Go class. Leaves globalThis as it
   * found it. Throws where wasm_exec.js does (no crypto, performance,
   * TextEncoder or TextDecoder).
   */
  export function loadGoRuntime(): GoRuntime;
}
