#!/usr/bin/env bash
# A search's time while 64 posters keep SQLite's writer saturated
# (docs/benchmarks.md, "Search while the writer is saturated"):
#
#   bench/search-under-ingest.sh BIN DB_DIR STATE [QUERY]
#
# BIN is a hearth binary, DB_DIR a seeded data directory (its hearth.db,
# from `hearth-bench storage seed`, e.g. bench/storage.sh's
# target/bench-storage/sqlite), STATE the seed's state file. The directory is
# copied first, so runs of several builds start from the same database. The
# server runs on core 0; `hearth-bench storage post` (64 posters, one room,
# 14 s) and a search in the seeded room every 200 ms (curl, 50 of them) on
# core 1. Prints the posting rate and the searches' p50, p90 and max.
# PORT (3191) to change the port.
set -euo pipefail
BIN=$(readlink -f "$1") DB_DIR=$(readlink -f "$2") STATE=$(readlink -f "$3") QUERY=${4:-meeting}
cd "$(dirname "$0")/.."
PORT=${PORT:-3191}
BENCH=target/release/hearth-bench
WORK=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
cp -r "$DB_DIR" "$WORK/db"
env HEARTH_DATA_DIR="$WORK/data" HEARTH_LISTEN="127.0.0.1:$PORT" DATABASE_URL="sqlite://$WORK/db/hearth.db" \
    HEARTH_SIGN_INS_PER_IP=100000 HEARTH_SIGN_INS_PER_ACCOUNT=100000 HEARTH_LOG=warn \
    HEARTH_MAX_CONNECTIONS_PER_IP=0 HEARTH_MESSAGES_PER_MINUTE=0 HEARTH_SEARCHES_PER_MINUTE=0 \
    taskset -c 0 "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
# The state names the server it was seeded through; this one is on $PORT.
jq --arg url "http://127.0.0.1:$PORT" '.url = $url' "$STATE" >"$WORK/state.json"
ROOM=$(jq -r .room "$WORK/state.json")
COOKIE=$(jq -r '.cookies[0]' "$WORK/state.json")
taskset -c 1 "$BENCH" storage post --state "$WORK/state.json" --posters 64 --rooms 1 --duration 14 --warmup 1 \
    >"$WORK/post.txt" 2>&1 &
POSTER=$!
sleep 2
for _ in $(seq 50); do
    taskset -c 1 curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Cookie: $COOKIE" \
        "http://127.0.0.1:$PORT/search?q=$QUERY&room_id=$ROOM" >>"$WORK/search.txt"
    sleep 0.2
done
wait "$POSTER"
grep -v '^200 ' "$WORK/search.txt" && { echo "a search failed" >&2; exit 1; }
grep -m1 '/s' "$WORK/post.txt"
awk '{print $2 * 1000}' "$WORK/search.txt" | sort -n | awk '{a[NR] = $1} END {
    printf "search: %d requests, p50 %.1f ms, p90 %.1f ms, max %.1f ms\n", NR, a[int(NR * 0.5 + 0.5)], a[int(NR * 0.9 + 0.5)], a[NR] }'
