package sse

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// result is everything a decoder exposes after a stream.
type result struct {
	Events []Event
	LastID string
	Retry  time.Duration
	Err    error
}

// feed decodes chunks with a fresh decoder and collects the result; the
// stream is not ended, so End's effects are tested separately.
func feed(opts DecoderOptions, chunks ...[]byte) result {
	d := NewDecoder(opts)
	var r result
	emit := func(e Event) { r.Events = append(r.Events, e) }
	for _, c := range chunks {
		if r.Err = d.Feed(c, emit); r.Err != nil {
			break
		}
	}
	r.LastID, r.Retry = d.LastEventID(), d.Retry()
	return r
}

// utf16Units is what a JavaScript string decoded from in by TextDecoder
// would have as its length.
func utf16Units(in string) int {
	return len(utf16.Encode([]rune(string(AppendUTF8(nil, []byte(in))))))
}

// feedViews is feed through FeedView. It also checks what FeedView
// promises of DataAt (a Data it reports at an offset is those very bytes of
// the chunk) and DataUTF16.
func feedViews(t testing.TB, opts DecoderOptions, chunks ...[]byte) result {
	d := NewDecoder(opts)
	var r result
	for _, c := range chunks {
		emit := func(v *EventView) {
			if v.DataAt >= 0 && (v.DataAt+len(v.Data) > len(c) || len(v.Data) > 0 && &c[v.DataAt] != &v.Data[0]) {
				t.Fatalf("chunk %q: Data %q is not at DataAt %d", c, v.Data, v.DataAt)
			}
			if want := utf16Units(string(v.Data)); v.DataUTF16 != want {
				t.Fatalf("chunk %q: Data %q has DataUTF16 %d, want %d", c, v.Data, v.DataUTF16, want)
			}
			r.Events = append(r.Events, Event{Type: string(v.Type), Data: string(v.Data), ID: string(v.ID), Retry: v.Retry})
		}
		if r.Err = d.FeedView(c, emit); r.Err != nil {
			break
		}
	}
	r.LastID, r.Retry = d.LastEventID(), d.Retry()
	return r
}

// splits calls f with in cut into chunks in every way the test checks: whole,
// byte by byte, and at every pair of split points (which covers every
// single split point, with an empty chunk).
func splits(in []byte, f func(name string, chunks [][]byte)) {
	f("whole", [][]byte{in})
	bytewise := make([][]byte, len(in))
	for i := range in {
		bytewise[i] = in[i : i+1]
	}
	f("bytewise", bytewise)
	for i := 0; i <= len(in); i++ {
		for j := i; j <= len(in); j++ {
			f("split", [][]byte{in[:i], in[i:j], in[j:]})
		}
	}
}

func ev(typ, data, id string) Event { return Event{Type: typ, Data: data, ID: id} }

func msg(data string) Event { return ev("message", data, "") }

// decodeCases has one case per rule of the WHATWG "Parsing an event stream"
// and "Interpreting an event stream" sections; each name starts with the rule.
var decodeCases = []struct {
	name   string
	in     string
	want   []Event
	lastID string
	retry  time.Duration
}{
	// UTF-8 decoding.
	{name: "utf8: valid multi-byte text kept", in: "data: h\u00e9llo \u20ac\U0001F600\n\n", want: []Event{msg("h\u00e9llo \u20ac\U0001F600")}},
	{name: "utf8: invalid byte replaced", in: "data: a\xffb\n\n", want: []Event{msg("a\uFFFDb")}},
	{name: "utf8: maximal subpart is one replacement", in: "data: \xe2\x82A\n\n", want: []Event{msg("\uFFFDA")}},
	{name: "utf8: truncated sequence at line end replaced once", in: "data: \xf0\x9f\x98\n\n", want: []Event{msg("\uFFFD")}},
	{name: "utf8: surrogate bytes replaced per byte", in: "data: \xed\xa0\x80\n\n", want: []Event{msg("\uFFFD\uFFFD\uFFFD")}},
	{name: "utf8: invalid byte before colon stays in name", in: "data\xff: x\n\n"},
	{name: "utf8: invalid byte in id replaced", in: "id: \xc0\ndata: x\n\n", want: []Event{ev("message", "x", "\uFFFD")}, lastID: "\uFFFD"},
	{name: "utf8: invalid byte in event type replaced", in: "event: a\x80\ndata: x\n\n", want: []Event{ev("a\uFFFD", "x", "")}},
	{name: "utf8: encoded U+FFFD kept", in: "data: \xef\xbf\xbd\n\n", want: []Event{msg("\uFFFD")}},

	// Byte order mark.
	{name: "bom: one leading BOM stripped", in: "\xEF\xBB\xBFdata: a\n\n", want: []Event{msg("a")}},
	{name: "bom: second BOM kept (field name is \\uFEFFdata)", in: "\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\n"},
	{name: "bom: BOM after the start kept", in: "\n\xEF\xBB\xBFdata: a\n\n"},
	{name: "bom: BOM in data kept", in: "data: \xEF\xBB\xBFa\n\n", want: []Event{msg("\uFEFFa")}},
	{name: "bom: partial BOM is invalid UTF-8", in: "\xEF\xBBdata: a\n\n"},
	{name: "bom: BOM then blank line", in: "\xEF\xBB\xBF\ndata: a\n\n", want: []Event{msg("a")}},
	{name: "bom: BOM then comment", in: "\xEF\xBB\xBF:hi\ndata: a\n\n", want: []Event{msg("a")}},

	// Line endings.
	{name: "eol: LF", in: "data: a\ndata: b\n\n", want: []Event{msg("a\nb")}},
	{name: "eol: CR", in: "data: a\rdata: b\r\r", want: []Event{msg("a\nb")}},
	{name: "eol: CRLF is one line end", in: "data: a\r\ndata: b\r\n\r\n", want: []Event{msg("a\nb")}},
	{name: "eol: CR CR is two line ends", in: "data: a\r\rdata: b\r\r", want: []Event{msg("a"), msg("b")}},
	{name: "eol: LF CR is two line ends", in: "data: a\n\rdata: b\n\n", want: []Event{msg("a"), msg("b")}},
	{name: "eol: CR LF LF is two line ends", in: "data: a\r\n\ndata: b\n\n", want: []Event{msg("a"), msg("b")}},
	{name: "eol: mixed", in: "data: a\rdata: b\r\ndata: c\n\r\n", want: []Event{msg("a\nb\nc")}},
	{name: "eol: lone CR at stream start is a blank line", in: "\rdata: a\r\n\r\n", want: []Event{msg("a")}},

	// Comments.
	{name: "comment: ignored", in: ":comment\ndata: a\n\n", want: []Event{msg("a")}},
	{name: "comment: alone dispatches nothing", in: ": ping\n\n"},
	{name: "comment: between data lines", in: "data: a\n: x\ndata: b\n\n", want: []Event{msg("a\nb")}},
	{name: "comment: looking like a field", in: ":data: x\n\n"},
	{name: "comment: empty", in: ":\n\n"},

	// Field without colon.
	{name: "no colon: data with empty value", in: "data\n\n", want: []Event{msg("")}},
	{name: "no colon: two empty data lines", in: "data\ndata\n\n", want: []Event{msg("\n")}},
	{name: "no colon: event resets type", in: "event: x\nevent\ndata: a\n\n", want: []Event{msg("a")}},
	{name: "no colon: id resets id", in: "id: 1\n\nid\ndata: a\n\n", want: []Event{msg("a")}},
	{name: "no colon: retry is ignored", in: "retry\ndata: a\n\n", want: []Event{msg("a")}},
	{name: "no colon: unknown line ignored", in: "this is not a field\ndata: a\n\n", want: []Event{msg("a")}},

	// Space after the colon.
	{name: "space: none", in: "data:a\n\n", want: []Event{msg("a")}},
	{name: "space: one removed", in: "data: a\n\n", want: []Event{msg("a")}},
	{name: "space: only one removed", in: "data:  a\n\n", want: []Event{msg(" a")}},
	{name: "space: tab kept", in: "data:\ta\n\n", want: []Event{msg("\ta")}},
	{name: "space: trailing space kept", in: "data: a \n\n", want: []Event{msg("a ")}},
	{name: "space: before colon makes another field", in: "data : a\n\n"},
	{name: "space: later colons are part of the value", in: "data: a: b:c\n\n", want: []Event{msg("a: b:c")}},
	{name: "space: lone space value is empty", in: "data: \n\n", want: []Event{msg("")}},

	// Data.
	{name: "data: lines joined with LF", in: "data: a\ndata: b\ndata: c\n\n", want: []Event{msg("a\nb\nc")}},
	{name: "data: empty line keeps its LF", in: "data: a\ndata:\n\n", want: []Event{msg("a\n")}},
	{name: "data: empty first line", in: "data:\ndata: a\n\n", want: []Event{msg("\na")}},
	{name: "data: only the final LF removed", in: "data\ndata\ndata\n\n", want: []Event{msg("\n\n")}},
	{name: "data: NUL kept", in: "data: a\x00b\n\n", want: []Event{msg("a\x00b")}},
	{name: "data: name is case-sensitive", in: "Data: a\n\n"},

	// Event type.
	{name: "event: sets type", in: "event: foo\ndata: a\n\n", want: []Event{ev("foo", "a", "")}},
	{name: "event: last one wins", in: "event: a\nevent: b\ndata: x\n\n", want: []Event{ev("b", "x", "")}},
	{name: "event: after data in the block", in: "data: x\nevent: foo\n\n", want: []Event{ev("foo", "x", "")}},
	{name: "event: empty value means message", in: "event:\ndata: a\n\n", want: []Event{msg("a")}},
	{name: "event: reset after dispatch", in: "event: foo\ndata: a\n\ndata: b\n\n", want: []Event{ev("foo", "a", ""), msg("b")}},
	{name: "event: reset by blank line without data", in: "event: foo\n\ndata: a\n\n", want: []Event{msg("a")}},
	{name: "event: same type twice", in: "event: t\ndata: a\n\nevent: t\ndata: b\n\n", want: []Event{ev("t", "a", ""), ev("t", "b", "")}},
	{name: "event: value with spaces and colon", in: "event:  a:b \ndata: x\n\n", want: []Event{ev(" a:b ", "x", "")}},

	// Last event ID.
	{name: "id: sets last event id", in: "id: 1\ndata: a\n\n", want: []Event{ev("message", "a", "1")}, lastID: "1"},
	{name: "id: persists to later events", in: "id: 1\ndata: a\n\ndata: b\n\n", want: []Event{ev("message", "a", "1"), ev("message", "b", "1")}, lastID: "1"},
	{name: "id: after data in the block", in: "data: a\nid: 2\n\n", want: []Event{ev("message", "a", "2")}, lastID: "2"},
	{name: "id: with NUL ignored", in: "id: 1\n\nid: 2\x003\ndata: a\n\n", want: []Event{ev("message", "a", "1")}, lastID: "1"},
	{name: "id: empty value resets", in: "id: 1\ndata: a\n\nid:\ndata: b\n\n", want: []Event{ev("message", "a", "1"), msg("b")}},
	{name: "id: id-only block commits", in: "id: 7\n\n", lastID: "7"},
	{name: "id: committed at the blank line only", in: "id: 1\n\nid: 2\ndata: x", lastID: "1"},
	{name: "id: leading space kept after the first", in: "id:  a\ndata: x\n\n", want: []Event{ev("message", "x", " a")}, lastID: " a"},
	{name: "id: last one in the block wins", in: "id: 1\nid: 2\ndata: x\n\n", want: []Event{ev("message", "x", "2")}, lastID: "2"},

	// Retry.
	{name: "retry: digits set milliseconds", in: "retry: 1500\n\n", retry: 1500 * time.Millisecond},
	{name: "retry: reported on the event of its block", in: "retry: 10\ndata: a\n\ndata: b\n\n", want: []Event{{Type: "message", Data: "a", Retry: 10 * time.Millisecond}, msg("b")}, retry: 10 * time.Millisecond},
	{name: "retry: zero is valid", in: "retry: 5\nretry: 0\n\n", retry: 0},
	{name: "retry: leading zeros", in: "retry: 007\n\n", retry: 7 * time.Millisecond},
	{name: "retry: non-digit ignored", in: "retry: 5\nretry: 15a\n\n", retry: 5 * time.Millisecond},
	{name: "retry: sign ignored", in: "retry: 5\nretry: -1\nretry: +1\n\n", retry: 5 * time.Millisecond},
	{name: "retry: decimal ignored", in: "retry: 5\nretry: 1.5\n\n", retry: 5 * time.Millisecond},
	{name: "retry: empty ignored", in: "retry: 5\nretry:\nretry\n\n", retry: 5 * time.Millisecond},
	{name: "retry: extra space ignored", in: "retry: 5\nretry:  1\n\n", retry: 5 * time.Millisecond},
	{name: "retry: non-ASCII digit ignored", in: "retry: 5\nretry: \u0661\n\n", retry: 5 * time.Millisecond},
	{name: "retry: huge value clamped", in: "retry: 99999999999999999999999999\n\n", retry: math.MaxInt64},
	{name: "retry: applies before the blank line", in: "retry: 42\ndata: x", retry: 42 * time.Millisecond},

	// Unknown fields.
	{name: "unknown: field ignored", in: "foo: bar\ndata: a\n\n", want: []Event{msg("a")}},
	{name: "unknown: field alone dispatches nothing", in: "foo: bar\n\n"},

	// Dispatch.
	{name: "dispatch: blank line with empty data buffer", in: "\n\n\n"},
	{name: "dispatch: several events", in: "data: a\n\ndata: b\n\ndata: c\n\n", want: []Event{msg("a"), msg("b"), msg("c")}},
	{name: "dispatch: extra blank lines", in: "data: a\n\n\n\ndata: b\n\n", want: []Event{msg("a"), msg("b")}},
	{name: "dispatch: retry-only block", in: "retry: 1\n\ndata: a\n\n", want: []Event{msg("a")}, retry: time.Millisecond},

	// End of stream.
	{name: "end: unterminated line discarded", in: "data: a"},
	{name: "end: event without blank line discarded", in: "data: a\n"},
	{name: "end: last of several discarded", in: "data: a\n\ndata: b\n", want: []Event{msg("a")}},
	{name: "end: empty stream", in: ""},
}

func TestDecodeRules(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			want := result{Events: tc.want, LastID: tc.lastID, Retry: tc.retry}
			splits([]byte(tc.in), func(how string, chunks [][]byte) {
				if got := feed(DecoderOptions{}, chunks...); !reflect.DeepEqual(got, want) {
					t.Fatalf("%s %q:\n got %+v\nwant %+v", how, chunks, got, want)
				}
				if got := feedViews(t, DecoderOptions{}, chunks...); !reflect.DeepEqual(got, want) {
					t.Fatalf("FeedView, %s %q:\n got %+v\nwant %+v", how, chunks, got, want)
				}
			})
		})
	}
}

// TestDecodeChunkBoundaries pins the cases where a chunk boundary falls
// inside a token (they are also covered by the split loop above).
func TestDecodeChunkBoundaries(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
		want   []Event
	}{
		{"utf8: sequence split across chunks is not replaced", []string{"data: \xf0\x9f", "\x98\x80\n\n"}, []Event{msg("\U0001F600")}},
		{"utf8: sequence split across three chunks", []string{"data: \xe2", "\x82", "\xac\n\n"}, []Event{msg("\u20ac")}},
		{"bom: split across chunks", []string{"\xEF", "\xBB", "\xBFdata: a\n\n"}, []Event{msg("a")}},
		{"eol: CRLF split is one line end", []string{"data: a\r", "\ndata: b\r", "\n\r", "\n"}, []Event{msg("a\nb")}},
		{"eol: CR then empty chunk then LF", []string{"data: a\r", "", "\n\r", "", "\n"}, []Event{msg("a")}},
		{"eol: CR at chunk end dispatches at once", []string{"data: a\r\r"}, []Event{msg("a")}},
		{"field name split", []string{"da", "ta: a\n", "\n"}, []Event{msg("a")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var chunks [][]byte
			for _, c := range tc.chunks {
				chunks = append(chunks, []byte(c))
			}
			if got := feed(DecoderOptions{}, chunks...); !reflect.DeepEqual(got.Events, tc.want) {
				t.Fatalf("got %+v, want %+v", got.Events, tc.want)
			}
		})
	}
}

// TestDecodeUTF8 checks replacement against vectors produced by a browser's
// TextDecoder (WHATWG Encoding Standard).
func TestDecodeUTF8(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"\xe2\x82\x41", "\uFFFD\x41"},
		{"\xf0\x90\x80\x41", "\uFFFD\x41"},
		{"\xf0\x9f\x98", "\uFFFD"},
		{"\xe0\x80\x41", "\uFFFD\uFFFD\x41"},
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"\xc0\xaf", "\uFFFD\uFFFD"},
		{"\xc2", "\uFFFD"},
		{"\x80", "\uFFFD"},
		{"\xff\xfe", "\uFFFD\uFFFD"},
		{"\xf4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"\xf5\x80", "\uFFFD\uFFFD"},
		{"\xe1\x80\xe2\x82\xac", "\uFFFD\u20ac"},
		{"\xf0\x9f\x98\x80\xf0\x9f", "\U0001F600\uFFFD"},
		{"\x61\xc3\x28\x62", "\x61\uFFFD\x28\x62"},
		{"\xef\xbb\xbf", "\uFEFF"},
		{"\xef\xbf\xbd", "\uFFFD"},
		{"\xf8\x88\x80\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"\xe0\xa0", "\uFFFD"},
		{"\xf1\x80\x80\xc3\xa9", "\uFFFD\u00e9"},
		{"\xed\x9f\xbf", "\ud7ff"},
		{"\xed\xa0", "\uFFFD\uFFFD"},
		{"\xf4\x8f\xbf\xbf", "\U0010FFFF"},
		{"\xc1\xbf", "\uFFFD\uFFFD"},
		{"\xe0\x9f\x80", "\uFFFD\uFFFD\uFFFD"},
	} {
		if got := string(AppendUTF8(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("AppendUTF8(%q) = %q, want %q", tc.in, got, tc.want)
		}
		for _, in := range []string{tc.in, "12345678" + tc.in + "é12345678😀"} {
			if got, want := UTF16Len([]byte(in)), utf16Units(in); got != want {
				t.Errorf("UTF16Len(%q) = %d, want %d", in, got, want)
			}
		}
		if got := string(whatwgUTF8([]byte(tc.in))); got != tc.want {
			t.Errorf("reference whatwgUTF8(%q) = %q, want %q", tc.in, got, tc.want)
		}
		got := feed(DecoderOptions{}, []byte("data: "+tc.in+"\n\n"))
		if len(got.Events) != 1 || got.Events[0].Data != tc.want {
			t.Errorf("decode %q = %+v, want data %q", tc.in, got.Events, tc.want)
		}
	}
}

func TestDecodeEnd(t *testing.T) {
	d := NewDecoder(DecoderOptions{})
	var got []Event
	emit := func(e Event) { got = append(got, e) }
	mustFeed := func(s string) {
		t.Helper()
		if err := d.Feed([]byte(s), emit); err != nil {
			t.Fatal(err)
		}
	}
	mustFeed("\xEF\xBB\xBFretry: 100\nid: 1\ndata: a\n\nid: 2\nevent: t\ndata: partial\r")
	d.End()
	if d.LastEventID() != "1" || d.Retry() != 100*time.Millisecond {
		t.Fatalf("after End: last id %q retry %v, want 1 and 100ms", d.LastEventID(), d.Retry())
	}
	// New stream: "\n" is its own blank line (the old CR is forgotten), so
	// the BOM after it is not at the start and is kept.
	mustFeed("\n\xEF\xBB\xBFdata: x\n\ndata: b\n\n")
	d.End()
	// A new stream strips its leading BOM again.
	mustFeed("\xEF\xBB\xBFdata: c\n\n")
	want := []Event{ev("message", "a", "1"), ev("message", "b", "1"), ev("message", "c", "1")}
	want[0].Retry = 100 * time.Millisecond
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestDecodeSetLastEventIDAndRetry(t *testing.T) {
	d := NewDecoder(DecoderOptions{})
	d.SetLastEventID("restored")
	d.SetRetry(3 * time.Second)
	var got []Event
	emit := func(e Event) { got = append(got, e) }
	if err := d.Feed([]byte("data: a\n\nid\n\ndata: b\n\n"), emit); err != nil {
		t.Fatal(err)
	}
	want := []Event{ev("message", "a", "restored"), msg("b")}
	if !reflect.DeepEqual(got, want) || d.LastEventID() != "" || d.Retry() != 3*time.Second {
		t.Fatalf("got %+v id %q retry %v", got, d.LastEventID(), d.Retry())
	}
}

func TestDecodeZeroValueAndNilEmit(t *testing.T) {
	var d Decoder
	if err := d.Feed([]byte("id: 5\ndata: x\n\n"), nil); err != nil {
		t.Fatal(err)
	}
	if d.LastEventID() != "5" {
		t.Fatalf("last id %q", d.LastEventID())
	}
}

func TestDecodeDoesNotKeepInput(t *testing.T) {
	d := NewDecoder(DecoderOptions{})
	var got []Event
	emit := func(e Event) { got = append(got, e) }
	p := []byte("event: ty\ndata: hel")
	if err := d.Feed(p, emit); err != nil {
		t.Fatal(err)
	}
	for i := range p {
		p[i] = 'X'
	}
	q := []byte("lo\n\n")
	if err := d.Feed(q, emit); err != nil {
		t.Fatal(err)
	}
	copy(q, "XXXX")
	if want := []Event{ev("ty", "hello", "")}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
}

func TestDecodeLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		max   int
		in    string
		want  []Event // emitted before the error
		limit int     // 0: no error expected
	}{
		{name: "line over limit", max: 10, in: "data: a\n\ndata: 0123456789\n\n", want: []Event{msg("a")}, limit: 10},
		{name: "unterminated line over limit", max: 10, in: "data: 0123456789", limit: 10},
		{name: "comment over limit", max: 10, in: ": 0123456789\n", limit: 10},
		{name: "line at limit", max: 10, in: "data:12345\n\n", want: []Event{msg("12345")}},
		{name: "data over limit", max: 10, in: "data:12345\ndata:67890\n\n", limit: 10},
		{name: "data at limit", max: 10, in: "data:12345\ndata:6789\n\n", want: []Event{msg("12345\n6789")}},
		{name: "data+type over limit", max: 10, in: "event:abc\ndata:1234\ndata:567\n\n", limit: 10},
		{name: "data+type+id at limit", max: 10, in: "id:ab\nevent:cd\ndata:efg\ndata:hi\n\n", want: []Event{ev("cd", "efg\nhi", "ab")}},
		{name: "data+type+id over limit", max: 10, in: "id:ab\nevent:cd\ndata:efg\ndata:hij\n\n", limit: 10},
		{name: "data counted after UTF-8 repair", max: 10, in: "data:\xff\xff\xff\xff\n\n", limit: 10},
		{name: "data buffer reset after dispatch", max: 10, in: "data:12345\n\ndata:12345\n\n", want: []Event{msg("12345"), msg("12345")}},
		{name: "default is 1 MiB", in: "data:" + strings.Repeat("x", DefaultMaxEventSize) + "\n\n", limit: DefaultMaxEventSize},
		{name: "negative is unlimited", max: -1, in: "data:" + strings.Repeat("x", DefaultMaxEventSize) + "\n\n", want: []Event{msg(strings.Repeat("x", DefaultMaxEventSize))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := func(how string, got result) {
				t.Helper()
				if !reflect.DeepEqual(got.Events, tc.want) {
					t.Fatalf("%s: events %.100v, want %.100v", how, got.Events, tc.want)
				}
				if tc.limit == 0 {
					if got.Err != nil {
						t.Fatalf("%s: unexpected error %v", how, got.Err)
					}
					return
				}
				var tl *EventTooLargeError
				if !errors.As(got.Err, &tl) || tl.Limit != tc.limit || !errors.Is(got.Err, ErrEventTooLarge) {
					t.Fatalf("%s: error %v, want *EventTooLargeError{%d}", how, got.Err, tc.limit)
				}
			}
			opts := DecoderOptions{MaxEventSize: tc.max}
			in := []byte(tc.in)
			if len(in) > 100 {
				check("whole", feed(opts, in))
				var chunks [][]byte
				for c := range slices.Chunk(in, 4096) {
					chunks = append(chunks, c)
				}
				check("4k chunks", feed(opts, chunks...))
				return
			}
			splits(in, func(how string, chunks [][]byte) { check(how, feed(opts, chunks...)) })
		})
	}
}

func TestDecodeLimitBoundsMemory(t *testing.T) {
	d := NewDecoder(DecoderOptions{MaxEventSize: 1000})
	chunk := bytes.Repeat([]byte("x"), 100)
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = d.Feed(chunk, nil)
	}
	if !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if cap(d.line) > 2000 {
		t.Fatalf("line buffer grew to %d for a limit of 1000", cap(d.line))
	}
}

func TestDecodeErrorIsSticky(t *testing.T) {
	d := NewDecoder(DecoderOptions{MaxEventSize: 8})
	var got []Event
	emit := func(e Event) { got = append(got, e) }
	err := d.Feed([]byte("id: 1\n\ndata: too long\n\n"), emit)
	if !errors.Is(err, ErrEventTooLarge) || err.Error() != "sse: event larger than 8 bytes" {
		t.Fatalf("err = %v", err)
	}
	err = d.Feed([]byte("data: a\n\n"), emit)
	if !errors.Is(err, ErrEventTooLarge) || len(got) != 0 {
		t.Fatalf("after error: err %v, events %v", err, got)
	}
	d.End()
	if err := d.Feed([]byte("data: a\n\n"), emit); err != nil {
		t.Fatal(err)
	}
	if want := []Event{ev("message", "a", "1")}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
}

func TestDecodeReleasesLargeBuffers(t *testing.T) {
	d := NewDecoder(DecoderOptions{})
	big := "data: " + strings.Repeat("x", 2*keepBuffer) + "\n\n"
	for _, c := range [][]byte{[]byte(big[:1000]), []byte(big[1000:])} {
		if err := d.Feed(c, nil); err != nil {
			t.Fatal(err)
		}
	}
	if cap(d.line) > keepBuffer || cap(d.data) > keepBuffer {
		t.Fatalf("kept line %d data %d bytes", cap(d.line), cap(d.data))
	}
}

// TestDecodeManyCRLines decodes one chunk of many CR-terminated lines, the
// case where a naive search for LF rescans the rest of the chunk per line.
// It asserts the result only; BenchmarkDecodeLongLine and this test's run
// time show the linearity (no wall-clock assertions on a shared machine).
func TestDecodeManyCRLines(t *testing.T) {
	in := bytes.Repeat([]byte("data:x\r\r"), 50000)
	got := feed(DecoderOptions{}, in)
	if got.Err != nil || len(got.Events) != 50000 {
		t.Fatalf("err %v, %d events", got.Err, len(got.Events))
	}
}

// TestDecodeIDSharing covers both ways a new ID is stored: sharing the
// allocation of a small Data, or on its own next to a large one.
func TestDecodeIDSharing(t *testing.T) {
	big := strings.Repeat("b", shareLimit+1)
	small := strings.Repeat("s", shareLimit)
	in := "id: 1\ndata: " + small + "\n\ndata: x\n\nid: 2\ndata: " + big + "\n\ndata: y\n\nid: 3\n\ndata: z\n\n"
	want := []Event{ev("message", small, "1"), ev("message", "x", "1"), ev("message", big, "2"), ev("message", "y", "2"), ev("message", "z", "3")}
	if got := feed(DecoderOptions{}, []byte(in)); !reflect.DeepEqual(got, result{Events: want, LastID: "3"}) {
		t.Fatalf("got %.300v", got)
	}
}

// TestFeedViewDataAt pins which events FeedView reports as bytes of the
// chunk (no copy) and which as the Decoder's copy.
func TestFeedViewDataAt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
		want   []int // DataAt of each event
	}{
		{"one line each", []string{"data: a\n\nid: 1\ndata:bc\n\n"}, []int{6, 20}},
		{"empty data", []string{"data\n\n"}, []int{4}},
		{"two lines are joined", []string{"data: a\ndata: b\n\n"}, []int{-1}},
		{"the line ends in the next chunk", []string{"data: a", "\n\n"}, []int{-1}},
		{"the blank line is in the next chunk", []string{"data: a\n", "\n"}, []int{-1}},
		{"ill-formed UTF-8 is replaced", []string{"data: \xff\n\n"}, []int{-1}},
		{"after a BOM", []string{"\xEF\xBB\xBFdata: x\n\n"}, []int{9}},
		{"CRLF", []string{"data: x\r\n\r\ndata: y\r\n\r\n"}, []int{6, 17}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(DecoderOptions{})
			var got []int
			for _, c := range tc.chunks {
				if err := d.FeedView([]byte(c), func(v *EventView) { got = append(got, v.DataAt) }); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("DataAt %v, want %v", got, tc.want)
			}
		})
	}
}
