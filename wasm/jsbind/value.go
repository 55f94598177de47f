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
	// safejs checks that the constructor is a function with a prototype.
	ok, err := v.v.InstanceOf(global("Uint8Array"))
	return err == nil && ok
}

// Bytes copies the contents of a Uint8Array into a new Go slice. It returns a
// TypeError when v is not a Uint8Array.
func (v Value) Bytes() ([]byte, error) {
	if !v.IsUint8Array() {
		return nil, TypeError("expected a Uint8Array, got " + v.TypeName())
	}
	n, err := v.Length()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := v.CopyBytesToGo(b); err != nil {
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
//	otherwise   what safejs.ValueOf (js.ValueOf) makes of it (other numbers,
//	            map[string]any, []any), or an error
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
		v, err := safejs.ValueOf(x)
		if err != nil {
			return safejs.Undefined(), errors.New("jsbind: cannot convert a Go value to JavaScript")
		}
		return v, nil
	}
}

// The accessors below are the general-purpose part of the binding that
// feature files (fetch, XHR, WebSocket, ...) share. Each returns the
// JavaScript exception, if any, as an error.

// Global returns globalThis[name] (undefined when missing).
func Global(name string) Value { return Value{global(name)} }

// Get returns v[name].
func (v Value) Get(name string) (Value, error) {
	x, err := v.v.Get(name)
	return Value{x}, err
}

// Set sets v[name] = x, x converted as for [Object.Set].
func (v Value) Set(name string, x any) error {
	jx, err := toJS(x)
	if err != nil {
		return err
	}
	return v.v.Set(name, jx)
}

// Call calls the method v[name](args...); args are converted as for
// [Object.Set] (numbers, strings, bools, Values, []byte, nil).
func (v Value) Call(name string, args ...any) (Value, error) {
	a, err := toJSArgs(args)
	if err != nil {
		return Value{}, err
	}
	x, err := v.v.Call(name, a...)
	return Value{x}, err
}

// Invoke calls v(args...) as a function.
func (v Value) Invoke(args ...any) (Value, error) {
	a, err := toJSArgs(args)
	if err != nil {
		return Value{}, err
	}
	x, err := v.v.Invoke(a...)
	return Value{x}, err
}

// New calls new v(args...).
func (v Value) New(args ...any) (Value, error) {
	a, err := toJSArgs(args)
	if err != nil {
		return Value{}, err
	}
	x, err := v.v.New(a...)
	return Value{x}, err
}

// Index returns v[i].
func (v Value) Index(i int) (Value, error) {
	x, err := v.v.Index(i)
	return Value{x}, err
}

// Length returns v.length.
func (v Value) Length() (int, error) { return v.v.Length() }

// Float returns v as a number; a TypeError when v is not a number.
func (v Value) Float() (float64, error) {
	if v.v.Type() != safejs.TypeNumber {
		return 0, TypeError("expected a number, got " + v.TypeName())
	}
	return v.v.Float()
}

// Truthy reports whether v is truthy in JavaScript (false when safejs cannot
// tell, which only a broken realm causes).
func (v Value) Truthy() bool {
	ok, err := v.v.Truthy()
	return err == nil && ok
}

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.v.IsNull() }

// IsNullish reports whether v is null or undefined.
func (v Value) IsNullish() bool { return v.v.IsNull() || v.v.IsUndefined() }

// IsFunction reports whether v is a function.
func (v Value) IsFunction() bool { return v.v.Type() == safejs.TypeFunction }

// IsObject reports whether v is an object (not null, not a function).
func (v Value) IsObject() bool { return v.v.Type() == safejs.TypeObject }

// IsNumber reports whether v is a number.
func (v Value) IsNumber() bool { return v.v.Type() == safejs.TypeNumber }

// CopyBytesToGo copies from the Uint8Array v into dst, returning the count.
func (v Value) CopyBytesToGo(dst []byte) (int, error) {
	return safejs.CopyBytesToGo(dst, v.v)
}

// CopyBytesToJS copies src into the Uint8Array v, returning the count.
func (v Value) CopyBytesToJS(src []byte) (int, error) {
	return safejs.CopyBytesToJS(v.v, src)
}

// toJSArgs converts call arguments as toJS does.
func toJSArgs(args []any) ([]any, error) {
	if len(args) == 0 {
		return nil, nil
	}
	out := make([]any, len(args))
	for i, x := range args {
		jx, err := toJS(x)
		if err != nil {
			return nil, err
		}
		out[i] = jx
	}
	return out, nil
}
