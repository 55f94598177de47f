package eventsource

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/eventwire/eventwire/protocol/sse"
)

// unpack decodes AppendPacked's layout the way the JS shell does: lengths
// in UTF-16 code units over the text decoded once.
func unpack(t *testing.T, b []byte) []sse.Event {
	t.Helper()
	u32 := func(i int) uint32 { return uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16 | uint32(b[i+3])<<24 }
	n := int(u32(0))
	text := utf16.Encode([]rune(string(b[4+12*n:])))
	at := 0
	slice := func(l uint32) string {
		s := string(utf16.Decode(text[at : at+int(l)]))
		at += int(l)
		return s
	}
	var evs []sse.Event
	var typ, id string
	for i := range n {
		tl, dl, il := u32(4+12*i), u32(8+12*i), u32(12+12*i)
		if tl != Same {
			typ = slice(tl)
		} else if i == 0 {
			t.Fatal("Same in the first event")
		}
		data := slice(dl)
		if il != Same {
			id = slice(il)
		}
		evs = append(evs, sse.Event{Type: typ, Data: data, ID: id})
	}
	if at != len(text) {
		t.Fatalf("text has %d code units, %d used", len(text), at)
	}
	return evs
}

func TestAppendPacked(t *testing.T) {
	for _, evs := range [][]sse.Event{
		nil,
		{{Type: "message", Data: "hello", ID: ""}},
		{
			{Type: "message", Data: "a", ID: "1"},
			{Type: "message", Data: "b", ID: "1"},
			{Type: "tick", Data: "", ID: "1"},
			{Type: "tick", Data: "multi\nline", ID: "2"},
			{Type: "message", Data: "é ü 中文 😀 𝄞 \ufffd end", ID: "😀-3"},
			{Type: "ünï", Data: strings.Repeat("x😀y", 100), ID: "😀-3"},
			{Type: "message", Data: strings.Repeat("ascii only ", 1000), ID: ""},
		},
	} {
		prefix := []byte("keep")
		b := AppendPacked(prefix, evs)
		if string(b[:4]) != "keep" {
			t.Fatal("prefix lost")
		}
		got := unpack(t, b[4:])
		if !slices.Equal(got, evs) {
			t.Errorf("round trip:\n got  %+v\n want %+v", got, evs)
		}
	}
}

func TestAppendPackedSameFields(t *testing.T) {
	evs := []sse.Event{
		{Type: "message", Data: "a", ID: "7"},
		{Type: "message", Data: "b", ID: "7"},
	}
	b := AppendPacked(nil, evs)
	want := 4 + 24 + len("message") + 1 + 1 + 1
	if len(b) != want {
		t.Fatalf("len %d, want %d (type and id not repeated)", len(b), want)
	}
}

func TestUTF16Len(t *testing.T) {
	for _, s := range []string{"", "a", "abcdefgh", "abcdefghi", "é", "😀", "a😀b中文éxxxxxxxxxxxxx😀", strings.Repeat("ab😀cdefghij", 50), "\ufffd\U0010FFFF"} {
		if got, want := utf16Len(s), len(utf16.Encode([]rune(s))); got != want {
			t.Errorf("utf16Len(%q) = %d, want %d", s, got, want)
		}
	}
}

func BenchmarkAppendPacked(b *testing.B) {
	evs := make([]sse.Event, 100)
	for i := range evs {
		evs[i] = sse.Event{Type: "message", Data: strings.Repeat("x", 64), ID: "1"}
	}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendPacked(buf[:0], evs)
	}
}

func BenchmarkUTF16Len64K(b *testing.B) {
	s := strings.Repeat("0123456789abcdef", 4096)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		utf16Len(s)
	}
}
