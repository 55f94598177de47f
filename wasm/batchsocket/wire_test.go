package batchsocket

import (
	"bytes"
	"testing"

	"github.com/eventwire/eventwire/protocol/batch"
)

// The client codec must agree with protocol/batch, the reference.

func TestWireEncodersMatchReference(t *testing.T) {
	s := sess(7)
	for _, v := range []uint64{0, 1, 127, 128, 300, 1 << 40, batch.MaxSeq} {
		if got, want := appendHello(nil, (*[16]byte)(&s), v, v/2), batch.AppendHello(nil, batch.Hello{Session: s, Acked: v, Received: v / 2}); !bytes.Equal(got, want) {
			t.Errorf("hello %d: % x, want % x", v, got, want)
		}
		if got, want := appendAck(nil, v), batch.AppendAck(nil, batch.Ack{Seq: v}); !bytes.Equal(got, want) {
			t.Errorf("ack %d: % x, want % x", v, got, want)
		}
		if v == batch.MaxSeq {
			continue
		}
		var w batch.Writer
		w.StartBatch(nil, s, v, v+1)
		w.AddString("hi")
		w.Add([]byte{1, 2}, true)
		got := appendBatch(nil, (*[16]byte)(&s), v, v+1)
		got = AppendMessage(AppendMessage(got, []byte("hi"), false), []byte{1, 2}, true)
		if !bytes.Equal(got, w.Bytes()) {
			t.Errorf("batch %d: % x, want % x", v, got, w.Bytes())
		}
	}
}

func TestParseFrame(t *testing.T) {
	f, err := parseFrame(batch.AppendAck(nil, batch.Ack{Seq: 300}))
	if err != nil || f.typ != batch.TypeAck || f.seq != 300 {
		t.Fatalf("ack: %+v %v", f, err)
	}
	var w batch.Writer
	w.StartPush(nil, 41, 42)
	w.AddString("ok")
	w.Add([]byte{1, 2, 3}, true)
	f, err = parseFrame(w.Bytes())
	if err != nil || f.typ != batch.TypePush || f.acked != 41 || f.seq != 42 || f.n != 2 || !bytes.Equal(f.msgs, AppendMessage(pack("ok"), []byte{1, 2, 3}, true)) {
		t.Fatalf("push: %+v %v", f, err)
	}
	f, err = parseFrame(batch.AppendClose(nil, batch.Close{Code: 4000, Reason: "version"}))
	if err != nil || f.typ != batch.TypeClose || f.code != 4000 || f.reason != "version" {
		t.Fatalf("close: %+v %v", f, err)
	}
	for _, bad := range [][]byte{
		nil, {1}, {2, 3, 0}, {1, 3}, {1, 3, 0, 0}, {1, 3, 0x80},
		{1, 4, 5, 5}, {1, 4, 0, 0}, {1, 4, 0, 1, 0x0a, 'h'}, {1, 5, 3}, {1, 9},
		{1, 3, 0x80, 0x00}, // non-minimal
		{1, 4, 0, 1, 0x8a, 0x01, 'h', 'e', 'l', 'l', 'o'},                  // short text, long header
		{1, 3, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, // 2^63
	} {
		if f, err := parseFrame(bad); err == nil {
			t.Errorf("% x parsed as %+v", bad, f)
		}
	}
}

// FuzzParseFrame: whatever the server sends, parsing never panics, and
// what it accepts the reference accepts too (the client is lenient only on
// close codes).
func FuzzParseFrame(f *testing.F) {
	var w batch.Writer
	w.StartPush(nil, 0, 1)
	w.AddString("x")
	f.Add(w.Bytes())
	f.Add(batch.AppendAck(nil, batch.Ack{Seq: 5}))
	f.Add(batch.AppendClose(nil, batch.Close{Code: 1000}))
	f.Fuzz(func(t *testing.T, p []byte) {
		fr, err := parseFrame(p)
		if err != nil || fr.typ != batch.TypePush {
			return
		}
		if fr.n > 0 {
			_ = skip(fr.msgs, fr.n)
		}
		if ref, err := batch.DecodePush(p, batch.Limits{MaxMessages: 1 << 30}); err == nil && ref.Messages.Len() != fr.n {
			t.Fatalf("count %d, reference %d", fr.n, ref.Messages.Len())
		}
	})
}
