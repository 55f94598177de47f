package server

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/eventwire/eventwire/protocol/batch"
)

// RecorderStatsInterval is how often the demo pushes a stats message to
// each session that sent messages since the last one.
const RecorderStatsInterval = time.Second

// recorderIdle is how long a session without new messages stays in the
// demo's stats.
const recorderIdle = time.Minute

// recorderStats counts what the demo page's recorder sessions send, and
// pushes each active session a small JSON message about it:
//
//	{"kind":"stats","session":{"messages":120,"batches":7,"lastSeq":120},
//	 "server":{"messages":5012,"sessions":3}}
//
// session counts that session's messages accepted by the Sink, the Sink
// calls they took (batches, as deduplicated), and the last sequence
// number; server counts the messages of all sessions since the start and
// the sessions active in the last minute.
type recorderStats struct {
	mu       sync.Mutex
	sessions map[batch.SessionID]*recorderSession
	total    uint64
}

type recorderSession struct {
	Messages uint64 `json:"messages"`
	Batches  uint64 `json:"batches"`
	LastSeq  uint64 `json:"lastSeq"`
	seen     time.Time
	dirty    bool
}

type recorderMessage struct {
	Kind    string           `json:"kind"`
	Session *recorderSession `json:"session"`
	Server  struct {
		Messages uint64 `json:"messages"`
		Sessions int    `json:"sessions"`
	} `json:"server"`
}

func newRecorderStats() *recorderStats {
	return &recorderStats{sessions: make(map[batch.SessionID]*recorderSession)}
}

// onAccept is the IngestOptions.OnAccept hook.
func (d *recorderStats) onAccept(session batch.SessionID, firstSeq uint64, n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.sessions[session]
	if s == nil {
		s = &recorderSession{}
		d.sessions[session] = s
	}
	s.Messages += uint64(n)
	s.Batches++
	s.LastSeq = firstSeq + uint64(n) - 1
	s.seen = time.Now()
	s.dirty = true
	d.total += uint64(n)
}

// run pushes the stats every interval until ctx is done. A session whose
// push queue is full (its client does not acknowledge) simply misses
// updates.
func (d *recorderStats) run(ctx context.Context, h *IngestHandler, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	type out struct {
		id   batch.SessionID
		data []byte
	}
	var msgs []out
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		msgs = msgs[:0]
		d.mu.Lock()
		var m recorderMessage
		m.Kind = "stats"
		m.Server.Messages = d.total
		for id, s := range d.sessions {
			if time.Since(s.seen) > recorderIdle {
				delete(d.sessions, id)
			}
		}
		m.Server.Sessions = len(d.sessions)
		for id, s := range d.sessions {
			if !s.dirty {
				continue
			}
			s.dirty = false
			m.Session = s
			if b, err := json.Marshal(&m); err == nil {
				msgs = append(msgs, out{id, b})
			}
		}
		d.mu.Unlock()
		for _, o := range msgs {
			_ = h.Send(o.id, batch.Message{Data: o.data})
		}
	}
}
