package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/eventwire/eventwire/server"
)

// serveMain is the server mode (this binary re-executed with
// EVENTWIRE_LOADGEN_SERVE=1): server.NewServer, the handler the
// eventwire-server binary runs, with publishing on, served by an
// http.Server configured as server.Server.Start configures it (plus
// unencrypted HTTP/2 with -h2c), and net/http/pprof on -debug-addr so that
// the load generator can read the Go runtime's memory figures and profiles.
func serveMain(args []string) error {
	fs := flag.NewFlagSet("eventwire-loadgen server mode", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	debugAddr := fs.String("debug-addr", "", "net/http/pprof listen address")
	token := fs.String("publish-token", "", "require Authorization: Bearer TOKEN to publish")
	heartbeat := fs.Duration("heartbeat", 0, "heartbeat interval (0: server default)")
	hijack := fs.Bool("hijack", false, "take HTTP/1.x stream connections over from net/http (server.Config.Hijack)")
	h2c := fs.Bool("h2c", false, "also serve HTTP/2 with prior knowledge on plain TCP")
	maxStreams := fs.Int("h2-max-streams", 0, "HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS (0: net/http default, 250)")
	subBuf := fs.Int("subscriber-buffer", 0, "server.Config.SubscriberBuffer (0: default)")
	history := fs.Int("history", 0, "server.Config.History (0: default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	s, err := server.NewServer(server.Config{
		Addr:             *addr,
		Publish:          true,
		PublishToken:     *token,
		Heartbeat:        *heartbeat,
		Hijack:           *hijack,
		SubscriberBuffer: *subBuf,
		History:          *history,
		Logger:           log,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if *h2c {
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		srv.Protocols = &p
		if *maxStreams > 0 {
			srv.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: *maxStreams}
		}
	}
	srv.RegisterOnShutdown(s.Hub().Close)
	if *debugAddr != "" {
		dmux := http.NewServeMux()
		dmux.HandleFunc("/debug/pprof/", pprof.Index)
		dmux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		dl, err := net.Listen("tcp", *debugAddr)
		if err != nil {
			return err
		}
		go func() { _ = http.Serve(dl, dmux) }()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = s.Close()
	}()
	fmt.Fprintf(os.Stderr, "eventwire-loadgen server mode on http://%s (h2c %v, hijack %v)\n", ln.Addr(), *h2c, *hijack)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
