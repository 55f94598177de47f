package batch

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
)

// goldenVectors are the test vectors of PROTOCOL.md: each valid one with
// its value, each invalid one with the error class it must be rejected
// with. TestGoldenVectors checks the document's hex against them.
var goldenVectors = []struct {
	name string
	v    any   // the value of a valid vector
	err  error // the class an invalid vector is rejected with
}{
	{name: "hello", v: Hello{Session: testSession}},
	{name: "hello-resume", v: Hello{Session: testSession, Acked: 300, Received: 7, Limits: Limits{65536, 1024, 262144}}},
	{name: "batch", v: batchVal{testSession, 0, 1, []Message{text("hello"), binary("\x00\xff"), text("")}}},
	{name: "batch-empty", v: batchVal{testSession, 3, 4, nil}},
	{name: "batch-128", v: batchVal{testSession, 299, 300, []Message{text(strings.Repeat("x", 128))}}},
	{name: "batch-127", v: batchVal{testSession, 300, 301, []Message{text(strings.Repeat("x", 127))}}},
	{name: "push", v: pushVal{41, 42, []Message{text("ok"), binary("\x01\x02\x03")}}},
	{name: "ack", v: Ack{300}},
	{name: "ack-zero", v: Ack{0}},
	{name: "ack-max", v: Ack{MaxSeq}},
	{name: "close", v: Close{CodeNormal, ""}},
	{name: "close-version", v: Close{CodeVersion, "batch: unsupported version 2 (supported: 1)"}},

	{name: "bad-version", err: ErrVersion},
	{name: "bad-type", err: ErrMalformed},
	{name: "bad-trailing", err: ErrMalformed},
	{name: "bad-varint", err: ErrMalformed},
	{name: "bad-seq-max", err: ErrMalformed},
	{name: "bad-session", err: ErrMalformed},
	{name: "bad-first-seq", err: ErrMalformed},
	{name: "bad-seq-overflow", err: ErrMalformed},
	{name: "bad-acked", err: ErrMalformed},
	{name: "bad-truncated", err: ErrMalformed},
	{name: "bad-long-text", err: ErrMalformed},
	{name: "bad-close-code", err: ErrMalformed},
	{name: "bad-message-size", err: ErrLimit},
}

// readVectors returns the hex vectors of PROTOCOL.md by name: a heading
// "#### `name`" followed by a fenced block of hex bytes, where "#" starts
// a comment.
func readVectors() (map[string][]byte, []string, error) {
	f, err := os.Open("PROTOCOL.md")
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	heading := regexp.MustCompile("^#### `([a-z0-9-]+)`")
	vectors := map[string][]byte{}
	var order []string
	name, inBlock := "", false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```"):
			if inBlock {
				name = ""
			}
			inBlock = !inBlock && name != ""
		case inBlock:
			line, _, _ = strings.Cut(line, "#")
			b, err := hex.DecodeString(strings.Join(strings.Fields(line), ""))
			if err != nil {
				return nil, nil, errors.New("vector " + name + ": " + err.Error())
			}
			vectors[name] = append(vectors[name], b...)
		default:
			if m := heading.FindStringSubmatch(line); m != nil {
				name = m[1]
				if _, dup := vectors[name]; dup {
					return nil, nil, errors.New("vector " + name + " appears twice")
				}
				vectors[name] = []byte{}
				order = append(order, name)
			}
		}
	}
	return vectors, order, sc.Err()
}

func TestGoldenVectors(t *testing.T) {
	doc, order, err := readVectors()
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != len(goldenVectors) {
		t.Errorf("PROTOCOL.md has %d vectors %q; the test knows %d", len(order), order, len(goldenVectors))
	}
	for _, g := range goldenVectors {
		p, ok := doc[g.name]
		if !ok {
			t.Errorf("vector %s is missing from PROTOCOL.md", g.name)
			continue
		}
		v, err := decode(p, Limits{})
		if g.err != nil {
			if !errors.Is(err, g.err) {
				t.Errorf("vector %s: err = %v; want %v", g.name, err, g.err)
			}
			continue
		}
		if want := encode(g.v); !bytes.Equal(p, want) {
			t.Errorf("vector %s: PROTOCOL.md has\n% x\nthe encoder writes\n% x", g.name, p, want)
		}
		if err != nil || !equal(v, g.v) {
			t.Errorf("vector %s decodes to %+v, %v; want %+v", g.name, v, err, g.v)
		}
	}
}
