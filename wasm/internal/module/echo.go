//go:build js && wasm

package module

import (
	"github.com/eventwire/eventwire/wasm"
	"github.com/eventwire/eventwire/wasm/jsbind"
)

// The foundation's exports: they prove the path JS → Go → JS, from a callback
// and from a goroutine, and that a panic becomes a JavaScript Error.

// echo(x): x reversed, proving a value crosses JS → Go → JS.
func echo(args []jsbind.Value) (any, error) {
	if len(args) != 1 {
		return nil, jsbind.TypeError("eventwire: echo takes exactly one argument")
	}
	switch x := args[0]; {
	case x.IsString():
		s, err := x.String()
		if err != nil {
			return nil, err
		}
		return wasm.EchoString(s), nil
	case x.IsUint8Array():
		b, err := x.Bytes()
		if err != nil {
			return nil, err
		}
		return wasm.EchoBytes(b), nil
	default:
		return nil, jsbind.TypeError("eventwire: echo takes a string or a Uint8Array, got " + x.TypeName())
	}
}

// echoAsync(x): a Promise of echo(x), settled by a goroutine (the path every
// network callback will take: never block in a callback).
func echoAsync(args []jsbind.Value) (any, error) {
	// Convert the arguments now, while they are valid: the goroutine runs after
	// this call returns.
	res, err := echo(args)
	if err != nil {
		return nil, err
	}
	return jsbind.Async("echoAsync", func() (any, error) { return res, nil })
}

// _panic(message): panics, to prove recover() at the seam keeps the module alive.
func panicNow(args []jsbind.Value) (any, error) {
	msg := "_panic called"
	if len(args) > 0 && args[0].IsString() {
		msg, _ = args[0].String()
	}
	panic(msg)
}
