package sse

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

const readerStream = "retry: 250\nid: 1\nevent: a\ndata: one\n\n: ping\ndata: two\r\ndata: lines\r\n\r\nid: 3\n\ndata: unfinished"

var readerWant = []Event{
	{Type: "a", Data: "one", ID: "1", Retry: 250 * time.Millisecond},
	{Type: "message", Data: "two\nlines", ID: "1"},
}

// readAll calls Next until an error and returns the events and that error.
func readAll(r *Reader) ([]Event, error) {
	var got []Event
	for {
		e, err := r.Next()
		if err != nil {
			return got, err
		}
		got = append(got, e)
	}
}

func TestReader(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    io.Reader
		size int
	}{
		{"plain", strings.NewReader(readerStream), DefaultReadBufferSize},
		{"one byte reads", iotest.OneByteReader(strings.NewReader(readerStream)), DefaultReadBufferSize},
		{"half reads", iotest.HalfReader(strings.NewReader(readerStream)), DefaultReadBufferSize},
		{"data with EOF", iotest.DataErrReader(strings.NewReader(readerStream)), DefaultReadBufferSize},
		{"tiny buffer", strings.NewReader(readerStream), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReaderSize(tc.r, tc.size, DecoderOptions{})
			got, err := readAll(r)
			if err != io.EOF || !reflect.DeepEqual(got, readerWant) {
				t.Fatalf("got %+v, %v", got, err)
			}
			if r.LastEventID() != "3" || r.Retry() != 250*time.Millisecond {
				t.Fatalf("last id %q retry %v", r.LastEventID(), r.Retry())
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("Next after EOF: %v", err)
			}
		})
	}
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader("data: a\n\ndata: b\n"), iotest.ErrReader(boom)), DecoderOptions{})
	got, err := readAll(r)
	if err != boom || !reflect.DeepEqual(got, []Event{msg("a")}) {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, err := r.Next(); err != boom {
		t.Fatalf("error not sticky: %v", err)
	}
}

func TestReaderTooLarge(t *testing.T) {
	r := NewReader(strings.NewReader("data: a\n\ndata: "+strings.Repeat("x", 100)+"\n\n"), DecoderOptions{MaxEventSize: 50})
	got, err := readAll(r)
	var tl *EventTooLargeError
	if !errors.As(err, &tl) || tl.Limit != 50 || !reflect.DeepEqual(got, []Event{msg("a")}) {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestReaderReset(t *testing.T) {
	r := NewReader(strings.NewReader("id: 7\ndata: a\n\ndata: cut off"), DecoderOptions{})
	if _, err := readAll(r); err != io.EOF {
		t.Fatal(err)
	}
	r.Reset(strings.NewReader("\xEF\xBB\xBFdata: b\n\n"))
	got, err := readAll(r)
	if err != io.EOF || !reflect.DeepEqual(got, []Event{ev("message", "b", "7")}) {
		t.Fatalf("after Reset: %+v, %v", got, err)
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestReaderNoProgress(t *testing.T) {
	if _, err := NewReader(emptyReader{}, DecoderOptions{}).Next(); err != io.ErrNoProgress {
		t.Fatalf("err = %v", err)
	}
}
