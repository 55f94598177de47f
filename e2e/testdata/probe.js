// probe exercises a loaded eventwire module: the version, a synchronous call
// and an asynchronous call into Go, and a Go panic that must come back as a
// JavaScript Error while the module keeps working. Results go into state;
// state.phase ends as "done" or "error".
export async function probe(state, version, ready) {
  try {
    state.version = version();
    const m = await ready;
    state.moduleVersion = m.version;
    state.echo = m.echo("héllo, wörld 🌍");
    state.echoBytes = Array.from(m.echo(new Uint8Array([1, 2, 3, 250])));
    state.echoAsync = await m.echoAsync("async ✓");
    try {
      m._panic("on purpose");
      state.panic = "did not throw";
    } catch (e) {
      state.panic = { name: e.name, message: e.message, isError: e instanceof Error };
    }
    state.afterPanic = m.echo("still alive");
    state.phase = "done";
  } catch (e) {
    state.phase = "error";
    state.error = String((e && e.stack) || e);
  }
}
