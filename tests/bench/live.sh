#!/usr/bin/env bash
# Live updates under load: RSS with 40 websockets open and the time from a commit to its frame on every socket.
#
#   tests/bench/live.sh          (run by tests/bench/run.sh, which `./build.sh bench` runs after the build)
#
# The driver is tests/bench/live.mjs (it says what it measures). Settings (environment): BENCH_USERS (5),
# BENCH_SOCKETS (40), BENCH_TICKETS (300), BENCH_CONCURRENCY (8), DESTEK_BIN (build/destek).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v node >/dev/null || { echo "live.sh: node (>= 18) is needed; ./build.sh installs it" >&2; exit 1; }
[[ -x ${DESTEK_BIN:-build/destek} ]] || { echo "live.sh: ${DESTEK_BIN:-build/destek} is missing: run ./build.sh first" >&2; exit 1; }
# The harness it shares with the API tests speaks TAP; only the figures matter here.
node tests/bench/live.mjs | grep '^live:'
