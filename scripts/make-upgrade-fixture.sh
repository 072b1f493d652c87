#!/usr/bin/env bash
# Makes the SQLite database that the upgrade test opens
# (server/tests/fixtures/v0-previous.db): a database written by a previous
# release, so the test proves that today's code migrates it untouched.
#
#   scripts/make-upgrade-fixture.sh <hearth binary of the old release> [out.db]
#
# The committed fixture was made with the debug binary of main at 371bb17,
# whose migrations are byte for byte those of 92cbea1 (before they moved to
# migrations/sqlite/). To remake it from an old commit:
#   git worktree add /tmp/old 92cbea1 && (cd /tmp/old && cargo build -p server --bin hearth)
#   scripts/make-upgrade-fixture.sh /tmp/old/target/debug/hearth
#
# It serves the old binary on a free loopback port with the demo accounts
# (alice, bob, carol; password secret123; "Seed Chat" and "General"), then,
# over its JSON API: signs alice in (a row in `sessions`), posts two
# messages in Seed Chat, edits one and deletes the other (the FTS triggers
# run), and creates an application with a chat and a message. It stops the
# server by PID and leaves one self-contained file (no -wal).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:?usage: $0 <hearth binary> [out.db]}
out=${2:-server/tests/fixtures/v0-previous.db}
work=$(mktemp -d)
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
HEARTH_DATA_DIR=$work/data HEARTH_LISTEN=127.0.0.1:$port HEARTH_DEMO=true HEARTH_LOG=warn \
  "$bin" serve &
pid=$!
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done

api() { # method path [json]
  curl -fsS -b "$work/jar" -c "$work/jar" -X "$1" -H 'Content-Type: application/json' \
    -H 'Accept: application/json' ${3:+--data "$3"} "$base$2"
  echo
}
api POST /users/sign_in '{"user":{"email":"alice@example.com","password":"secret123"}}'
api POST /conversations/1/messages '{"body":"Grüße, 100% sure_thing"}'
api POST /conversations/1/messages '{"body":"this one is deleted"}'
api PATCH /conversations/1/messages/3 '{"body":"Grüße, 100% sure_thing (edited)"}'
api DELETE /conversations/1/messages/4
token=$(api POST /api/applications '{"application_name":"Fixture app"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["application_token"])')
api POST "/api/applications/$token/chats" '{"chat_name":"Fixture chat"}'
api POST "/api/applications/$token/chats/1/messages" '{"message_content":"from the app"}'

kill "$pid" && wait "$pid" || true
pid=""
# One file: fold the WAL in and store it in rollback-journal mode.
sqlite3 "$work/data/hearth.db" 'PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE; VACUUM;' >/dev/null
mkdir -p "$(dirname "$out")"
cp "$work/data/hearth.db" "$out"
echo "wrote $out ($(stat -c %s "$out") bytes)"
