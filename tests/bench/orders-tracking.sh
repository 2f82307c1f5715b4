#!/usr/bin/env bash
# Tracking polling: one pass over BENCH_SHIPMENTS (300) in-transit shipments against a carrier mock answering in
# BENCH_DELAY_MS (50) ms, and GET /api/v1/me's latency idle and during the pass. The driver is
# tests/bench/orders-tracking.mjs (it says what it measures). DESTEK_BIN (build/destek).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v node >/dev/null || { echo "orders-tracking.sh: node (>= 18) is needed" >&2; exit 1; }
[[ -x ${DESTEK_BIN:-build/destek} ]] || { echo "orders-tracking.sh: ${DESTEK_BIN:-build/destek} is missing: run ./build.sh first" >&2; exit 1; }
set +e
node tests/bench/orders-tracking.mjs >"${TMPDIR:-/tmp}/destek-bench-orders-tracking.$$" 2>&1
rc=$?
set -e
grep '^orders-tracking:' "${TMPDIR:-/tmp}/destek-bench-orders-tracking.$$" || cat "${TMPDIR:-/tmp}/destek-bench-orders-tracking.$$" >&2
rm -f "${TMPDIR:-/tmp}/destek-bench-orders-tracking.$$"
exit "$rc"
