#!/usr/bin/env bash
# The three standard Hearth realtime benchmarks (see docs/benchmarks.md):
# each against a fresh release server with an empty database, the server
# pinned to core 0 and the generator to core 1, loopback only.
#
#   bench/run.sh [OUT_DIR]        # default target/bench-results
#
# Environment: HEARTH_BIN (server binary, default target/release/hearth),
# SKIP_BUILD=1 (use the binaries as they are), PORT (default 3300),
# SCENARIOS (default "latency throughput idle"; also cable-latency and
# cable-throughput, the same two runs through ActionCable's /cable, which
# docs/benchmarks.md sets beside latency and throughput), SERVER_ENV (extra
# VAR=value settings for the server, e.g. MALLOC_MMAP_THRESHOLD_=131072).
# Every socket comes from 127.0.0.1, so the server's per-IP connection limit
# (1,000 by default) is turned off with HEARTH_MAX_CONNECTIONS_PER_IP=0, and the message rate limit with HEARTH_MESSAGES_PER_MINUTE=0; HEARTH_SIGN_UP_POLICY=open lets the generator register its accounts.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-target/bench-results}
BIN=${HEARTH_BIN:-target/release/hearth}
BENCH=target/release/hearth-bench
PORT=${PORT:-3300}
SCENARIOS=${SCENARIOS:-latency throughput idle}
mkdir -p "$OUT"

if [ -z "${SKIP_BUILD:-}" ]; then
    cargo build --release -p server -p hearth-bench
fi
ulimit -n 20000

SERVER_PID=
DATA=
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
    if [ -n "$DATA" ]; then rm -rf "$DATA"; DATA=; fi
}
trap stop_server EXIT

start_server() {
    stop_server
    DATA=$(mktemp -d)
    # shellcheck disable=SC2086 # SERVER_ENV is a list of VAR=value words
    env ${SERVER_ENV:-} HEARTH_DATA_DIR="$DATA" HEARTH_LISTEN="127.0.0.1:$PORT" \
        HEARTH_SIGN_INS_PER_IP=100000 HEARTH_SIGN_INS_PER_ACCOUNT=100000 HEARTH_LOG=warn \
        HEARTH_MAX_CONNECTIONS_PER_IP=0 HEARTH_MESSAGES_PER_MINUTE=0 HEARTH_SIGN_UP_POLICY=open \
        taskset -c 0 "$BIN" serve >"$OUT/server-$1.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return 0
        sleep 0.1
    done
    echo "server did not start; see $OUT/server-$1.log" >&2
    exit 1
}

run() {
    local name=$1
    shift
    start_server "$name"
    echo "== $name: hearth-bench $*" | tee "$OUT/$name.txt"
    taskset -c 1 "$BENCH" --url "http://127.0.0.1:$PORT" --server-pid "$SERVER_PID" --json "$@" | tee -a "$OUT/$name.txt"
    stop_server
}

for scenario in $SCENARIOS; do
    case $scenario in
        latency) run latency --clients 1000 --rate 10 --duration 20 ;;
        throughput) run throughput --clients 1000 --rate 0 --duration 20 ;;
        idle) run idle --mode idle --clients 10000 --duration 5 ;;
        cable-latency) run cable-latency --protocol cable --clients 1000 --rate 10 --duration 20 ;;
        cable-throughput) run cable-throughput --protocol cable --clients 1000 --rate 0 --duration 20 ;;
        *) echo "unknown scenario $scenario" >&2; exit 2 ;;
    esac
done
