package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// Timeouts. They only guard against a hang; no test asserts a duration.
const (
	// startTimeout bounds the start of a browser.
	startTimeout = 60 * time.Second
	// waitTimeout bounds one wait for a condition in a page.
	waitTimeout = 30 * time.Second
	// evalTimeout bounds one evaluation or navigation.
	evalTimeout = 30 * time.Second
)

// chromiumInstallHint tells what to install when no browser is found.
const chromiumInstallHint = "install Chromium (Debian/Ubuntu: apt-get install chromium), " +
	"or set EVENTWIRE_CHROMIUM to the path of a Chromium or Chrome binary"

// browserCandidates are tried in order when EVENTWIRE_CHROMIUM is not set.
var browserCandidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}

// findChromium returns the path of the browser to test with.
func findChromium() (string, error) {
	if p := os.Getenv("EVENTWIRE_CHROMIUM"); p != "" {
		full, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("EVENTWIRE_CHROMIUM=%q is not an executable: %w; %s", p, err, chromiumInstallHint)
		}
		return full, nil
	}
	for _, c := range browserCandidates {
		if full, err := exec.LookPath(c); err == nil {
			return full, nil
		}
	}
	return "", fmt.Errorf("no browser found (tried $EVENTWIRE_CHROMIUM, %s): %s",
		strings.Join(browserCandidates, ", "), chromiumInstallHint)
}

// browserProc is one running browser: an allocator with its own profile.
type browserProc struct {
	ctx    context.Context // a chromedp context whose browser has started
	cancel func()
	err    error       // why the browser is not usable, if it is not
	output *tailBuffer // the browser's stdout and stderr, for diagnostics
	dir    string      // the temporary user-data-dir
	once   sync.Once   // for lazily started browsers
	extra  []chromedp.ExecAllocatorOption
}

var (
	// mainBrowser serves every test but the one that needs a self-signed
	// certificate accepted.
	mainBrowser = &browserProc{}
	// tlsBrowser is started on first use with --ignore-certificate-errors,
	// for the HTTP/2 test against the server's self-signed certificate.
	tlsBrowser = &browserProc{extra: []chromedp.ExecAllocatorOption{chromedp.IgnoreCertErrors}}
	// chromiumPath is the browser binary, or "" with chromiumErr set.
	chromiumPath string
	chromiumErr  error
)

func TestMain(m *testing.M) {
	chromiumPath, chromiumErr = findChromium()
	if chromiumErr == nil {
		mainBrowser.start()
	}
	code := m.Run()
	mainBrowser.stop()
	tlsBrowser.stop()
	os.Exit(code)
}

// start starts the browser. The error, if any, is kept in b.err and reported
// by every test that needs the browser.
func (b *browserProc) start() {
	if chromiumErr != nil {
		b.err = chromiumErr
		return
	}
	dir, err := os.MkdirTemp("", "eventwire-e2e-profile-")
	if err != nil {
		b.err = fmt.Errorf("failed to create a user-data-dir: %w", err)
		return
	}
	b.dir = dir
	b.output = &tailBuffer{max: 16 << 10}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(dir),
		chromedp.Headless,
		chromedp.NoSandbox, // as root (CI containers) Chromium needs it
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.CombinedOutput(b.output),
	)
	opts = append(opts, b.extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	b.ctx = ctx
	b.cancel = func() { cancelCtx(); cancelAlloc() }

	// The first Do starts the browser and binds its life to ctx, so it gets
	// ctx itself; the timeout is a separate guard.
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err = <-done:
	case <-time.After(startTimeout):
		err = fmt.Errorf("the browser did not start within %v", startTimeout)
	}
	if err != nil {
		b.err = fmt.Errorf("failed to start %s: %w\nbrowser output:\n%s", chromiumPath, err, b.output.String())
		b.cancel()
	}
}

func (b *browserProc) stop() {
	if b.cancel != nil {
		b.cancel()
	}
	if b.dir != "" {
		// The allocator waits for the browser to exit on cancel; removing
		// the profile can still race with a late child process, so retry.
		for range 5 {
			if os.RemoveAll(b.dir) == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if len(w.buf) > w.max {
		w.buf = append([]byte(nil), w.buf[len(w.buf)-w.max:]...)
	}
	return len(p), nil
}

func (w *tailBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}

// page is one tab in a fresh browser context, with its console captured from
// before the first navigation; or a worker of such a tab (see attachWorker).
type page struct {
	t    *testing.T
	ctx  context.Context
	con  *consoleLog
	name string // "" for a tab; the worker's kind and URL for a worker
}

// consoleLog is the captured console of a tab.
type consoleLog struct {
	mu      sync.Mutex
	msgs    []chromedp.ConsoleMessage
	markers map[string]chan struct{} // drain markers waited for
	done    chan struct{}            // closed when the collector ends
}

// in returns the same tab for use by the subtest t (a helper must fail the
// test of the goroutine it runs on).
func (p *page) in(t *testing.T) *page {
	return &page{t: t, ctx: p.ctx, con: p.con, name: p.name}
}

func newConsoleLog() *consoleLog {
	return &consoleLog{markers: map[string]chan struct{}{}, done: make(chan struct{})}
}

// newPage opens a tab in a new browser context of the main browser.
func newPage(t *testing.T) *page {
	t.Helper()
	return newPageIn(t, mainBrowser)
}

// newTLSPage opens a tab in the browser that accepts self-signed certificates.
func newTLSPage(t *testing.T) *page {
	t.Helper()
	if chromiumErr == nil {
		tlsBrowser.once.Do(tlsBrowser.start)
	}
	return newPageIn(t, tlsBrowser)
}

func newPageIn(t *testing.T, b *browserProc) *page {
	t.Helper()
	p, cancel := openTab(t, b, "e2e tests need a browser")
	t.Cleanup(func() {
		p.stop(true, cancel)
		p.check()
	})
	return p
}

// openTab opens a tab in a new browser context of b, with its console
// captured from the first navigation on; the caller closes it (stop). need
// starts the failure message when there is no browser.
func openTab(t *testing.T, b *browserProc, need string) (p *page, cancel func()) {
	t.Helper()
	if chromiumErr != nil {
		t.Fatalf("%s: %v", need, chromiumErr)
	}
	if b.err != nil {
		t.Fatalf("%s: %v", need, b.err)
	}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	p = &page{t: t, ctx: ctx, con: newConsoleLog()}

	// Console subscribes when it returns and opens the tab, so every message
	// from the first navigation on is captured.
	messages := chromedp.Console(ctx)
	go p.con.collect(messages)
	return p, cancel
}

// stop closes the tab (or detaches from the worker) with cancel and waits
// until its console is collected; drain first makes sure that every message
// the page wrote so far is in (see finish).
func (p *page) stop(drain bool, cancel func()) {
	if drain {
		p.finish()
	}
	cancel()
	<-p.con.done
}

func (c *consoleLog) collect(messages iter.Seq2[chromedp.ConsoleMessage, error]) {
	defer close(c.done)
	for m, err := range messages {
		if err != nil {
			return
		}
		c.mu.Lock()
		c.msgs = append(c.msgs, m)
		for marker, ch := range c.markers {
			if m.Text == marker {
				close(ch)
				delete(c.markers, marker)
			}
		}
		c.mu.Unlock()
	}
}

// finish makes sure every console message the page wrote so far has reached
// the collector: it logs a unique marker and waits for it, since Console keeps
// the order of the messages.
func (p *page) finish() {
	marker := "e2e:drain:" + randomHex(8)
	ch := make(chan struct{})
	p.con.mu.Lock()
	p.con.markers[marker] = ch
	p.con.mu.Unlock()
	ctx, cancel := context.WithTimeout(p.ctx, evalTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("console.debug(%q)", marker))); err != nil {
		p.t.Errorf("failed to drain the console of the page: %v", err)
		return
	}
	select {
	case <-ch:
	case <-ctx.Done():
		p.t.Errorf("the console drain marker did not arrive: %v", ctx.Err())
	}
}

// check fails the test on uncaught exceptions, unhandled rejections and Go
// panics, and logs the console when the test failed.
func (p *page) check() {
	p.con.mu.Lock()
	defer p.con.mu.Unlock()
	for _, m := range p.con.msgs {
		switch {
		case m.IsException():
			p.t.Errorf("uncaught exception or unhandled rejection in the page: %s%s", m.Text, stackText(m))
		case strings.Contains(m.Text, "panic:"):
			p.t.Errorf("Go panic in the page console: %s", m.Text)
		}
	}
	if p.t.Failed() {
		var b strings.Builder
		n := 0
		for _, m := range p.con.msgs {
			if strings.HasPrefix(m.Text, "e2e:drain:") {
				continue
			}
			n++
			fmt.Fprintf(&b, "  %s %s:%d %s\n", m.Time.Format("15:04:05.000"), m.URL, m.Line+1, m)
		}
		what := "page"
		if p.name != "" {
			what = p.name
		}
		p.t.Logf("%s console (%d messages):\n%s", what, n, b.String())
	}
}

// consoleMessages returns the console messages of the tab (or worker) so
// far, without the harness's own drain markers.
func (p *page) consoleMessages() []chromedp.ConsoleMessage {
	p.con.mu.Lock()
	defer p.con.mu.Unlock()
	var out []chromedp.ConsoleMessage
	for _, m := range p.con.msgs {
		if !strings.HasPrefix(m.Text, "e2e:drain:") {
			out = append(out, m)
		}
	}
	return out
}

// consoleTexts returns the text of every console message so far.
func (p *page) consoleTexts() []string {
	var out []string
	for _, m := range p.consoleMessages() {
		out = append(out, m.Text)
	}
	return out
}

// addInitScript makes the tab run src at the start of every new document,
// before the document's own scripts (Page.addScriptToEvaluateOnNewDocument):
// the way tests take features away from a page to simulate older browsers.
// Call it before navigate.
func (p *page) addInitScript(src string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, evalTimeout)
	defer cancel()
	_, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: src})
	if err != nil {
		p.t.Fatalf("failed to add an init script: %v", err)
	}
}

// attachWorker attaches to a worker started by the tab (kind "worker" for a
// dedicated worker, "service_worker" for a service worker) whose script URL
// ends with suffix, waiting for it to exist, and captures its console the way
// newPage does for the tab: an uncaught exception, an unhandled rejection or
// a Go "panic:" line in the worker fails the test, and the worker's console is
// logged when the test failed. Messages the worker wrote before the attach
// are captured too (the runtime replays them when it is enabled again). The
// returned page evaluates in the worker (evalJS, run); waitFor needs a
// document and is for tabs only.
func (p *page) attachWorker(kind, suffix string) *page {
	p.t.Helper()
	bcid := chromedp.FromContext(p.ctx).BrowserContextID
	var id target.ID
	var seen []string
	eventually(p.t, fmt.Sprintf("a %s target for *%s", kind, suffix), func() bool {
		infos, err := chromedp.Targets(p.ctx)
		if err != nil {
			return false
		}
		seen = seen[:0]
		for _, info := range infos {
			seen = append(seen, string(info.Type)+" "+info.URL)
			if string(info.Type) == kind && strings.HasSuffix(info.URL, suffix) && info.BrowserContextID == bcid {
				id = info.TargetID
				return true
			}
		}
		return false
	})
	// Detach only when done: closing a service worker's target is not ours
	// to do, and the tab's browser context goes away with the tab anyway.
	ctx, cancel := chromedp.NewContext(p.ctx, chromedp.WithTargetID(id), chromedp.WithDetachOnCancel())
	w := &page{t: p.t, ctx: ctx, con: newConsoleLog(), name: kind + " " + suffix}
	messages := chromedp.Console(ctx) // attaches, enables the runtime, subscribes
	go w.con.collect(messages)
	// Enabling the runtime again replays the messages written before the
	// subscription (the attach enabled it first).
	cctx, ccancel := context.WithTimeout(ctx, evalTimeout)
	_, err := chromedp.Call(cctx, runtime.Disable, cdp.Empty{})
	if err == nil {
		_, err = chromedp.Call(cctx, runtime.Enable, cdp.Empty{})
	}
	ccancel()
	if err != nil {
		cancel()
		p.t.Fatalf("failed to attach to the %s %s: %v", kind, suffix, err)
	}
	p.t.Cleanup(func() {
		w.stop(true, cancel)
		w.check()
	})
	return w
}

// heapUsage is the tab's JavaScript heap after a full garbage collection
// (Runtime.getHeapUsage), in bytes.
func (p *page) heapUsage() (used, total float64) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, evalTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, heapprofiler.CollectGarbage, cdp.Empty{}); err != nil {
		p.t.Fatalf("HeapProfiler.collectGarbage: %v", err)
	}
	u, err := chromedp.Call(ctx, runtime.GetHeapUsage, cdp.Empty{})
	if err != nil {
		p.t.Fatalf("Runtime.getHeapUsage: %v", err)
	}
	return u.UsedSize, u.TotalSize
}

// wasmMemory returns the size in bytes of every WebAssembly.Memory alive in
// the tab (Runtime.queryObjects walks the heap for instances of the
// prototype), so that a module's memory can be measured without its help.
func (p *page) wasmMemory() []int {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, evalTimeout)
	defer cancel()
	proto, err := chromedp.Run(ctx, chromedp.Evaluate[*runtime.RemoteObject](`WebAssembly.Memory.prototype`))
	if err != nil || proto == nil || proto.ObjectID == "" {
		p.t.Fatalf("WebAssembly.Memory.prototype: %v", err)
	}
	const group = "e2e-wasm-memory"
	defer func() {
		_, _ = chromedp.Call(ctx, runtime.ReleaseObjectGroup, runtime.ReleaseObjectGroupParams{ObjectGroup: group})
	}()
	res, err := chromedp.Call(ctx, runtime.QueryObjects, runtime.QueryObjectsParams{PrototypeObjectID: proto.ObjectID, ObjectGroup: group})
	if err != nil || res.Objects == nil {
		p.t.Fatalf("Runtime.queryObjects: %v", err)
	}
	sizes, err := chromedp.Run(ctx, chromedp.CallFunctionOn[[]int](
		`function () { return this.map((m) => m.buffer.byteLength); }`,
		func(params *runtime.CallFunctionOnParams) { params.ObjectID = res.Objects.ObjectID }))
	if err != nil {
		p.t.Fatalf("reading the WebAssembly memories: %v", err)
	}
	return sizes
}

func stackText(m chromedp.ConsoleMessage) string {
	if m.Stack == nil {
		if m.URL != "" {
			return fmt.Sprintf(" at %s:%d:%d", m.URL, m.Line+1, m.Column+1)
		}
		return ""
	}
	var b strings.Builder
	for _, f := range m.Stack.CallFrames {
		fmt.Fprintf(&b, "\n    at %s (%s:%d:%d)", f.FunctionName, f.URL, f.LineNumber+1, f.ColumnNumber+1)
	}
	return b.String()
}

// navigate loads url in the tab and waits for its load event.
func (p *page) navigate(url string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, evalTimeout)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		p.t.Fatalf("failed to navigate to %s: %v", url, err)
	}
	if resp != nil && resp.Status != 200 {
		p.t.Fatalf("navigate to %s: HTTP status %d %s", url, resp.Status, resp.StatusText)
	}
}

// evalJS evaluates expr in the page, awaits a promise result, and decodes the
// value into T. An exception or a decode error fails the test.
func evalJS[T any](p *page, expr string) T {
	p.t.Helper()
	return evalLong[T](p, expr, evalTimeout)
}

// evalLong is evalJS with another bound than evalTimeout.
func evalLong[T any](p *page, expr string, timeout time.Duration) T {
	p.t.Helper()
	v, err := evalWithin[T](p, expr, timeout)
	if err != nil {
		p.t.Fatalf("failed to evaluate %s: %v\npage state: %s", expr, err, p.state())
	}
	return v
}

// evalWithin evaluates expr in the page within timeout, awaits a promise
// result, and decodes the value into T; it returns the error rather than
// failing the test.
func evalWithin[T any](p *page, expr string, timeout time.Duration) (T, error) {
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// run evaluates expr for its side effects.
func (p *page) run(expr string) {
	p.t.Helper()
	evalJS[chromedp.Void](p, expr)
}

// waitFor waits until the JavaScript expression cond is truthy in the page.
// what says in the failure message what was awaited.
func (p *page) waitFor(what, cond string) {
	p.t.Helper()
	p.poll(what, cond, waitTimeout, 20*time.Millisecond)
}

// poll waits until cond is truthy in the page, evaluating it every interval,
// and fails the test after timeout.
func (p *page) poll(what, cond string, timeout, interval time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(interval),
		chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		if errors.Is(err, chromedp.ErrPollingTimeout) {
			err = fmt.Errorf("not true after %v", timeout)
		}
		p.t.Fatalf("waiting for %s (%s): %v\npage state: %s", what, cond, err, p.state())
	}
}

// state returns the page's window.state as JSON, for failure messages. Test
// pages keep what they observed there.
func (p *page) state() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(globalThis.state ?? null)`))
	if err != nil {
		return "(unavailable: " + err.Error() + ")"
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// repoRoot is the module root, the parent of this package's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

// distDir returns the build output directory and fails the test when the
// build is missing.
func distDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "dist")
	for _, f := range []string{"eventwire.wasm", "eventwire-batch.wasm", "eventwire.js", "wasm_exec.js", "eventwire-polyfill.js"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s is missing: run make build first (%v)", filepath.Join("dist", f), err)
		}
	}
	return dir
}

// testdataDir is e2e/testdata.
func testdataDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
