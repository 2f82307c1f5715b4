#!/usr/bin/env bash
# Live chat under load: the widget's size; 500 visitor websockets open at once with message latency both ways, CPU per
# message and RSS (tests/bench/chat-sockets.mjs); then the polling fallback with 100 visitors (tests/bench/chat.mjs).
#
#   tests/bench/chat.sh          (run by tests/bench/run.sh, which `./build.sh bench` runs after the build)
#
# Settings (environment): BENCH_SOCKETS (500), BENCH_VISITORS (100, polling), BENCH_MESSAGES (200), BENCH_REPLIES
# (100 / 50), BENCH_POLLING=0 skips the polling part, DESTEK_BIN (build/destek).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v node >/dev/null || { echo "chat.sh: node (>= 18) is needed; ./build.sh installs it" >&2; exit 1; }
[[ -x ${DESTEK_BIN:-build/destek} ]] || { echo "chat.sh: ${DESTEK_BIN:-build/destek} is missing: run ./build.sh first" >&2; exit 1; }
node tests/bench/chat-sockets.mjs | grep '^chat:'
[[ ${BENCH_POLLING:-1} == 0 ]] || node tests/bench/chat.mjs | grep '^chat:'
