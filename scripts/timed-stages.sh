#!/usr/bin/env bash
# Runs `make STAGE` for each stage in turn, stopping at the first that fails,
# and prints every stage's time at the end (make test uses it):
#
#   scripts/timed-stages.sh lint rust-test e2e
set -uo pipefail
cd "$(dirname "$0")/.."

lines=()
status=0
total=$SECONDS
for stage in "$@"; do
  started=$SECONDS
  make --no-print-directory "$stage"
  code=$?
  secs=$((SECONDS - started))
  lines+=("$(printf '  %-12s %3dm%02ds  %s' "$stage" $((secs / 60)) $((secs % 60)) "$([[ $code -eq 0 ]] && echo ok || echo FAILED)")")
  if [[ $code -ne 0 ]]; then
    status=$code
    break
  fi
done
secs=$((SECONDS - total))
mkdir -p target/test-logs
{
  printf '\nmake test, stage by stage:\n'
  printf '%s\n' "${lines[@]}"
  printf '  %-12s %3dm%02ds\n' "total" $((secs / 60)) $((secs % 60))
} | tee target/test-logs/stages.txt 2>/dev/null || true
exit $status
