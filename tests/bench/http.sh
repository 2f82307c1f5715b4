#!/usr/bin/env bash
# HTTP throughput of build/destek beside the ceiling of its stack, plus idle memory and binary size.
#
#   tests/bench/http.sh          (run by tests/bench/run.sh, which `./build.sh bench` runs after the build)
#
# Measures with wrk on loopback, in requests per second:
#   (a) GET /healthz on build/destek                   (router, security headers, JSON encoder, access log)
#   (b) GET /api/v1/me on build/destek, signed in      (+ cookie session lookup in SQLite, user read)
#   (c) a minimal CivetWeb server (tests/bench/ceiling.c) built from the same CivetWeb source with the same
#       defines, 32 threads and tcp_nodelay=1, answering a fixed {"status":"ok"}: the ceiling of this stack.
# Each is printed as requests/s and as a ratio to the ceiling; the target is (b) >= 0.5 x (c). Also printed:
# idle RSS of build/destek (target <= 16 MiB) and the stripped binary size (target <= 6 MiB).
# Figures only: it exits 0 whether targets pass or fail, and 1 only when something could not run.
#
# Settings (environment): BENCH_DURATION (default 5s), BENCH_RUNS (default 3), BENCH_CONNECTIONS (default 32),
# BENCH_THREADS (wrk threads, default 2), DESTEK_BIN (default build/destek).
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=${DESTEK_BIN:-build/destek}
duration=${BENCH_DURATION:-5s}
runs=${BENCH_RUNS:-3}
conns=${BENCH_CONNECTIONS:-32}
wthreads=${BENCH_THREADS:-2}
civetweb=build/deps/civetweb
ceiling_bin=build/bench/ceiling
target_ratio=0.5
target_rss_kib=$((16 * 1024))
target_size_bytes=$((6 * 1024 * 1024))

say() { printf '%s\n' "$*"; }
fail() { printf 'http.sh: %s\n' "$*" >&2; exit 1; }

# --- tools ------------------------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    say "installing wrk (Debian package)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk >/dev/null; } ||
      fail "could not install wrk with apt-get"
  else
    fail "wrk is missing; run as root:  apt-get update && apt-get install -y --no-install-recommends wrk"
  fi
fi
command -v node >/dev/null || fail "node (>= 18) is needed to sign in before the run; ./build.sh installs it"
[[ -x $bin ]] || fail "$bin is missing: run ./build.sh first"
[[ -f $civetweb/src/civetweb.c ]] || fail "CivetWeb source not found in $civetweb: run ./build.sh first"

# --- clean-up: every process started here is stopped on exit ----------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/destek-bench.XXXXXX")
ceiling_pid='' destek_pid='' wrk_pid=''   # children of this shell; each is cleared once it has been waited for
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  local p pids=()
  for p in "$wrk_pid" "$destek_pid" "$ceiling_pid"; do [[ -n $p ]] && pids+=("$p"); done
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the ceiling: built into build/bench/ (not committed) ---------------------------------------------------------
# Same CivetWeb source and defines as third_party/deps.cmake, optimised like the release build (-O3 -DNDEBUG).
cc=${CC:-cc}
libdir=/usr/lib/$($cc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
[[ -d $libdir ]] || libdir=/usr/lib/x86_64-linux-gnu
defs=(-DUSE_MBEDTLS -DUSE_IPV6 -DUSE_WEBSOCKET -DNO_CGI)
mkdir -p build/bench
if [[ ! -x $ceiling_bin || tests/bench/ceiling.c -nt $ceiling_bin || $civetweb/src/civetweb.c -nt $ceiling_bin ]]; then
  say "building $ceiling_bin from $civetweb/src/civetweb.c" >&2
  $cc -O3 -DNDEBUG -std=gnu11 -w "${defs[@]}" -I"$civetweb/include" -c "$civetweb/src/civetweb.c" \
      -o build/bench/civetweb.o || fail "cannot compile CivetWeb for the ceiling"
  $cc -O3 -DNDEBUG -std=gnu11 -Wall -Wextra "${defs[@]}" -I"$civetweb/include" tests/bench/ceiling.c \
      build/bench/civetweb.o "$libdir/libmbedtls.a" "$libdir/libmbedx509.a" "$libdir/libmbedcrypto.a" \
      -lpthread -ldl -lm -o "$ceiling_bin.tmp" || fail "cannot build the ceiling (tests/bench/ceiling.c)"
  mv "$ceiling_bin.tmp" "$ceiling_bin"
fi

# wait_line FILE PID REGEX: prints the first line of FILE matching REGEX, waiting up to 15 s while PID lives.
wait_line() {
  local file=$1 pid=$2 re=$3 line
  for _ in $(seq 150); do
    line=$(grep -m1 -E "$re" "$file" 2>/dev/null || true)
    [[ -n $line ]] && { printf '%s\n' "$line"; return 0; }
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# --- start both servers (loopback only) --------------------------------------------------------------------------
"$ceiling_bin" 127.0.0.1 2>"$tmp/ceiling.log" &
ceiling_pid=$!
line=$(wait_line "$tmp/ceiling.log" "$ceiling_pid" '^ceiling: listening on http://') ||
  fail "the ceiling did not start: $(cat "$tmp/ceiling.log")"
ceiling_url=${line#ceiling: listening on }

# The server logs one line per request: it goes to a file (a real cost of the server, kept in the measurement),
# which is emptied between runs after any warning or error in it has been kept.
"$bin" serve --listen 127.0.0.1:0 --data "$tmp/data" 2>>"$tmp/destek.log" &
destek_pid=$!
line=$(wait_line "$tmp/destek.log" "$destek_pid" '^destek: listening on http://') ||
  fail "build/destek did not start: $(tail -n 20 "$tmp/destek.log")"
url=${line#destek: listening on }
line=$(wait_line "$tmp/destek.log" "$destek_pid" '^destek: no admin yet; open .*/setup\?token=') ||
  fail "build/destek printed no setup link: $(tail -n 20 "$tmp/destek.log")"
setup_token=$(sed -E 's/.*setup\?token=([A-Za-z0-9_-]+).*/\1/' <<<"$line")
version=$("$bin" version 2>/dev/null || echo "destek ?")

keep_log() {  # keep warnings and errors, then empty the log
  grep -E '^[0-9T:.-]+Z (WARN|ERROR) ' "$tmp/destek.log" >>"$tmp/kept.log" || true
  : >"$tmp/destek.log"
}

# --- first admin through the setup link, then sign in; a few requests --------------------------------------------
# shellcheck disable=SC2016  # JavaScript, not shell
cookie=$(node -e '
const [url, token] = process.argv.slice(1);
const email = "bench@example.com", password = "bench-password-" + Math.random().toString(36).slice(2);
const json = (method, path, body, headers = {}) => fetch(url + path, { method,
  headers: { ...headers, ...(body ? { "Content-Type": "application/json" } : {}) },
  body: body ? JSON.stringify(body) : undefined });
const expect = async (what, res, status) => {
  const text = await res.text();
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} (wanted ${status}): ${text}`);
  return text;
};
(async () => {
  await expect("setup", await json("POST", "/api/v1/setup", { token, email, name: "Bench", password }), 201);
  const res = await json("POST", "/api/v1/auth/login", { email, password });
  const m = /destek_session=([^;,\s]+)/.exec(res.headers.get("set-cookie") || "");
  await expect("login", res, 200);
  if (!m) throw new Error("login: no destek_session cookie");
  const cookie = "destek_session=" + m[1];
  for (let i = 0; i < 10; i++) {
    await expect("GET /healthz", await json("GET", "/healthz"), 200);
    const me = JSON.parse(await expect("GET /api/v1/me", await json("GET", "/api/v1/me", null, { Cookie: cookie }), 200));
    if (me.user?.email !== email) throw new Error("GET /api/v1/me: wrong user " + JSON.stringify(me));
  }
  console.log(cookie);
})().catch((e) => { console.error(e.message); process.exit(1); });
' "$url" "$setup_token") || fail "could not create the first admin and sign in (see above)"

# --- idle memory: after start-up, setup, sign-in and 20 requests, then 2 s idle ----------------------------------
sleep 2
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
idle_rss=$(rss_kib "$destek_pid") || fail "cannot read /proc/$destek_pid/status"
keep_log

# --- wrk runs ------------------------------------------------------------------------------------------------------
# run_wrk NAME URL [HEADER [DURATION]]: one wrk run; sets rps. Fails on non-2xx answers or a dead server.
rps=
run_wrk() {
  local name=$1 target=$2 header=${3:-} d=${4:-$duration} out
  out="$tmp/wrk-$name.txt"
  local args=(-t"$wthreads" -c"$conns" -d"$d" --latency)
  [[ -n $header ]] && args+=(-H "$header")
  wrk "${args[@]}" "$target" >"$out" 2>&1 &
  wrk_pid=$!
  local rc=0
  wait "$wrk_pid" || rc=$?
  wrk_pid=
  ((rc == 0)) || { cat "$out" >&2; fail "wrk failed on $target"; }
  if grep -q 'Non-2xx or 3xx responses' "$out"; then
    cat "$out" >&2
    fail "$name: the server answered with errors during the run (see above)"
  fi
  if grep -q 'Socket errors' "$out"; then
    printf 'note: %s: %s\n' "$name" "$(grep 'Socket errors' "$out" | sed 's/^ *//')" >>"$tmp/notes"
  fi
  kill -0 "$ceiling_pid" 2>/dev/null || fail "the ceiling server died during the run"
  kill -0 "$destek_pid" 2>/dev/null || fail "build/destek died during the run: $(tail -n 20 "$tmp/destek.log")"
  keep_log
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  [[ -n $rps ]] || { cat "$out" >&2; fail "$name: no Requests/sec in the wrk output"; }
}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

say "warming up (1 s each) ..." >&2
run_wrk warm-ceiling "$ceiling_url/healthz" "" 1s
run_wrk warm-healthz "$url/healthz" "" 1s
run_wrk warm-me "$url/api/v1/me" "Cookie: $cookie" 1s

ceil=() health=() me=()
for i in $(seq "$runs"); do
  say "run $i of $runs ..." >&2
  run_wrk "ceiling-$i" "$ceiling_url/healthz";                 ceil+=("$rps")
  run_wrk "healthz-$i" "$url/healthz";                         health+=("$rps")
  run_wrk "me-$i" "$url/api/v1/me" "Cookie: $cookie";          me+=("$rps")
done
loaded_rss=$(rss_kib "$destek_pid")

ceil_m=$(median "${ceil[@]}")
health_m=$(median "${health[@]}")
me_m=$(median "${me[@]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
p99() { awk '$1 == "99%" {print $2; exit}' "$tmp/wrk-$1.txt"; }

# --- binary size ---------------------------------------------------------------------------------------------------
if command -v strip >/dev/null && strip -o "$tmp/destek.stripped" "$bin" 2>/dev/null; then
  size=$(stat -c %s "$tmp/destek.stripped")
  size_note="stripped"
else
  size=$(stat -c %s "$bin")
  size_note="as built (strip not available)"
fi

# --- report --------------------------------------------------------------------------------------------------------
pf() { awk -v v="$1" -v t="$2" -v cmp="$3" 'BEGIN {print ((cmp == "ge" ? v >= t : v <= t) ? "PASS" : "FAIL")}'; }
row() {  # label median ratio runs... p99-file
  local label=$1 m=$2 r=$3 p=$4; shift 4
  local all
  all=$(printf '%.0f / ' "$@"); all=${all% / }
  printf '  %-38s %9.0f req/s   %5s x ceiling   runs: %s   p99 %s\n' "$label" "$m" "$r" "$all" "$p"
}
me_ratio=$(ratio "$me_m" "$ceil_m")
cpus=$(nproc 2>/dev/null || echo '?')
cat <<EOF

== HTTP throughput: $version vs the CivetWeb ceiling (tests/bench/http.sh) ==
settings: wrk -t$wthreads -c$conns -d$duration (keep-alive) on loopback 127.0.0.1; median of $runs runs per target,
          runs interleaved (ceiling, /healthz, /me, ...) after a 1 s warm-up each; $cpus CPUs shared by wrk and servers.
destek:   $bin serve --listen 127.0.0.1:0 --data <temp dir> (32 worker threads, tcp_nodelay=1; its per-request
          log line written to a file, as in production).
ceiling:  $ceiling_bin: CivetWeb from $civetweb with USE_MBEDTLS USE_IPV6 USE_WEBSOCKET NO_CGI,
          32 threads, tcp_nodelay=1, a fixed {"status":"ok"} for every request (no router, auth, database or log).

EOF
row "(c) ceiling: fixed {\"status\":\"ok\"}" "$ceil_m" "1.00" "$(p99 "ceiling-$runs")" "${ceil[@]}"
row "(a) destek GET /healthz" "$health_m" "$(ratio "$health_m" "$ceil_m")" "$(p99 "healthz-$runs")" "${health[@]}"
row "(b) destek GET /api/v1/me (cookie)" "$me_m" "$me_ratio" "$(p99 "me-$runs")" "${me[@]}"
echo
printf 'target  /api/v1/me >= %s x ceiling:   %s (%s x)\n' "$target_ratio" "$(pf "$me_ratio" "$target_ratio" ge)" "$me_ratio"
printf 'idle RSS of build/destek:               %s (%.1f MiB = %s kB VmRSS after start-up, setup, sign-in, 20 requests, 2 s idle; target <= 16 MiB)\n' \
  "$(pf "$idle_rss" "$target_rss_kib" le)" "$(awk -v k="$idle_rss" 'BEGIN {print k / 1024}')" "$idle_rss"
printf 'binary size:                            %s (%.2f MiB = %s bytes, %s; target <= 6 MiB)\n' \
  "$(pf "$size" "$target_size_bytes" le)" "$(awk -v s="$size" 'BEGIN {print s / 1048576}')" "$size" "$size_note"
printf '(for information) RSS right after the runs: %.1f MiB (%s kB)\n' "$(awk -v k="$loaded_rss" 'BEGIN {print k / 1024}')" "$loaded_rss"
[[ -s $tmp/notes ]] && cat "$tmp/notes"
if [[ -s $tmp/kept.log ]]; then
  echo "the server logged warnings or errors during the runs (first 10):"
  head -n 10 "$tmp/kept.log" | sed 's/^/  /'
fi
exit 0
