package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/eventwire/eventwire/server"
	"github.com/eventwire/eventwire/wasm"
)

// toolTimeout bounds one npm, esbuild or tsc run.
const toolTimeout = 2 * time.Minute

// runTool runs a command in dir and fails the test with its output when it
// fails.
func runTool(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// copyFile copies src to dst.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// nodeTool returns the path of a tool of the repository's node_modules.
func nodeTool(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), "node_modules", ".bin", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is missing: run npm ci in the repository root (make deps) (%v)", p, err)
	}
	return p
}

// TestNPMPackage proves the npm package the way most users meet it: the
// tarball that `make build` packs (dist/eventwire.tgz) installs into a scratch
// app, an app importing "eventwire" bundles with esbuild, runs in Chromium
// with the two wasm modules (eventwire.wasm, eventwire-batch.wasm) copied next
// to the bundle (found through import.meta.url), and its types check with
// tsc --noEmit.
func TestNPMPackage(t *testing.T) {
	root := repoRoot(t)
	tgz := filepath.Join(root, "dist", "eventwire.tgz")
	if _, err := os.Stat(tgz); err != nil {
		t.Fatalf("dist/eventwire.tgz is missing: run make build first (%v)", err)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("npm not found: install Node.js 20 or later with npm (Debian: apt-get install nodejs npm): %v", err)
	}
	esbuild, tsc := nodeTool(t, "esbuild"), nodeTool(t, "tsc")
	data := testdataDir(t)

	// A scratch app with the tarball installed; offline, since a local
	// tarball without dependencies needs nothing else.
	app := t.TempDir()
	if err := os.WriteFile(filepath.Join(app, "package.json"),
		[]byte(`{"name": "eventwire-e2e-app", "private": true, "type": "module"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	npmEnv := []string{
		"npm_config_cache=" + filepath.Join(t.TempDir(), "npm-cache"),
		"npm_config_update_notifier=false",
	}
	runTool(t, app, npmEnv, npm, "install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", tgz)
	pkgDir := filepath.Join(app, "node_modules", "eventwire")
	b, err := os.ReadFile(filepath.Join(pkgDir, "package.json"))
	if err != nil {
		t.Fatalf("the package did not install: %v", err)
	}
	var pkg struct{ Name, Version string }
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	if pkg.Name != "eventwire" || pkg.Version != wasm.Version {
		t.Fatalf("installed package %s@%s, want eventwire@%s", pkg.Name, pkg.Version, wasm.Version)
	}

	t.Run("bundle-and-run", func(t *testing.T) {
		src := filepath.Join(app, "src")
		public := filepath.Join(app, "public")
		for _, d := range []string{src, public} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		copyFile(t, filepath.Join(data, "npmapp", "main.js"), filepath.Join(src, "main.js"))
		copyFile(t, filepath.Join(data, "probe.js"), filepath.Join(src, "probe.js"))
		copyFile(t, filepath.Join(data, "npmapp", "index.html"), filepath.Join(public, "index.html"))
		runTool(t, app, nil, esbuild, "src/main.js", "--bundle", "--format=esm",
			"--outfile=public/app.js", "--log-level=warning")
		bundle, err := os.ReadFile(filepath.Join(public, "app.js"))
		if err != nil {
			t.Fatal(err)
		}
		wasmFiles := []string{"eventwire-batch.wasm", "eventwire.wasm"}
		for _, f := range wasmFiles {
			if ref := `new URL("./` + f + `", import.meta.url)`; !strings.Contains(string(bundle), ref) {
				t.Errorf("the bundle lost the %s reference", ref)
			}
			// As a user does: the wasm goes next to the bundle, which finds
			// it through import.meta.url.
			copyFile(t, filepath.Join(pkgDir, f), filepath.Join(public, f))
		}

		// No /dist/ on this server: only the app's own copy can load.
		srv := startServer(t, serverConfig{Extra: map[string]http.Handler{
			"/app/": http.StripPrefix("/app/", server.Static(os.DirFS(public))),
		}})
		p := newPage(t)
		p.navigate(srv.URL() + "/app/index.html")
		p.waitFor("the bundled app to load the modules", `["done", "error"].includes(state.phase) && ["done", "error"].includes(state.batch.phase)`)
		checkProbe(t, evalJS[probeState](p, `state`))
		checkProbe(t, evalJS[probeState](p, `state.batch`))
		got := wasmRequested(p)
		sort.Strings(got)
		if want := []string{"/app/" + wasmFiles[0], "/app/" + wasmFiles[1]}; !reflect.DeepEqual(got, want) {
			t.Errorf("the app loaded the wasm modules %q, want the copies next to the bundle %q", got, want)
		}
	})

	t.Run("types", func(t *testing.T) {
		copyFile(t, filepath.Join(data, "npmapp", "usage.ts"), filepath.Join(app, "usage.ts"))
		copyFile(t, filepath.Join(data, "npmapp", "tsconfig.json"), filepath.Join(app, "tsconfig.json"))
		runTool(t, app, nil, tsc, "--noEmit", "-p", "tsconfig.json")
	})
}
