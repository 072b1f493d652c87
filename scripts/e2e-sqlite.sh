#!/usr/bin/env bash
# Playwright against the `hearth` binary scripts/build-site.sh builds (HEARTH_BIN to pick another) on a fresh SQLite database
# (every spec but the Postgres ones):
#
#   scripts/e2e-sqlite.sh        (make e2e does this, after scripts/build-site.sh)
#
# Starts `hearth serve` with the demo accounts on port $HEARTH_E2E_PORT
# (3100) and a fresh data dir, waits for /healthz, runs Playwright, and stops
# the server by its PID at exit, pass or fail. The server's log is
# target/test-logs/e2e-server.log. Playwright's JSON report is
# end2end/.results/results.json (scripts/e2e-summary.js reads it).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'e2e: %s\n' "$*" >&2; }

port=${HEARTH_E2E_PORT:-3100}
target=${CARGO_TARGET_DIR:-$PWD/target}
binary=${HEARTH_BIN:-$target/debug/hearth}
data=$(realpath -m "${HEARTH_E2E_DATA:-target/e2e-data}")
logs=$(realpath -m "$target/test-logs")
mkdir -p "$logs"
server_log=$logs/e2e-server.log

if [[ ! -x "$binary" || ! -d target/site/pkg ]]; then
  say "no build ($binary, target/site/pkg): run scripts/build-site.sh first"
  exit 1
fi

source scripts/processes.sh

rm -rf "$data" end2end/.results
say "starting $binary on SQLite in $data, port $port"
# Loopback fetches are let through (a test-only setting) so that an avatar
# given by URL can be copied from a picture this server itself serves.
HEARTH_DATA_DIR=$data HEARTH_LISTEN=127.0.0.1:$port HEARTH_DEMO=true HEARTH_SIGN_INS_PER_IP=1000 HEARTH_MESSAGES_PER_MINUTE=0 \
  HEARTH_TEST_ALLOW_LOOPBACK_FETCH=true HEARTH_LOG=${HEARTH_LOG:-info} "$binary" serve >"$server_log" 2>&1 &
started $!
wait_healthy "$port" "$!" "$server_log"

status=0
(cd end2end && HEARTH_E2E_URL=http://127.0.0.1:$port HEARTH_BIN="$binary" npx playwright test) || status=$?
exit $status
