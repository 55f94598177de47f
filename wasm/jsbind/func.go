//go:build js && wasm

package jsbind

import (
	"errors"

	"github.com/hack-pad/safejs"
)

// Func is a Go function callable from JavaScript as a callback (an event
// handler, a promise reaction), made by [NewFunc]. Release it once
// JavaScript can no longer call it: a call to a released Func prints "call to
// released function" on the console (syscall/js, under safejs), so a callback that a
// pending promise may still invoke must stay alive until then.
type Func struct {
	f  safejs.Func
	ok bool
}

// NewFunc returns a JavaScript function that calls fn with its arguments and
// returns undefined. fn must not block (see the package doc). A panic in fn
// is recovered and passed to onPanic (when not nil) as a *PanicError naming
// name; a panic in onPanic itself is dropped, so a callback never kills the
// module.
func NewFunc(name string, fn func(args []Value), onPanic func(error)) (Func, error) {
	f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		defer func() {
			if perr := recovered(name, recover()); perr != nil && onPanic != nil {
				func() {
					defer func() { _ = recover() }()
					onPanic(perr)
				}()
			}
		}()
		vals := make([]Value, len(args))
		for i, a := range args {
			vals[i] = Value{a}
		}
		fn(vals)
		return nil
	})
	if err != nil {
		return Func{}, err
	}
	return Func{f, true}, nil
}

// Value returns the function as a Value.
func (f Func) Value() Value { return Value{f.f.Value()} }

// Release frees the function; see the type doc for when.
func (f Func) Release() {
	if f.ok {
		f.f.Release()
	}
}

// Await waits for the JavaScript promise (or thenable, or plain value) p to
// settle and returns its value, or an error made from the rejection reason.
// It blocks the calling goroutine, so it must never be called from a
// JavaScript callback (a Handler or a Func): only from a goroutine of its own.
func Await(p Value) (Value, error) {
	type result struct {
		v   Value
		err error
	}
	ch := make(chan result, 1)
	onOK, err := NewFunc("Await", func(args []Value) {
		ch <- result{v: arg(args, 0)}
	}, nil)
	if err != nil {
		return Value{}, err
	}
	defer onOK.Release()
	onErr, err := NewFunc("Await", func(args []Value) {
		ch <- result{err: JSError(arg(args, 0))}
	}, nil)
	if err != nil {
		return Value{}, err
	}
	defer onErr.Release()
	// Promise.resolve(p) so that plain values and foreign thenables work too.
	pr, err := Global("Promise").Call("resolve", p)
	if err != nil {
		return Value{}, err
	}
	if _, err := pr.Call("then", onOK.Value(), onErr.Value()); err != nil {
		return Value{}, err
	}
	r := <-ch
	return r.v, r.err
}

// arg returns args[i], or undefined.
func arg(args []Value, i int) Value {
	if i < len(args) {
		return args[i]
	}
	return Undefined()
}

// JSError makes a Go error from a JavaScript exception or rejection reason:
// its String() ("TypeError: Failed to fetch"), or "undefined".
func JSError(v Value) error {
	s, err := Global("String").Invoke(v)
	if err == nil {
		if msg, err := s.String(); err == nil {
			return errors.New(msg)
		}
	}
	return errors.New("JavaScript error")
}
