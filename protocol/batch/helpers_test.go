package batch

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
)

// Test-side values of BATCH and PUSH frames with their messages collected,
// so that frames of every type can be compared with ==-like ease.
type batchVal struct {
	Session SessionID
	Acked   uint64
	First   uint64
	Msgs    []Message
}

type pushVal struct {
	Acked uint64
	First uint64
	Msgs  []Message
}

var testSession = SessionID{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f}

func text(s string) Message   { return Message{Data: []byte(s)} }
func binary(s string) Message { return Message{Data: []byte(s), Binary: true} }

// encode encodes a test value with the package's encoders.
func encode(v any) []byte {
	switch v := v.(type) {
	case Hello:
		return AppendHello(nil, v)
	case Ack:
		return AppendAck(nil, v)
	case Close:
		return AppendClose(nil, v)
	case batchVal:
		var w Writer
		w.StartBatch(nil, v.Session, v.Acked, v.First)
		for _, m := range v.Msgs {
			w.Add(m.Data, m.Binary)
		}
		return w.Bytes()
	case pushVal:
		var w Writer
		w.StartPush(nil, v.Acked, v.First)
		for _, m := range v.Msgs {
			if m.Binary {
				w.Add(m.Data, true)
			} else {
				w.AddString(string(m.Data))
			}
		}
		return w.Bytes()
	}
	panic(fmt.Sprintf("encode: unexpected %T", v))
}

// decode decodes any frame into a test value.
func decode(p []byte, lim Limits) (any, error) {
	t, err := Peek(p)
	if err != nil {
		return nil, err
	}
	switch t {
	case TypeHello:
		return DecodeHello(p)
	case TypeBatch:
		b, err := DecodeBatch(p, lim)
		if err != nil {
			return nil, err
		}
		return batchVal{b.Session, b.Acked, b.FirstSeq, collect(b.Messages)}, nil
	case TypeAck:
		return DecodeAck(p)
	case TypePush:
		m, err := DecodePush(p, lim)
		if err != nil {
			return nil, err
		}
		return pushVal{m.Acked, m.FirstSeq, collect(m.Messages)}, nil
	case TypeClose:
		return DecodeClose(p)
	}
	panic("decode: Peek returned unknown type " + t.String())
}

func collect(m Messages) []Message {
	var out []Message
	for msg := range m.All() {
		out = append(out, msg)
	}
	return out
}

// equal compares test values; message data compare with bytes.Equal, so
// nil and empty are the same.
func equal(a, b any) bool {
	switch a := a.(type) {
	case batchVal:
		b, ok := b.(batchVal)
		return ok && a.Session == b.Session && a.Acked == b.Acked && a.First == b.First && equalMsgs(a.Msgs, b.Msgs)
	case pushVal:
		b, ok := b.(pushVal)
		return ok && a.Acked == b.Acked && a.First == b.First && equalMsgs(a.Msgs, b.Msgs)
	}
	return a == b
}

func equalMsgs(a, b []Message) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Binary != b[i].Binary || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}

// unhex parses hex with optional spaces, for readable test tables.
func unhex(s string) []byte {
	p, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return p
}

// frame builds a frame from parts: strings as hex, []byte verbatim.
func frame(parts ...any) []byte {
	var p []byte
	for _, x := range parts {
		switch x := x.(type) {
		case string:
			p = append(p, unhex(x)...)
		case []byte:
			p = append(p, x...)
		case SessionID:
			p = append(p, x[:]...)
		default:
			panic(fmt.Sprintf("frame: unexpected %T", x))
		}
	}
	return p
}
