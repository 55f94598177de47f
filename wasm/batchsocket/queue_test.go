package batchsocket

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/eventwire/eventwire/protocol/batch"
)

func TestAppendMessageMatchesWriter(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 127, 128, 8127, 8128, 70000} {
		for _, bin := range []bool{false, true} {
			data := bytes.Repeat([]byte{'x'}, n)
			var w batch.Writer
			w.StartBatch(nil, sess(1), 0, 1)
			head := len(w.Bytes())
			w.Add(data, bin)
			if got, want := AppendMessage(nil, data, bin), w.Bytes()[head:]; !bytes.Equal(got, want) {
				t.Fatalf("n=%d binary=%v: % x, want % x", n, bin, got[:4], want[:4])
			}
			if got := len(AppendMessage(nil, data, bin)); got != batch.MessageSize(n, bin) {
				t.Fatalf("size %d, want %d", got, batch.MessageSize(n, bin))
			}
		}
	}
}

func TestScan(t *testing.T) {
	good := pack("a", "", "ccc")
	if n, err := scan(good, 3, 10); err != nil || n != 3 {
		t.Fatalf("scan = %d, %v", n, err)
	}
	if n, err := scan(good, -1, 10); err != nil || n != 3 {
		t.Fatalf("scan any = %d, %v", n, err)
	}
	for name, c := range map[string]struct {
		p   []byte
		n   int
		max int
	}{
		"count":     {good, 2, 10},
		"truncated": {good[:len(good)-1], 3, 10},
		"too big":   {good, 3, 2},
		"no header": {[]byte{0x80}, 1, 10},
		"long":      {[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 1, 10},
	} {
		if _, err := scan(c.p, c.n, c.max); err != ErrBadChunk {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func fill(q *queue, chunks ...[]string) {
	for _, c := range chunks {
		q.push(q.next, pack(c...), len(c))
	}
}

func frameMsgs(t *testing.T, q *queue, from uint64, maxBytes, maxCount int) ([]string, uint64) {
	t.Helper()
	var w batch.Writer
	w.StartBatch(nil, sess(1), q.floor, from)
	f, last := q.appendFrom(w.Bytes(), from, maxBytes, maxCount)
	if last < from {
		return nil, last
	}
	b := decodeBatch(t, f)
	if b.FirstSeq != from || b.LastSeq() != last || b.Acked != q.floor {
		t.Fatalf("frame first %d last %d acked %d; want %d %d %d", b.FirstSeq, b.LastSeq(), b.Acked, from, last, q.floor)
	}
	return batchMsgs(b), last
}

func TestQueueFrames(t *testing.T) {
	q := queue{next: 1}
	fill(&q, []string{"a1", "a2", "a3"}, []string{"b4", "b5"}, []string{"c6"})
	if q.bytes != 6*3 {
		t.Fatalf("bytes %d", q.bytes)
	}
	got, last := frameMsgs(t, &q, 1, 1<<20, 100)
	if want := []string{"a1", "a2", "a3", "b4", "b5", "c6"}; !slices.Equal(got, want) || last != 6 {
		t.Fatalf("all: %v %d", got, last)
	}
	got, last = frameMsgs(t, &q, 2, 1<<20, 3)
	if want := []string{"a2", "a3", "b4"}; !slices.Equal(got, want) || last != 4 {
		t.Fatalf("count 3 from 2: %v %d", got, last)
	}
	got, last = frameMsgs(t, &q, 3, 7, 100) // 3 bytes per message
	if want := []string{"a3", "b4"}; !slices.Equal(got, want) || last != 4 {
		t.Fatalf("7 bytes from 3: %v %d", got, last)
	}
	got, last = frameMsgs(t, &q, 5, 1, 100) // at least one message
	if want := []string{"b5"}; !slices.Equal(got, want) || last != 5 {
		t.Fatalf("1 byte from 5: %v %d", got, last)
	}
	// Whole chunks go in at once, then the limits cut inside a chunk.
	for _, c := range []struct {
		bytes, count int
		want         []string
	}{
		{15, 100, []string{"a1", "a2", "a3", "b4", "b5"}},
		{10, 100, []string{"a1", "a2", "a3"}},
		{9, 100, []string{"a1", "a2", "a3"}},
		{8, 100, []string{"a1", "a2"}},
		{100, 4, []string{"a1", "a2", "a3", "b4"}},
		{100, 3, []string{"a1", "a2", "a3"}},
		{100, 5, []string{"a1", "a2", "a3", "b4", "b5"}},
	} {
		if got, last = frameMsgs(t, &q, 1, c.bytes, c.count); !slices.Equal(got, c.want) || last != uint64(len(c.want)) {
			t.Fatalf("%d bytes, %d messages from 1: %v %d", c.bytes, c.count, got, last)
		}
	}
	if got, last = frameMsgs(t, &q, 7, 100, 100); got != nil || last != 6 {
		t.Fatalf("past the end: %v %d", got, last)
	}

	if n := q.trim(2); n != 2 || q.floor != 2 || q.bytes != 4*3 || q.firstKey() != 1 {
		t.Fatalf("trim(2) = %d floor %d bytes %d key %d", n, q.floor, q.bytes, q.firstKey())
	}
	if n := q.trim(2); n != 0 {
		t.Fatalf("trim again = %d", n)
	}
	if n := q.trim(4); n != 2 || q.firstKey() != 4 || len(q.chunks) != 2 {
		t.Fatalf("trim(4) = %d key %d chunks %d", n, q.firstKey(), len(q.chunks))
	}
	got, _ = frameMsgs(t, &q, 5, 1<<20, 100)
	if want := []string{"b5", "c6"}; !slices.Equal(got, want) {
		t.Fatalf("after trim: %v", got)
	}
	if n := q.trim(6); n != 2 || q.bytes != 0 || len(q.chunks) != 0 || q.firstKey() != 7 {
		t.Fatalf("trim(6) = %d bytes %d", n, q.bytes)
	}
}

func TestQueueDropOldest(t *testing.T) {
	q := queue{next: 1}
	fill(&q, []string{"a1", "a2", "a3"}, []string{"b4", "b5"})
	if n, freed := q.dropOldest(4); n != 2 || freed != 6 || q.floor != 2 || q.bytes != 9 {
		t.Fatalf("drop 4 = %d %d floor %d bytes %d", n, freed, q.floor, q.bytes)
	}
	if n, freed := q.dropOldest(5); n != 2 || freed != 6 || q.floor != 4 || q.bytes != 3 || len(q.chunks) != 1 {
		t.Fatalf("drop 5 = %d %d floor %d bytes %d", n, freed, q.floor, q.bytes)
	}
	if n, freed := q.dropOldest(100); n != 1 || freed != 3 || q.floor != 5 || q.bytes != 0 {
		t.Fatalf("drop all = %d %d floor %d", n, freed, q.floor)
	}
	if n, _ := q.dropOldest(1); n != 0 {
		t.Fatal("dropped from an empty queue")
	}
	fill(&q, []string{strings.Repeat("x", 100)})
	if n, _ := q.dropOldest(1); n != 1 || q.floor != 6 {
		t.Fatalf("drop a big message: %d floor %d", n, q.floor)
	}
}
