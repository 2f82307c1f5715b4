#!/usr/bin/env bash
# Upload burst: peak RSS while 64 maximum-size posts (16 MiB of JSON with base64 files each) arrive at once, and
# what they are answered; every accepted post must be whole and nothing left by the refused ones.
#
#   tests/bench/uploads.sh          (run by tests/bench/run.sh, which `./build.sh bench` runs after the build)
#
# The driver is tests/bench/uploads.mjs (it says what it measures). Target: peak RSS <= 512 MB, the memory of a
# small VPS. Settings (environment): BENCH_POSTS (64), BENCH_BUDGET_MB (512), BENCH_SERVER_ARGS (extra flags for
# `destek serve`, e.g. "--body-memory 64"), DESTEK_BIN (build/destek).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v node >/dev/null || { echo "uploads.sh: node (>= 18) is needed; ./build.sh installs it" >&2; exit 1; }
[[ -x ${DESTEK_BIN:-build/destek} ]] || { echo "uploads.sh: ${DESTEK_BIN:-build/destek} is missing: run ./build.sh first" >&2; exit 1; }
# The harness it shares with the API tests speaks TAP; only the figures matter here.
set +e
node tests/bench/uploads.mjs >"${TMPDIR:-/tmp}/destek-bench-uploads.$$" 2>&1
rc=$?
set -e
grep '^uploads:' "${TMPDIR:-/tmp}/destek-bench-uploads.$$" || cat "${TMPDIR:-/tmp}/destek-bench-uploads.$$" >&2
rm -f "${TMPDIR:-/tmp}/destek-bench-uploads.$$"
exit "$rc"
