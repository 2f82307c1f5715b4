#!/usr/bin/env bash
# Campaigns end to end: consent imported, a segment counted, a campaign handed to the core's commercial send path and
# delivered to a loopback SMTP server, GET /api/v1/me timed meanwhile; target: >= 500 messages/s end to end.
#
#   tests/bench/campaigns.sh     (run by tests/bench/run.sh)
#
# The issue's size: a segment over 100,000 contacts (50,000 with an ONAY for e-mail, 50,000 with a RET), the campaign
# queuing and sending to the 50,000. The driver is tests/bench/campaigns.mjs. Settings (environment): BENCH_CONTACTS
# (100000), BENCH_RECIPIENTS (half of them), BENCH_SINKS ("aiosmtpd node"), DESTEK_BIN (build/destek).
# It runs twice: to aiosmtpd (the tests' Python sink) and to a counting SMTP server in the driver (the sender's own pace).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v node >/dev/null || { echo "campaigns.sh: node (>= 18) is needed; ./build.sh installs it" >&2; exit 1; }
[[ -x ${DESTEK_BIN:-build/destek} ]] || { echo "campaigns.sh: ${DESTEK_BIN:-build/destek} is missing: run ./build.sh first" >&2; exit 1; }
n=${BENCH_CONTACTS:-100000}
export BENCH_RECIPIENTS=${BENCH_RECIPIENTS:-$((n / 2))}
for sink in ${BENCH_SINKS:-aiosmtpd node}; do
  out=$(node tests/bench/campaigns.mjs "$n" 10000 "$sink" | grep -v '^#\|^TAP\|^1\.\.0')
  printf 'campaigns (%s): %s\n' "$sink" "$out"
  rate=$(printf '%s\n' "$out" | sed -n 's/.* \([0-9]*\) messages\/s end to end.*/\1/p')
  if [[ -n $rate ]] && ((rate >= 500)); then echo "campaigns ($sink): PASS >= 500 messages/s ($rate)"
  else echo "campaigns ($sink): FAIL < 500 messages/s (${rate:-?})"; fi
done
