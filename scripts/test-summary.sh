#!/usr/bin/env bash
# One line about one `cargo test` pass, from its output:
#
#   scripts/test-summary.sh BACKEND LOG SKIPS SECONDS EXIT_CODE
#
# adds up cargo's `test result:` lines (one per test binary) and prints
#   postgres: 402 passed, 3 skipped, 0 failed, 2 ignored (214 s)
# A test that records itself in SKIPS (hearth::testing::skip_unless: it is
# about the other backend) passed as far as cargo knows; it is counted as
# skipped here, not passed. Then the names of failed tests, if any. Exits 1
# when the pass failed (a failed test, no result at all, or a non-zero exit).
set -uo pipefail

backend=$1 log=$2 skips=$3 secs=$4 code=$5

read -r binaries passed failed ignored < <(
  awk '/^test result: / {
         n++
         for (i = 1; i <= NF; i++) {
           if ($i ~ /^passed;/) p += $(i - 1)
           if ($i ~ /^failed;/) f += $(i - 1)
           if ($i ~ /^ignored;/) g += $(i - 1)
         }
       }
       END { printf "%d %d %d %d\n", n, p, f, g }' "$log"
)
skipped=0
[[ -s "$skips" ]] && skipped=$(grep -c '^skipped on ' "$skips")

printf '%-9s %d passed, %d skipped, %d failed, %d ignored (%d test binaries, %d s)\n' \
  "$backend:" "$((passed - skipped))" "$skipped" "$failed" "$ignored" "$binaries" "$secs"
if [[ -s "$skips" ]]; then
  sed 's/^/            /' "$skips"
fi
failures=$(grep -E '^test .* \.\.\. FAILED$' "$log" | sed -E 's/^test (.*) \.\.\. FAILED$/\1/' | sort -u)
if [[ -n "$failures" ]]; then
  count=$(wc -l <<<"$failures")
  head -20 <<<"$failures" | sed 's/^/            failed: /'
  [[ $count -le 20 ]] || printf '            … and %d more failed (see %s)\n' "$((count - 20))" "$log"
fi

if [[ $binaries -eq 0 ]]; then
  printf '            no test results: the pass did not run (see %s)\n' "$log"
  exit 1
fi
if [[ $code -ne 0 && $failed -eq 0 ]]; then
  printf '            cargo test exited %d (a test binary crashed? see %s)\n' "$code" "$log"
fi
[[ $code -eq 0 && $failed -eq 0 ]]
