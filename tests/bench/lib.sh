# shellcheck shell=bash disable=SC2154,SC2034  # sourced: the caller sets bin, tmp, duration, conns, wthreads and reads ceiling_url
# Shared by the bench scripts (sourced): tools, clean-up of started processes, the CivetWeb ceiling build, waiting
# for a log line, wrk runs and small number helpers. http.sh keeps its own copy of the same steps for now.
# The sourcing script sets: bin, tmp (after bench_tmp), and uses ceiling_pid / destek_pid / wrk_pid.

civetweb=build/deps/civetweb
ceiling_bin=build/bench/ceiling

say() { printf '%s\n' "$*"; }
fail() { printf '%s: %s\n' "${bench_name:-bench}" "$*" >&2; exit 1; }

bench_tools() {
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
  command -v node >/dev/null || fail "node (>= 18) is needed; ./build.sh installs it"
  [[ -x $bin ]] || fail "$bin is missing: run ./build.sh first"
  [[ -f $civetweb/src/civetweb.c ]] || fail "CivetWeb source not found in $civetweb: run ./build.sh first"
}

ceiling_pid='' destek_pid='' wrk_pid=''
# shellcheck disable=SC2317  # called by the EXIT trap
bench_cleanup() {
  local p pids=()
  for p in "$wrk_pid" "$destek_pid" "$ceiling_pid"; do [[ -n $p ]] && pids+=("$p"); done
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  [[ -n ${tmp:-} ]] && rm -rf "$tmp"
}
bench_tmp() {
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/destek-bench.XXXXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# The ceiling: the same CivetWeb source and defines as third_party/deps.cmake, -O3 -DNDEBUG, into build/bench/.
ceiling_build() {
  local cc=${CC:-cc} libdir
  libdir=/usr/lib/$($cc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
  [[ -d $libdir ]] || libdir=/usr/lib/x86_64-linux-gnu
  local defs=(-DUSE_MBEDTLS -DUSE_IPV6 -DUSE_WEBSOCKET -DNO_CGI)
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
}

# wait_line FILE PID REGEX [TENTHS]: prints the first line of FILE matching REGEX, waiting while PID lives.
wait_line() {
  local file=$1 pid=$2 re=$3 n=${4:-150} line
  for _ in $(seq "$n"); do
    line=$(grep -m1 -E "$re" "$file" 2>/dev/null || true)
    [[ -n $line ]] && { printf '%s\n' "$line"; return 0; }
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

ceiling_start() {
  "$ceiling_bin" 127.0.0.1 2>"$tmp/ceiling.log" &
  ceiling_pid=$!
  local line
  line=$(wait_line "$tmp/ceiling.log" "$ceiling_pid" '^ceiling: listening on http://') ||
    fail "the ceiling did not start: $(cat "$tmp/ceiling.log")"
  ceiling_url=${line#ceiling: listening on }
}

# run_wrk NAME URL [DURATION [wrk args...]]: one wrk run; sets rps. Fails on non-2xx answers or a dead server.
rps=
run_wrk() {
  local name=$1 target=$2 d=${3:-$duration} out
  shift 3 || shift $#
  out="$tmp/wrk-$name.txt"
  wrk -t"$wthreads" -c"$conns" -d"$d" --latency "$@" "$target" >"$out" 2>&1 &
  wrk_pid=$!
  local rc=0
  wait "$wrk_pid" || rc=$?
  wrk_pid=
  ((rc == 0)) || { cat "$out" >&2; fail "wrk failed on $target"; }
  if grep -q 'Non-2xx or 3xx responses' "$out"; then cat "$out" >&2; fail "$name: the server answered with errors"; fi
  [[ -z $ceiling_pid ]] || kill -0 "$ceiling_pid" 2>/dev/null || fail "the ceiling server died during the run"
  [[ -z $destek_pid ]] || kill -0 "$destek_pid" 2>/dev/null || fail "$bin died during the run"
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  [[ -n $rps ]] || { cat "$out" >&2; fail "$name: no Requests/sec in the wrk output"; }
}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
# Three decimals: a target is compared with what is printed, and 0.046 must not pass as "0.05".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
pf() { awk -v v="$1" -v t="$2" -v cmp="$3" 'BEGIN {print ((cmp == "ge" ? v >= t : v <= t) ? "PASS" : "FAIL")}'; }
rss_kib() { awk -v k="${2:-VmRSS}:" '$1 == k {print $2}' "/proc/$1/status"; }
