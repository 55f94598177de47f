package batch

import "testing"

// The benchmarks use the reference load: a 1,024-message batch of
// 100-byte messages. SetBytes counts the frame's bytes.

func benchFrame() (msg []byte, frame []byte) {
	msg = make([]byte, 100)
	for i := range msg {
		msg[i] = 'a' + byte(i%26)
	}
	var w Writer
	w.StartBatch(nil, testSession, 0, 1)
	for range 1024 {
		w.Add(msg, false)
	}
	return msg, w.Bytes()
}

func BenchmarkEncodeBatch(b *testing.B) {
	msg, p := benchFrame()
	buf := make([]byte, 0, len(p))
	var w Writer
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		w.StartBatch(buf, testSession, 0, 1)
		for range 1024 {
			w.Add(msg, false)
		}
		buf = w.Bytes()
	}
}

func BenchmarkDecodeBatch(b *testing.B) {
	_, p := benchFrame()
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBatch(p, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeIterate is the server's hot path: validate the frame,
// then walk every message with its sequence number.
func BenchmarkDecodeIterate(b *testing.B) {
	_, p := benchFrame()
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	var sum uint64
	for b.Loop() {
		f, err := DecodeBatch(p, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		for seq, m := range f.All() {
			sum += seq + uint64(len(m.Data))
		}
	}
	if sum == 0 {
		b.Fatal("no messages")
	}
}
