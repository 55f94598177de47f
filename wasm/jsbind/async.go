//go:build js && wasm

package jsbind

import (
	"errors"

	"github.com/hack-pad/safejs"
)

// Async returns a JavaScript Promise settled by work, which runs on a new
// goroutine so that the calling Handler returns at once. The Promise resolves
// with work's result (converted as for [Object.Set]) or rejects with an Error
// made from work's error or recovered panic; name labels the panic message.
func Async(name string, work func() (any, error)) (Value, error) {
	var resolve, reject safejs.Value
	executor, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		// Called synchronously by the Promise constructor, on this goroutine;
		// recover() as in every callback (GUIDE.md §3).
		defer func() { _ = recover() }()
		resolve, reject = args[0], args[1]
		return nil
	})
	if err != nil {
		return Value{}, err
	}
	p, err := Value{global("Promise")}.New(Value{executor.Value()})
	executor.Release() // the constructor has already called it
	if err != nil {
		return Value{}, err
	}
	if resolve.Type() != safejs.TypeFunction || reject.Type() != safejs.TypeFunction {
		return Value{}, errors.New("jsbind: Promise constructor did not call its executor")
	}
	go settle(name, work, Value{resolve}, Value{reject})
	return p, nil
}

func settle(name string, work func() (any, error), resolve, reject Value) {
	x, err := runRecovered(name, work)
	var v safejs.Value
	if err == nil {
		v, err = toJS(x)
	}
	if err != nil {
		_, _ = reject.Invoke(Value{errorValue(err)})
		return
	}
	_, _ = resolve.Invoke(Value{v})
}

func runRecovered(name string, work func() (any, error)) (x any, err error) {
	defer func() {
		if perr := recovered(name, recover()); perr != nil {
			x, err = nil, perr
		}
	}()
	return work()
}
