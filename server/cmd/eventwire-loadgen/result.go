package main

import "time"

// MemSample is the server's memory at one moment. RSS comes from
// /proc/<pid>/status; the Go runtime figures come from the server's debug
// endpoint when it has one (HaveRuntime).
type MemSample struct {
	RSS         int64  `json:"rss"`
	HaveRuntime bool   `json:"have_runtime"`
	NoGC        bool   `json:"no_gc,omitempty"` // runtime figures taken without a GC first
	HeapInuse   uint64 `json:"heap_inuse"`
	HeapAlloc   uint64 `json:"heap_alloc"`
	StackInuse  uint64 `json:"stack_inuse"`
	Sys         uint64 `json:"sys"`
	Goroutines  int    `json:"goroutines"`
}

// PhaseStats reports one publishing phase.
type PhaseStats struct {
	Name        string        `json:"name"`
	Events      int           `json:"events"`      // events published
	Subscribers int           `json:"subscribers"` // live subscribers when the phase began
	Expected    int64         `json:"expected"`    // Events × Subscribers
	Delivered   int64         `json:"delivered"`   // events received in order
	Missing     int64         `json:"missing"`     // Expected - Delivered
	OutOfOrder  int64         `json:"out_of_order"`
	P50         time.Duration `json:"p50_ns"`
	P99         time.Duration `json:"p99_ns"`
	Max         time.Duration `json:"max_ns"`
	// WorstLast is the slowest broadcast's time from publish to its last
	// delivery (latency phase only).
	WorstLast time.Duration `json:"worst_last_ns"`
	// PerEvent has p99 and last delivery of each latency broadcast.
	PerEvent []EventStats `json:"per_event,omitempty"`
	// Wall is first publish to last delivery; EventsPerSec = Delivered/Wall.
	Wall         time.Duration `json:"wall_ns"`
	EventsPerSec float64       `json:"events_per_sec"`
	ServerCPU    time.Duration `json:"server_cpu_ns"`
	ClientCPU    time.Duration `json:"client_cpu_ns"` // the load generator's CPU in the phase
	PublishErrs  int           `json:"publish_errors"`
}

// EventStats describes the delivery of one broadcast.
type EventStats struct {
	Delivered int64         `json:"delivered"`
	P50       time.Duration `json:"p50_ns"`
	P99       time.Duration `json:"p99_ns"`
	Last      time.Duration `json:"last_ns"` // publish to the last subscriber
}

// Result is the outcome of Run.
type Result struct {
	Proto          string         `json:"proto"`
	Note           string         `json:"note,omitempty"`
	LoadAvg        [2]string      `json:"load_avg"` // 1-minute load average at start and end
	Streams        int            `json:"streams_wanted"`
	TCPConns       int64          `json:"tcp_conns"` // TCP connections the streams used
	Connected      int            `json:"connected"`
	ConnectTime    time.Duration  `json:"connect_ns"`
	ConnectRate    float64        `json:"connect_per_sec"`
	ConnectErrors  map[string]int `json:"connect_errors,omitempty"`
	StopReason     string         `json:"stop_reason,omitempty"` // why fewer than Streams connected
	Sources        int            `json:"sources"`
	HeldAfterHold  int            `json:"held_after_hold"`
	Held           int            `json:"held"` // streams that received the final check event
	ClosedEarly    map[string]int `json:"closed_early,omitempty"`
	MemBase        *MemSample     `json:"mem_base,omitempty"`
	MemHeld        *MemSample     `json:"mem_held,omitempty"`
	MemAfter       *MemSample     `json:"mem_after,omitempty"`
	Latency        *PhaseStats    `json:"latency,omitempty"`
	Burst          *PhaseStats    `json:"burst,omitempty"`
	Check          *PhaseStats    `json:"check,omitempty"`
	ClientCPU      time.Duration  `json:"client_cpu_ns"`
	ClientMaxRSS   int64          `json:"client_max_rss"`
	Total          time.Duration  `json:"total_ns"`
	DeadlineHit    bool           `json:"deadline_hit"`
	ServerExited   bool           `json:"server_exited"`
	PerStreamRSS   float64        `json:"per_stream_rss"`
	PerStreamHeap  float64        `json:"per_stream_heap_stack"`
	PerStreamAfter float64        `json:"per_stream_rss_after_traffic"`
}

func (r *Result) computePerStream() {
	if r.MemBase == nil || r.MemHeld == nil || r.HeldAfterHold == 0 {
		return
	}
	n := float64(r.HeldAfterHold)
	r.PerStreamRSS = float64(r.MemHeld.RSS-r.MemBase.RSS) / n
	if r.MemBase.HaveRuntime && r.MemHeld.HaveRuntime {
		b := r.MemBase.HeapInuse + r.MemBase.StackInuse
		h := r.MemHeld.HeapInuse + r.MemHeld.StackInuse
		r.PerStreamHeap = (float64(h) - float64(b)) / n
	}
	if r.MemAfter != nil && r.Held > 0 {
		r.PerStreamAfter = float64(r.MemAfter.RSS-r.MemBase.RSS) / float64(r.Held)
	}
}
