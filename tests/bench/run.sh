#!/usr/bin/env bash
# Runs every benchmark in tests/bench/ (each *.sh but this one, lib.sh, which they source, and compare.sh, which compares two binaries), in name order; `./build.sh bench` runs it after
# the build. Benchmarks print figures and targets (PASS/FAIL); a benchmark exits non-zero only when something
# could not run, and then so does this script, after running the others.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
failed=()
for script in tests/bench/*.sh; do
  [[ $script == tests/bench/run.sh || $script == tests/bench/lib.sh || $script == tests/bench/compare.sh ]] && continue
  bash "$script" || failed+=("$script")
done
if ((${#failed[@]})); then
  printf 'bench: could not run: %s\n' "${failed[*]}" >&2
  exit 1
fi
