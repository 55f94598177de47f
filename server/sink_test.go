package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/eventwire/eventwire/protocol/batch"
)

type ndjsonRecord struct {
	Session string `json:"session"`
	Seq     uint64 `json:"seq"`
	Type    string `json:"type"`
	Data    string `json:"data"`
}

func decodeNDJSON(t *testing.T, b []byte) []ndjsonRecord {
	t.Helper()
	var rs []ndjsonRecord
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var r ndjsonRecord
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %q: %v", sc.Bytes(), err)
		}
		rs = append(rs, r)
	}
	return rs
}

func TestNDJSONSink(t *testing.T) {
	var buf bytes.Buffer
	sink := NewNDJSONSink(&buf, NDJSONOptions{})
	s := batch.SessionID{0xab, 0xcd, 15: 1}
	msgs := []batch.Message{
		{Data: []byte(`{"x":1,"k":"move"}`)},
		{Data: []byte{0, 1, 0xfe, 0xff}, Binary: true},
		{Data: nil},
		{Data: []byte("line\nbreak \"quoted\" \\ \t\x00\x1f é \u2028 \xff")},
	}
	if err := sink.Accept(context.Background(), s, 41, msgs); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, `{"session":"abcd0000000000000000000000000001","seq":41,"type":"text","data":"{\"x\":1,\"k\":\"move\"}"}`+"\n") {
		t.Errorf("first line: %q", out)
	}
	rs := decodeNDJSON(t, buf.Bytes())
	if len(rs) != 4 {
		t.Fatalf("%d records", len(rs))
	}
	for i, r := range rs {
		if r.Session != s.String() || r.Seq != 41+uint64(i) {
			t.Errorf("record %d: %+v", i, r)
		}
		m := msgs[i]
		if m.Binary {
			if d, err := base64.StdEncoding.DecodeString(r.Data); r.Type != "binary" || err != nil || !bytes.Equal(d, m.Data) {
				t.Errorf("record %d: %+v", i, r)
			}
		} else if r.Type != "text" || r.Data != strings.ToValidUTF8(string(m.Data), "\uFFFD") {
			t.Errorf("record %d: %+v", i, r)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sink.Accept(context.Background(), s, 45, msgs[:1]); !errors.Is(err, ErrSinkClosed) {
		t.Errorf("Accept after Close: %v", err)
	}
}

// TestAppendJSONString: the text encoding is exactly encoding/json's
// without HTML escaping.
func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{
		"", "plain", `"\`, "\x00\x01\b\f\n\r\t\x1f\x7f", "<&>", "é€😀", "\u2028\u2029",
		"\xff", "a\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80", strings.Repeat("x\xe2\x82", 5),
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := string(appendJSONString(nil, []byte(s))) + "\n"; got != want.String() {
			t.Errorf("%q: %s, want %s", s, got, want.String())
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add([]byte("a\"b\\c\n\xff\u2028"))
	f.Fuzz(func(t *testing.T, s []byte) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(string(s))
		if got := string(appendJSONString(nil, s)) + "\n"; got != want.String() {
			t.Errorf("%q: %s, want %s", s, got, want.String())
		}
	})
}

// flakyWriter writes at most n bytes of each Write, then fails.
type flakyWriter struct {
	bytes.Buffer
	n int
}

func (w *flakyWriter) Write(p []byte) (int, error) {
	if w.n >= 0 && len(p) > w.n {
		w.Buffer.Write(p[:w.n])
		return w.n, errors.New("disk full")
	}
	return w.Buffer.Write(p)
}

func TestNDJSONSinkTornWrite(t *testing.T) {
	w := &flakyWriter{n: 30}
	sink := NewNDJSONSink(w, NDJSONOptions{})
	s := sid(1)
	msgs := []batch.Message{{Data: []byte("first")}, {Data: []byte("second")}}
	if err := sink.Accept(context.Background(), s, 1, msgs); err == nil {
		t.Fatal("no error from a failed write")
	}
	w.n = -1
	if err := sink.Accept(context.Background(), s, 1, msgs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n")
	if len(lines) != 3 || len(lines[0]) != 30 {
		t.Fatalf("lines %q", lines)
	}
	// The torn line stands alone; the resent records are intact.
	if rs := decodeNDJSON(t, []byte(lines[1]+"\n"+lines[2]+"\n")); len(rs) != 2 || rs[1].Data != "second" {
		t.Errorf("records %+v", rs)
	}
}

func TestNDJSONFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.ndjson")
	for i := range 2 {
		sink, err := OpenSink("file:"+path, NDJSONOptions{Sync: true})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for n := range 4 {
			wg.Go(func() {
				s := sid(byte(n))
				for f := range uint64(10) {
					if err := sink.Accept(context.Background(), s, f*3+1, []batch.Message{{Data: []byte("a")}, {Data: []byte("b")}, {Data: []byte("c")}}); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if err := sink.(io.Closer).Close(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if rs := decodeNDJSON(t, b); len(rs) != (i+1)*4*30 { // appended
			t.Fatalf("%d records", len(rs))
		}
	}
}

func TestOpenSink(t *testing.T) {
	for _, spec := range []string{"stdout", "stderr", "none"} {
		if s, err := OpenSink(spec, NDJSONOptions{}); err != nil || s == nil {
			t.Errorf("%s: %v", spec, err)
		}
	}
	for _, spec := range []string{"", "file:", "kafka:x", "file:" + filepath.Join(t.TempDir(), "no", "such", "dir")} {
		if _, err := OpenSink(spec, NDJSONOptions{}); err == nil {
			t.Errorf("%q: no error", spec)
		}
	}
}

func TestMemorySink(t *testing.T) {
	var m MemorySink
	ctx := context.Background()
	s := sid(1)
	data := []byte("x")
	if err := m.Accept(ctx, s, 1, []batch.Message{{Data: data}}); err != nil {
		t.Fatal(err)
	}
	data[0] = 'y' // the sink keeps a copy
	if err := m.Accept(ctx, s, 2, []batch.Message{{Data: []byte("z"), Binary: true}}); err != nil {
		t.Fatal(err)
	}
	if rs := m.Records(); len(rs) != 2 || string(rs[0].Data) != "x" || !rs[1].Binary || m.CheckOrder() != nil {
		t.Errorf("records %+v %v", rs, m.CheckOrder())
	}
	if err := m.Wait(ctx, 2); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- m.Wait(ctx, 3) }()
	m.Accept(ctx, sid(2), 5, []batch.Message{{}})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m.Accept(ctx, s, 2, []batch.Message{{}}) // a duplicate
	if err := m.CheckOrder(); err == nil || !strings.Contains(err.Error(), "from seq 2, want 3") {
		t.Errorf("CheckOrder: %v", err)
	}
	boom := errors.New("boom")
	m.SetFailFunc(func(batch.SessionID, uint64, int) error { return boom })
	if err := m.Accept(ctx, s, 3, []batch.Message{{}}); err != boom || m.Len() != 4 {
		t.Errorf("fail func: %v, %d records", err, m.Len())
	}
}
