#!/usr/bin/env bash
# Every Rust test, twice: once on SQLite, once on Postgres.
#
#   scripts/s3-test-server.sh run scripts/test-postgres.sh run scripts/test-backends.sh -p hearth -p server -- --test-threads=4
#
# Builds the tests once (`cargo test --no-run`), then runs `cargo test ARGS…`
# with HEARTH_TEST_BACKEND=sqlite and again with HEARTH_TEST_BACKEND=postgres
# (no rebuild in between; `hearth::testing` gives each test its own database
# on that backend). Each pass runs to the end (--no-fail-fast), so its counts
# are complete; its output is in target/test-logs/rust-<backend>.log, and the
# tests that only apply to the other backend list themselves in
# target/test-logs/skips-<backend>.txt. Ends with one line per pass (passed,
# skipped, failed, ignored, time) and fails unless both passes are green.
set -uo pipefail
cd "$(dirname "$0")/.."

say() { printf 'test-backends: %s\n' "$*" >&2; }

if [[ -z "${HEARTH_TEST_POSTGRES_URL:-}" ]]; then
  say "HEARTH_TEST_POSTGRES_URL is not set: run me through scripts/test-postgres.sh run (make rust-test does)"
  exit 2
fi

target=${CARGO_TARGET_DIR:-$PWD/target}
logs=$(realpath -m "$target/test-logs")
mkdir -p "$logs"

# The arguments before `--` are cargo's; the build takes only those.
cargo_args=()
for arg in "$@"; do
  [[ "$arg" == "--" ]] && break
  cargo_args+=("$arg")
done

started=$SECONDS
if ! cargo test --no-run "${cargo_args[@]}" 2>&1 | tee "$logs/rust-build.log"; then
  say "the tests did not build (target/test-logs/rust-build.log)"
  exit 1
fi
build_secs=$((SECONDS - started))

status=0
summaries=()
for backend in sqlite postgres; do
  log=$logs/rust-$backend.log
  skips=$logs/skips-$backend.txt
  rm -f "$skips"
  : >"$skips"
  printf '\n\033[1m==> cargo test on %s\033[0m\n' "$backend"
  started=$SECONDS
  HEARTH_TEST_BACKEND=$backend HEARTH_TEST_SKIPS=$skips cargo test --no-fail-fast "$@" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  summary=$(scripts/test-summary.sh "$backend" "$log" "$skips" "$((SECONDS - started))" "$code")
  [[ $? -eq 0 ]] || status=1
  summaries+=("$summary")
done

{
  printf '\nRust tests (built in %ss; logs in %s):\n' "$build_secs" "$logs"
  printf '%s\n' "${summaries[@]}"
} | tee "$logs/summary.txt"
exit $status
