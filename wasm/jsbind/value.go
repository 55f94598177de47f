//go:build js && wasm

package jsbind

import (
	"errors"

	"github.com/hack-pad/safejs"
)

// Value is a JavaScript value held by Go. The zero Value is undefined.
type Value struct {
	v safejs.Value
}

// Undefined returns the JavaScript value undefined.
func Undefined() Value { return Value{safejs.Undefined()} }

// TypeName returns JavaScript's name for v's type as typeof would report it,
// except "null" for null; for error messages.
func (v Value) TypeName() string { return v.v.Type().String() }

// IsUndefined reports whether v is undefined.
func (v Value) IsUndefined() bool { return v.v.IsUndefined() }

// IsString reports whether v is a JavaScript string.
func (v Value) IsString() bool { return v.v.Type() == safejs.TypeString }

// String returns v as a Go string (UTF-8; lone surrogates become U+FFFD).
// Unlike JavaScript's String(v), it returns a TypeError when v is not a string.
func (v Value) String() (string, error) {
	if !v.IsString() {
		return "", TypeError("expected a string, got " + v.TypeName())
	}
	return v.v.String()
}

// IsUint8Array reports whether v is a Uint8Array.
func (v Value) IsUint8Array() bool {
	if v.v.Type() != safejs.TypeObject {
		return false
	}
	ok, err := v.v.InstanceOf(global("Uint8Array"))
	return err == nil && ok
}

// Bytes copies the contents of a Uint8Array into a new Go slice. It returns a
// TypeError when v is not a Uint8Array.
func (v Value) Bytes() ([]byte, error) {
	if !v.IsUint8Array() {
		return nil, TypeError("expected a Uint8Array, got " + v.TypeName())
	}
	n, err := v.v.Length()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := safejs.CopyBytesToGo(b, v.v); err != nil {
		return nil, err
	}
	return b, nil
}

// Equal reports whether v === w.
func (v Value) Equal(w Value) bool { return v.v.Equal(w.v) }

// global returns globalThis[name], or undefined when it cannot be read.
func global(name string) safejs.Value {
	v, err := safejs.Global().Get(name)
	if err != nil {
		return safejs.Undefined()
	}
	return v
}

// toJS converts a Handler's result to a JavaScript value:
//
//	nil         undefined
//	Value       itself
//	*Object     the object
//	string      string
//	bool        boolean
//	int, float64 number
//	[]byte      a new Uint8Array with a copy of the bytes
//	error       an Error (see errorValue)
func toJS(x any) (safejs.Value, error) {
	switch x := x.(type) {
	case nil:
		return safejs.Undefined(), nil
	case Value:
		return x.v, nil
	case *Object:
		return x.v, nil
	case string, bool, int, float64:
		return safejs.ValueOf(x)
	case []byte:
		arr, err := global("Uint8Array").New(len(x))
		if err != nil {
			return safejs.Undefined(), err
		}
		if _, err := safejs.CopyBytesToJS(arr, x); err != nil {
			return safejs.Undefined(), err
		}
		return arr, nil
	case error:
		return errorValue(x), nil
	default:
		return safejs.Undefined(), errors.New("jsbind: cannot convert a Go value to JavaScript")
	}
}
