#!/usr/bin/env bash
# Server section of `make bench`: builds server/cmd/eventwire-loadgen and runs
# it on loopback against the server (started by the load generator as a child
# process, so that its memory is measured apart), printing one markdown table
# per run. Every run stops by itself (-duration).
#
#   scripts/bench-server.sh                 # the runs below, 100k streams each
#   BENCH_SERVER_RUNS="h1" scripts/bench-server.sh -streams 20000
#   scripts/bench-server.sh -quick          # a small smoke run of each
#
# Runs (BENCH_SERVER_RUNS, space separated; default "h1 h2c"):
#   h1        HTTP/1.1, one TCP connection per stream, as the eventwire-server
#             binary serves it (streams hijacked from net/http: -hijack, its default)
#   h1-nohijack  the same with the streams left in net/http (-hijack=false)
#   h2c       HTTP/2 with prior knowledge, ~200 streams per TCP connection
# Extra arguments go to every run (see `go run ./server/cmd/eventwire-loadgen -h`).
# Results are also written as JSON to $BENCH_OUT (default /tmp/eventwire-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${BENCH_SERVER_RUNS:-"h1 h2c"}
out=${BENCH_OUT:-/tmp/eventwire-bench}
mkdir -p "$out"
bin="$out/eventwire-loadgen"
go build -o "$bin" ./server/cmd/eventwire-loadgen

echo "## server benchmark (loopback, $(nproc) CPUs; RLIMIT_NOFILE soft/hard $(ulimit -Sn)/$(ulimit -Hn))"
for run in $runs; do
  case $run in
    h1)          args=(-proto h1 -hijack) ;;
    h1-nohijack) args=(-proto h1 -hijack=false) ;;
    # Heartbeats every 4 s keep idle HTTP/2 streams alive: the server's
    # per-write deadline (10 s) is left armed between writes and resets
    # idle HTTP/2 streams when it fires.
    h2c)         args=(-proto h2c) ;;
    *) echo "bench-server: unknown run $run" >&2; exit 2 ;;
  esac
  "$bin" -q "${args[@]}" -json "$out/$run.json" "$@"
done
