#!/usr/bin/env bash
# Before/after: runs benchmarks against two binaries in one run, alternating them round by round so that the
# machine's noise falls on both alike, and prints each figure line of every round side by side.
#
#   tests/bench/compare.sh BEFORE_BIN AFTER_BIN [SCRIPT ...]     (scripts default to http.sh and tickets.sh)
#
# Settings: COMPARE_ROUNDS (default 2: before, after, before, after); the scripts' own settings pass through.
# A figure line is one with a ratio ("0.10 x"), a rate (req/s, "events delivered / s:"), a target or server CPU per request. Exits 1 when a run could not run.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
[[ $# -ge 2 ]] || { printf 'usage: %s BEFORE_BIN AFTER_BIN [SCRIPT ...]\n' "$0" >&2; exit 2; }
before=$1 after=$2
shift 2
scripts=("$@")
((${#scripts[@]})) || scripts=(tests/bench/http.sh tests/bench/tickets.sh)
rounds=${COMPARE_ROUNDS:-2}
for bin in "$before" "$after"; do
  [[ -x $bin ]] || { printf 'compare: %s is not an executable\n' "$bin" >&2; exit 2; }
done

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failed=0
for script in "${scripts[@]}"; do
  for ((round = 1; round <= rounds; round++)); do
    for which in before after; do
      bin=$before
      [[ $which == after ]] && bin=$after
      printf 'compare: %s, round %d, %s (%s)\n' "$script" "$round" "$which" "$bin" >&2
      DESTEK_BIN=$bin bash "$script" >"$out/$which.$round" 2>"$out/$which.$round.err" ||
        { printf 'compare: %s could not run with %s:\n' "$script" "$bin" >&2; tail -n 5 "$out/$which.$round.err" >&2; failed=1; }
    done
  done
  printf '\n== %s: before %s, after %s (%d rounds, alternated) ==\n' "$script" "$before" "$after" "$rounds"
  for ((round = 1; round <= rounds; round++)); do
    for which in before after; do
      printf -- '-- round %d, %s\n' "$round" "$which"
      grep -E '[0-9.]+ x( |$)|req/s|/ s:|^target|CPU per request' "$out/$which.$round" || true
    done
  done
done
exit $failed
