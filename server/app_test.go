package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventwire/eventwire/protocol/sse"
)

// startServer starts a Server on a free loopback port, as the binary does.
func startServer(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	url, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, strings.TrimSuffix(url, "/")
}

func TestServerEndpoints(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "eventwire.wasm"), []byte("wasm"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "eventwire.wasm.br"), []byte("br"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, url := startServer(t, Config{StaticDir: dir, Publish: true, PublishToken: "tok", CORSOrigins: []string{"http://app.test"}, Hijack: true})
	if !strings.HasPrefix(url, "http://127.0.0.1:") || s.URL() != url+"/" {
		t.Errorf("URL %q / %q", url, s.URL())
	}

	resp, body := get(t, "GET", url+"/healthz", nil, "")
	var h health
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &h) != nil || h.Status != "ok" || h.Hub.Epoch != s.Hub().Epoch() {
		t.Errorf("healthz: %s %q", resp.Status, body)
	}
	resp, body = get(t, "GET", url+"/", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `new EventSource("/events/ticker")`) ||
		resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("demo page: %s %.80q", resp.Status, body)
	}
	if resp, _ = get(t, "GET", url+"/nothing-here", nil, ""); resp.StatusCode != 404 {
		t.Errorf("unknown path: %s", resp.Status)
	}
	resp, body = get(t, "GET", url+"/dist/eventwire.wasm", http.Header{"Accept-Encoding": {"br"}}, "")
	if resp.StatusCode != 200 || body != "br" || resp.Header.Get("Content-Type") != "application/wasm" {
		t.Errorf("static: %s %q %v", resp.Status, body, resp.Header)
	}

	st := open(t, url+"/events/news", http.Header{"Origin": {"http://app.test"}})
	if st.resp.Header.Get("Access-Control-Allow-Origin") != "http://app.test" {
		t.Errorf("CORS on stream: %v", st.resp.Header)
	}
	resp, id := get(t, "POST", url+"/publish/news?event=headline", http.Header{"Authorization": {"Bearer tok"}}, "hello")
	if resp.StatusCode != 200 {
		t.Fatalf("publish: %s", resp.Status)
	}
	if e := st.next(t); e.ID != id || e.Type != "headline" || e.Data != "hello" {
		t.Errorf("event %+v, want %s", e, id)
	}
	if resp, _ = get(t, "POST", url+"/publish/news", nil, "x"); resp.StatusCode != 401 {
		t.Errorf("publish without token: %s", resp.Status)
	}
	resp, _ = get(t, "OPTIONS", url+"/events/news", http.Header{"Origin": {"http://app.test"}, "Access-Control-Request-Method": {"GET"}}, "")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "http://app.test" {
		t.Errorf("preflight through the mux: %s %v", resp.Status, resp.Header)
	}
}

func TestServerPublishOffByDefault(t *testing.T) {
	_, url := startServer(t, Config{})
	if resp, _ := get(t, "POST", url+"/publish/t", nil, "x"); resp.StatusCode != 404 && resp.StatusCode != 405 {
		t.Errorf("publish while disabled: %s", resp.Status)
	}
}

func TestServerDemoTicker(t *testing.T) {
	_, url := startServer(t, Config{Demo: true})
	st := open(t, url+"/events/"+DemoTopic, nil)
	var prev string
	for range 2 {
		e := st.next(t)
		var tk tick
		if err := json.Unmarshal([]byte(e.Data), &tk); err != nil || len(tk.Quotes) == 0 || tk.Quotes[0].Price <= 0 {
			t.Fatalf("tick %q: %v", e.Data, err)
		}
		if e.ID == prev {
			t.Errorf("repeated id %s", e.ID)
		}
		prev = e.ID
	}
}

func TestServerGracefulShutdownEndsStreams(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s, url := startServer(t, Config{Hijack: m.hijack, LongPollWait: time.Hour})
			st := open(t, url+"/events/t", nil)
			lp := make(chan error, 1)
			go func() {
				resp, err := http.Get(url + "/events/t?transport=longpoll")
				if err == nil {
					resp.Body.Close()
				}
				lp <- err
			}()
			waitFor(t, "subscribers", func() bool { return s.Hub().Stats().Subscribers == 2 })
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			if err := s.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v (streams kept it from finishing?)", err)
			}
			st.ended(t)
			select {
			case err := <-lp:
				if err != nil {
					t.Errorf("long-poll: %v", err)
				}
			case <-time.After(guard):
				t.Fatal("long-poll did not end")
			}
			if _, err := http.Get(url + "/healthz"); err == nil {
				t.Error("server still accepts connections")
			}
		})
	}
}

func TestServerTLSHTTP2(t *testing.T) {
	s, url := startServer(t, Config{TLS: true, Hijack: true})
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("URL %s", url)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	// Several streams over one HTTP/2 connection (never hijacked).
	var readers []*sse.Reader
	for range 3 {
		resp, err := client.Get(url + "/events/t")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Fatalf("protocol %s, want HTTP/2", resp.Proto)
		}
		readers = append(readers, sse.NewReader(resp.Body, sse.DecoderOptions{}))
	}
	waitFor(t, "subscribers", func() bool { return s.Hub().Stats().Subscribers == 3 })
	id := publish(t, s.Hub(), "t", "", "over h2")
	for _, rd := range readers {
		done := make(chan sse.Event, 1)
		go func() { e, _ := rd.Next(); done <- e }()
		select {
		case e := <-done:
			if e.ID != id || e.Data != "over h2" {
				t.Errorf("event %+v", e)
			}
		case <-time.After(guard):
			t.Fatal("no event over HTTP/2")
		}
	}
	// HTTP/1.1 over TLS is hijacked and works too.
	tr1 := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
	defer tr1.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr1}).Get(url + "/events/t?lastEventId=" + s.Hub().Epoch() + "-0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 1 || !resp.Close {
		t.Errorf("HTTP/1.1 stream: %s %v", resp.Proto, resp.Header)
	}
	if e, err := sse.NewReader(resp.Body, sse.DecoderOptions{}).Next(); err != nil || e.ID != id {
		t.Errorf("HTTP/1.1 replay: %+v %v", e, err)
	}
}

func TestSelfSignedTLS(t *testing.T) {
	cfg, err := SelfSignedTLS()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.NextProtos) == 0 || cfg.NextProtos[0] != "h2" {
		t.Errorf("NextProtos %v", cfg.NextProtos)
	}
	leaf := cfg.Certificates[0].Leaf
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: roots}); err == nil {
		t.Error("certificate valid for example.com")
	}
	if leaf.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("key algorithm %v", leaf.PublicKeyAlgorithm)
	}
}
