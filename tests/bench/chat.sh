#!/usr/bin/env bash
# Live chat under load: visitor -> agent and agent -> visitor latency with many polling visitors, RSS, widget size.
#
#   tests/bench/chat.sh          (run by tests/bench/run.sh, which `./build.sh bench` runs after the build)
#
# The driver is tests/bench/chat.mjs (it says what it measures). Settings (environment): BENCH_VISITORS (100),
# BENCH_MESSAGES (200), BENCH_REPLIES (50), DESTEK_BIN (build/destek). Visitors long-poll (no websocket for them yet):
# the 500-socket figure of issue 16 is not measured.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v node >/dev/null || { echo "chat.sh: node (>= 18) is needed; ./build.sh installs it" >&2; exit 1; }
[[ -x ${DESTEK_BIN:-build/destek} ]] || { echo "chat.sh: ${DESTEK_BIN:-build/destek} is missing: run ./build.sh first" >&2; exit 1; }
node tests/bench/chat.mjs | grep '^chat:'
