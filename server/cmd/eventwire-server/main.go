// Command eventwire-server is the eventwire demo and test server: SSE
// streams and long-polls from a Hub, a publish endpoint, batch ingest
// (WebSocket and HTTP POST at /ingest, written to a sink: NDJSON on
// standard output by default), the static build output and a demo page.
// It prints the URL to open (on standard error when the sink writes to
// standard output) and shuts down gracefully on SIGINT or SIGTERM. See the
// documentation of package github.com/eventwire/eventwire/server for the
// endpoints and wire format, and -help for the flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
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
		cfg           server.Config
		corsOrigins   string
		ingestOrigins string
		ingestSink    string
		ingestSync    bool
		logLevel      slog.Level
		logJSON       bool
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
	flag.BoolVar(&cfg.Ingest, "ingest", true, "enable batch ingest at "+server.IngestPath+" (WebSocket, and HTTP POST of one frame)")
	flag.StringVar(&ingestSink, "ingest-sink", "stdout", "`sink` of ingested messages, one JSON record per line: stdout, stderr, file:PATH (appended) or none")
	flag.BoolVar(&ingestSync, "ingest-sync", false, "fsync the ingest sink file before every acknowledgement (survives power loss; slower)")
	flag.StringVar(&ingestOrigins, "ingest-origins", "", "comma-separated origin `patterns` allowed to ingest cross-origin (host or scheme://host, path.Match wildcards; \"*\" any; default same origin only)")
	flag.DurationVar(&cfg.IngestHeartbeat, "ingest-heartbeat", server.DefaultIngestHeartbeat, "ping an ingest WebSocket silent this long; drop it without a pong within "+server.DefaultIngestHeartbeatTimeout.String()+" (negative: no pings)")
	flag.IntVar(&cfg.IngestMaxSessions, "ingest-sessions", server.DefaultIngestMaxSessions, "session states kept for deduplication (least recently used idle ones are evicted)")
	flag.DurationVar(&cfg.IngestSessionTTL, "ingest-session-ttl", server.DefaultIngestSessionTTL, "how long an idle session's state is kept for deduplication")
	flag.TextVar(&logLevel, "log-level", slog.LevelInfo, "log `level`: debug, info, warn or error")
	flag.BoolVar(&logJSON, "log-json", false, "write logs as JSON instead of text")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", flag.Args())
	}
	cfg.CORSOrigins = splitList(corsOrigins)
	cfg.IngestOrigins = splitList(ingestOrigins)

	opts := &slog.HandlerOptions{Level: logLevel}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if logJSON {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	cfg.Logger = slog.New(h)
	slog.SetDefault(cfg.Logger)

	var out io.Writer = os.Stdout
	if cfg.Ingest {
		sink, err := server.OpenSink(ingestSink, server.NDJSONOptions{Sync: ingestSync})
		if err != nil {
			return err
		}
		if c, ok := sink.(io.Closer); ok {
			defer func() {
				if err := c.Close(); err != nil {
					cfg.Logger.Error("eventwire: closing the ingest sink", "err", err)
				}
			}()
		}
		cfg.IngestSink = sink
		if ingestSink == "stdout" {
			out = os.Stderr // keep standard output pure NDJSON
		}
	}

	srv, err := server.NewServer(cfg)
	if err != nil {
		return err
	}
	url, err := srv.Start()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "eventwire-server: open %s\n", url)

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
	return srv.Shutdown(sctx) // then the deferred sink Close
}

// splitList splits a comma-separated flag value, dropping empty entries.
func splitList(s string) []string {
	var list []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			list = append(list, v)
		}
	}
	return list
}
