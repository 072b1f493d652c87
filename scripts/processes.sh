# Sourced by the scripts that start servers for the tests (e2e-sqlite.sh,
# e2e-postgres.sh): each process they start is recorded with `started PID`,
# and all of them are stopped by PID, newest first (so servers leave before
# the NATS they use), when the script exits, pass or fail. Needs `say`.

pids=()

# Records a process to stop at exit.
started() {
  pids+=("$1")
}

# SIGTERM, up to 10 s to exit, then SIGKILL; newest first.
stop_all() {
  local i pid
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      say "stopped pid $pid"
    fi
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_healthy PORT PID LOG: until http://127.0.0.1:PORT/healthz answers
# 200 (up to 60 s); exits with the log's tail if the process dies first.
wait_healthy() {
  for _ in $(seq 600); do
    if ! kill -0 "$2" 2>/dev/null; then
      say "the server on :$1 exited before it was healthy; its log ($3) ends:"
      tail -20 "$3" >&2
      exit 1
    fi
    curl -fsS -o /dev/null "http://127.0.0.1:$1/healthz" 2>/dev/null && break
    sleep 0.1
  done
  curl -fsS -o /dev/null "http://127.0.0.1:$1/healthz" || { say "not healthy after 60 s on :$1"; exit 1; }
  say "healthy on :$1 (pid $2)"
}
