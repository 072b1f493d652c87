#!/usr/bin/env bash
# Two instances on one Postgres and one NATS beside one instance alone
# (issue 14; results in docs/benchmarks.md, "Two instances over NATS"):
#
#   bench/cluster.sh [OUT_DIR]          # default target/bench-cluster
#
# Each scenario runs `hearth-bench` live mode with CLIENTS sockets (1000) at
# each rate in RATES ("10 200" posts/s) for DURATION seconds (20):
#
#   single   one instance on core 0 (no NATS); the generator on core 1.
#   cluster  instance A on core 0, instance B on core 1, sockets split
#            between them, posts through A; NATS and the generator are not
#            pinned (the machine has two cores: they share what is left).
#
# A throwaway Postgres (scripts/test-postgres.sh) and nats-server run beside
# them, fresh databases per scenario; everything is stopped by PID at exit.
# Reported per run: post→all and post→each (per instance in the cluster),
# CPU of each instance and of NATS while posting, and each core's busy time
# (Postgres's share is in "others": its backends are children of the
# postmaster, whose own counters miss them).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-target/bench-cluster}
BIN=${HEARTH_BIN:-target/release/hearth}
BENCH=target/release/hearth-bench
CLIENTS=${CLIENTS:-1000}
RATES=${RATES:-10 200}
DURATION=${DURATION:-20}
PORT_A=${PORT_A:-3400}
PORT_B=${PORT_B:-3401}
mkdir -p "$OUT"
OUT=$(realpath "$OUT")

if [ -z "${SKIP_BUILD:-}" ]; then
    cargo build --release -p server -p hearth-bench
fi
ulimit -n 20000

export HEARTH_TEST_POSTGRES_STATE=$OUT/postgres.state
pids=()
nats_dir=$(mktemp -d)
stop_all() {
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
    pids=()
    scripts/test-postgres.sh stop >/dev/null 2>&1 || true
    rm -rf "$nats_dir"
}
trap stop_all EXIT

scripts/test-postgres.sh start >/dev/null
PG=$(scripts/test-postgres.sh url)
PG_BASE=${PG%/*}
psql_bin=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql | sort -V | tail -1)

nats-server -a 127.0.0.1 -p -1 --ports_file_dir "$nats_dir" >"$OUT/nats.log" 2>&1 &
NATS_PID=$!
pids+=("$NATS_PID")
for _ in $(seq 100); do
    NATS_URL=$(grep -ho 'nats://[0-9.]*:[0-9]*' "$nats_dir"/*.ports 2>/dev/null | head -1 || true)
    [ -n "$NATS_URL" ] && break
    sleep 0.05
done

fresh_db() {
    "$psql_bin" "$PG" -q -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
    echo "$PG_BASE/$1"
}

# serve CORE PORT DB [NATS]: an instance pinned to CORE; its pid in $SERVED.
serve() {
    env DATABASE_URL="$3" HEARTH_LISTEN="127.0.0.1:$2" HEARTH_LOG=warn \
        HEARTH_SIGN_INS_PER_IP=100000 HEARTH_SIGN_INS_PER_ACCOUNT=100000 HEARTH_MAX_CONNECTIONS_PER_IP=0 HEARTH_MESSAGES_PER_MINUTE=0 HEARTH_SIGN_UP_POLICY=open \
        ${4:+HEARTH_NATS_URL=$4 HEARTH_NATS_PREFIX=bench} \
        taskset -c "$1" "$BIN" serve >>"$OUT/server-$2.log" 2>&1 &
    SERVED=$!
    pids+=("$SERVED")
    for _ in $(seq 300); do
        curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && return 0
        sleep 0.1
    done
    echo "the server on :$2 did not start; see $OUT/server-$2.log" >&2
    exit 1
}

stop_servers() {
    local keep=("$NATS_PID") pid
    for pid in "${pids[@]}"; do
        [ "$pid" = "$NATS_PID" ] && continue
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    pids=("${keep[@]}")
}

for rate in $RATES; do
    echo "== single instance, $CLIENTS clients, $rate posts/s"
    db=$(fresh_db bench_single)
    serve 0 "$PORT_A" "$db"
    A=$SERVED
    taskset -c 1 "$BENCH" --url "http://127.0.0.1:$PORT_A" --clients "$CLIENTS" --rate "$rate" \
        --duration "$DURATION" --server-pid "$A" --json \
        | tee "$OUT/single-$rate.txt"
    stop_servers

    echo "== two instances over NATS, $CLIENTS clients split, $rate posts/s through A"
    db=$(fresh_db bench_cluster)
    serve 0 "$PORT_A" "$db" "$NATS_URL"
    A=$SERVED
    serve 1 "$PORT_B" "$db" "$NATS_URL"
    B=$SERVED
    "$BENCH" --url "http://127.0.0.1:$PORT_A" \
        --socket-urls "http://127.0.0.1:$PORT_A,http://127.0.0.1:$PORT_B" \
        --clients "$CLIENTS" --rate "$rate" --duration "$DURATION" --server-pid "$A" \
        --other-pids "$B,$NATS_PID" --json | tee "$OUT/cluster-$rate.txt"
    stop_servers
done
echo "results in $OUT"
