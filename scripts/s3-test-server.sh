#!/usr/bin/env bash
# A throwaway S3-compatible server for the tests: moto's server (PyPI, pinned,
# in a venv under target/ made on first use), on a free loopback port, in
# memory. Each test makes a bucket of its own in it (server/tests/api/blobs_s3.rs).
#
#   scripts/s3-test-server.sh install     make the venv if it is missing (bootstrap.sh does)
#   scripts/s3-test-server.sh start       start it (or leave the running one), print its URL
#   scripts/s3-test-server.sh url         print the URL of the running one
#   scripts/s3-test-server.sh stop        stop it (by its PID)
#   scripts/s3-test-server.sh run CMD…    start, run CMD with HEARTH_TEST_S3_URL set,
#                                         stop at exit (even on failure or Ctrl-C); CMD's status
#
# The state (PID, port, log) is in target/s3-test-server.state, or
# $HEARTH_TEST_S3_STATE; the venv is target/moto-venv, or $HEARTH_MOTO_VENV.
# Both start and stop are safe to call twice.
set -euo pipefail
cd "$(dirname "$0")/.."

version=5.1.22
state=${HEARTH_TEST_S3_STATE:-$PWD/target/s3-test-server.state}
venv=${HEARTH_MOTO_VENV:-$PWD/target/moto-venv}

say() { printf 's3-test-server: %s\n' "$*" >&2; }

# Makes the venv (once; a lock, as several callers may race).
install() {
  mkdir -p "$(dirname "$venv")"
  exec 8>"$venv.lock"
  flock 8
  if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('moto') != '$version')" 2>/dev/null \
    || [[ ! -x "$venv/bin/moto_server" ]]; then
    if ! python3 -m venv --help >/dev/null 2>&1; then
      say "python3 has no venv module: run scripts/bootstrap.sh (it installs python3-venv)"
      return 1
    fi
    say "installing moto[server] $version into $venv (PyPI)"
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$version" >&2
  fi
  exec 8>&-
}

read_state() { # sets pid, port, log; false when there is no state
  [[ -f "$state" ]] || return 1
  # shellcheck disable=SC1090
  source "$state"
}

running() {
  read_state && [[ -n "${pid:-}" ]] && kill -0 "$pid" 2>/dev/null
}

url() {
  read_state || { say "not running (no $state)"; return 1; }
  echo "http://127.0.0.1:$port"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  if running; then
    url
    return
  fi
  stop # leftovers of a server that died
  install
  mkdir -p "$(dirname "$state")"
  log=$(realpath -m "${state%.state}.log")
  local tries
  for tries in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    port_free "$port" || continue
    # Its own output goes to the log, so that `$(start)` does not wait on it.
    "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" </dev/null >"$log" 2>&1 &
    pid=$!
    printf 'pid=%s\nport=%s\nlog=%s\n' "$pid" "$port" "$log" >"$state"
    for _ in $(seq 300); do
      kill -0 "$pid" 2>/dev/null || break
      if curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
        say "started moto $version (pid $pid, port $port, log $log)"
        url
        return
      fi
      sleep 0.1
    done
    say "could not start on port $port (attempt $tries); its log ends:"
    tail -5 "$log" >&2 || true
    stop
  done
  return 1
}

stop() {
  read_state || return 0
  if [[ -n "${pid:-}" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    say "stopped (pid $pid)"
  fi
  rm -f "$state"
}

run() {
  trap stop EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local url
  url=$(start)
  HEARTH_TEST_S3_URL=$url "$@"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  url) url ;;
  run) shift; run "$@" ;;
  *) say "usage: $0 install|start|stop|url|run CMD…"; exit 2 ;;
esac
