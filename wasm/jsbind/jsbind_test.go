//go:build js && wasm

package jsbind

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/hack-pad/safejs"
)

// These tests run in node:
//
//	GOOS=js GOARCH=wasm go test -exec "$(go env GOROOT)/lib/wasm/go_js_wasm_exec" ./wasm/...

func newTestObject(t *testing.T) *Object {
	t.Helper()
	o, err := NewObject()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Release)
	return o
}

func mustValue(t *testing.T, x any) safejs.Value {
	t.Helper()
	v, err := toJS(x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// call calls o[name](args...) from the JavaScript side.
func call(t *testing.T, o *Object, name string, args ...any) safejs.Value {
	t.Helper()
	v, err := o.v.Call(name, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func isError(t *testing.T, v safejs.Value, ctor string) bool {
	t.Helper()
	ok, err := v.InstanceOf(global(ctor))
	return err == nil && ok
}

func message(t *testing.T, v safejs.Value) string {
	t.Helper()
	m, err := v.Get("message")
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.String()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStringRoundTrip(t *testing.T) {
	o := newTestObject(t)
	if err := o.SetFunc("upper", func(args []Value) (any, error) {
		s, err := args[0].String()
		return strings.ToUpper(s), err
	}); err != nil {
		t.Fatal(err)
	}
	got, err := call(t, o, "upper", "héllo 👋").String()
	if err != nil {
		t.Fatal(err)
	}
	if want := "HÉLLO 👋"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestBytesRoundTrip(t *testing.T) {
	o := newTestObject(t)
	if err := o.SetFunc("inc", func(args []Value) (any, error) {
		b, err := args[0].Bytes()
		for i := range b {
			b[i]++
		}
		return b, err
	}); err != nil {
		t.Fatal(err)
	}
	in := mustValue(t, []byte{0, 1, 254})
	out := call(t, o, "inc", in)
	if !(Value{out}).IsUint8Array() {
		t.Fatalf("result is %s, want a Uint8Array", out.Type())
	}
	got, err := Value{out}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string([]byte{1, 2, 255}) {
		t.Errorf("got %v, want [1 2 255]", got)
	}
	orig, _ := Value{in}.Bytes()
	if string(orig) != string([]byte{0, 1, 254}) {
		t.Errorf("the JavaScript input was modified: %v", orig)
	}
}

func TestWrongTypeIsTypeError(t *testing.T) {
	o := newTestObject(t)
	if err := o.SetFunc("str", func(args []Value) (any, error) {
		return args[0].String()
	}); err != nil {
		t.Fatal(err)
	}
	if err := o.SetFunc("bytes", func(args []Value) (any, error) {
		return args[0].Bytes()
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		fn  string
		arg any
	}{
		{"str", 42},
		{"str", nil},
		{"bytes", "not bytes"},
		{"bytes", map[string]any{}},
	} {
		v := call(t, o, tc.fn, tc.arg)
		if !isError(t, v, "TypeError") {
			t.Errorf("%s(%v): got %s, want a TypeError", tc.fn, tc.arg, v.Type())
		}
	}
}

func TestHandlerErrorBecomesError(t *testing.T) {
	o := newTestObject(t)
	if err := o.SetFunc("fail", func([]Value) (any, error) {
		return nil, errors.New("eventwire: nope")
	}); err != nil {
		t.Fatal(err)
	}
	v := call(t, o, "fail")
	if !isError(t, v, "Error") || isError(t, v, "TypeError") {
		t.Fatalf("got %s, want a plain Error", v.Type())
	}
	if got := message(t, v); got != "eventwire: nope" {
		t.Errorf("message = %q", got)
	}
}

func TestPanicBecomesErrorAndModuleSurvives(t *testing.T) {
	o := newTestObject(t)
	if err := o.SetFunc("boom", func([]Value) (any, error) {
		var m map[string]int
		m["x"] = 1 // runtime panic
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := o.SetFunc("ok", func([]Value) (any, error) { return "ok", nil }); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		v := call(t, o, "boom")
		if !isError(t, v, "Error") {
			t.Fatalf("got %s, want an Error", v.Type())
		}
		if got := message(t, v); !strings.HasPrefix(got, "eventwire: Go panic in boom: assignment to entry in nil map") {
			t.Errorf("message = %q", got)
		}
		if s, _ := call(t, o, "ok").String(); s != "ok" {
			t.Fatalf("after a panic, ok() = %q", s)
		}
	}
}

func TestSetConversions(t *testing.T) {
	o := newTestObject(t)
	inner := newTestObject(t)
	for name, x := range map[string]any{
		"s": "x", "b": true, "i": 7, "f": 1.5, "nil": nil, "obj": inner, "err": TypeError("t"),
	} {
		if err := o.Set(name, x); err != nil {
			t.Fatalf("Set(%q): %v", name, err)
		}
	}
	if err := o.Set("bad", struct{}{}); err == nil {
		t.Error("Set(struct{}) succeeded, want an error")
	}
	get := func(name string) safejs.Value {
		v, err := o.v.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if n, _ := get("i").Int(); n != 7 {
		t.Errorf("i = %d", n)
	}
	if f, _ := get("f").Float(); f != 1.5 {
		t.Errorf("f = %v", f)
	}
	if !get("nil").IsUndefined() {
		t.Error("nil is not undefined")
	}
	if !get("obj").Equal(inner.v) {
		t.Error("obj is not the inner object")
	}
	if !isError(t, get("err"), "TypeError") {
		t.Error("err is not a TypeError")
	}
}

// await waits for a JavaScript promise from the test goroutine (not a callback,
// so blocking is allowed) and returns its value or rejection reason.
func await(t *testing.T, p Value) (v safejs.Value, rejected bool) {
	t.Helper()
	type result struct {
		v        safejs.Value
		rejected bool
	}
	ch := make(chan result, 1)
	onOK, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		ch <- result{args[0], false}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer onOK.Release()
	onErr, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		ch <- result{args[0], true}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer onErr.Release()
	if _, err := p.v.Call("then", onOK, onErr); err != nil {
		t.Fatal(err)
	}
	r := <-ch
	return r.v, r.rejected
}

func TestAsync(t *testing.T) {
	p, err := Async("ok", func() (any, error) { return "done", nil })
	if err != nil {
		t.Fatal(err)
	}
	if !isError(t, p.v, "Error") && p.v.Type() != safejs.TypeObject {
		t.Fatalf("Async returned %s", p.TypeName())
	}
	v, rejected := await(t, p)
	if s, _ := v.String(); rejected || s != "done" {
		t.Errorf("resolved with %q (rejected=%v), want \"done\"", s, rejected)
	}

	p, err = Async("fails", func() (any, error) { return nil, TypeError("bad") })
	if err != nil {
		t.Fatal(err)
	}
	v, rejected = await(t, p)
	if !rejected || !isError(t, v, "TypeError") {
		t.Errorf("want a rejection with a TypeError, got rejected=%v %s", rejected, v.Type())
	}

	p, err = Async("boom", func() (any, error) { panic("kaboom") })
	if err != nil {
		t.Fatal(err)
	}
	v, rejected = await(t, p)
	if !rejected || !isError(t, v, "Error") {
		t.Fatalf("want a rejection with an Error, got rejected=%v %s", rejected, v.Type())
	}
	if got := message(t, v); got != "eventwire: Go panic in boom: kaboom" {
		t.Errorf("message = %q", got)
	}
}

func TestSignalReady(t *testing.T) {
	const key = "__eventwire_test_handshake"
	t.Setenv(HandshakeEnv, key)

	exports := newTestObject(t)
	got := make(chan safejs.Value, 1)
	ready, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		got <- args[0]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ready.Release()
	h, err := NewObject()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Set("ready", Value{ready.Value()}); err != nil {
		t.Fatal(err)
	}
	if err := safejs.Global().Set(key, h.v); err != nil {
		t.Fatal(err)
	}

	if err := SignalReady(exports); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-got:
		if !v.Equal(exports.v) {
			t.Error("ready() received something other than the exports")
		}
	default:
		t.Fatal("ready() was not called synchronously")
	}
	if v, _ := safejs.Global().Get(key); !v.IsUndefined() {
		t.Error("the handshake property is still on globalThis")
	}
	// A second call finds no handshake object: the name is single-use.
	if err := SignalReady(exports); err == nil {
		t.Error("second SignalReady succeeded")
	}
}

func TestSignalReadyWithoutLoader(t *testing.T) {
	t.Setenv(HandshakeEnv, "")
	os.Unsetenv(HandshakeEnv)
	o := newTestObject(t)
	if err := SignalReady(o); err == nil || !strings.Contains(err.Error(), HandshakeEnv) {
		t.Errorf("err = %v, want one naming %s", err, HandshakeEnv)
	}
}

func TestRelease(t *testing.T) {
	o, err := NewObject()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		if err := o.SetFunc(name, func([]Value) (any, error) { return nil, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if len(o.funcs) != 2 {
		t.Fatalf("%d funcs tracked, want 2", len(o.funcs))
	}
	o.Release()
	if len(o.funcs) != 0 {
		t.Errorf("%d funcs left after Release", len(o.funcs))
	}
	o.Release() // idempotent
}
