package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/eventwire/eventwire/wasm"
)

// probeState is what testdata/probe.js records about a loaded module.
type probeState struct {
	Phase         string `json:"phase"`
	Error         string `json:"error"`
	Version       string `json:"version"`
	ModuleVersion string `json:"moduleVersion"`
	Echo          string `json:"echo"`
	EchoBytes     []int  `json:"echoBytes"`
	EchoAsync     string `json:"echoAsync"`
	Panic         struct {
		Name    string `json:"name"`
		Message string `json:"message"`
		IsError bool   `json:"isError"`
	} `json:"panic"`
	AfterPanic string `json:"afterPanic"`

	// polyfill page only
	Global     string `json:"global"`
	NativeKept bool   `json:"nativeKept"`
}

// reverse is what the module's echo computes: the string reversed by code
// point.
func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// checkProbe checks the results of probe.js.
func checkProbe(t *testing.T, s probeState) {
	t.Helper()
	if s.Phase != "done" {
		t.Fatalf("module did not load: phase %q, error: %s", s.Phase, s.Error)
	}
	if s.Version != wasm.Version || s.ModuleVersion != wasm.Version {
		t.Errorf("version() = %q, module version %q, want both %q (wasm.Version)", s.Version, s.ModuleVersion, wasm.Version)
	}
	if want := reverse("héllo, wörld 🌍"); s.Echo != want {
		t.Errorf("echo = %q, want %q", s.Echo, want)
	}
	if want := []int{250, 3, 2, 1}; !reflect.DeepEqual(s.EchoBytes, want) {
		t.Errorf("echo(bytes) = %v, want %v", s.EchoBytes, want)
	}
	if want := reverse("async ✓"); s.EchoAsync != want {
		t.Errorf("echoAsync = %q, want %q", s.EchoAsync, want)
	}
	if !s.Panic.IsError || !strings.Contains(s.Panic.Message, "on purpose") {
		t.Errorf("a Go panic should come back as a JavaScript Error with its message; got %+v", s.Panic)
	}
	if want := reverse("still alive"); s.AfterPanic != want {
		t.Errorf("echo after the panic = %q, want %q (the module must survive a panic)", s.AfterPanic, want)
	}
}

// checkPackageVersion checks that js/package.json has the Go module's
// version, since the loader refuses a wasm of another version.
func checkPackageVersion(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "js", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatalf("js/package.json: %v", err)
	}
	if pkg.Version != wasm.Version {
		t.Errorf("js/package.json version %q, wasm.Version %q", pkg.Version, wasm.Version)
	}
}

// wasmServing is how the page's fetch saw a wasm module of dist/ served.
type wasmServing struct {
	ContentType     string `json:"contentType"`
	ContentEncoding string `json:"contentEncoding"`
	Bytes           int    `json:"bytes"`
}

// wasmRequested returns the paths of the .wasm files the page has requested
// so far, in order, from the browser's Resource Timing entries.
func wasmRequested(p *page) []string {
	p.t.Helper()
	return evalJS[[]string](p, `performance.getEntriesByType("resource").map(e => new URL(e.name).pathname).filter(n => n.endsWith(".wasm"))`)
}

// checkWasmRequested fails the test unless the page requested exactly the
// wasm modules want (file names in dist/), each once.
func checkWasmRequested(t *testing.T, p *page, want ...string) {
	t.Helper()
	paths := make([]string, len(want))
	for i, f := range want {
		paths[i] = "/dist/" + f
	}
	if got := wasmRequested(p); !reflect.DeepEqual(got, paths) {
		t.Errorf("the page requested the wasm modules %q, want %q", got, paths)
	}
}

// TestWasmModuleESM proves the ESM build in a page, for each of its two wasm
// modules: dist/eventwire.js imports; `ready` resolves once
// dist/eventwire.wasm runs (BatchSocket.load() once dist/eventwire-batch.wasm
// does), and the page fetches that module alone; the versions of the
// JavaScript and the wasm match wasm.Version; calls cross into Go and back
// (sync, async, strings and bytes); and a Go panic becomes a JavaScript Error
// without killing the module. It also checks how each module is served: as
// application/wasm, precompressed with brotli.
func TestWasmModuleESM(t *testing.T) {
	srv := startServer(t, serverConfig{Dist: true})
	checkPackageVersion(t)
	for _, tc := range []struct{ file, query string }{
		{"eventwire.wasm", ""},
		{"eventwire-batch.wasm", "?module=batch"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			p := newPage(t)
			p.navigate(srv.URL() + "/e2e/wasm-esm.html" + tc.query)
			p.waitFor("the module to load and run the probe", `state.phase === "done" || state.phase === "error"`)
			checkProbe(t, evalJS[probeState](p, `state`))
			checkWasmRequested(t, p, tc.file)

			w := evalJS[wasmServing](p, fmt.Sprintf(`(async () => {
				const r = await fetch("/dist/%s", { cache: "no-store" });
				return { contentType: r.headers.get("content-type"), contentEncoding: r.headers.get("content-encoding") ?? "",
					bytes: (await r.arrayBuffer()).byteLength };
			})()`, tc.file))
			info, err := os.Stat(filepath.Join(distDir(t), tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if w.ContentType != "application/wasm" || w.ContentEncoding != "br" || int64(w.Bytes) != info.Size() {
				t.Errorf("%s served as %+v, want application/wasm, br, %d bytes decoded", tc.file, w, info.Size())
			}
		})
	}
}

// TestWasmModulePerClass: each class loads only its own wasm module, so a
// page that uses only EventSource never requests eventwire-batch.wasm and a
// page that uses only BatchSocket never requests eventwire.wasm.
func TestWasmModulePerClass(t *testing.T) {
	t.Run("EventSource", func(t *testing.T) {
		srv := startServer(t, serverConfig{Dist: true})
		p := openTransportPage(t, srv.URL())
		streamThrough(t, p, srv, "a", "per-class", `{}`, nil)
		checkWasmRequested(t, p, "eventwire.wasm")
	})
	t.Run("BatchSocket", func(t *testing.T) {
		srv := startBatchServer(t, batchServerConfig{})
		p := newPage(t)
		openBatchPage(p, srv.URL())
		p.run(`bt.open()`)
		p.run(`bt.send("c", 1, 10, 20)`)
		evalJS[batchStats](p, `bt.flush()`)
		checkSession(t, srv.sink, onlySession(t, srv.sink), 10, batchMessage("c", 20))
		checkWasmRequested(t, p, "eventwire-batch.wasm")
	})
}

// TestWasmModulePolyfill proves the classic script: one <script> tag defines
// globalThis.eventwire, finds eventwire.wasm next to itself, leaves the native
// EventSource in place, and the module round-trips calls; and the same script
// loads in a dedicated worker through importScripts.
func TestWasmModulePolyfill(t *testing.T) {
	srv := startServer(t, serverConfig{Dist: true})

	t.Run("page", func(t *testing.T) {
		p := newPage(t)
		p.navigate(srv.URL() + "/e2e/wasm-polyfill.html")
		p.waitFor("the module to load and run the probe", `state.phase === "done" || state.phase === "error"`)
		s := evalJS[probeState](p, `state`)
		checkProbe(t, s)
		if s.Global != "object" {
			t.Errorf("typeof globalThis.eventwire = %q, want object", s.Global)
		}
		if !s.NativeKept {
			t.Errorf("the polyfill replaced the browser's native EventSource")
		}
	})

	t.Run("worker", func(t *testing.T) {
		p := newPage(t)
		p.navigate(srv.URL() + "/e2e/worker.html")
		p.waitFor("the worker to report", `state.phase === "done" || state.phase === "error"`)
		type workerState struct {
			Phase, Error, Version, ModuleVersion, Echo string
		}
		s := evalJS[workerState](p, `state`)
		if s.Phase != "done" {
			t.Fatalf("polyfill in a worker: phase %q, error: %s", s.Phase, s.Error)
		}
		if s.Version != wasm.Version || s.ModuleVersion != wasm.Version || s.Echo != reverse("worker") {
			t.Errorf("worker saw %+v, want version %q and echo %q", s, wasm.Version, reverse("worker"))
		}
	})
}
