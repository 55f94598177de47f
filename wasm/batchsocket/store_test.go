package batchsocket

import (
	"slices"
	"testing"
	"time"

	"github.com/eventwire/eventwire/protocol/batch"
)

func TestPersistAndRestore(t *testing.T) {
	store := newMemStore()
	// Page 1 sends, gets ACK 3 of 10, then crashes (no Close).
	r1 := newRig(t, nil, func(o *Options) { o.Store = store })
	r1.s.Start()
	c := r1.tr.conn(0)
	c.ev.Open()
	mustPush(t, r1.s, "a", "b", "c", "d", "e")
	mustPush(t, r1.s, "f", "g", "h", "i", "j")
	c.ev.Message(batch.AppendAck(nil, batch.Ack{Seq: 3}), true)
	saved, ok := store.get(sess(1))
	if !ok || saved.Floor != 3 || len(saved.Chunks) != 2 || saved.Chunks[0].First != 1 || saved.Chunks[1].First != 6 {
		t.Fatalf("saved %+v", saved)
	}
	c.ev.Message(batch.AppendAck(nil, batch.Ack{Seq: 6}), true)
	saved, _ = store.get(sess(1))
	if saved.Floor != 6 || len(saved.Chunks) != 1 || saved.Chunks[0].First != 6 {
		t.Fatalf("after ack 6: %+v", saved)
	}

	// The server got up to 8 before the crash, unknown to page 1.
	srv := newServer()
	srv.last[sess(1)] = 8

	// Page 2 (its own session) resends page 1's messages over HTTP.
	r2 := newRig(t, srv, func(o *Options) { o.Store = store; o.Session = sess(2) })
	r2.s.Start()
	if got := srv.messages(sess(1)); !slices.Equal(got, []string{"i", "j"}) {
		t.Fatalf("resent %v", got)
	}
	if srv.dups != 0 { // the HELLO's ACK told the drain socket to skip them
		t.Fatalf("dups %d", srv.dups)
	}
	if _, ok := store.get(sess(1)); ok {
		t.Fatal("session 1 still stored")
	}
	// Page 2's own messages are persisted under its session, not resent.
	mustPush(t, r2.s, "x")
	if got := srv.messages(sess(2)); !slices.Equal(got, []string{"x"}) {
		t.Fatalf("page 2 delivered %v", got)
	}
	if s2, ok := store.get(sess(2)); !ok || len(s2.Chunks) != 0 || s2.Floor != 1 {
		t.Fatalf("page 2 stored %+v", s2)
	}
	// The drain socket said nothing to the page.
	for _, e := range r2.sink.Events() {
		if e != "open websocket" {
			t.Fatalf("events %v", r2.sink.Events())
		}
	}
}

func TestRestoreOverFailingHTTP(t *testing.T) {
	store := newMemStore()
	store.sessions[sess(1)] = &Saved{Session: sess(1), Floor: 1, Chunks: []Chunk{{First: 1, Data: pack("a", "b")}, {First: 3, Data: pack("c")}}}
	srv := newServer()
	r := newRig(t, srv, func(o *Options) { o.Store = store; o.Session = sess(2) })
	r.tr.postErr = errNet
	r.s.Start()
	if _, ok := store.get(sess(1)); !ok {
		t.Fatal("deleted without delivery")
	}
	r.tr.mu.Lock()
	r.tr.postErr = nil
	r.tr.mu.Unlock()
	r.clock.Advance(time.Second)
	if got := srv.messages(sess(1)); !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("resent %v", got)
	}
	if _, ok := store.get(sess(1)); ok {
		t.Fatal("not deleted")
	}
}

func TestRestoreEdgeCases(t *testing.T) {
	store := newMemStore()
	// Nothing left to send: deleted at once.
	store.sessions[sess(1)] = &Saved{Session: sess(1), Floor: 5}
	// A gap after the first chunk: only what can be delivered is sent.
	store.sessions[sess(3)] = &Saved{Session: sess(3), Chunks: []Chunk{{First: 1, Data: pack("a")}, {First: 3, Data: pack("c")}}}
	// A corrupt chunk.
	store.sessions[sess(4)] = &Saved{Session: sess(4), Chunks: []Chunk{{First: 1, Data: []byte{0x80}}}}
	srv := newServer()
	r := newRig(t, srv, func(o *Options) { o.Store = store; o.Session = sess(2) })
	r.s.Start()
	if got := srv.messages(sess(3)); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("resent %v", got)
	}
	store.mu.Lock()
	n := len(store.sessions)
	store.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d sessions left", n)
	}
}

func TestPersisterCoalesces(t *testing.T) {
	store := newMemStore()
	store.manual = true
	r := newRig(t, nil, func(o *Options) { o.Store = store })
	r.s.Start()
	c := r.tr.conn(0)
	c.ev.Open()
	mustPush(t, r.s, "a")
	mustPush(t, r.s, "b")
	mustPush(t, r.s, "c")
	c.ev.Message(batch.AppendAck(nil, batch.Ack{Seq: 1}), true)
	c.ev.Message(batch.AppendAck(nil, batch.Ack{Seq: 2}), true)
	if store.writes != 1 {
		t.Fatalf("writes %d", store.writes)
	}
	store.mu.Lock()
	done := store.pending[0]
	store.mu.Unlock()
	done()
	if store.writes != 2 {
		t.Fatalf("writes %d", store.writes)
	}
	s, _ := store.get(sess(1))
	if s.Floor != 2 || len(s.Chunks) != 1 || s.Chunks[0].First != 3 {
		t.Fatalf("stored %+v", s)
	}
}

func TestStoreEncoding(t *testing.T) {
	w := &Write{Session: sess(3), Puts: []Chunk{{First: 5, Data: pack("a")}, {First: 300, Data: []byte{}}}, DeleteBelow: 200, Floor: 4, SetFloor: true, DeleteAll: true}
	p := AppendWrite(nil, w)
	s3 := sess(3)
	want := append(s3[:], 3, 4, 0xc8, 0x01, 5, 2, 1, 'a', 0xac, 0x02, 0)
	if !slices.Equal(p, want) {
		t.Fatalf("write % x\nwant  % x", p, want)
	}
	var rec []byte
	add := func(s [16]byte, first uint64, data []byte) {
		rec = append(rec, s[:]...)
		rec = batch.AppendUvarint(batch.AppendUvarint(rec, first), uint64(len(data)))
		rec = append(rec, data...)
	}
	add(sess(1), 0, []byte{0x7}) // floor 7
	add(sess(1), 8, pack("x"))
	add(sess(1), 9, pack("y"))
	add(sess(2), 1, pack("z"))
	saved, err := ParseSaved(rec)
	if err != nil || len(saved) != 2 || saved[0].Session != sess(1) || saved[0].Floor != 7 || len(saved[0].Chunks) != 2 ||
		saved[0].Chunks[1].First != 9 || saved[1].Session != sess(2) || len(saved[1].Chunks) != 1 {
		t.Fatalf("parsed %+v %v", saved, err)
	}
	s1 := sess(1)
	for _, bad := range [][]byte{rec[:10], rec[:len(rec)-1], append(s1[:], 0x80)} {
		if _, err := ParseSaved(bad); err == nil {
			t.Errorf("parsed % x", bad)
		}
	}
}

func TestPersistLastChunkAfterClose(t *testing.T) {
	store := newMemStore()
	store.manual = true
	r := newRig(t, nil, func(o *Options) { o.Store = store })
	r.s.Start()
	mustPush(t, r.s, "a") // its write is in flight
	mustPush(t, r.s, "b") // waits for it
	r.s.Close(1000, "")
	for i := 0; i < 3; i++ {
		store.mu.Lock()
		p := store.pending
		store.pending = nil
		store.mu.Unlock()
		for _, done := range p {
			done()
		}
	}
	s, _ := store.get(sess(1))
	if len(s.Chunks) != 2 {
		t.Fatalf("stored %+v", s)
	}
}
