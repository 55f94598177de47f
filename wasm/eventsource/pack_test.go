package eventsource

import (
	"slices"
	"strings"
	"testing"

	"github.com/eventwire/eventwire/protocol/sse"
)

// batchOf decodes chunk as the Client does (fed in slices of size slice)
// into a Batch, and returns the batch with the events Feed gives.
func batchOf(t *testing.T, chunk string, slice int) (*Batch, []sse.Event) {
	t.Helper()
	var b Batch
	d := sse.NewDecoder(sse.DecoderOptions{})
	p := []byte(chunk)
	b.begin(p)
	for at := 0; at < len(p); at += slice {
		b.base = at
		if err := d.FeedView(p[at:min(at+slice, len(p))], b.add); err != nil {
			t.Fatal(err)
		}
	}
	var want []sse.Event
	if err := sse.NewDecoder(sse.DecoderOptions{}).Feed(p, func(e sse.Event) {
		e.Retry = 0 // not packed: the Client handles retry
		want = append(want, e)
	}); err != nil {
		t.Fatal(err)
	}
	return &b, want
}

func TestBatchRoundTrip(t *testing.T) {
	for _, chunk := range []string{
		"",
		"data: hello\n\n",
		"id: 1\ndata: a\n\ndata: b\n\nevent: tick\ndata\n\nevent: tick\nid: 2\ndata: multi\ndata: line\n\n",
		"data: é ü 中文 😀 𝄞 \ufffd end\nid: 😀-3\n\n: comment \xff\xfe bad bytes\nevent: ünï\ndata: " + strings.Repeat("x😀y", 100) + "\n\n",
		"data: bad \xf0\x9f\x98 utf-8\n\ndata: ok after\n\n",
		"\xEF\xBB\xBFdata: after a BOM\r\n\r\ndata: cr\r\rdata: ascii only " + strings.Repeat("z", 5000) + "\n\n",
		"retry: 10\ndata: x\n\n: \x80\x80\x80\ndata: ☃\n\n",
	} {
		for _, slice := range []int{1, 3, 7, 64, 1 << 20} {
			b, want := batchOf(t, chunk, slice)
			if got := b.Events(); !slices.Equal(got, want) {
				t.Errorf("%q in slices of %d:\n got  %+v\n want %+v", chunk, slice, got, want)
			}
		}
	}
}

// TestBatchLayout: data is a view of the chunk unless it has to be a copy,
// and a type or ID is written once while it stays the same.
func TestBatchLayout(t *testing.T) {
	b, _ := batchOf(t, "id: 7\ndata: a\n\ndata: é\n\ndata: two\ndata: lines\n\nevent: x\ndata: b\n\n", 1<<20)
	want := []uint32{
		7, 1, 1, 0, // "message" a "7"; a at 0 of the chunk's text
		Same, 1, Same, 9, // é at 9: "a\n\ndata: " before it
		Same, 9, Same, Same, // joined lines: a copy
		1, 1, Same, 50, // type x; b at 50, after 40 bytes from é on
	}
	if !slices.Equal(b.Head(), want) {
		t.Fatalf("head %v, want %v", b.Head(), want)
	}
	if got, want := string(b.Extra()), "message7two\nlinesx"; got != want {
		t.Errorf("extra %q, want %q", got, want)
	}
	if got := string(b.Chunk()); !strings.HasPrefix(got, "a\n\ndata: é") || !strings.HasSuffix(got, "data: b") {
		t.Errorf("chunk text %q", got)
	}
}

func BenchmarkBatch(b *testing.B) {
	chunk := []byte(strings.Repeat("data: "+strings.Repeat("x", 58)+"\n\n", 256))
	d := sse.NewDecoder(sse.DecoderOptions{})
	var batch Batch
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		batch.begin(chunk)
		if err := d.FeedView(chunk, batch.add); err != nil {
			b.Fatal(err)
		}
		batch.end()
	}
}
