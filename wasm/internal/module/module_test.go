//go:build js && wasm

package module

import (
	"errors"
	"testing"

	"github.com/eventwire/eventwire/wasm"
	"github.com/eventwire/eventwire/wasm/jsbind"
)

// Run in node: GOOS=js GOARCH=wasm go test -exec "$(go env GOROOT)/lib/wasm/go_js_wasm_exec" ./wasm/internal/module

func TestNewExports(t *testing.T) {
	feature := func(o *jsbind.Object) error {
		return SetFuncs(o, map[string]jsbind.Handler{"xOne": func([]jsbind.Value) (any, error) { return 1, nil }})
	}
	o, err := newExports([]Exporter{feature})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Release()
	v := o.Value()
	if got, _ := v.Get("version"); !got.IsString() {
		t.Errorf("version is %s, want a string", got.TypeName())
	} else if s, _ := got.String(); s != wasm.Version {
		t.Errorf("version %q, want %q", s, wasm.Version)
	}
	for _, name := range []string{"kick", "echo", "echoAsync", "_panic", "xOne"} {
		if f, _ := v.Get(name); !f.IsFunction() {
			t.Errorf("%s is %s, want a function", name, f.TypeName())
		}
	}
	echo, _ := v.Get("echo")
	r, err := echo.Invoke("abc")
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := r.String(); s != "cba" {
		t.Errorf(`echo("abc") = %q, want "cba"`, s)
	}
}

func TestNewExportsFails(t *testing.T) {
	boom := errors.New("boom")
	if _, err := newExports([]Exporter{func(*jsbind.Object) error { return boom }}); !errors.Is(err, boom) {
		t.Errorf("newExports with a failing exporter: %v, want %v", err, boom)
	}
}
