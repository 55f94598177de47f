package wasm

// EchoString returns s reversed by code point. The wasm module exposes it to
// JavaScript as echo(string): a visible transformation proves that the value
// crossed into Go, was decoded as UTF-8 there, and came back. Invalid UTF-8
// sequences (from lone UTF-16 surrogates on the JavaScript side) become U+FFFD.
func EchoString(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// EchoBytes returns a new slice holding b's bytes in reverse order. The wasm
// module exposes it to JavaScript as echo(Uint8Array).
func EchoBytes(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[len(b)-1-i] = c
	}
	return out
}
