package sse

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestAppendEvent(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    Event
		want string
	}{
		{"data only", Event{Data: "hello"}, "data: hello\n\n"},
		{"all fields", Event{Type: "tick", Data: "x", ID: "e-1", Retry: 2500 * time.Millisecond}, "id: e-1\nevent: tick\nretry:2500\ndata: x\n\n"},
		{"empty data still dispatches", Event{}, "data: \n\n"},
		{"multi-line data split on LF", Event{Data: "a\nb\nc"}, "data: a\ndata: b\ndata: c\n\n"},
		{"multi-line data split on CR", Event{Data: "a\rb"}, "data: a\ndata: b\n\n"},
		{"multi-line data split on CRLF", Event{Data: "a\r\nb"}, "data: a\ndata: b\n\n"},
		{"multi-line data mixed", Event{Data: "a\r\rb\n\r\nc"}, "data: a\ndata: \ndata: b\ndata: \ndata: c\n\n"},
		{"trailing line break kept as an empty line", Event{Data: "a\n"}, "data: a\ndata: \n\n"},
		{"leading space in data survives", Event{Data: " a"}, "data:  a\n\n"},
		{"leading space in id and type survive", Event{Type: " t", ID: " i", Data: "x"}, "id:  i\nevent:  t\ndata: x\n\n"},
		{"colon in data", Event{Data: "a: b"}, "data: a: b\n\n"},
		{"NUL in data allowed", Event{Data: "a\x00b"}, "data: a\x00b\n\n"},
		{"negative retry not written", Event{Data: "x", Retry: -time.Second}, "data: x\n\n"},
		{"sub-millisecond retry rounds down", Event{Data: "x", Retry: time.Microsecond}, "retry:0\ndata: x\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendEvent([]byte("prefix"), tc.e)
			if err != nil || string(got) != "prefix"+tc.want {
				t.Fatalf("AppendEvent(%+v) = %q, %v; want %q", tc.e, got, err, "prefix"+tc.want)
			}
		})
	}
}

func TestAppendEventRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    Event
		want error
	}{
		{"id with CR", Event{ID: "a\rb"}, ErrInvalidID},
		{"id with LF", Event{ID: "a\nb"}, ErrInvalidID},
		{"id with NUL", Event{ID: "a\x00b"}, ErrInvalidID},
		{"type with CR", Event{Type: "a\r"}, ErrInvalidType},
		{"type with LF", Event{Type: "\na"}, ErrInvalidType},
		{"type with NUL", Event{Type: "\x00"}, ErrInvalidType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := AppendEvent(dst, tc.e)
			if !errors.Is(err, tc.want) || string(got) != "keep" {
				t.Fatalf("AppendEvent(%+v) = %q, %v; want %q, %v", tc.e, got, err, "keep", tc.want)
			}
		})
	}
}

func TestAppendComment(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"", ": \n"},
		{"ping", ": ping\n"},
		{"a\nb\r\nc\rd", ": a\n: b\n: c\n: d\n"},
	} {
		if got := string(AppendComment(nil, tc.text)); got != tc.want {
			t.Errorf("AppendComment(%q) = %q, want %q", tc.text, got, tc.want)
		}
		// A comment never dispatches or changes anything.
		if r := feed(DecoderOptions{}, []byte(AppendComment(nil, tc.text)), []byte("\n")); len(r.Events) != 0 {
			t.Errorf("comment %q decoded to %+v", tc.text, r.Events)
		}
	}
}

func TestAppendRetry(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{3 * time.Second, "retry:3000\n"},
		{1500*time.Microsecond + 999, "retry:1\n"},
		{0, "retry:0\n"},
		{-time.Second, "retry:0\n"},
	} {
		if got := string(AppendRetry(nil, tc.d)); got != tc.want {
			t.Errorf("AppendRetry(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	r := feed(DecoderOptions{}, AppendRetry(nil, 3*time.Second))
	if r.Retry != 3*time.Second {
		t.Fatalf("decoded retry %v", r.Retry)
	}
}

// TestEncodeDecode runs a sequence of events through the encoder and the
// decoder, checking that IDs carry over to later events as the spec says.
func TestEncodeDecode(t *testing.T) {
	in := []Event{
		{ID: "1", Type: "a", Data: "first\nline"},
		{Data: "no id: keeps 1"},
		{ID: "3", Data: " spaced ", Retry: time.Second},
	}
	var stream []byte
	for _, e := range in {
		var err error
		if stream, err = AppendEvent(stream, e); err != nil {
			t.Fatal(err)
		}
		stream = AppendComment(stream, "heartbeat")
	}
	want := []Event{
		{ID: "1", Type: "a", Data: "first\nline"},
		{ID: "1", Type: "message", Data: "no id: keeps 1"},
		{ID: "3", Type: "message", Data: " spaced ", Retry: time.Second},
	}
	splits(stream, func(how string, chunks [][]byte) {
		r := feed(DecoderOptions{}, chunks...)
		if !reflect.DeepEqual(r, result{Events: want, LastID: "3", Retry: time.Second}) {
			t.Fatalf("%s %q: got %+v", how, chunks, r)
		}
	})
}
