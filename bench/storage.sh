#!/usr/bin/env bash
# Hearth's storage benchmarks on SQLite and Postgres, side by side in one
# session (docs/benchmarks.md, "Storage: SQLite and Postgres"):
#
#   bench/storage.sh [OUT_DIR]        # default target/bench-storage-results
#
# It starts a Postgres cluster of its own (initdb into $WORK/pg, loopback, a
# free port, fsync ON, synchronous_commit ON: durable, unlike the test
# cluster), pinned to core 0 with `taskset` like the two servers (PG_CORE=1
# puts it beside the generator instead, as a database on a machine of its
# own would not share Hearth's core): one on a
# SQLite file, one on the Postgres database. Each is seeded with a room of
# $MESSAGES messages (`hearth-bench storage seed`: accounts and the room over
# HTTP, the messages in bulk SQL, then checked over HTTP). Then every
# benchmark runs on SQLite and right after on Postgres, the generator pinned
# to core 1: history pages, searches, 64 posters to one room and to 64 rooms,
# and raw batched INSERTs (SQLite's in-process engine runs on core 0, where
# the database runs; the Postgres client on core 1).
#
# Environment: HEARTH_BIN (default target/release/hearth), MESSAGES
# (default 1000000), SEED=0 reuses the databases and
# state files already in $WORK (default target/bench-storage; they grow with
# each run's posts), KEEP=1 leaves the servers and the cluster running at the
# end, SKIP_BUILD=1, PG_SETTINGS (extra `-c name=value` for the cluster),
# SQLITE_PORT/PG_SERVER_PORT (3301/3302), DURATION (posting seconds, 20),
# RAW_ROWS (200000), PHASES (default "history search post insert
# search-after"; also "rooms": the room list of a member of ROOMS (1000)
# rooms; empty to seed only).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-target/bench-storage-results}
PG_CORE=${PG_CORE:-0}
WORK=${WORK:-target/bench-storage}
MESSAGES=${MESSAGES:-1000000}
SEED=${SEED:-1}
DURATION=${DURATION:-20}
RAW_ROWS=${RAW_ROWS:-200000}
PHASES=${PHASES-history search post insert search-after}
SQLITE_PORT=${SQLITE_PORT:-3301}
PG_SERVER_PORT=${PG_SERVER_PORT:-3302}
BIN=${HEARTH_BIN:-target/release/hearth}
BENCH=target/release/hearth-bench
mkdir -p "$OUT" "$WORK"
OUT=$(readlink -f "$OUT")
WORK=$(readlink -f "$WORK")
RESULTS=$OUT/results.jsonl

if [ -z "${SKIP_BUILD:-}" ]; then
    cargo build --release -p server -p hearth-bench
fi

# --- the Postgres cluster ---------------------------------------------------
PG_BIN=$(dirname "$(readlink -f "$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")")
PGDATA=$WORK/pg/data
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_started=
pg_start() {
    if [ "$SEED" != 0 ] || [ ! -d "$PGDATA" ]; then
        if [ -d "$WORK/pg" ]; then
            as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -s stop 2>/dev/null || true
            rm -rf "$WORK/pg"
        fi
        mkdir -p "$WORK/pg"
        [ "$(id -u)" -eq 0 ] && chown postgres: "$WORK/pg"
        as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    # Durable settings (the defaults, said out loud); more memory than the
    # 128 MB default so the working set fits as it would on a real server.
    # A free loopback port, a few tries.
    local tries
    for tries in 1 2 3 4 5; do
        PG_PORT=$((20000 + RANDOM % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null && continue
        # shellcheck disable=SC2086 # PG_SETTINGS is a list of -c options
        as_pg taskset -c "$PG_CORE" "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$WORK/pg/log" -w -s -o \
            "-p $PG_PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on \
             -c full_page_writes=on -c shared_buffers=1GB ${PG_SETTINGS:-}" start && break
        [ "$tries" = 5 ] && { echo "postgres did not start; see $WORK/pg/log" >&2; exit 1; }
    done
    pg_started=1
    PG_PID=$(head -1 "$PGDATA/postmaster.pid")
    PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/hearth_bench"
    if [ "$SEED" != 0 ]; then
        as_pg "$PG_BIN/psql" -h "$WORK/pg" -p "$PG_PORT" -U postgres -qc "CREATE DATABASE hearth_bench"
    fi
    echo "postgres: pid $PG_PID, port $PG_PORT, affinity $(taskset -pc "$PG_PID" | sed 's/.*: //')"
    as_pg "$PG_BIN/psql" -h "$WORK/pg" -p "$PG_PORT" -U postgres -Atc \
        "SELECT name || '=' || setting FROM pg_settings WHERE name IN
         ('fsync','synchronous_commit','full_page_writes','wal_sync_method','shared_buffers','server_version')" \
        | tr '\n' ' ' | tee "$OUT/postgres-settings.txt"
    echo
}
pg_stop() {
    if [ -n "$pg_started" ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -s stop || true
        pg_started=
    fi
}

# --- the two servers --------------------------------------------------------
declare -A SERVER_PID
start_server() { # name port database-url
    local name=$1 port=$2 url=$3
    env HEARTH_DATA_DIR="$WORK/data-$name" HEARTH_LISTEN="127.0.0.1:$port" DATABASE_URL="$url" \
        HEARTH_SIGN_INS_PER_IP=100000 HEARTH_SIGN_INS_PER_ACCOUNT=100000 HEARTH_LOG=warn \
        HEARTH_MAX_CONNECTIONS_PER_IP=0 HEARTH_MESSAGES_PER_MINUTE=0 HEARTH_SIGN_UP_POLICY=open HEARTH_SEARCHES_PER_MINUTE=0 \
        taskset -c 0 "$BIN" serve >>"$OUT/server-$name.log" 2>&1 &
    SERVER_PID[$name]=$!
    for _ in $(seq 300); do
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0
        sleep 0.1
    done
    echo "the $name server did not start; see $OUT/server-$name.log" >&2
    exit 1
}
stop_servers() {
    for name in "${!SERVER_PID[@]}"; do
        kill "${SERVER_PID[$name]}" 2>/dev/null || true
        wait "${SERVER_PID[$name]}" 2>/dev/null || true
        unset "SERVER_PID[$name]"
    done
}
cleanup() {
    [ -n "${KEEP:-}" ] && return
    stop_servers
    pg_stop
}
trap cleanup EXIT

SQLITE_URL="sqlite://$WORK/sqlite/hearth.db"
if [ "$SEED" != 0 ]; then rm -rf "$WORK/sqlite" "$WORK"/data-*; fi
mkdir -p "$WORK/sqlite"
pg_start
start_server sqlite "$SQLITE_PORT" "$SQLITE_URL"
start_server postgres "$PG_SERVER_PORT" "$PG_URL"

declare -A URL=([sqlite]="http://127.0.0.1:$SQLITE_PORT" [postgres]="http://127.0.0.1:$PG_SERVER_PORT")
declare -A DB=([sqlite]="$SQLITE_URL" [postgres]="$PG_URL")

bench() { # backend core storage-args…
    local backend=$1 core=$2
    shift 2
    echo "== $backend: storage $*" | tee -a "$OUT/$backend.txt"
    taskset -c "$core" "$BENCH" storage --json --label "$backend" --server-pid "${SERVER_PID[$backend]}" "$@" \
        | tee -a "$OUT/$backend.txt" | sed -n 's/^json: //p' >>"$RESULTS"
}

{
    echo "date: $(date -u +%FT%TZ)  commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo +dirty)"
    echo "uptime: $(uptime)"
    echo "messages: $MESSAGES  sqlite: $SQLITE_URL (WAL, synchronous=NORMAL)  postgres: $(cat "$OUT/postgres-settings.txt")"
} | tee -a "$OUT/session.txt"

if [ "$SEED" != 0 ]; then
    : >"$RESULTS"
    : >"$OUT/sqlite.txt"
    : >"$OUT/postgres.txt"
    for b in sqlite postgres; do
        bench "$b" 1 seed --url "${URL[$b]}" --database "${DB[$b]}" --messages "$MESSAGES" --state "$WORK/state-$b.json"
    done
fi
for phase in $PHASES; do
    case $phase in
        history | search)
            for b in sqlite postgres; do bench "$b" 1 "$phase" --state "$WORK/state-$b.json"; done ;;
        rooms)
            # The room list of a member of 1,000 rooms, the seeded room's
            # unread among them (ROOMS to change).
            for b in sqlite postgres; do
                bench "$b" 1 rooms --state "$WORK/state-$b.json" --database "${DB[$b]}" --rooms "${ROOMS:-1000}"
            done ;;
        post)
            for rooms in 1 64; do
                for b in sqlite postgres; do
                    bench "$b" 1 post --state "$WORK/state-$b.json" --posters 64 --rooms "$rooms" --duration "$DURATION"
                done
            done ;;
        insert)
            # 1,000 rows per INSERT and transaction, then one row per
            # transaction: what a durable commit costs on its own.
            bench sqlite 0 insert --database "$SQLITE_URL" --rows "$RAW_ROWS" --batch 1000
            bench postgres 1 insert --database "$PG_URL" --rows "$RAW_ROWS" --batch 1000
            bench sqlite 0 insert --database "$SQLITE_URL" --rows 5000 --batch 1
            bench postgres 1 insert --database "$PG_URL" --rows 5000 --batch 1 ;;
        search-after)
            # Searches again once posting and the raw inserts have added
            # rooms and newer messages: in the seeded room (still checked
            # against the corpus), and across my rooms, now several.
            for b in sqlite postgres; do
                bench "$b" 1 search --note "after posting, in the room" --state "$WORK/state-$b.json" --in-room
            done
            for b in sqlite postgres; do
                bench "$b" 1 search --note "after posting, my rooms" --state "$WORK/state-$b.json"
            done ;;
        *) echo "unknown phase $phase" >&2; exit 2 ;;
    esac
done
echo "uptime at the end: $(uptime)" | tee -a "$OUT/session.txt"

# --- the table --------------------------------------------------------------
jq -rs '
  def ms: . * 100 | round / 100 | tostring;
  def lat: "p50 \(.latency_ms.p50 | ms) / p99 \(.latency_ms.p99 | ms) ms";
  def row: if .bench == "history" then "history: \(.kind)"
    elif .bench == "search" then "search \(.query | tojson) (\(.hits) hits\(if .partial then ", partial" else "" end))\(if (.note // "") != "" then ", " + .note else "" end)"
    elif .bench == "post" then "post: 64 posters, \(.rooms) room\(if .rooms > 1 then "s" else "" end)"
    elif .bench == "rooms" then "room list of a member of \(.rooms) rooms (GET /conversations)"
    elif .bench == "insert" then "raw INSERT, \(.batch) row\(if .batch > 1 then "s" else "" end) per statement and transaction"
    else .bench end;
  def cell: if .bench == "post" then "\(.per_sec | round)/s, \(lat) (gen \(.cpu.generator_cpu_pct | round)%, cpu0 \(.cpu.cores_busy_pct[0] | round)%)"
    elif .bench == "rooms" then "\(lat), \(.unread) unread; after a message each time p50 \(.changed_ms.p50 | ms) / p99 \(.changed_ms.p99 | ms) ms (raw queries p50 \(.raw_ms.p50 | ms) / p99 \(.raw_ms.p99 | ms) ms; cpu0 \(.cpu.cores_busy_pct[0] | round)%)"
    elif .bench == "insert" then "\(.rows_per_sec | round) rows/s, \(.tx_per_sec | round) commits/s (bench \(.cpu.generator_cpu_pct | round)%, cpu0 \(.cpu.cores_busy_pct[0] | round)%)"
    elif .bench == "seed" then "\(.rows_per_sec | round) rows/s"
    else "\(lat) (\(.per_sec | round)/s; gen \(.cpu.generator_cpu_pct | round)%, cpu0 \(.cpu.cores_busy_pct[0] | round)%)" end;
  (map(select(.label == "sqlite")) | map({key: row, value: cell}) | from_entries) as $s
  | (map(select(.label == "postgres")) | map({key: row, value: cell}) | from_entries) as $p
  | ["| | SQLite | Postgres |", "|---|---|---|"]
    + [[map(row) | to_entries | group_by(.value)[] | min_by(.key)] | sort_by(.key)[].value as $r | "| \($r) | \($s[$r] // "") | \($p[$r] // "") |"]
  | .[]' "$RESULTS" | tee "$OUT/table.md"
