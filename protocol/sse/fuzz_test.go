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
	"unicode/utf8"
)

// FuzzRoundTrip checks decode(encode(e)) == e for every event the encoder
// accepts, with these documented normalizations: Type "" decodes as
// "message"; CR and CRLF in Data decode as LF; Retry is whole milliseconds
// and only written when positive. Text must be valid UTF-8 (invalid bytes
// decode as U+FFFD).
func FuzzRoundTrip(f *testing.F) {
	f.Add("", "", "", int64(0))
	f.Add("update", "hello", "1", int64(1500*time.Millisecond))
	f.Add("t", "a\nb\r\nc\rd\n", "id with spaces", int64(time.Millisecond-1))
	f.Add("", " leading space", " x", int64(-1))
	f.Add("\uFEFF", "\uFEFFdata: x\n\n", "a:b", int64(math.MaxInt64))
	f.Add("a\rb", "x", "y", int64(0))
	f.Add("a", "x", "y\x00", int64(0))
	f.Add("", "\x00", ":", int64(0))
	f.Fuzz(func(t *testing.T, typ, data, id string, retry int64) {
		if !utf8.ValidString(typ) || !utf8.ValidString(data) || !utf8.ValidString(id) {
			return
		}
		e := Event{Type: typ, Data: data, ID: id, Retry: time.Duration(retry)}
		enc, err := AppendEvent([]byte(": prelude\n"), e)
		switch {
		case strings.ContainsAny(id, "\r\n\x00"):
			if !errors.Is(err, ErrInvalidID) {
				t.Fatalf("id %q: err %v, want ErrInvalidID", id, err)
			}
			return
		case strings.ContainsAny(typ, "\r\n\x00"):
			if !errors.Is(err, ErrInvalidType) {
				t.Fatalf("type %q: err %v, want ErrInvalidType", typ, err)
			}
			return
		case err != nil:
			t.Fatalf("AppendEvent(%+v): %v", e, err)
		}
		want := Event{Type: typ, Data: strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(data), ID: id}
		if want.Type == "" {
			want.Type = "message"
		}
		if e.Retry > 0 {
			want.Retry = e.Retry.Truncate(time.Millisecond)
		}
		d := NewDecoder(DecoderOptions{MaxEventSize: -1})
		var got []Event
		if err := d.Feed(enc, func(e Event) { got = append(got, e) }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != want {
			t.Fatalf("encoded %q\n got %+v\nwant %+v", enc, got, want)
		}
		if d.LastEventID() != id || d.Retry() != want.Retry {
			t.Fatalf("last id %q retry %v, want %q %v", d.LastEventID(), d.Retry(), id, want.Retry)
		}
	})
}

// FuzzChunking checks that any chunking of any input gives the same
// events, last event ID, reconnection time and error as feeding it whole,
// that nothing panics, and that without error the result matches refDecode,
// a direct transcription of the spec that decodes the whole stream as text
// first. cuts gives the chunk lengths (mod 32, so empty chunks occur); max
// is the MaxEventSize.
func FuzzChunking(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add([]byte(tc.in), []byte{1, 2, 3}, int16(0))
	}
	f.Add([]byte("data: a\r\ndata: b\r\r"), []byte{8, 0, 1}, int16(0))
	f.Add([]byte("\xEF\xBB\xBFid: 1\ndata: \xf0\x9f\x98\x80\n\n"), []byte{1, 1, 1, 7}, int16(12))
	f.Add([]byte("data: 0123456789\n\n"), []byte{3}, int16(10))
	f.Fuzz(func(t *testing.T, in, cuts []byte, max int16) {
		opts := DecoderOptions{MaxEventSize: int(max)}
		whole := feed(opts, in)
		var chunks [][]byte
		rest := in
		for _, c := range cuts {
			n := min(int(c%32), len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		chunks = append(chunks, rest)
		if got := feed(opts, chunks...); !reflect.DeepEqual(got, whole) {
			t.Fatalf("chunks %q:\n got %+v\nwhole %+v", chunks, got, whole)
		}
		if got, want := UTF16Len(in), utf16Units(string(in)); got != want {
			t.Fatalf("UTF16Len(%q) = %d, want %d", in, got, want)
		}
		if got := feedViews(t, opts, chunks...); !reflect.DeepEqual(got, whole) {
			t.Fatalf("FeedView, chunks %q:\n got %+v\nwhole %+v", chunks, got, whole)
		}
		var bytewise [][]byte
		for c := range slices.Chunk(in, 1) {
			bytewise = append(bytewise, c)
		}
		if got := feed(opts, bytewise...); !reflect.DeepEqual(got, whole) {
			t.Fatalf("bytewise:\n got %+v\nwhole %+v", got, whole)
		}
		if whole.Err == nil {
			if ref := refDecode(in); !reflect.DeepEqual(whole, ref) {
				t.Fatalf("input %q:\n got %+v\n ref %+v", in, whole, ref)
			}
		}
	})
}

// refDecode is the spec's algorithm written as directly as possible, on the
// whole stream at once: strip one BOM, decode all bytes as UTF-8, split the
// text into lines, drop the unterminated last one, interpret each line.
func refDecode(in []byte) result {
	text := string(whatwgUTF8(bytes.TrimPrefix(in, []byte("\xEF\xBB\xBF"))))
	var r result
	var data, typ, id string
	var blockRetry time.Duration
	for {
		i := strings.IndexAny(text, "\r\n")
		if i < 0 {
			break // the unterminated last line (or nothing) is discarded
		}
		line := text[:i]
		if strings.HasPrefix(text[i:], "\r\n") {
			i++
		}
		text = text[i+1:]

		if line == "" {
			r.LastID = id
			if data == "" {
				data, typ, blockRetry = "", "", 0
				continue
			}
			e := Event{Type: "message", Data: strings.TrimSuffix(data, "\n"), ID: r.LastID, Retry: blockRetry}
			if typ != "" {
				e.Type = typ
			}
			r.Events = append(r.Events, e)
			data, typ, blockRetry = "", "", 0
			continue
		}
		if line[0] == ':' {
			continue
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "event":
			typ = value
		case "data":
			data += value + "\n"
		case "id":
			if !strings.Contains(value, "\x00") {
				id = value
			}
		case "retry":
			if value != "" && strings.Trim(value, "0123456789") == "" {
				ms := value
				ms = strings.TrimLeft(ms, "0")
				var d time.Duration = math.MaxInt64
				if len(ms) <= 13 { // 13 digits always fit once multiplied
					var n int64
					for _, c := range ms {
						n = n*10 + int64(c-'0')
					}
					if n <= math.MaxInt64/int64(time.Millisecond) {
						d = time.Duration(n) * time.Millisecond
					}
				}
				r.Retry, blockRetry = d, d
			}
		}
	}
	return r
}

// whatwgUTF8 is the Encoding Standard's UTF-8 decoder, byte by byte, with
// replacement error mode.
func whatwgUTF8(in []byte) []byte {
	var out []byte
	var cp rune
	seen, needed := 0, 0
	lower, upper := byte(0x80), byte(0xBF)
	for i := 0; i < len(in); i++ {
		b := in[i]
		if needed == 0 {
			switch {
			case b <= 0x7F:
				out = append(out, b)
			case b >= 0xC2 && b <= 0xDF:
				needed, cp = 1, rune(b&0x1F)
			case b >= 0xE0 && b <= 0xEF:
				if b == 0xE0 {
					lower = 0xA0
				}
				if b == 0xED {
					upper = 0x9F
				}
				needed, cp = 2, rune(b&0xF)
			case b >= 0xF0 && b <= 0xF4:
				if b == 0xF0 {
					lower = 0x90
				}
				if b == 0xF4 {
					upper = 0x8F
				}
				needed, cp = 3, rune(b&0x7)
			default:
				out = utf8.AppendRune(out, utf8.RuneError)
			}
			continue
		}
		if b < lower || b > upper {
			cp, needed, seen = 0, 0, 0
			lower, upper = 0x80, 0xBF
			out = utf8.AppendRune(out, utf8.RuneError)
			i-- // restore the byte to the stream
			continue
		}
		lower, upper = 0x80, 0xBF
		cp = cp<<6 | rune(b&0x3F)
		if seen++; seen == needed {
			out = utf8.AppendRune(out, cp)
			cp, needed, seen = 0, 0, 0
		}
	}
	if needed != 0 {
		out = utf8.AppendRune(out, utf8.RuneError)
	}
	return out
}
