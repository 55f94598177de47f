//go:build js && wasm

package jsbind

import (
	"errors"
	"strconv"

	"github.com/hack-pad/safejs"
)

// Error is an error that crosses to JavaScript as an instance of a specific
// built-in Error constructor.
type Error struct {
	// Name is the global constructor: "Error", "TypeError", "RangeError".
	Name    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// TypeError returns an error that reaches JavaScript as a TypeError, the
// JavaScript convention for an argument of the wrong type.
func TypeError(msg string) error { return &Error{Name: "TypeError", Message: msg} }

// PanicError is a Go panic recovered at the seam.
type PanicError struct {
	// Func names the Go function that panicked (for example "echo").
	Func string
	// Value is what was passed to panic.
	Value any
}

func (e *PanicError) Error() string {
	return "eventwire: Go panic in " + e.Func + ": " + describe(e.Value)
}

// describe formats a panic value: errors (runtime errors included) and
// strings as they are, numbers and booleans, and only the kind of anything
// else.
func describe(v any) string {
	switch x := v.(type) {
	case error:
		return x.Error()
	case string:
		return x
	case interface{ String() string }:
		return x.String()
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "nil"
	}
	return "a panic value that is not an error or a string"
}

// errorValue makes a JavaScript Error from err: an instance of the constructor
// named by an *Error in err's chain, else Error. The message is err.Error().
func errorValue(err error) safejs.Value {
	name := "Error"
	// A loop instead of errors.As, which would add reflectlite (~14 KB gzip).
	for e := err; e != nil; e = errors.Unwrap(e) {
		if je, ok := e.(*Error); ok && je.Name != "" {
			name = je.Name
			break
		}
	}
	ctor := global(name)
	if ctor.Type() != safejs.TypeFunction {
		ctor = global("Error")
	}
	v, e := ctor.New(err.Error())
	if e != nil {
		// Only when the realm is broken; a string still tells the caller what happened.
		s, _ := safejs.ValueOf(err.Error())
		return s
	}
	return v
}

// recovered converts a recover() value to an error (nil when r is nil).
func recovered(fn string, r any) error {
	if r == nil {
		return nil
	}
	return &PanicError{Func: fn, Value: r}
}
