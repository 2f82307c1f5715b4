#!/usr/bin/env bash
# The cost of a Lua route relative to a C route on the same request.
#
#   tests/bench/lua_route.sh     (run by tests/bench/run.sh, which `./build.sh bench` runs after the build)
#
# One build/destek serves both routes from one data directory:
#   GET /bench/c    a C plugin (.so) built from tests/plugins/bench_c.c      -> {"ok":true}
#   GET /bench/lua  a Lua plugin, tests/lua/bench_lua.lua                    -> {"ok":true}
# Both are public, so the request does the same work in the router, the access log and the response writer; the
# difference is the plugin call: a C function pointer against a Lua call (thread's state, request table, budget
# hook, JSON conversion). wrk on loopback, keep-alive; runs interleaved (C, Lua, C, Lua, ...) after a warm-up;
# prints the median requests/s of each and the ratio Lua / C. Target: >= 0.7.
# Figures only: it exits 0 whether the target passes or fails, and 1 only when something could not run.
#
# Settings (environment): BENCH_DURATION (default 5s), BENCH_RUNS (default 3), BENCH_CONNECTIONS (default 32),
# BENCH_THREADS (wrk threads, default 2), DESTEK_BIN (default build/destek), BENCH_C_PLUGIN (default
# build/release/tests/plugins/bench_c.so).
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=${DESTEK_BIN:-build/destek}
plugin_so=${BENCH_C_PLUGIN:-build/release/tests/plugins/bench_c.so}
duration=${BENCH_DURATION:-5s}
runs=${BENCH_RUNS:-3}
conns=${BENCH_CONNECTIONS:-32}
wthreads=${BENCH_THREADS:-2}
target_ratio=0.7

say() { printf '%s\n' "$*"; }
fail() { printf 'lua_route.sh: %s\n' "$*" >&2; exit 1; }

command -v wrk >/dev/null || fail "wrk is missing; run as root:  apt-get update && apt-get install -y --no-install-recommends wrk"
[[ -x $bin ]] || fail "$bin is missing: run ./build.sh first"
[[ -f $plugin_so ]] || fail "$plugin_so is missing: it is built with the release build (tests/plugins/bench_c.c)"
[[ -f tests/lua/bench_lua.lua ]] || fail "tests/lua/bench_lua.lua is missing"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/destek-bench-lua.XXXXXX")
destek_pid= wrk_pid=
cleanup() {
  local p
  for p in "$wrk_pid" "$destek_pid"; do
    [[ -n $p ]] || continue
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$tmp/data/plugins"
chmod 700 "$tmp/data"
cp "$plugin_so" "$tmp/data/plugins/bench_c.so"
cp tests/lua/bench_lua.lua "$tmp/data/plugins/"

# The access log goes to a file (a real cost, as in production), emptied between runs after keeping warnings.
"$bin" serve --listen 127.0.0.1:0 --data "$tmp/data" 2>>"$tmp/destek.log" &
destek_pid=$!
url=
for _ in $(seq 150); do
  url=$(sed -n 's/^destek: listening on \(http:[^ ]*\).*/\1/p' "$tmp/destek.log" | head -n1)
  [[ -n $url ]] && break
  kill -0 "$destek_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n $url ]] || fail "build/destek did not start: $(tail -n 20 "$tmp/destek.log")"

keep_log() {
  grep -E '^[0-9T:.-]+Z (WARN|ERROR) ' "$tmp/destek.log" >>"$tmp/kept.log" || true
  : >"$tmp/destek.log"
}

for route in c lua; do
  body=$(curl -s "$url/bench/$route" || true)
  [[ $body == '{"ok":true}' ]] || fail "GET /bench/$route answered '$body' (is the plugin loaded?): $(tail -n 20 "$tmp/destek.log")"
done
keep_log

rps=
run_wrk() {  # NAME PATH [DURATION]
  local name=$1 path=$2 d=${3:-$duration} out="$tmp/wrk-$1.txt" rc=0
  wrk -t"$wthreads" -c"$conns" -d"$d" --latency "$url$path" >"$out" 2>&1 &
  wrk_pid=$!
  wait "$wrk_pid" || rc=$?
  wrk_pid=
  ((rc == 0)) || { cat "$out" >&2; fail "wrk failed on $path"; }
  if grep -q 'Non-2xx or 3xx responses' "$out"; then cat "$out" >&2; fail "$name: the server answered with errors"; fi
  kill -0 "$destek_pid" 2>/dev/null || fail "build/destek died during the run: $(tail -n 20 "$tmp/destek.log")"
  keep_log
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  [[ -n $rps ]] || { cat "$out" >&2; fail "$name: no Requests/sec in the wrk output"; }
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
p99() { awk '$1 == "99%" {print $2; exit}' "$tmp/wrk-$1.txt"; }

say "warming up (1 s each) ..." >&2
run_wrk warm-c /bench/c 1s
run_wrk warm-lua /bench/lua 1s
c_runs=() lua_runs=()
for i in $(seq "$runs"); do
  say "run $i of $runs ..." >&2
  run_wrk "c-$i" /bench/c;     c_runs+=("$rps")
  run_wrk "lua-$i" /bench/lua; lua_runs+=("$rps")
done
c_m=$(median "${c_runs[@]}")
lua_m=$(median "${lua_runs[@]}")
ratio=$(awk -v a="$lua_m" -v b="$c_m" 'BEGIN {printf "%.2f", a / b}')
verdict=$(awk -v r="$ratio" -v t="$target_ratio" 'BEGIN {print (r >= t) ? "PASS" : "FAIL"}')
all() { local s; s=$(printf '%.0f / ' "$@"); printf '%s' "${s% / }"; }

cat <<EOF

== Lua route vs C route (tests/bench/lua_route.sh) ==
settings: wrk -t$wthreads -c$conns -d$duration (keep-alive) on loopback; median of $runs interleaved runs after a 1 s
          warm-up each; $(nproc 2>/dev/null || echo '?') CPUs shared by wrk and the server; $bin, 32 worker threads.
EOF
printf '  %-40s %9.0f req/s   runs: %s   p99 %s\n' "GET /bench/c   (C plugin, bench_c.so)" "$c_m" "$(all "${c_runs[@]}")" "$(p99 "c-$runs")"
printf '  %-40s %9.0f req/s   runs: %s   p99 %s\n' "GET /bench/lua (Lua plugin)" "$lua_m" "$(all "${lua_runs[@]}")" "$(p99 "lua-$runs")"
printf 'target  Lua route >= %s x C route:   %s (%s x)\n' "$target_ratio" "$verdict" "$ratio"
if [[ -s $tmp/kept.log ]]; then
  echo "the server logged warnings or errors during the runs (first 10):"
  head -n 10 "$tmp/kept.log" | sed 's/^/  /'
fi
exit 0
