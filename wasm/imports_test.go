package wasm

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOnlyJSBindTouchesJS enforces the seam described in GUIDE.md §3: under
// wasm/, only the binding package wasm/jsbind may import safejs, and no package
// imports syscall/js directly (safejs turns its panics into errors).
func TestOnlyJSBindTouchesJS(t *testing.T) {
	const safejs = "github.com/hack-pad/safejs"
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		inBinding := filepath.ToSlash(filepath.Dir(path)) == "jsbind"
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case p == "syscall/js":
				t.Errorf("%s imports syscall/js; use safejs inside wasm/jsbind instead", path)
			case (p == safejs || strings.HasPrefix(p, safejs+"/")) && !inBinding:
				t.Errorf("%s imports %s; only wasm/jsbind may touch JavaScript", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
