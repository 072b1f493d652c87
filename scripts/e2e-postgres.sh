#!/usr/bin/env bash
# The Playwright smoke spec (end2end/tests/postgres.smoke.spec.ts) against the
# release `hearth` binary serving from Postgres:
#
#   scripts/test-postgres.sh run scripts/e2e-postgres.sh     (make e2e does this)
#
# Needs the release build that `cargo leptos end-to-end --release` (the SQLite
# run) just made, and HEARTH_TEST_POSTGRES_URL. Makes a fresh database
# `hearth_e2e` on that server, starts `hearth serve` on it with the demo
# accounts on port $HEARTH_E2E_PG_PORT (3101), waits for /healthz, runs only
# the smoke spec, and stops the server by its PID at exit, pass or fail. The
# server's log is target/test-logs/e2e-postgres-server.log.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'e2e-postgres: %s\n' "$*" >&2; }

server_url=${HEARTH_TEST_POSTGRES_URL:?run me through scripts/test-postgres.sh run (make e2e does)}
port=${HEARTH_E2E_PG_PORT:-3101}
target=${CARGO_TARGET_DIR:-$PWD/target}
binary=$target/release/hearth
logs=$(realpath -m "$target/test-logs")
mkdir -p "$logs"
server_log=$logs/e2e-postgres-server.log

if [[ ! -x "$binary" || ! -d target/site/pkg ]]; then
  say "no release build ($binary, target/site/pkg): run \`cargo leptos build --release\` first"
  exit 1
fi

psql_bin=$(command -v psql || true)
if [[ -z "$psql_bin" ]]; then
  psql_bin=$(ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1)
fi
[[ -n "$psql_bin" ]] || { say "psql is missing (Debian's postgresql-client)"; exit 1; }

database=hearth_e2e
base=${server_url%/*}
"$psql_bin" "$server_url" -q -v ON_ERROR_STOP=1 \
  -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" \
  -c "CREATE DATABASE $database"

pid=""
stop_server() {
  [[ -n "$pid" ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    say "stopped the server (pid $pid)"
  fi
  wait "$pid" 2>/dev/null || true
  pid=""
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting $binary on Postgres ($base/$database), port $port"
DATABASE_URL=$base/$database HEARTH_LISTEN=127.0.0.1:$port HEARTH_DEMO=true \
  HEARTH_SIGN_INS_PER_IP=1000 HEARTH_LOG=${HEARTH_LOG:-info} \
  "$binary" serve >"$server_log" 2>&1 &
pid=$!

for _ in $(seq 600); do
  if ! kill -0 "$pid" 2>/dev/null; then
    say "the server exited before it was healthy; its log ($server_log) ends:"
    tail -20 "$server_log" >&2
    pid=""
    exit 1
  fi
  curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
  sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" || { say "not healthy after 60 s"; exit 1; }
say "healthy (pid $pid)"

rm -f end2end/.results/postgres.json
status=0
(cd end2end && HEARTH_E2E_URL=http://127.0.0.1:$port HEARTH_E2E_BACKEND=postgres npx playwright test) || status=$?
node scripts/e2e-summary.js end2end/.results/postgres.json "on Postgres" || status=1
# The chat went through Postgres: the smoke's two messages are in its table.
sent=$("$psql_bin" "$base/$database" -Atq -c "SELECT count(*) FROM messages WHERE body LIKE '%Postgres%'")
say "messages about Postgres in $database: $sent"
[[ "$sent" -ge 2 ]] || status=1
exit $status
