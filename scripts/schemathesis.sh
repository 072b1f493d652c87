#!/usr/bin/env bash
# Schemathesis against a running Hearth (issue 19): every operation of
# docs/openapi.json, as the served contract says, once anonymously and once
# with a signed-in member's cookie, checking
#   not_a_server_error, status_code_conformance, response_schema_conformance.
#
#   scripts/schemathesis.sh        (make test's e2e stage runs it after build-site.sh)
#
# Installs schemathesis (pinned) into a venv under target/ on first use,
# starts `hearth serve` (target/debug, or HEARTH_BIN) with the demo accounts on a throwaway
# SQLite database on port $HEARTH_SCHEMATHESIS_PORT (3103), and stops it by
# PID at exit, pass or fail. Examples are bounded (SCHEMATHESIS_EXAMPLES per
# operation and phase, 20 by default) so that the stage takes a few minutes.
# The server's log is target/test-logs/schemathesis-server.log; the reports
# are in target/schemathesis/.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'schemathesis: %s\n' "$*" >&2; }

version=4.32.5
port=${HEARTH_SCHEMATHESIS_PORT:-3103}
examples=${SCHEMATHESIS_EXAMPLES:-20}
target=${CARGO_TARGET_DIR:-$PWD/target}
binary=${HEARTH_BIN:-$target/debug/hearth}
venv=$PWD/target/schemathesis-venv
data=$(realpath -m target/schemathesis-data)
reports=$(realpath -m target/schemathesis)
logs=$(realpath -m "$target/test-logs")
mkdir -p "$logs"
server_log=$logs/schemathesis-server.log

if [[ ! -x "$binary" ]]; then
  say "no server binary at $binary: run scripts/build-site.sh first"
  exit 1
fi

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
  say "installing schemathesis $version into $venv (PyPI)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

source scripts/processes.sh

rm -rf "$data" "$reports"
mkdir -p "$reports"
say "starting $binary on SQLite in $data, port $port"
# Demo data, and the limits of a real instance but the sign-in one (the
# fuzzer signs in hundreds of times from one address; a 429 there would be
# conformant, but would hide the 401s and 422s behind it).
HEARTH_DATA_DIR=$data HEARTH_LISTEN=127.0.0.1:$port HEARTH_DEMO=true HEARTH_SIGN_INS_PER_IP=100000 \
  HEARTH_SIGN_INS_PER_ACCOUNT=100000 HEARTH_LOG=${HEARTH_LOG:-warn} "$binary" serve >"$server_log" 2>&1 &
started $!
wait_healthy "$port" "$!" "$server_log"
base=http://127.0.0.1:$port

# A member's session cookie (bob: not the admin, so that the fuzzer cannot
# deactivate the accounts it runs as; the admin routes get their own run).
cookie=$(curl -fsS -D - -o /dev/null -H 'Content-Type: application/json' \
  -d '{"email":"bob@example.com","password":"secret123"}' "$base/users/sign_in" |
  sed -n 's/^[Ss]et-[Cc]ookie: \(hearth_session=[^;]*\).*/\1/p' | tr -d '\r')
[[ -n "$cookie" ]] || { say "could not sign in as bob"; exit 1; }

# What the signed-in run uses for the path parameters, so that its requests
# reach the rules behind them rather than stopping at 404: one of bob's
# rooms, and an application with a chat and a message (the token API).
room=$(curl -fsS -H "Cookie: $cookie" "$base/conversations" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
token=$(curl -fsS -H 'Content-Type: application/json' -d '{"application_name":"Fuzzed"}' "$base/api/applications" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["application_token"])')
curl -fsS -o /dev/null -H 'Content-Type: application/json' -d '{"chat_name":"Fuzzed"}' "$base/api/applications/$token/chats"
curl -fsS -o /dev/null -H 'Content-Type: application/json' -d '{"message_content":"hello fuzz"}' \
  "$base/api/applications/$token/chats/1/messages"
# The admin run's cookie (alice, the demo's admin), and bob's id for its
# user routes: it may deactivate bob, so it runs after bob's run.
admin_cookie=$(curl -fsS -D - -o /dev/null -H 'Content-Type: application/json' \
  -d '{"email":"alice@example.com","password":"secret123"}' "$base/users/sign_in" |
  sed -n 's/^[Ss]et-[Cc]ookie: \(hearth_session=[^;]*\).*/\1/p' | tr -d '\r')
[[ -n "$admin_cookie" ]] || { say "could not sign in as alice"; exit 1; }
bob=$(curl -fsS -H "Cookie: $cookie" "$base/users/me" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
cat >"$reports/admin-ids.toml" <<TOML
[parameters]
"path.id" = $bob
TOML
cat >"$reports/known-ids.toml" <<TOML
[parameters]
"path.id" = $room
"path.token" = "$token"
"path.number" = 1
"path.message" = 1
TOML

# filter_too_much: with the ids fixed, a path such as …/reactions/{emoji}
# has one free parameter, and Hypothesis's health check stops the run when
# most strings it draws for it cannot be a URL path segment; that is the
# generator's limit, not a finding about the API.
run() {
  local name=$1
  shift
  say "run '$name': every operation, up to $examples examples each"
  # From the reports directory, where it keeps its cache (.schemathesis/).
  (cd "$reports" && "$venv/bin/schemathesis" "${config[@]}" run "$base/api/openapi.json" \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance \
    --max-examples "$examples" --seed 19 --workers 2 --no-color \
    --phases examples,coverage,fuzzing \
    --generation-database none \
    --suppress-health-check filter_too_much \
    --report junit --report-junit-path "$reports/$name.xml" \
    "$@") 2>&1 | tee "$reports/$name.log"
}

status=0
config=()
run anonymous || status=$?
config=(--config-file "$reports/known-ids.toml")
# The sign-out is left out, and run last on its own: fuzzed along with the
# rest, it would end the session the signed-in run uses.
run signed-in -H "Cookie: $cookie" --exclude-path /users/sign_out || status=$?
# The admin routes again as the admin (as bob they are all 403).
config=(--config-file "$reports/admin-ids.toml")
run admin -H "Cookie: $admin_cookie" --include-path-regex '^/admin/' || status=$?
run sign-out -H "Cookie: $cookie" --include-path /users/sign_out || status=$?
exit $status
