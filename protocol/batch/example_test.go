package batch_test

import (
	"errors"
	"fmt"

	"github.com/eventwire/eventwire/protocol/batch"
)

func Example() {
	session := batch.SessionID{0x5e, 0x55, 0x10, 0x4e} // from crypto.getRandomValues in practice

	// Client: messages 1 to 3, none acknowledged yet.
	var w batch.Writer
	w.StartBatch(nil, session, 0, 1)
	w.AddString("click")
	w.Add([]byte{0xca, 0xfe}, true)
	w.AddString("scroll")
	frame := w.Bytes()
	fmt.Println(w.Count(), "messages,", w.Len(), "bytes")

	// Server: the connection already accepted message 1 (a resend).
	last := uint64(1)
	b, err := batch.DecodeBatch(frame, batch.Limits{})
	if err != nil {
		c := batch.CloseFor(err) // close the connection with c.Code, c.Reason
		fmt.Println(c.Code, c.Reason)
		return
	}
	last = max(last, b.Acked)
	if b.FirstSeq <= last+1 { // otherwise a gap: accept nothing
		for seq, m := range b.All() {
			if seq <= last {
				continue // already accepted
			}
			fmt.Printf("deliver %d %q binary=%v\n", seq, m.Data, m.Binary) // copy m.Data to keep it
			last = seq
		}
	}
	ack := batch.AppendAck(nil, batch.Ack{Seq: last})
	fmt.Printf("ack % x\n", ack)
	// Output:
	// 3 messages, 37 bytes
	// deliver 2 "\xca\xfe" binary=true
	// deliver 3 "scroll" binary=false
	// ack 01 03 03
}

func ExampleCloseFor() {
	_, err := batch.DecodeAck([]byte{2, 3, 0})
	var ve *batch.VersionError
	fmt.Println(errors.Is(err, batch.ErrVersion), errors.As(err, &ve), ve.Got)
	c := batch.CloseFor(err)
	fmt.Println(c.Code, c.Code.HTTPStatus(), c.Reason)
	// Output:
	// true true 2
	// 4000 400 batch: unsupported version 2 (supported: 1)
}
