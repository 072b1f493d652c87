#!/usr/bin/env bash
# Counts the SQL statements the server runs for a few common requests, by
# sqlx's statement log (target sqlx::query at debug), against a fresh
# database: a history page, a post, GET /users/me. Run it with the caches on
# and off to see what they save (docs/benchmarks.md):
#
#   bench/count-queries.sh [BIN]            # default target/debug/hearth
#   HEARTH_CACHE_TTL_SECS=0 bench/count-queries.sh
#   DATABASE_URL=postgres://…/emptydb bench/count-queries.sh
#
# Environment: PORT (default 3310). Each count is the log's growth across
# one request, with a pause either side; nothing else talks to the server.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-target/debug/hearth}
PORT=${PORT:-3310}
DIR=$(mktemp -d)
LOG=$DIR/log
URL=http://127.0.0.1:$PORT
export HEARTH_LOG="warn,sqlx::query=debug" HEARTH_DATA_DIR=$DIR HEARTH_LISTEN=127.0.0.1:$PORT NO_COLOR=1

"$BIN" serve >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 150); do curl -fs -o /dev/null "$URL/healthz" && break; sleep 0.2; done

json() { curl -fs -H 'Content-Type: application/json' "$@"; }
register() { json -c "$DIR/$1" -d "{\"user\":{\"email\":\"$1@example.com\",\"username\":\"$1\",\"password\":\"secret123\"}}" "$URL/users"; }
register alice >/dev/null
BOB=$(register bob | sed 's/.*"id":\([0-9]*\).*/\1/')
ROOM=$(json -b "$DIR/alice" -d "{\"participant_ids\":[$BOB]}" "$URL/conversations" | sed 's/.*"id":\([0-9]*\).*/\1/')
for n in 1 2 3; do json -b "$DIR/alice" -d "{\"body\":\"m$n\"}" "$URL/conversations/$ROOM/messages" >/dev/null; done

statements() { grep -c 'db.statement=' "$LOG" || true; }
count() {
    local label=$1 before after code
    shift
    sleep 0.3
    before=$(statements)
    code=$(curl -s -o /dev/null -w '%{http_code}' "$@")
    sleep 0.3
    after=$(statements)
    echo "$label: HTTP $code, $((after - before)) statements"
}
for n in 1 2 3; do
    count "GET /conversations/$ROOM/messages ($n)" -b "$DIR/alice" "$URL/conversations/$ROOM/messages"
done
count "POST /conversations/$ROOM/messages" -b "$DIR/alice" -H 'Content-Type: application/json' -d '{"body":"x"}' \
    "$URL/conversations/$ROOM/messages"
count "GET /users/me" -b "$DIR/alice" "$URL/users/me"
