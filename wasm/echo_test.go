package wasm

import (
	"bytes"
	"testing"
)

func TestEchoString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"a", "a"},
		{"abc", "cba"},
		{"héllo 👋", "👋 olléh"},
		{"a\xffb", "b\uFFFDa"}, // invalid UTF-8 becomes U+FFFD
		{"x\x00y", "y\x00x"},
	}
	for _, tt := range tests {
		if got := EchoString(tt.in); got != tt.want {
			t.Errorf("EchoString(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEchoBytes(t *testing.T) {
	tests := []struct{ in, want []byte }{
		{nil, []byte{}},
		{[]byte{1}, []byte{1}},
		{[]byte{1, 2, 3, 0xff}, []byte{0xff, 3, 2, 1}},
	}
	for _, tt := range tests {
		in := bytes.Clone(tt.in)
		got := EchoBytes(in)
		if !bytes.Equal(got, tt.want) {
			t.Errorf("EchoBytes(%v) = %v, want %v", tt.in, got, tt.want)
		}
		if !bytes.Equal(in, tt.in) {
			t.Errorf("EchoBytes modified its input: %v", in)
		}
	}
}
