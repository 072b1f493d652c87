#!/usr/bin/env bash
# The Playwright specs for Postgres (end2end/tests/postgres.smoke.spec.ts and
# cluster.postgres.spec.ts) against the `hearth` binary (HEARTH_BIN to pick another) serving from
# Postgres, as two instances sharing live changes over NATS:
#
#   scripts/test-postgres.sh run scripts/e2e-postgres.sh     (make e2e does this)
#
# Needs the build that scripts/build-site.sh (make e2e) just made, HEARTH_TEST_POSTGRES_URL, and Debian's nats-server
# (scripts/bootstrap.sh installs it). Makes a fresh database `hearth_e2e` on
# that server, starts a nats-server on a free loopback port, starts
# `hearth serve` twice on the database with the demo accounts, on ports
# $HEARTH_E2E_PG_PORT (3101, instance A) and $HEARTH_E2E_PG_PORT_B (3102,
# instance B), waits for both /healthz, runs the specs, and stops the servers
# and NATS by their PIDs at exit, pass or fail. Logs:
# target/test-logs/e2e-postgres-server{,-b}.log and e2e-nats.log.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'e2e-postgres: %s\n' "$*" >&2; }

server_url=${HEARTH_TEST_POSTGRES_URL:?run me through scripts/test-postgres.sh run (make e2e does)}
port=${HEARTH_E2E_PG_PORT:-3101}
port_b=${HEARTH_E2E_PG_PORT_B:-3102}
target=${CARGO_TARGET_DIR:-$PWD/target}
binary=${HEARTH_BIN:-$target/debug/hearth}
logs=$(realpath -m "$target/test-logs")
mkdir -p "$logs"
server_log=$logs/e2e-postgres-server.log
server_b_log=$logs/e2e-postgres-server-b.log
nats_log=$logs/e2e-nats.log

if [[ ! -x "$binary" || ! -d target/site/pkg ]]; then
  say "no build ($binary, target/site/pkg): run scripts/build-site.sh first"
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

source scripts/processes.sh
nats_dir=$(mktemp -d)
trap 'stop_all; rm -rf "$nats_dir"' EXIT

nats_bin=$(command -v nats-server || echo /usr/sbin/nats-server)
[[ -x "$nats_bin" ]] || { say "nats-server is missing (scripts/bootstrap.sh installs it)"; exit 1; }
"$nats_bin" -a 127.0.0.1 -p -1 --ports_file_dir "$nats_dir" >"$nats_log" 2>&1 &
started $!
nats_url=""
for _ in $(seq 100); do
  ports_file=$(ls "$nats_dir"/*.ports 2>/dev/null | head -1 || true)
  if [[ -n "$ports_file" ]]; then
    nats_url=$(grep -o 'nats://[0-9.]*:[0-9]*' "$ports_file" | head -1)
    [[ -n "$nats_url" ]] && break
  fi
  sleep 0.05
done
[[ -n "$nats_url" ]] || { say "nats-server did not start (log: $nats_log)"; exit 1; }
say "NATS at $nats_url (pid ${pids[0]})"

# serve PORT LOG: one instance on the shared database and NATS.
serve() {
  DATABASE_URL=$base/$database HEARTH_LISTEN=127.0.0.1:$1 HEARTH_DEMO=true \
    HEARTH_SIGN_INS_PER_IP=1000 HEARTH_MESSAGES_PER_MINUTE=0 HEARTH_LOG=${HEARTH_LOG:-info} \
    HEARTH_NATS_URL=$nats_url HEARTH_NATS_PREFIX=e2e \
    "$binary" serve >"$2" 2>&1 &
  started $!
}

say "starting $binary twice on Postgres ($base/$database), ports $port and $port_b"
# A first, alone: it migrates and seeds the demo; then B on the same database.
serve "$port" "$server_log"
wait_healthy "$port" "${pids[-1]}" "$server_log"
serve "$port_b" "$server_b_log"
wait_healthy "$port_b" "${pids[-1]}" "$server_b_log"

rm -f end2end/.results/postgres.json
status=0
(cd end2end && HEARTH_E2E_URL=http://127.0.0.1:$port HEARTH_E2E_URL_B=http://127.0.0.1:$port_b \
  HEARTH_E2E_BACKEND=postgres npx playwright test) || status=$?
node scripts/e2e-summary.js end2end/.results/postgres.json "on Postgres" || status=1
# The chat went through Postgres: the smoke's two messages are in its table.
sent=$("$psql_bin" "$base/$database" -Atq -c "SELECT count(*) FROM messages WHERE body LIKE '%Postgres%'")
say "messages about Postgres in $database: $sent"
[[ "$sent" -ge 2 ]] || status=1
exit $status
