//go:build js && wasm

package main

import (
	"testing"
	"time"

	"github.com/eventwire/eventwire/wasm/jsbind"
)

// Run in node: GOOS=js GOARCH=wasm go test -exec "$(go env GOROOT)/lib/wasm/go_js_wasm_exec" ./wasm/cmd/eventwire

func js(t *testing.T, src string) jsbind.Value {
	t.Helper()
	f, err := jsbind.Global("Function").New("return (" + src + ");")
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.Invoke()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func jsonOf(t *testing.T, v jsbind.Value) string {
	t.Helper()
	j, err := jsbind.Global("JSON").Call("stringify", v)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := j.String()
	return s
}

func TestESOpenNetClose(t *testing.T) {
	env := js(t, `{
		log: [],
		calls: [],
		notify(kind, a, b) { env.log.push([kind, a, b]); },
		driver: { open(...a) { env.calls.push(["open", ...a]); }, abort(id) { env.calls.push(["abort", id]); } },
	}`)
	if err := jsbind.Global("globalThis").Set("env", env); err != nil {
		t.Fatal(err)
	}
	notify, _ := env.Get("notify")
	driver, _ := env.Get("driver")
	args := []any{
		"https://example.com/e", notify, driver,
		2.0,                          // long-poll
		"X-A\n1\nAccept\ntext/plain", // static headers
		"last",                       // lastEventIdParam
		0.0,                          // retryMaxDelay: no backoff
		1000.0,                       // heartbeatTimeout
		jsbind.Undefined(),           // bufferingTimeout: default
		1e12,                         // maxEventSize: no limit
		false,                        // debug
		"post",                       // method
	}
	vals := make([]jsbind.Value, len(args))
	for i, a := range args {
		o, _ := jsbind.NewObject()
		if err := o.Set("v", a); err != nil {
			t.Fatal(err)
		}
		vals[i], _ = o.Value().Get("v")
	}
	res, err := esOpen(vals)
	if err != nil {
		t.Fatal(err)
	}
	id, ok := res.(int)
	if !ok || id <= 0 {
		t.Fatalf("esOpen returned %v", res)
	}
	calls, _ := env.Get("calls")
	if got, want := jsonOf(t, calls), `[["open",1,"https://example.com/e?transport=longpoll","POST","Accept\ntext/plain\nX-A\n1",true]]`; got != want {
		t.Fatalf("driver calls %s, want %s", got, want)
	}
	num := func(f float64) jsbind.Value {
		o, _ := jsbind.NewObject()
		_ = o.Set("v", f)
		v, _ := o.Value().Get("v")
		return v
	}
	strv := func(s string) jsbind.Value {
		o, _ := jsbind.NewObject()
		_ = o.Set("v", s)
		v, _ := o.Value().Get("v")
		return v
	}
	if _, err := esNet([]jsbind.Value{num(float64(id)), num(1), num(0), num(200), strv("text/event-stream"), strv("https://example.com/e"), jsbind.Undefined()}); err != nil {
		t.Fatal(err)
	}
	log, _ := env.Get("log")
	if got, want := jsonOf(t, log), `[[1,"https://example.com/e","https://example.com"]]`; got != want {
		t.Fatalf("notify log %s, want %s", got, want)
	}
	if _, err := esClose([]jsbind.Value{num(float64(id))}); err != nil {
		t.Fatal(err)
	}
	if got := jsonOf(t, calls); got != `[["open",1,"https://example.com/e?transport=longpoll","POST","Accept\ntext/plain\nX-A\n1",true],["abort",1]]` {
		t.Fatalf("driver calls after close %s", got)
	}
	esMu.Lock()
	n := len(esAll)
	esMu.Unlock()
	if n != 0 {
		t.Errorf("%d sources still registered after close", n)
	}
	// Reports for a closed source are ignored.
	if _, err := esNet([]jsbind.Value{num(float64(id)), num(1), num(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := esOpen(vals[:3]); err == nil {
		t.Error("esOpen with too few arguments succeeded")
	}
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		ms   float64
		want time.Duration
	}{
		{0, -1}, {-5, -1}, {1.5, 1500 * time.Microsecond}, {30000, 30 * time.Second}, {1e300, 1<<63 - 1},
	} {
		if got := duration(tc.ms); got != tc.want {
			t.Errorf("duration(%v) = %v, want %v", tc.ms, got, tc.want)
		}
	}
}
