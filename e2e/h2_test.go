package e2e

import (
	"fmt"
	"testing"
)

// manyStreams is how many EventSources the page opens to one origin: more
// than the 6 connections per host a browser allows over HTTP/1.1.
const manyStreams = 10

// http1ConnLimit is Chromium's limit of HTTP/1.1 connections per host.
const http1ConnLimit = 6

// openMany opens manyStreams EventSources named s0..s9 on one topic.
const openMany = `for (let i = 0; i < 10; i++) openES("s" + i, "/events/many");`

// countOpened counts the sources that have opened at least once;
// countWithEvents those that have received at least one event.
const (
	countOpened     = `Object.values(state.sources).filter(s => s.opened > 0).length`
	countWithEvents = `Object.values(state.sources).filter(s => s.events.length > 0).length`
)

// TestHTTP2ManyStreams proves why the server speaks HTTP/2: over HTTP/1.1 a
// page gets only 6 concurrent event streams to one origin and the others
// wait in CONNECTING, while over HTTP/2 (TLS with the server's self-signed
// certificate) all 10 share one connection and receive events.
func TestHTTP2ManyStreams(t *testing.T) {
	t.Run("http1.1-six-at-once", func(t *testing.T) {
		srv := startServer(t, serverConfig{})
		p := newPage(t)
		p.navigate(srv.URL() + "/e2e/blank.html")
		p.run(openMany)
		p.waitFor("6 streams to open", countOpened+` === 6`)
		e := srv.publish("many", "to the open ones")
		p.waitFor("the open streams to get the event", countWithEvents+` === 6`)

		// The 6 open streams have their event; the other 4 must still be
		// waiting for a connection.
		states := evalJS[map[string]int](p, `readyStates()`)
		open, connecting := 0, 0
		for _, rs := range states {
			switch rs {
			case 1:
				open++
			case 0:
				connecting++
			}
		}
		if open != http1ConnLimit || connecting != manyStreams-http1ConnLimit {
			t.Fatalf("readyStates %v: %d OPEN and %d CONNECTING, want %d and %d",
				states, open, connecting, http1ConnLimit, manyStreams-http1ConnLimit)
		}
		if n := evalJS[int](p, countOpened); n != http1ConnLimit {
			t.Fatalf("%d streams have opened, want %d", n, http1ConnLimit)
		}
		if got := srv.Hub().Stats().Subscribers; got != http1ConnLimit {
			t.Errorf("server has %d subscribers, want %d", got, http1ConnLimit)
		}
		for name, rs := range states {
			if rs != 1 {
				continue
			}
			s := getES(p, name)
			checkEvents(t, "event on open stream "+name, s.Events, want(e))
		}

		// Closing the open ones frees their connections: the waiting
		// streams were only queued, and now connect.
		p.run(`for (const [name, rs] of Object.entries(readyStates())) if (rs === 1) closeES(name);`)
		p.waitFor("the 4 queued streams to open", countOpened+` === 10`)
		srv.publish("many", "to the late ones")
		p.waitFor("the late streams to get the event", countWithEvents+` === 10`)
		for _, r := range srv.Gate().seen() {
			if r.Proto != "HTTP/1.1" {
				t.Errorf("stream request over %s, want HTTP/1.1", r.Proto)
			}
		}
	})

	t.Run("h2-tls-all-ten", func(t *testing.T) {
		srv := startServer(t, serverConfig{TLS: true})
		p := newTLSPage(t)
		p.navigate(srv.URL() + "/e2e/blank.html")
		if proto := evalJS[string](p, `performance.getEntriesByType("navigation")[0].nextHopProtocol`); proto != "h2" {
			t.Fatalf("page loaded over %q, want h2", proto)
		}
		p.run(openMany)
		p.waitFor("all 10 streams to open", countOpened+fmt.Sprintf(` === %d`, manyStreams))
		e := srv.publish("many", "to all ten")
		p.waitFor("all 10 streams to get the event", countWithEvents+fmt.Sprintf(` === %d`, manyStreams))
		for i := range manyStreams {
			name := fmt.Sprintf("s%d", i)
			s := getES(p, name)
			checkEvents(t, "event on stream "+name, s.Events, want(e))
			if s.ReadyState != 1 {
				t.Errorf("%s readyState %d, want 1 (OPEN)", name, s.ReadyState)
			}
		}
		reqs := srv.Gate().seen()
		if len(reqs) != manyStreams {
			t.Errorf("server saw %d stream requests, want %d", len(reqs), manyStreams)
		}
		for _, r := range reqs {
			if r.Proto != "HTTP/2.0" {
				t.Errorf("stream request over %s, want HTTP/2.0", r.Proto)
			}
		}
	})
}
