#!/usr/bin/env bash
# Runs every test: the module boundary, C unit tests (release and ASan+UBSan builds), the fuzz targets over their seed
# corpora (a few seconds each), API tests against both binaries, and the browser tests.
# Called by `./build.sh test` after it built build/destek; with DESTEK_TEST_BUILDS=1 (build.sh sets it) it also makes
# the other builds (the rest of the release build, ASan+UBSan, the fuzz targets) while the browser tests run.
# Two phases (on a 2-core CI machine):
#   1. the browser tests in the background (they mostly wait on Chromium and timers), and beside them, at nice 10 so
#      that Chromium and the servers under test get the CPU when they want it, the work that checks no clock: the
#      builds, the module boundary, the fuzz smoke runs;
#   2. then alone, one group after the other, everything with a wall-clock check (the Lua sandbox's "ends within
#      1 s" in the unit tests and the API tests; the API groups' timers): the C unit tests and the API groups.
# Prints each group's wall and CPU seconds and its slowest files, a closing table of the groups (with the first
# build's time when build.sh passes it in DESTEK_BUILD_TIMES), and a closing "N passed, N failed" line; exits
# non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
passed=0 failed=0 failures=() summary=()
logs=$(mktemp -d "${TMPDIR:-/tmp}/destek-run-tests.XXXXXX")
trap 'rm -rf "$logs"' EXIT
t_all=$SECONDS

# CPU seconds (user+system) of every finished child of this shell so far (a background group's subshell counts its
# own: the kernel starts a new process's count at zero): cutime and cstime of /proc/PID/stat, in clock ticks.
# (Not through a file: the background group and the foreground ones would write the same one at the same time.)
tick=$(getconf CLK_TCK 2>/dev/null || echo 100)
child_cpu() {
  local stat
  stat=$(</proc/$BASHPID/stat)
  stat=${stat##*) }   # after the command name, which may hold spaces
  awk -v hz="$tick" '{ printf "%d", ($14 + $15) / hz }' <<<"$stat"
}

run() {  # name command...
  local name=$1; shift
  local t0=$SECONDS c0 log state
  log=$(mktemp "$logs/group.XXXXXX")
  child_cpu > "$log.c0"; c0=$(<"$log.c0")
  printf '== %s\n' "$name"
  if DESTEK_TEST_TIMES=$log.times timeout 1500 "$@" 2>&1 | tee "$log"; then
    passed=$((passed + 1)); state=ok
  else
    failed=$((failed + 1)); failures+=("$name"); state=FAILED
  fi
  child_cpu > "$log.c1"
  local wall=$((SECONDS - t0)) cpu=$(($(<"$log.c1") - c0))
  printf '== %s: %s (%ss, %ss CPU)\n' "$name" "$state" "$wall" "$cpu"
  if [[ -s $log.times ]]; then   # written by scripts/test-times.mjs (node groups)
    printf '== slowest files (s of tests): %s\n' "$(head -n 8 "$log.times" | sed 's/^\(\S*\) \(\S*\)\.test\.mjs$/\2 \1/' | paste -sd, - | sed 's/,/, /g')"
  fi
  summary+=("$(printf '%6s %6s  %-7s %s' "$wall" "$cpu" "$state" "$name")")
}

# One group in the background while the others run (its output is held and printed when wait_background ends it):
# the browser tests (on CI: ~240 s of CPU in ~340 s alone), beside the work of phase 1.
background() {  # name command...
  bg_name=$1
  ( summary=() failed=0; run "$@" > "$logs/bg.out" 2>&1; printf '%s\n' "${summary[0]}" > "$logs/bg.summary"
    ((failed == 0)) ) &
  bg_pid=$!
  printf '== %s: started in the background\n' "$bg_name"
}
wait_background() {
  local t0=$SECONDS
  if wait "$bg_pid"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$bg_name"); fi
  cat "$logs/bg.out"
  summary+=("$(cat "$logs/bg.summary" 2>/dev/null || printf '%6s %6s  %-7s %s' '?' '?' FAILED "$bg_name")")
  printf '== (waited %ss for it after the other groups)\n' $((SECONDS - t0))
}

# node --test with TAP on stdout; scripts/test-times.mjs writes each file's test seconds to $DESTEK_TEST_TIMES.
NODE_TEST=(node --test --test-reporter=tap --test-reporter-destination=stdout
           --test-reporter=./scripts/test-times.mjs --test-reporter-destination=/dev/null)
api_files() { for t in "$@"; do printf 'tests/api/%s.test.mjs\n' "$t"; done; }

# ---- phase 1: the browser tests in the background; beside them, at nice 10, what checks no clock.
# DESTEK_TEST_OVERLAP=1 once ran the browser tests beside the API groups instead: their Lua sandbox checks ("ends
# within 1 s", a 0.5 s wall limit) failed beside them on a loaded machine (1.3-1.6 s); nothing with a clock runs
# beside them now.
# Two files at a time (DESTEK_E2E_CONCURRENCY): alone, one file at a time used about 0.7 of the 2 cores (~240 s of CPU
# in ~340-400 s); each file has its own server, data directory, Chromium and ports. The longest files first, so that
# none starts last and ends the group alone (CI: admin 50-68 s, agentday 36, ticket-view 27-32, mailboxes 22,
# live 21); then the others in name order.
E2E_FIRST=(admin agentday ticket-view mailboxes live)
e2e_files=()
for t in "${E2E_FIRST[@]}"; do e2e_files+=("tests/e2e/$t.test.mjs"); done
for f in tests/e2e/*.test.mjs; do [[ " ${e2e_files[*]} " == *" $f "* ]] || e2e_files+=("$f"); done
E2E=(env DESTEK_BIN=build/destek "${NODE_TEST[@]}" --test-concurrency="${DESTEK_E2E_CONCURRENCY:-2}" "${e2e_files[@]}")
background "e2e (chromium)" "${E2E[@]}"
LOW=(nice -n 10)
if ((${DESTEK_TEST_BUILDS:-0})); then
  run "build: release (module .so, unit tests, test plugins)" "${LOW[@]}" ./build.sh test-build release-rest
  run "build: asan+ubsan" "${LOW[@]}" ./build.sh test-build asan
  run "build: fuzz (clang, libFuzzer)" "${LOW[@]}" ./build.sh test-build fuzz
fi
run "plugin boundary" "${LOW[@]}" scripts/check-plugins.sh build/destek
run "fuzz (libFuzzer smoke)" "${LOW[@]}" tests/fuzz/run.sh smoke
wait_background

# ---- phase 2: alone, one group after the other.
# ctest runs one test program at a time by default; two at once on the two cores (each its own temp dir and ports).
cores=$(nproc 2>/dev/null || echo 2)
run "unit (release)" ctest --test-dir build/release --output-on-failure -j "$cores"
run "unit (asan+ubsan)" ctest --test-dir build/asan --output-on-failure -j "$cores"
run "api (release)" env DESTEK_BIN=build/destek "${NODE_TEST[@]}" --test-concurrency=4 tests/api/*.test.mjs

# The ticketing module once more as a plugin would run: its built-in copy switched off, build/release/plugins/
# ticketing.so loaded from each test's <data>/plugins/ (tests/api/lib.mjs copies it there). Every file proved the
# module's behaviour above; this pass proves the .so itself works end to end, so it takes the files that reach each
# way the module meets the rest: its migrations on a new desk and on an upgrade (contacts-upgrade), the agents' API
# (tickets), the public form, portal and search (tickets-public), MIME in and out through the helper library the .so
# links (mail-in, mail-out), its services and events as other modules use them (tickets-services, triggers,
# feedback-csat).
TICKETING_TESTS=(contacts-upgrade tickets tickets-public mail-in mail-out tickets-services triggers feedback-csat)
if [[ -f build/release/plugins/ticketing.so ]]; then
  mapfile -t files < <(api_files "${TICKETING_TESTS[@]}")
  run "api: ticketing as a .so (release)" env DESTEK_BIN=build/destek DESTEK_NO_BUILTIN=ticketing \
    DESTEK_TEST_MODULE_SO=build/release/plugins/ticketing.so "${NODE_TEST[@]}" --test-concurrency=4 "${files[@]}"
fi
# The orders module the same way: its receivers (webhook signatures and bodies), the WooCommerce poller and the carrier
# adapters on its own threads over curl, the public tracking page, its services as other modules call them
# (orders-services, feedback-nps).
ORDERS_TESTS=(orders-poll orders-receivers orders-tracking feedback-nps orders-services orders-track)
if [[ -f build/release/plugins/orders.so ]]; then
  mapfile -t files < <(api_files "${ORDERS_TESTS[@]}")
  run "api: orders as a .so (release)" env DESTEK_BIN=build/destek DESTEK_NO_BUILTIN=orders \
    DESTEK_TEST_MODULE_SO=build/release/plugins/orders.so "${NODE_TEST[@]}" --test-concurrency=4 "${files[@]}"
fi
# The chat module the same way, every file of it.
if [[ -f build/release/plugins/chat.so ]]; then
  run "api: chat as a .so (release)" env DESTEK_BIN=build/destek DESTEK_NO_BUILTIN=chat \
    DESTEK_TEST_MODULE_SO=build/release/plugins/chat.so "${NODE_TEST[@]}" --test-concurrency=4 tests/api/chat-*.test.mjs
fi

# Under ASan+UBSan, a chosen third of the files, not all of them: every file ran against the release binary above,
# and ASan's worth is in the C that parses what a client, a mail, a webhook or a plugin sends, and in the memory a
# server shares between threads. Running every file again cost 230-260 s of the suite on CI; these cost about a third.
#   HTTP and JSON parsing, every route with hostile input, TLS: hostile-routes errors static tls auth
#   MIME and mail in and out, IMAP: mail-in mail-imap mail-out mail-ack mail-uidvalidity
#   uploads and the shared body-memory budget: upload-memory tickets-portal
#   the Lua host and its sandbox: lua lua-sandbox-lua lua-sandbox-more lua-sandbox-sql lua-private-cache
#   C plugins on the ABI, the host functions, services between modules: plugins hostapi
#   webhooks out and in (signatures, bodies, retries): webhooks orders-receivers orders-ikas-ideasoft chat-whatsapp
#   the public websockets (per-socket queues and sender threads): chat-socket
#   the consent ledger, its CSV import and the send path: campaigns consent-send consent-ledger
# Left to the release pass: CRUD and logic over the same parsers (users, tickets, reports, returns, ...), the CLI and
# crash tests (kill -9, durability: not memory), and the long ones whose C is covered here already (stream's TLS
# loop, orders-import's demo run). Longest first: with 4 at a time, a long file started last would end the group late.
# A new file that brings new parsing C belongs in this list.
ASAN_TESTS=(hostile-routes campaigns webhooks plugins tickets-portal chat-socket mail-out mail-uidvalidity lua
  upload-memory orders-receivers hostapi lua-sandbox-sql mail-ack mail-in orders-ikas-ideasoft mail-imap
  lua-sandbox-lua consent-send chat-whatsapp static tls consent-ledger auth lua-private-cache errors lua-sandbox-more)
mapfile -t files < <(api_files "${ASAN_TESTS[@]}")
run "api (asan+ubsan)" env DESTEK_BIN=build/asan/destek DESTEK_SANITIZED=1 "${NODE_TEST[@]}" --test-concurrency=4 "${files[@]}"

echo
echo "== time per group (seconds: wall, CPU of its processes)"
printf '%s\n' "${DESTEK_BUILD_TIMES:-}" | tr ';' '\n' | awk -F= 'NF == 2 { printf "%6s %6s  %-7s build: %s\n", $2, "", "", $1 }'
printf '%s\n' "${summary[@]}"
printf '%6s %6s  %-7s %s\n' $((SECONDS - t_all)) '' '' 'all the tests'
echo
((failed)) && printf 'failed: %s\n' "${failures[*]}"
printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
