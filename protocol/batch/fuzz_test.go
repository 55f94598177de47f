package batch

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// fuzzLimits are small, so that the fuzzer reaches every limit.
var fuzzLimits = Limits{MaxFrame: 512, MaxMessages: 16, MaxMessage: 64}

// maxDecodeAlloc bounds the bytes one decode may allocate, whatever the
// input: at most a Close reason (123 bytes) or an error value. It does not
// grow with the input.
const maxDecodeAlloc = 256

// FuzzDecode checks that decoding never panics, classifies every error,
// allocates a small constant at most, and that whatever decodes re-encodes
// to the same bytes (the encoding is canonical), hence to the same value.
func FuzzDecode(f *testing.F) {
	doc, _, err := readVectors()
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range doc {
		f.Add(p)
	}
	f.Add(frame("01 02", sess, "00 01 feffffffffffffffff01"))
	f.Add(frame("01 04 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"))
	f.Fuzz(func(t *testing.T, p []byte) {
		// The fuzzing engine's own goroutines may allocate while we
		// measure: only an allocation seen three times in a row counts.
		var err error
		for try := 0; ; try++ {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err = decodeOnly(p, fuzzLimits)
			runtime.ReadMemStats(&after)
			n := after.TotalAlloc - before.TotalAlloc
			if n <= maxDecodeAlloc {
				break
			}
			if try == 2 {
				t.Fatalf("decoding %d bytes allocated %d bytes", len(p), n)
			}
		}
		v, err2 := decode(p, fuzzLimits)
		if err != err2 && err.Error() != err2.Error() {
			t.Fatalf("decoders disagree: %v, %v", err, err2)
		}
		if err != nil {
			classes := 0
			for _, c := range []error{ErrMalformed, ErrVersion, ErrLimit} {
				if errors.Is(err, c) {
					classes++
				}
			}
			if classes != 1 {
				t.Fatalf("error %v matches %d classes", err, classes)
			}
			c := CloseFor(err)
			if _, derr := DecodeClose(AppendClose(nil, c)); derr != nil || c.Code == CodeInternal {
				t.Fatalf("CloseFor(%v) = %+v: %v", err, c, derr)
			}
			return
		}
		q := encode(v)
		if !bytes.Equal(q, p) {
			t.Fatalf("% x decodes to %+v, which encodes to % x", p, v, q)
		}
		if b, ok := v.(batchVal); ok {
			// Sizes add up: the Writer and MessageSize agree with the frame.
			size := 2 + SessionSize + uvarintLen(b.Acked) + uvarintLen(b.First)
			for _, m := range b.Msgs {
				size += MessageSize(len(m.Data), m.Binary)
			}
			if size != len(p) {
				t.Fatalf("sizes add up to %d, frame has %d", size, len(p))
			}
		}
	})
}

// decodeOnly decodes p with the package's decoders and nothing else, for
// measuring their allocations.
func decodeOnly(p []byte, lim Limits) error {
	t, err := Peek(p)
	if err != nil {
		return err
	}
	switch t {
	case TypeHello:
		_, err = DecodeHello(p)
	case TypeBatch:
		_, err = DecodeBatch(p, lim)
	case TypeAck:
		_, err = DecodeAck(p)
	case TypePush:
		_, err = DecodePush(p, lim)
	case TypeClose:
		_, err = DecodeClose(p)
	}
	return err
}

// FuzzRoundTrip encodes structured values of every frame type, decodes
// them, and checks that the value comes back.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint8(0), []byte{1}, uint64(0), uint64(0), 0, []byte("hello"), []byte{5, 0}, "")
	f.Add(uint8(1), []byte("0123456789abcdef"), uint64(1), uint64(7), 1, []byte("hello world"), []byte{0, 3, 4, 64}, "")
	f.Add(uint8(2), []byte{}, uint64(MaxSeq), uint64(0), 2, []byte{}, []byte{}, "")
	f.Add(uint8(3), []byte{}, uint64(42), uint64(0), 3, bytes.Repeat([]byte("x"), 300), []byte{200, 100}, "")
	f.Add(uint8(4), []byte{}, uint64(0), uint64(0), 1009, []byte{}, []byte{}, "too big\xff"+strings.Repeat("é", 80))
	f.Fuzz(func(t *testing.T, kind uint8, session []byte, a, b uint64, c int, payload, cuts []byte, reason string) {
		var s SessionID
		copy(s[:], session)
		if s.IsZero() {
			s[15] = 1
		}
		var v any
		switch kind % 5 {
		case 0:
			v = Hello{
				Session: s, Acked: a % (MaxSeq + 1), Received: b % (MaxSeq + 1),
				Limits: Limits{c & maxLimit, int(a>>33) & maxLimit, int(b>>33) & maxLimit}, Flags: a ^ b,
			}
		case 1, 3:
			// Cut the payload into messages: each cut byte gives a length
			// (its value) and a kind (its parity).
			var msgs []Message
			for _, cut := range cuts {
				n := min(int(cut), len(payload))
				msgs = append(msgs, Message{Data: payload[:n], Binary: cut&1 == 1})
				payload = payload[n:]
			}
			first := 1 + a%MaxSeq
			if len(msgs) > 0 && first > MaxSeq-uint64(len(msgs)-1) {
				first = MaxSeq - uint64(len(msgs)-1)
			}
			acked := b % first
			if kind%5 == 1 {
				v = batchVal{s, acked, first, msgs}
			} else {
				v = pushVal{acked, first, msgs}
			}
		case 2:
			v = Ack{a % (MaxSeq + 1)}
		case 4:
			code := Code(1000 + uint(c)%4000)
			if !code.Valid() {
				code = CodeInternal
			}
			got, err := DecodeClose(AppendClose(nil, Close{code, reason}))
			// The reason is the longest prefix of the text, with each
			// invalid byte replaced (as []rune does), that fits.
			valid := string([]rune(reason))
			if err != nil || got.Code != code || len(got.Reason) > MaxReason || !strings.HasPrefix(valid, got.Reason) ||
				len(got.Reason) < min(len(valid), MaxReason-3) {
				t.Fatalf("close %d %q: got %+v, %v", code, reason, got, err)
			}
			return
		}
		p := encode(v)
		lim := Limits{MaxFrame: maxLimit, MaxMessages: maxLimit}
		got, err := decode(p, lim)
		if err != nil {
			t.Fatalf("%+v: encoded as % x, which fails: %v", v, p, err)
		}
		if !equal(got, v) {
			t.Fatalf("%+v: decoded as %+v", v, got)
		}
	})
}
