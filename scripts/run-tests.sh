#!/usr/bin/env bash
# Runs every test: the module boundary, C unit tests (release and ASan+UBSan builds), the fuzz targets over their seed
# corpora (a few seconds each), API tests against both binaries, browser tests.
# Called by `./build.sh test` after the builds. Prints a closing "N passed, N failed" line; exits non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0 failed=0 failures=()

run() {  # name command...
  local name=$1; shift
  local t0=$SECONDS
  printf '== %s\n' "$name"
  if timeout 1500 "$@"; then
    passed=$((passed + 1)); printf '== %s: ok (%ss)\n' "$name" $((SECONDS - t0))
  else
    failed=$((failed + 1)); failures+=("$name"); printf '== %s: FAILED (%ss)\n' "$name" $((SECONDS - t0))
  fi
}

run "plugin boundary" scripts/check-plugins.sh build/destek
run "unit (release)" ctest --test-dir build/release --output-on-failure
run "unit (asan+ubsan)" ctest --test-dir build/asan --output-on-failure
run "fuzz (libFuzzer smoke)" tests/fuzz/run.sh smoke
run "api (release)" env DESTEK_BIN=build/destek node --test --test-concurrency=4 tests/api/*.test.mjs
# The ticketing module once more as a plugin would run: its built-in copy switched off, build/release/plugins/
# ticketing.so loaded from each test's <data>/plugins/ (tests/api/lib.mjs copies it there).
TICKETING_TESTS=(contacts-kvkk contacts-upgrade demo macros mail-ack mail-imap mail-in mail-mailboxes mail-out
  ratelimit-race sla stream tickets-list tickets-merge tickets-portal tickets-public tickets-services tickets teams triggers
  upload-memory feedback-csat)
ticketing_files=()
for t in "${TICKETING_TESTS[@]}"; do ticketing_files+=("tests/api/$t.test.mjs"); done
if [[ -f build/release/plugins/ticketing.so ]]; then
  run "api: ticketing as a .so (release)" env DESTEK_BIN=build/destek DESTEK_NO_BUILTIN=ticketing \
    DESTEK_TEST_MODULE_SO=build/release/plugins/ticketing.so node --test --test-concurrency=4 "${ticketing_files[@]}"
fi
# The orders module the same way.
ORDERS_TESTS=(orders-import orders-poll orders-receivers orders-services orders-track orders-ikas-ideasoft orders-tracking orders-eta
             orders-notices orders-list orders-links feedback-nps)
orders_files=()
for t in "${ORDERS_TESTS[@]}"; do orders_files+=("tests/api/$t.test.mjs"); done
if [[ -f build/release/plugins/orders.so ]]; then
  run "api: orders as a .so (release)" env DESTEK_BIN=build/destek DESTEK_NO_BUILTIN=orders \
    DESTEK_TEST_MODULE_SO=build/release/plugins/orders.so node --test --test-concurrency=4 "${orders_files[@]}"
fi
# The chat module the same way.
if [[ -f build/release/plugins/chat.so ]]; then
  run "api: chat as a .so (release)" env DESTEK_BIN=build/destek DESTEK_NO_BUILTIN=chat \
    DESTEK_TEST_MODULE_SO=build/release/plugins/chat.so node --test --test-concurrency=4 tests/api/chat-*.test.mjs
fi
run "api (asan+ubsan)" env DESTEK_BIN=build/asan/destek DESTEK_SANITIZED=1 node --test --test-concurrency=4 tests/api/*.test.mjs
run "e2e (chromium)" env DESTEK_BIN=build/destek node --test --test-concurrency=1 tests/e2e/*.test.mjs

echo
((failed)) && printf 'failed: %s\n' "${failures[*]}"
printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
