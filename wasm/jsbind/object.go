//go:build js && wasm

package jsbind

import (
	"github.com/hack-pad/safejs"
)

// Handler is a Go function callable from JavaScript. Its result is converted as
// described for [Object.Set]; a non-nil error is returned to JavaScript as an
// Error object instead. A Handler must not block (see the package doc).
type Handler func(args []Value) (any, error)

// Object is a plain JavaScript object built by Go, typically the exports of
// the module. It owns the Go functions attached to it.
type Object struct {
	v     safejs.Value
	funcs []safejs.Func
}

// NewObject returns a new, empty JavaScript object.
func NewObject() (*Object, error) {
	v, err := global("Object").New()
	if err != nil {
		return nil, err
	}
	return &Object{v: v}, nil
}

// Value returns the object as a Value.
func (o *Object) Value() Value { return Value{o.v} }

// Set sets the property name to x, converted to JavaScript: nil is undefined;
// string, bool, int and float64 are primitives; []byte is a new Uint8Array;
// a Value or *Object is itself; an error is an Error object.
func (o *Object) Set(name string, x any) error {
	return Value{o.v}.Set(name, x)
}

// SetFunc sets the property name to a JavaScript function that calls h. A panic
// in h is recovered and returned to JavaScript as an Error whose message names
// the function. The function lives until [Object.Release].
func (o *Object) SetFunc(name string, h Handler) error {
	fn, err := safejs.FuncOf(wrap(name, h))
	if err != nil {
		return err
	}
	if err := o.v.Set(name, fn); err != nil {
		fn.Release()
		return err
	}
	o.funcs = append(o.funcs, fn)
	return nil
}

// Release releases every function attached by SetFunc. JavaScript must not
// call them afterwards.
func (o *Object) Release() {
	for _, fn := range o.funcs {
		fn.Release()
	}
	o.funcs = nil
}

// wrap adapts h to safejs.FuncOf: arguments become Values, the result or the
// error (including a recovered panic) becomes a JavaScript value.
func wrap(name string, h Handler) func(this safejs.Value, args []safejs.Value) any {
	return func(_ safejs.Value, args []safejs.Value) (result any) {
		defer func() {
			if err := recovered(name, recover()); err != nil {
				result = errorValue(err)
			}
		}()
		vals := make([]Value, len(args))
		for i, a := range args {
			vals[i] = Value{a}
		}
		x, err := h(vals)
		if err != nil {
			return errorValue(err)
		}
		v, err := toJS(x)
		if err != nil {
			return errorValue(err)
		}
		return v
	}
}
