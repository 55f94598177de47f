package sse

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strconv"
	"time"
)

// DefaultMaxEventSize is the MaxEventSize used when DecoderOptions leaves it
// zero: 1 MiB.
const DefaultMaxEventSize = 1 << 20

// DecoderOptions configures a Decoder. The zero value gives the defaults.
type DecoderOptions struct {
	// MaxEventSize bounds the memory one event may take, in bytes. Two
	// things must each fit: every line of the stream (its raw bytes, without
	// the line ending, counted as they arrive so that an endless line fails
	// early), and the event being built, counted as len(Data)+len(Type)+
	// len(ID) of the Event it would become. Going over fails Feed with an
	// *EventTooLargeError.
	//
	// Zero means DefaultMaxEventSize (1 MiB); a negative value means no
	// limit, which lets a hostile or broken server use unbounded memory.
	MaxEventSize int
}

// ErrEventTooLarge is matched by errors.Is for every *EventTooLargeError.
var ErrEventTooLarge = errors.New("sse: event too large")

// EventTooLargeError reports a line or an event over
// DecoderOptions.MaxEventSize.
type EventTooLargeError struct {
	Limit int // the MaxEventSize in force, in bytes
}

func (e *EventTooLargeError) Error() string {
	return "sse: event larger than " + strconv.Itoa(e.Limit) + " bytes"
}

// Is reports whether target is ErrEventTooLarge.
func (e *EventTooLargeError) Is(target error) bool { return target == ErrEventTooLarge }

// Decoder is an incremental event-stream decoder. It follows WHATWG HTML,
// "Server-sent events", sections "Parsing an event stream" and "Interpreting
// an event stream":
//
//   - bytes are decoded as UTF-8, each maximal invalid subpart replaced by
//     U+FFFD (as TextDecoder does); one byte order mark at the very start of
//     the stream is skipped, any later one is kept;
//   - lines end at CRLF, LF or CR, even when CRLF is split between two
//     chunks; a line starting with a colon is a comment; a line without a
//     colon is a field name with an empty value; one space after the colon
//     is removed from the value;
//   - "data" appends its value and a LF to the data buffer; "event" sets the
//     event type; "id" sets the last event ID unless the value contains NUL
//     (an empty value resets it); "retry" sets the reconnection time when
//     its value is one or more ASCII digits (milliseconds); other fields are
//     ignored;
//   - a blank line commits the last event ID, then dispatches an Event if
//     the data buffer is not empty (its final LF removed, Type "message"
//     unless set) and resets the data and event type buffers;
//   - an event not finished by a blank line at the end of the stream is
//     discarded (End).
//
// Any way of splitting the same bytes into chunks gives the same events,
// the same LastEventID and Retry, and the same error.
//
// Where the spec leaves room: an empty retry value is ignored (Chromium
// resets to its default instead), and a retry value beyond the largest
// time.Duration is clamped to it (Chromium ignores values beyond uint64).
//
// The zero Decoder is ready to use with default options. A Decoder is not
// safe for concurrent use. Its memory is bounded by a small multiple of
// MaxEventSize; buffers that grew past 256 KiB are released after the event.
type Decoder struct {
	max int // DecoderOptions.MaxEventSize

	err     error // sticky Feed error, cleared by End
	started bool  // the first line of this stream has been read (BOM handled)
	skipLF  bool  // the previous chunk ended with CR: a leading LF belongs to it

	line []byte // the unfinished line carried over between chunks
	data []byte // data buffer
	typ  []byte // event type buffer
	id   []byte // last event ID buffer

	// The data buffer while it holds a single line that is valid UTF-8 and
	// complete in the chunk being fed: a view of that chunk, at viewAt,
	// copied into data only when a second line follows or the chunk ends.
	view    []byte
	viewAt  int
	view16  int
	viewSet bool

	lastIDb  []byte        // last event ID (committed at blank lines)
	lastID   string        // lastIDb as a string, made when asked for
	lastOK   bool          // lastID is current
	ev       EventView     // the event FeedView hands out, reused
	both     []byte        // Feed's scratch for a data and a new ID
	typName  string        // the last type Feed reported, reused while equal
	retry    time.Duration // reconnection time
	retryNow time.Duration // retry of the current block, for Event.Retry
}

// EventView is an event as FeedView hands it out. It and its slices are
// reused: they are valid only until emit returns, and must not be modified.
// The slices hold what Feed's Event would (text decoded as UTF-8, ill-formed
// sequences replaced by U+FFFD).
type EventView struct {
	Type []byte // the event type; "message" unless set
	Data []byte
	// DataAt is the offset of Data in the chunk given to FeedView when Data
	// is bytes of that chunk as they are (a single data line, complete in
	// the chunk and valid UTF-8: the common case, which costs no copy), and
	// -1 when Data is the Decoder's own copy.
	DataAt int
	// DataUTF16 is the length of Data in UTF-16 code units: the length of
	// the JavaScript string it decodes to.
	DataUTF16 int
	ID        []byte        // the last event ID in force
	Retry     time.Duration // as Event.Retry
}

// NewDecoder returns a Decoder with the given options.
func NewDecoder(opts DecoderOptions) *Decoder {
	return &Decoder{max: opts.MaxEventSize}
}

// limit is the resolved MaxEventSize.
func (d *Decoder) limit() int {
	switch {
	case d.max == 0:
		return DefaultMaxEventSize
	case d.max < 0:
		return math.MaxInt
	}
	return d.max
}

func (d *Decoder) tooLarge() error {
	return &EventTooLargeError{Limit: d.limit()}
}

// Feed decodes the next chunk of the stream and calls emit, in order, for
// each event the chunk completes (emit may be nil to only track
// LastEventID and Retry). Feed does not keep p. emit may read LastEventID
// and Retry but must not call Feed or End.
//
// On error (only *EventTooLargeError) the events before the offending line
// have been emitted and the stream cannot continue: every later Feed returns
// the same error until End is called. The caller should drop the
// connection, call End, and reconnect.
func (d *Decoder) Feed(p []byte, emit func(Event)) error {
	if emit == nil {
		return d.FeedView(p, nil)
	}
	return d.FeedView(p, func(v *EventView) {
		if string(v.Type) != d.typName {
			d.typName = string(v.Type)
		}
		e := Event{Type: d.typName, Retry: v.Retry}
		if !d.lastOK && len(v.Data) <= shareLimit {
			// One allocation for both strings: the common case of a
			// server that numbers every event.
			d.both = append(append(d.both[:0], v.Data...), v.ID...)
			s := string(d.both)
			e.Data, d.lastID, d.lastOK = s[:len(v.Data)], s[len(v.Data):], true
		} else {
			e.Data = string(v.Data)
		}
		e.ID = d.LastEventID()
		emit(e)
	})
}

// shareLimit is the largest Data that Feed stores in one allocation with a
// new last event ID. The decoder keeps the ID until the next one, and with
// it at most this much of an old event's data.
const shareLimit = 512

// FeedView is Feed without a Go string per event, for callers that copy the
// bytes elsewhere anyway (the browser client packs them for JavaScript): it
// calls emit with views (see EventView). Everything else (LastEventID,
// Retry, errors, mixing calls with Feed on one stream) is as for Feed.
func (d *Decoder) FeedView(p []byte, emit func(*EventView)) error {
	err := d.feed(p, emit)
	d.unview() // p is not kept
	return err
}

func (d *Decoder) feed(p []byte, emit func(*EventView)) error {
	if d.err != nil {
		return d.err
	}
	if len(p) == 0 {
		return nil
	}
	start := 0 // offsets stay those of p, for EventView.DataAt
	if d.skipLF {
		d.skipLF = false
		if p[0] == '\n' {
			start = 1
		}
	}
	maxLine := d.limit()
	// cr and lf cache the positions of the next CR and LF (len(p) for none),
	// searched again only once passed: each byte is scanned at most once
	// per search, whatever the mix of line endings.
	cr, lf := -1, -1
	for pos := start; pos < len(p); {
		if cr < pos {
			cr = next(p, pos, '\r')
		}
		if lf < pos {
			lf = next(p, pos, '\n')
		}
		end := min(cr, lf)
		if len(d.line)+end-pos > maxLine {
			d.err = d.tooLarge()
			return d.err
		}
		if end == len(p) {
			// The line goes on in the next chunk. What is carried over
			// holds no line end, so no byte is ever searched twice.
			if n := len(p) - pos; n > cap(d.line)-len(d.line) {
				// Double (up to the limit): a long line costs few copies.
				d.line = slices.Grow(d.line, min(max(n, len(d.line)), maxLine-len(d.line)))
			}
			d.line = append(d.line, p[pos:]...)
			return nil
		}
		line, at := p[pos:end], pos
		if len(d.line) > 0 {
			d.line = append(d.line, line...)
			line, at = d.line, -1
		}
		pos = end + 1
		if p[end] == '\r' {
			if pos == len(p) {
				d.skipLF = true
			} else if p[pos] == '\n' {
				pos++
			}
		}
		// The two commonest lines, when all in p and past the BOM, without
		// processLine's general case.
		inP := at >= 0 && d.started
		var err error
		switch {
		case inP && len(line) == 0: // the blank line that ends most events
			d.dispatch(emit)
		case inP && len(line) >= 5 && string(line[:5]) == "data:": // most other lines
			value := line[5:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
			err = d.dataLine(value, end-len(value))
		default:
			err = d.processLine(line, at, emit)
		}
		d.line = release(d.line)
		if err != nil {
			d.err = err
			return err
		}
	}
	return nil
}

// next returns the index of the first c in p at or after pos, or len(p).
func next(p []byte, pos int, c byte) int {
	if i := bytes.IndexByte(p[pos:], c); i >= 0 {
		return pos + i
	}
	return len(p)
}

// End ends the stream: the unfinished line and event are discarded, and the
// next Feed starts a new stream (a reconnection: a leading BOM is skipped
// again). LastEventID and Retry are kept, as a reconnecting EventSource keeps
// them; an id field not yet committed by a blank line is dropped. End clears
// a Feed error.
func (d *Decoder) End() {
	d.err = nil
	d.started = false
	d.skipLF = false
	d.line = release(d.line)
	d.view, d.viewSet = nil, false
	d.data = release(d.data)
	d.typ = d.typ[:0]
	d.id = append(d.id[:0], d.lastIDb...)
	d.retryNow = 0
}

// LastEventID returns the last event ID string: the value committed by the
// latest blank line that followed an id field, or set by SetLastEventID.
// A client sends it as Last-Event-ID when it reconnects.
func (d *Decoder) LastEventID() string {
	if !d.lastOK {
		d.lastID, d.lastOK = string(d.lastIDb), true
	}
	return d.lastID
}

// SetLastEventID sets the last event ID, for a client that restores it
// from elsewhere before the first Feed (or after End).
func (d *Decoder) SetLastEventID(id string) {
	d.lastID, d.lastOK = id, true
	d.lastIDb = append(d.lastIDb[:0], id...)
	d.id = append(d.id[:0], id...)
}

// Retry returns the reconnection time: the value of the latest valid retry
// field, or the value given to SetRetry, or 0 when there has been neither.
// Retry values too large for a time.Duration are clamped to its maximum.
func (d *Decoder) Retry() time.Duration { return d.retry }

// SetRetry sets the reconnection time, for example to a client's default
// before the first Feed, so that Retry always returns the value to use and
// an explicit "retry: 0" is told apart from none.
func (d *Decoder) SetRetry(r time.Duration) { d.retry = r }

var bom = []byte("\xEF\xBB\xBF")

// processLine interprets one complete line, given without its line ending;
// at is its offset in the chunk being fed, or -1 when it is not all in it.
func (d *Decoder) processLine(line []byte, at int, emit func(*EventView)) error {
	end := at + len(line)
	if !d.started {
		d.started = true
		line = bytes.TrimPrefix(line, bom)
	}
	if len(line) == 0 {
		d.dispatch(emit)
		return nil
	}
	if line[0] == ':' {
		return nil
	}
	name, value := line, line[len(line):]
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	// Only ASCII bytes matter to the syntax, and the UTF-8 decoder never
	// merges an ASCII byte into a sequence, so decoding the value alone
	// gives the same text as decoding the whole line.
	switch string(name) {
	case "data":
		if at < 0 {
			return d.dataLine(value, -1)
		}
		return d.dataLine(value, end-len(value))
	case "event":
		d.typ = AppendUTF8(d.typ[:0], value)
	case "id":
		if bytes.IndexByte(value, 0) < 0 {
			d.id = AppendUTF8(d.id[:0], value)
		}
	case "retry":
		if ms, ok := parseDigits(value); ok {
			d.retry, d.retryNow = ms, ms
		}
		return nil
	default:
		return nil
	}
	return d.checkSize()
}

// dataLine interprets a data field whose value is at offset at in the chunk
// being fed, or not all in it (-1).
func (d *Decoder) dataLine(value []byte, at int) error {
	n16, valid := validUTF16Len(value)
	if valid && !d.viewSet && len(d.data) == 0 && at >= 0 {
		d.view, d.viewAt, d.view16, d.viewSet = value, at, n16, true
		return d.checkSize()
	}
	d.unview()
	d.data = slices.Grow(d.data, len(value)+1) // one growth for both appends
	if valid {
		d.data = append(d.data, value...)
	} else {
		d.data = appendReplacing(d.data, value)
	}
	d.data = append(d.data, '\n')
	return d.checkSize()
}

// checkSize fails when the event being built is over MaxEventSize.
func (d *Decoder) checkSize() error {
	if len(d.view)+max(len(d.data)-1, 0)+len(d.typ)+len(d.id) > d.limit() {
		return d.tooLarge()
	}
	return nil
}

// dispatch handles a blank line.
func (d *Decoder) dispatch(emit func(*EventView)) {
	retry := d.retryNow
	d.retryNow = 0
	if !bytes.Equal(d.id, d.lastIDb) {
		d.lastIDb = append(d.lastIDb[:0], d.id...)
		d.lastOK = false
	}
	if len(d.data) == 0 && !d.viewSet {
		d.typ = d.typ[:0]
		return
	}
	v := &d.ev
	v.Type = message
	if len(d.typ) > 0 {
		v.Type = d.typ
	}
	if d.viewSet {
		v.Data, v.DataAt, v.DataUTF16 = d.view, d.viewAt, d.view16
	} else {
		v.Data, v.DataAt = d.data[:len(d.data)-1], -1 // without the final LF
		v.DataUTF16 = UTF16Len(v.Data)
	}
	v.ID, v.Retry = d.lastIDb, retry
	if emit != nil {
		emit(v)
	}
	v.Data = nil // do not pin the chunk
	d.view, d.viewSet = nil, false
	d.data = release(d.data)
	d.typ = d.typ[:0]
}

// message is the default event type.
var message = []byte("message")

// unview copies a data line still viewed in the chunk into the data buffer.
func (d *Decoder) unview() {
	if d.viewSet {
		d.data = append(append(d.data, d.view...), '\n')
		d.view, d.viewSet = nil, false
	}
}

// keepBuffer is the largest buffer capacity kept for reuse after an event.
const keepBuffer = 256 << 10

// release empties b for reuse, or drops it when it grew past keepBuffer, so
// that one big event does not pin its memory for the life of the stream.
func release(b []byte) []byte {
	if cap(b) > keepBuffer {
		return nil
	}
	return b[:0]
}

// parseDigits parses a non-empty run of ASCII digits as milliseconds,
// clamping at the largest time.Duration.
func parseDigits(b []byte) (time.Duration, bool) {
	if len(b) == 0 {
		return 0, false
	}
	const maxMS = math.MaxInt64 / int64(time.Millisecond)
	var ms int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if ms <= maxMS { // past maxMS it is clamped anyway; stop growing
			ms = ms*10 + int64(c-'0')
		}
	}
	if ms > maxMS {
		return math.MaxInt64, true
	}
	return time.Duration(ms) * time.Millisecond, true
}
