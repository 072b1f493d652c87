#!/usr/bin/env bash
# A throwaway Postgres for the tests: a fresh cluster in a temp dir, on a free
# loopback port, with fsync off. Nothing outside its temp dir is touched.
#
#   scripts/test-postgres.sh start       start it (or leave the running one), print its URL
#   scripts/test-postgres.sh url         print the URL of the running one
#   scripts/test-postgres.sh stop        stop it (pg_ctl stop -m fast, then its PID) and remove its dir
#   scripts/test-postgres.sh run CMD…    start, run CMD with HEARTH_TEST_POSTGRES_URL set,
#                                        stop at exit (even on failure or Ctrl-C); CMD's status
#
# The state (PID, port, dir) is in target/test-postgres.state, or
# $HEARTH_TEST_POSTGRES_STATE. Both start and stop are safe to call twice.
# Postgres refuses to run as root, so as root (CI) the cluster belongs to the
# `postgres` user and every server command runs through runuser.
set -euo pipefail
cd "$(dirname "$0")/.."

state=${HEARTH_TEST_POSTGRES_STATE:-$PWD/target/test-postgres.state}

say() { printf 'test-postgres: %s\n' "$*" >&2; }

bin_dir() {
  if command -v initdb >/dev/null; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return
  fi
  # Debian's package keeps the server binaries off PATH.
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [[ -z "$found" ]]; then
    say "installing Debian's postgresql (initdb is missing)"
    local sudo_cmd=""
    [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -q >&2
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
    found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  echo "$found"
}

# Runs a server command as the cluster's owner.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

read_state() { # sets pid, port, dir; false when there is no state
  [[ -f "$state" ]] || return 1
  # shellcheck disable=SC1090
  source "$state"
}

running() {
  read_state && [[ -n "${pid:-}" ]] && kill -0 "$pid" 2>/dev/null
}

url() {
  read_state || { say "not running (no $state)"; return 1; }
  echo "postgres://postgres@127.0.0.1:$port/postgres"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  if running; then
    url
    return
  fi
  stop # leftovers of a cluster that died
  local bin
  bin=$(bin_dir)
  if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    say "running as root needs a 'postgres' user to own the cluster"
    return 1
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/hearth-test-pg.XXXXXX")
  [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
  local tries
  for tries in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    port_free "$port" || continue
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -s -o \
      "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=500 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start; then
      pid=$(head -1 "$dir/data/postmaster.pid")
      mkdir -p "$(dirname "$state")"
      printf 'pid=%s\nport=%s\ndir=%s\nbin=%s\n' "$pid" "$port" "$dir" "$bin" >"$state"
      say "started (pid $pid, port $port, dir $dir)"
      url
      return
    fi
    say "could not start on port $port (attempt $tries); log: $dir/log"
  done
  rm -rf "$dir"
  return 1
}

stop() {
  read_state || return 0
  if [[ -n "${pid:-}" ]] && kill -0 "$pid" 2>/dev/null; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -s stop || kill "$pid" 2>/dev/null || true
    # pg_ctl waited for the postmaster; make sure this PID is gone.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    say "stopped (pid $pid)"
  fi
  [[ -n "${dir:-}" && "$dir" == */hearth-test-pg.* ]] && rm -rf "$dir"
  rm -f "$state"
}

run() {
  trap stop EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local url
  url=$(start)
  HEARTH_TEST_POSTGRES_URL=$url "$@"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  run) shift; run "$@" ;;
  *) say "usage: $0 start|stop|url|run CMD…"; exit 2 ;;
esac
