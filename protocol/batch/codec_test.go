package batch

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

var sess = testSession

// TestEncodeDecode checks every frame type against its exact encoding, and
// that decoding gives the value back.
func TestEncodeDecode(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want []byte
	}{
		{"hello zero", Hello{Session: sess}, frame("01 01", sess, "00 00 00 00 00 00")},
		{"hello resume", Hello{Session: sess, Acked: 300, Received: 7, Limits: Limits{65536, 1024, 262144}, Flags: 5},
			frame("01 01", sess, "ac02 07 808004 8008 808010 05")},
		{"hello max", Hello{Session: sess, Acked: MaxSeq, Received: MaxSeq, Limits: Limits{maxLimit, maxLimit, maxLimit}, Flags: 1<<64 - 1},
			frame("01 01", sess, "ffffffffffffffff7f ffffffffffffffff7f ffffffff07 ffffffff07 ffffffff07 ffffffffffffffffff01")},
		{"batch empty", batchVal{sess, 0, 1, nil}, frame("01 02", sess, "00 01")},
		{"batch", batchVal{sess, 0, 1, []Message{text("hello"), binary("\x00\xff"), text("")}},
			frame("01 02", sess, "00 01 05", []byte("hello"), "8501 00ff 00")},
		{"batch last seq", batchVal{sess, MaxSeq - 2, MaxSeq - 1, []Message{text("a"), text("b")}},
			frame("01 02", sess, "fdffffffffffffff7f feffffffffffffff7f 01 61 01 62")},
		{"batch 64 B binary", batchVal{sess, 299, 300, []Message{binary(strings.Repeat("x", 64))}},
			frame("01 02", sess, "ab02 ac02 8102", []byte(strings.Repeat("x", 64)))},
		{"batch 127 B text", batchVal{sess, 0, 1, []Message{text(strings.Repeat("x", 127))}},
			frame("01 02", sess, "00 01 7f", []byte(strings.Repeat("x", 127)))},
		{"batch 128 B text", batchVal{sess, 0, 1, []Message{text(strings.Repeat("x", 128))}},
			frame("01 02", sess, "00 01 8003", []byte(strings.Repeat("x", 128)))},
		{"batch empty binary", batchVal{sess, 0, 1, []Message{binary("")}}, frame("01 02", sess, "00 01 8101")},
		{"push empty", pushVal{0, 1, nil}, frame("01 04 00 01")},
		{"push", pushVal{40, 42, []Message{text("ok"), binary("\x01\x02\x03")}}, frame("01 04 28 2a 02 6f6b 8701 010203")},
		{"ack zero", Ack{}, frame("01 03 00")},
		{"ack", Ack{300}, frame("01 03 ac02")},
		{"ack max", Ack{MaxSeq}, frame("01 03 ffffffffffffffff7f")},
		{"close normal", Close{Code: CodeNormal}, frame("01 05 03e8")},
		{"close reason", Close{CodeTooBig, "too big"}, frame("01 05 03f1", []byte("too big"))},
		{"close app code", Close{4999, "é"}, frame("01 05 1387 c3a9")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encode(tt.v)
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("encode = % x\nwant     % x", got, tt.want)
			}
			v, err := decode(got, Limits{})
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !equal(v, tt.v) {
				t.Fatalf("decode = %+v\nwant     %+v", v, tt.v)
			}
		})
	}
}

func TestBatchSeqs(t *testing.T) {
	var w Writer
	w.StartBatch(nil, sess, 0, 10)
	for _, s := range []string{"a", "b", "c"} {
		w.AddString(s)
	}
	b, err := DecodeBatch(w.Bytes(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if b.LastSeq() != 12 || b.Messages.Len() != 3 {
		t.Fatalf("LastSeq = %d, Len = %d; want 12, 3", b.LastSeq(), b.Messages.Len())
	}
	var got []string
	for seq, m := range b.All() {
		got = append(got, string(rune('0'+seq-10))+string(m.Data))
		if seq == 11 {
			break // stopping early must work
		}
	}
	if strings.Join(got, ",") != "0a,1b" {
		t.Fatalf("All yielded %q", got)
	}

	w.StartPush(w.Bytes(), 4, 5) // reusing the buffer
	p, err := DecodePush(w.Bytes(), Limits{})
	if err != nil || p.LastSeq() != 4 || p.Messages.Len() != 0 {
		t.Fatalf("empty push: %+v, %v", p, err)
	}
	for range p.All() {
		t.Fatal("empty push yielded a message")
	}
}

// TestMessageAliasing checks that decoded messages are sub-slices of the
// frame, capped so that appending to one cannot overwrite the next.
func TestMessageAliasing(t *testing.T) {
	var w Writer
	w.StartBatch(nil, sess, 0, 1)
	w.AddString("ab")
	w.AddString("cd")
	p := w.Bytes()
	b, err := DecodeBatch(p, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	msgs := collect(b.Messages)
	if &msgs[0].Data[0] != &p[len(p)-5] {
		t.Error("message data is not a sub-slice of the frame")
	}
	_ = append(msgs[0].Data, 'X')
	if string(msgs[1].Data) != "cd" {
		t.Errorf("append to one message changed the next: %q", msgs[1].Data)
	}
}

// TestFramingOverhead asserts the bound, at most 2 bytes of
// framing per message under 128 bytes, and the header sizes of
// PROTOCOL.md §5.6: 1 byte for text under 128 bytes, 2 under 8,128 bytes,
// 3 above.
func TestFramingOverhead(t *testing.T) {
	var w Writer
	for n := 0; n <= 20000; n++ {
		for _, bin := range []bool{false, true} {
			w.StartBatch(nil, sess, 0, 1)
			header := w.Len()
			w.Add(make([]byte, n), bin)
			overhead := w.Len() - header - n
			want := 3
			switch {
			case n < 128 && !bin:
				want = 1
			case n < 8128:
				want = 2
			}
			if overhead != want || HeaderSize(n, bin) != want || MessageSize(n, bin) != n+want {
				t.Fatalf("message of %d bytes, binary %v: overhead %d, HeaderSize %d, MessageSize %d; want %d",
					n, bin, overhead, HeaderSize(n, bin), MessageSize(n, bin), want)
			}
			if n < 128 && overhead > 2 {
				t.Fatalf("message of %d bytes: overhead %d > 2", n, overhead)
			}
		}
	}
	// A whole 1,024-message batch of 100 B texts: 1 byte per message
	// plus 20 bytes of header.
	w.StartBatch(nil, sess, 0, 1)
	for range 1024 {
		w.Add(make([]byte, 100), false)
	}
	if got, want := w.Len(), 20+1024*101; got != want || w.Count() != 1024 {
		t.Fatalf("1024 x 100 B: %d bytes, %d messages; want %d, 1024", got, w.Count(), want)
	}
}

// TestHeader checks AppendHeader and ReadHeader on the edges of every
// header size, and ReadHeader's rejections.
func TestHeader(t *testing.T) {
	tests := []struct {
		n    int
		bin  bool
		want string
	}{
		{0, false, "00"},
		{1, false, "01"},
		{100, false, "64"},
		{127, false, "7f"},
		{128, false, "8003"},
		{8127, false, "fe7f"},
		{8128, false, "808001"},
		{0, true, "8101"},
		{1, true, "8301"},
		{127, true, "ff02"},
		{8127, true, "ff7f"},
		{8128, true, "818001"},
		{DefaultMaxMessage, false, "808120"},
		{1<<20 - 65, true, "ffff7f"},    // the largest 3-byte header
		{1<<20 - 64, false, "80808001"}, // the smallest 4-byte one
	}
	for _, tt := range tests {
		got := AppendHeader([]byte{0xaa}, tt.n, tt.bin)[1:]
		if want := unhex(tt.want); !bytes.Equal(got, want) {
			t.Errorf("AppendHeader(%d, %v) = % x; want % x", tt.n, tt.bin, got, want)
			continue
		}
		if HeaderSize(tt.n, tt.bin) != len(got) {
			t.Errorf("HeaderSize(%d, %v) = %d; want %d", tt.n, tt.bin, HeaderSize(tt.n, tt.bin), len(got))
		}
		n, bin, size, err := ReadHeader(append(got, 0xee))
		if err != nil || n != uint64(tt.n) || bin != tt.bin || size != len(got) {
			t.Errorf("ReadHeader(% x) = %d, %v, %d, %v", got, n, bin, size, err)
		}
	}
	for _, bad := range []struct {
		p    string
		want error
	}{
		{"", errTruncated},
		{"80", errTruncated},
		{"ff ff", errTruncated},
		{"80 00", errNonMinimal},
		{"80 80 00", errNonMinimal},
		{"ff ff ff ff ff ff ff ff ff 02", errVarint},
		{"80 01", errLongText},
		{"fe 02", errLongText},
	} {
		if _, _, _, err := ReadHeader(unhex(bad.p)); err != bad.want {
			t.Errorf("ReadHeader(%s): err = %v; want %v", bad.p, err, bad.want)
		}
	}
	// Every 1- and 2-byte header decodes, or is rejected, consistently with
	// the encoder: what decodes re-encodes to the same bytes.
	for v := range 1 << 14 {
		p := appendUvarint(nil, uint64(v))
		n, bin, size, err := ReadHeader(p)
		if err != nil {
			if v < 128 || (v-128)&1 == 1 || (v-128)>>1 >= 128 {
				t.Fatalf("ReadHeader(% x): %v", p, err)
			}
			continue
		}
		if got := AppendHeader(nil, int(n), bin); !bytes.Equal(got, p) || size != len(p) {
			t.Fatalf("ReadHeader(% x) = %d, %v, %d, which encodes as % x", p, n, bin, size, got)
		}
	}
}

func TestLimitErrors(t *testing.T) {
	small := Limits{MaxFrame: 64, MaxMessages: 3, MaxMessage: 10}
	tests := []struct {
		name      string
		p         []byte
		lim       Limits
		what      string
		limit, gt uint64
	}{
		{"frame size", frame("01 02", sess, "00 01", make([]byte, 45)), small, "frame size", 64, 65},
		{"frame size push", frame("01 04 00 01", make([]byte, 61)), small, "frame size", 64, 65},
		{"message count", frame("01 02", sess, "00 01 00 00 00 00"), small, "message count", 3, 4},
		{"message size", frame("01 02", sess, "00 01 0b", make([]byte, 11)), small, "message size", 10, 11},
		{"message size binary", frame("01 04 00 01 9701", make([]byte, 11)), small, "message size", 10, 11},
		// A declared length over the limit fails before the missing bytes
		// are noticed, and never leads to an allocation.
		{"declared huge", frame("01 02", sess, "00 01 feffffffffffffffff01"), Limits{}, "message size", DefaultMaxMessage, 1<<63 - 65},
		{"default frame", frame("01 04 00 01", make([]byte, DefaultMaxFrame)), Limits{}, "frame size", DefaultMaxFrame, DefaultMaxFrame + 4},
		{"default count", frame("01 04 00 01", make([]byte, DefaultMaxMessages+1)), Limits{}, "message count", DefaultMaxMessages, DefaultMaxMessages + 1},
		{"default message", frame("01 04 00 01 828120", make([]byte, DefaultMaxMessage+1)), Limits{}, "message size", DefaultMaxMessage, DefaultMaxMessage + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decode(tt.p, tt.lim)
			var le *LimitError
			if !errors.As(err, &le) || !errors.Is(err, ErrLimit) {
				t.Fatalf("err = %v; want *LimitError", err)
			}
			if le.What != tt.what || le.Limit != tt.limit || le.Got != tt.gt {
				t.Fatalf("err = %+v; want {%s %d %d}", *le, tt.what, tt.limit, tt.gt)
			}
			if errors.Is(err, ErrMalformed) || errors.Is(err, ErrVersion) {
				t.Fatal("a limit error matches another class")
			}
			if c := CloseFor(err); c.Code != CodeTooBig || c.Reason != err.Error() {
				t.Fatalf("CloseFor = %+v", c)
			}
		})
	}
	// Exactly at each limit is fine.
	if _, err := DecodeBatch(frame("01 02", sess, "00 01 0a", make([]byte, 10), "9501", make([]byte, 10), "00"), small); err != nil {
		t.Fatalf("at count and size limits: %v", err)
	}
	if _, err := DecodePush(frame("01 04 00 01 3b", make([]byte, 59)), Limits{MaxFrame: 64}); err != nil {
		t.Fatalf("at frame limit: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name string
		p    []byte
		want error // a class, or a specific malformedError
	}{
		{"empty", nil, errTruncated},
		{"version only", frame("01"), errTruncated},
		{"version 0", frame("00 03 00"), ErrVersion},
		{"version 2", frame("02 03 00"), ErrVersion},
		{"version only 2", frame("02"), ErrVersion},
		{"type 0", frame("01 00"), errUnknownType},
		{"type 6", frame("01 06 00"), errUnknownType},
		{"type ff", frame("01 ff"), errUnknownType},
		{"hello truncated session", frame("01 01 0001"), errTruncated},
		{"hello zero session", frame("01 01", SessionID{}, "00 00 00 00 00 00"), errZeroSession},
		{"hello missing flags", frame("01 01", sess, "00 00 00 00 00"), errTruncated},
		{"hello trailing", frame("01 01", sess, "00 00 00 00 00 00 00"), errTrailing},
		{"hello acked range", frame("01 01", sess, "80808080808080808001 00 00 00 00 00"), errSeqRange},
		{"hello limit range", frame("01 01", sess, "00 00 8080808008 00 00 00"), errLimitRange},
		{"batch no acked", frame("01 02", sess), errTruncated},
		{"batch no seq", frame("01 02", sess, "00"), errTruncated},
		{"batch zero session", frame("01 02", SessionID{}, "00 01"), errZeroSession},
		{"batch seq 0", frame("01 02", sess, "00 00"), errSeqRange},
		{"batch seq over max", frame("01 02", sess, "00 80808080808080808001"), errSeqRange},
		{"batch seq overflow", frame("01 02", sess, "00 ffffffffffffffff7f 00 00"), errSeqRange},
		{"batch acked over max", frame("01 02", sess, "80808080808080808001 01"), errSeqRange},
		{"batch acked = first", frame("01 02", sess, "05 05"), errAckedRange},
		{"batch acked > first", frame("01 02", sess, "06 05 00"), errAckedRange},
		{"batch message truncated", frame("01 02", sess, "00 01 05 6869"), errTruncated},
		{"batch binary truncated", frame("01 02", sess, "00 01 8501 68"), errTruncated},
		{"batch long header of short text", frame("01 02", sess, "00 01 8a01", []byte("hello")), errLongText},
		{"batch long header of 127 B text", frame("01 02", sess, "00 01 fe02", make([]byte, 127)), errLongText},
		{"batch long header of empty text", frame("01 02", sess, "00 01 8001"), errLongText},
		{"batch header truncated", frame("01 02", sess, "00 01 80"), errTruncated},
		{"batch header non-minimal", frame("01 02", sess, "00 01 8000"), errNonMinimal},
		{"push seq 0", frame("01 04 00 00"), errSeqRange},
		{"push acked = first", frame("01 04 01 01"), errAckedRange},
		{"push message truncated", frame("01 04 00 01 03"), errTruncated},
		{"ack empty", frame("01 03"), errTruncated},
		{"ack trailing", frame("01 03 00 00"), errTrailing},
		{"ack non-minimal", frame("01 03 8000"), errNonMinimal},
		{"ack non-minimal long", frame("01 03 ff8000"), errNonMinimal},
		{"ack over max", frame("01 03 80808080808080808001"), errSeqRange},
		{"ack varint overflow", frame("01 03 ffffffffffffffffff02"), errVarint},
		{"ack varint 11 bytes", frame("01 03 ffffffffffffffffff8101"), errVarint},
		{"ack varint truncated", frame("01 03 ffff"), errTruncated},
		{"close no code", frame("01 05 03"), errTruncated},
		{"close code 999", frame("01 05 03e7"), errCloseCode},
		{"close code 1005", frame("01 05 03ed"), errCloseCode},
		{"close code 5000", frame("01 05 1388"), errCloseCode},
		{"close reason long", frame("01 05 03e8", []byte(strings.Repeat("a", 124))), errReasonSize},
		{"close reason utf8", frame("01 05 03e8 ff"), errReasonUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decode(tt.p, Limits{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v; want %v", err, tt.want)
			}
			class := ErrMalformed
			if errors.Is(tt.want, ErrVersion) {
				class = ErrVersion
			}
			if !errors.Is(err, class) || errors.Is(err, ErrLimit) {
				t.Fatalf("err = %v; want class %v only", err, class)
			}
			if !strings.HasPrefix(err.Error(), "batch: ") {
				t.Fatalf("error text %q lacks the package prefix", err)
			}
		})
	}
}

// TestWrongType checks that every decoder rejects every other frame type.
func TestWrongType(t *testing.T) {
	frames := map[Type][]byte{
		TypeHello: encode(Hello{Session: sess}),
		TypeBatch: encode(batchVal{sess, 0, 1, nil}),
		TypeAck:   encode(Ack{}),
		TypePush:  encode(pushVal{0, 1, nil}),
		TypeClose: encode(Close{Code: CodeNormal}),
	}
	decoders := map[Type]func([]byte) error{
		TypeHello: func(p []byte) error { _, err := DecodeHello(p); return err },
		TypeBatch: func(p []byte) error { _, err := DecodeBatch(p, Limits{}); return err },
		TypeAck:   func(p []byte) error { _, err := DecodeAck(p); return err },
		TypePush:  func(p []byte) error { _, err := DecodePush(p, Limits{}); return err },
		TypeClose: func(p []byte) error { _, err := DecodeClose(p); return err },
	}
	for dt, dec := range decoders {
		for ft, p := range frames {
			err := dec(p)
			if typ, perr := Peek(p); perr != nil || typ != ft {
				t.Fatalf("Peek(%v frame) = %v, %v", ft, typ, perr)
			}
			if (err == nil) != (dt == ft) || (err != nil && err != errWrongType) {
				t.Errorf("Decode%v(%v frame) = %v", dt, ft, err)
			}
		}
	}
}

// TestTruncation cuts every valid test frame at every length: no panic; a
// fixed-size frame never decodes; a BATCH or PUSH cut at a message boundary
// decodes as a prefix of its messages (harmless: the rest is not acked and
// is resent), and a CLOSE cut in its reason decodes with a shorter reason.
func TestTruncation(t *testing.T) {
	for _, v := range []any{
		Hello{Session: sess, Acked: 300, Received: 7, Limits: Limits{65536, 1024, 262144}, Flags: 1},
		batchVal{sess, 7, 300, []Message{text("hello"), binary(strings.Repeat("x", 100)), text("")}},
		pushVal{1<<40 - 1, 1 << 40, []Message{binary("\x00\x01"), text(strings.Repeat("y", 200))}},
		Ack{1 << 50},
		Close{CodeVersion, "é unsupported"},
	} {
		p := encode(v)
		for n := range len(p) {
			got, err := decode(bytes.Clone(p[:n]), Limits{})
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("%T cut at %d: %v", v, n, err)
				}
				continue
			}
			ok := false
			switch v := v.(type) {
			case batchVal:
				g := got.(batchVal)
				ok = g.Session == v.Session && g.First == v.First && len(g.Msgs) < len(v.Msgs) && equalMsgs(g.Msgs, v.Msgs[:len(g.Msgs)])
			case pushVal:
				g := got.(pushVal)
				ok = g.First == v.First && len(g.Msgs) < len(v.Msgs) && equalMsgs(g.Msgs, v.Msgs[:len(g.Msgs)])
			case Close:
				g := got.(Close)
				ok = g.Code == v.Code && strings.HasPrefix(v.Reason, g.Reason) && len(g.Reason) < len(v.Reason)
			}
			if !ok {
				t.Fatalf("%T cut at %d decoded as %+v", v, n, got)
			}
		}
	}
}

// TestGarbage feeds random bytes to every decoder.
func TestGarbage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, 300)
	for range 200000 {
		n := r.IntN(len(p))
		for i := range n {
			p[i] = byte(r.Uint32())
		}
		if n > 0 && r.IntN(2) == 0 {
			p[0] = Version // get past the version check more often
		}
		if n > 1 && r.IntN(2) == 0 {
			p[1] = byte(1 + r.IntN(5))
		}
		q := p[:n]
		_, _ = DecodeHello(q)
		_, _ = DecodeBatch(q, Limits{MaxMessages: 4, MaxMessage: 8})
		_, _ = DecodeAck(q)
		_, _ = DecodePush(q, Limits{})
		_, _ = DecodeClose(q)
		if v, err := decode(q, Limits{}); err == nil && !bytes.Equal(encode(v), q) {
			t.Fatalf("% x decodes to %+v, which encodes differently", q, v)
		}
	}
}

func TestDecodeAllocs(t *testing.T) {
	var w Writer
	w.StartBatch(nil, sess, 0, 1)
	for range 1024 {
		w.Add(make([]byte, 100), false)
	}
	p := w.Bytes()
	hello, ack, cl := encode(Hello{Session: sess, Acked: 1}), encode(Ack{7}), encode(Close{Code: CodeNormal})
	n := 0
	allocs := testing.AllocsPerRun(100, func() {
		b, err := DecodeBatch(p, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range b.All() {
			n += len(m.Data)
		}
		_, _ = DecodeHello(hello)
		_, _ = DecodeAck(ack)
		_, _ = DecodeClose(cl)
		_, _ = DecodeAck(ack[:2]) // a malformed error
	})
	if allocs != 0 {
		t.Fatalf("decoding allocates %v times per run", allocs)
	}
	buf := make([]byte, 0, len(p))
	allocs = testing.AllocsPerRun(100, func() {
		w.StartBatch(buf, sess, 0, 1)
		for range 1024 {
			w.Add(p[100:200], false)
		}
	})
	if allocs != 0 {
		t.Fatalf("a Writer with enough capacity allocates %v times per run", allocs)
	}
}

func TestWriterStartReuses(t *testing.T) {
	var w Writer
	buf := make([]byte, 5, 100)
	w.StartPush(buf, 0, 1)
	w.AddString("a")
	if &w.Bytes()[0] != &buf[0] || w.Len() != 6 || w.Count() != 1 {
		t.Fatalf("StartPush did not write over buf[:0]: len %d count %d", w.Len(), w.Count())
	}
	w.StartBatch(w.Bytes(), sess, 1, 2)
	if w.Count() != 0 || w.Len() != 20 {
		t.Fatalf("StartBatch did not reset: len %d count %d", w.Len(), w.Count())
	}
}

func TestHelloClampsLimits(t *testing.T) {
	h := Hello{Session: sess, Limits: Limits{-1, 1 << 40, 5}}
	got, err := DecodeHello(AppendHello(nil, h))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Limits{0, maxLimit, 5}); got.Limits != want {
		t.Fatalf("limits = %+v; want %+v", got.Limits, want)
	}
	if n := (Limits{MaxMessage: 7}).Normalize(); n != (Limits{DefaultMaxFrame, DefaultMaxMessages, 7}) {
		t.Fatalf("Normalize = %+v", n)
	}
}

func TestClose(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	tests := []struct {
		name   string
		reason string
		want   string
	}{
		{"short", "bye", "bye"},
		{"exactly 123", strings.Repeat("a", 123), strings.Repeat("a", 123)},
		{"long ASCII", strings.Repeat("a", 200), strings.Repeat("a", 123)},
		{"cut at a character", long, strings.Repeat("é", 61)},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"invalid and long", strings.Repeat("\xff", 50), strings.Repeat("\uFFFD", 41)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DecodeClose(AppendClose(nil, Close{CodePolicy, tt.reason}))
			if err != nil || c.Code != CodePolicy || c.Reason != tt.want {
				t.Fatalf("got %+v, %v; want reason %q", c, err, tt.want)
			}
		})
	}
}

func TestCloseFor(t *testing.T) {
	_, verr := DecodeAck(frame("07 03 00"))
	_, merr := DecodeAck(frame("01 03 8000"))
	_, lerr := DecodePush(frame("01 04 00 01 00 00"), Limits{MaxMessages: 1})
	tests := []struct {
		err    error
		code   Code
		reason string
		status int
	}{
		{nil, CodeNormal, "", 500},
		{verr, CodeVersion, "batch: unsupported version 7 (supported: 1)", 400},
		{merr, CodeProtocol, "batch: malformed frame: non-minimal varint", 400},
		{lerr, CodeTooBig, "batch: message count 2 exceeds limit 1", 413},
		{errors.New("disk full: /var/secret"), CodeInternal, "internal error", 500},
	}
	for _, tt := range tests {
		c := CloseFor(tt.err)
		if c.Code != tt.code || c.Reason != tt.reason || !c.Code.Valid() {
			t.Errorf("CloseFor(%v) = %+v; want %d %q", tt.err, c, tt.code, tt.reason)
		}
		if tt.err != nil && c.Code.HTTPStatus() != tt.status {
			t.Errorf("%d.HTTPStatus() = %d; want %d", c.Code, c.Code.HTTPStatus(), tt.status)
		}
	}
	var ve *VersionError
	if !errors.As(verr, &ve) || ve.Got != 7 {
		t.Fatalf("version error %v does not carry the version", verr)
	}
}

func TestCodes(t *testing.T) {
	for c, want := range map[Code]bool{
		0: false, 999: false, 1000: true, 1003: true, 1004: false, 1005: false, 1006: false,
		1007: true, 1015: false, 2999: true, 4000: true, 4999: true, 5000: false, 65535: false,
	} {
		if c.Valid() != want {
			t.Errorf("Code(%d).Valid() = %v", c, !want)
		}
	}
	for c, want := range map[Code]int{
		CodeNormal: 500, CodeGoingAway: 503, CodeProtocol: 400, CodeUnsupported: 415, CodePolicy: 403,
		CodeTooBig: 413, CodeInternal: 500, CodeTryAgain: 503, CodeVersion: 400, CodeSuperseded: 500,
	} {
		if got := c.HTTPStatus(); got != want {
			t.Errorf("Code(%d).HTTPStatus() = %d; want %d", c, got, want)
		}
	}
}

func TestStrings(t *testing.T) {
	if got := sess.String(); got != "000102030405060708090a0b0c0d0e0f" {
		t.Errorf("SessionID.String = %q", got)
	}
	if !(SessionID{}).IsZero() || sess.IsZero() {
		t.Error("IsZero")
	}
	for typ, want := range map[Type]string{TypeHello: "HELLO", TypeBatch: "BATCH", TypeAck: "ACK", TypePush: "PUSH", TypeClose: "CLOSE", 0: "0x00", 0xab: "0xab"} {
		if typ.String() != want {
			t.Errorf("Type(%d).String() = %q; want %q", typ, typ.String(), want)
		}
	}
}

// TestMessagesInvalid checks that iterating a Messages that the decoder
// did not produce stops instead of panicking or yielding garbage.
func TestMessagesInvalid(t *testing.T) {
	for _, data := range [][]byte{unhex("0a 68"), unhex("80"), unhex("ff ff ff ff ff ff ff ff ff ff 01")} {
		m := Messages{data: data, n: 1}
		for msg := range m.All() {
			t.Errorf("% x yielded %+v", data, msg)
		}
		for seq, msg := range (Push{FirstSeq: 1, Messages: m}).All() {
			t.Errorf("% x yielded %d %+v", data, seq, msg)
		}
	}
}

// TestVersionFirst checks that a frame of another version gets a version
// error even when it is also over the size limit.
func TestVersionFirst(t *testing.T) {
	big := make([]byte, DefaultMaxFrame+1)
	big[0], big[1] = 2, byte(TypeBatch)
	if _, err := DecodeBatch(big, Limits{}); !errors.Is(err, ErrVersion) {
		t.Fatalf("DecodeBatch: %v", err)
	}
	big[1] = byte(TypePush)
	if _, err := DecodePush(big, Limits{}); !errors.Is(err, ErrVersion) {
		t.Fatalf("DecodePush: %v", err)
	}
}
