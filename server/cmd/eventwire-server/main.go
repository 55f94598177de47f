// Command eventwire-server is the eventwire demo and test server: SSE
// streams and long-polls from a Hub, a publish endpoint, the static build
// output and a demo page. It prints the URL to open and shuts down
// gracefully on SIGINT or SIGTERM. See the documentation of package
// github.com/eventwire/eventwire/server for the endpoints and wire format,
// and -help for the flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/eventwire/eventwire/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "eventwire-server:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		cfg         server.Config
		corsOrigins string
		logLevel    slog.Level
		logJSON     bool
	)
	flag.StringVar(&cfg.Addr, "addr", server.DefaultAddr, "listen `address` (host:port; port 0 picks a free one)")
	flag.BoolVar(&cfg.TLS, "tls", false, "serve HTTPS with a self-signed certificate generated at start (localhost, 127.0.0.1, ::1), with HTTP/2")
	flag.StringVar(&cfg.StaticDir, "static", "dist", "`directory` served at /dist/ (precompressed .br/.gz variants by Accept-Encoding); empty to serve none")
	flag.BoolVar(&cfg.Demo, "demo", true, "publish market-like prices on topic \"ticker\" every 250ms for the demo page at /")
	flag.BoolVar(&cfg.Publish, "publish", false, "enable POST /publish/{topic}?event=TYPE (body = data; answers the assigned id)")
	flag.StringVar(&cfg.PublishToken, "publish-token", "", "require \"Authorization: Bearer `token`\" on POST /publish (default none)")
	flag.DurationVar(&cfg.Heartbeat, "heartbeat", server.DefaultHeartbeat, "interval of heartbeat comments on streams (negative: none)")
	flag.DurationVar(&cfg.Retry, "retry", server.DefaultRetry, "reconnection delay sent to clients as retry: (negative: none)")
	flag.IntVar(&cfg.History, "history", server.DefaultHistorySize, "events kept per topic for replay (negative: none)")
	flag.IntVar(&cfg.SubscriberBuffer, "buffer", server.DefaultSubscriberBuffer, "events a stream may fall behind before it is evicted as too slow")
	flag.DurationVar(&cfg.LongPollWait, "longpoll-wait", server.DefaultLongPollWait, "how long a long-poll (?transport=longpoll) waits for an event")
	flag.StringVar(&corsOrigins, "cors-origins", "", "comma-separated `origins` allowed cross-origin, with credentials (default none; \"*\" allows any without credentials)")
	flag.StringVar(&cfg.LastEventIDParam, "last-event-id-param", server.DefaultLastEventIDParam, "query `parameter` that may carry the last event ID (the Last-Event-ID header wins)")
	flag.BoolVar(&cfg.Hijack, "hijack", true, "take HTTP/1.1 stream connections over after the headers: far less memory per stream (streams end by closing the connection)")
	flag.TextVar(&logLevel, "log-level", slog.LevelInfo, "log `level`: debug, info, warn or error")
	flag.BoolVar(&logJSON, "log-json", false, "write logs as JSON instead of text")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", flag.Args())
	}
	for o := range strings.SplitSeq(corsOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			cfg.CORSOrigins = append(cfg.CORSOrigins, o)
		}
	}

	opts := &slog.HandlerOptions{Level: logLevel}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if logJSON {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	cfg.Logger = slog.New(h)
	slog.SetDefault(cfg.Logger)

	srv, err := server.NewServer(cfg)
	if err != nil {
		return err
	}
	url, err := srv.Start()
	if err != nil {
		return err
	}
	fmt.Printf("eventwire-server: open %s\n", url)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
		cfg.Logger.Info("eventwire: shutting down")
	case err := <-srv.Err():
		_ = srv.Close()
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
