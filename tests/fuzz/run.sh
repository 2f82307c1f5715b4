#!/usr/bin/env bash
# Runs the libFuzzer targets that `./build.sh fuzz` built into build/fuzz/targets/ (see tests/fuzz/README.md).
#   tests/fuzz/run.sh smoke [TARGET...]         each target over its seed corpus, then $FUZZ_RUNS (default 4000) more
#                                               inputs with a fixed seed; what `./build.sh test` runs. Exits non-zero
#                                               on the first crash, leak, UB report or failed check.
#   tests/fuzz/run.sh long SECONDS [TARGET...]  fuzz each target for SECONDS at nice 19, two at a time, growing its
#                                               corpus in build/fuzz/corpus/<target>/ (never committed); one log each
#                                               in build/fuzz/logs/, ending with libFuzzer's cov/ft and exec/s figures.
#   tests/fuzz/run.sh list                      the target names
# Crash inputs go to build/fuzz/artifacts/<target>-crash-<sha1>; reproduce one with
#   build/fuzz/targets/<target> build/fuzz/artifacts/<file>
set -uo pipefail
cd "$(dirname "$0")/../.."
targets_dir=build/fuzz/targets
seeds=tests/fuzz/corpus
dicts=tests/fuzz/dict
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
[[ -n $symbolizer ]] && export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$symbolizer}

all_targets() { for f in tests/fuzz/fuzz_*.c; do f=${f##*/fuzz_}; echo "${f%.c}"; done; }

# The largest input worth trying: whole messages for MIME, a body for HTML, small elsewhere.
max_len() {
  case $1 in
    mail_parse) echo 65536 ;;
    mail_html) echo 16384 ;;
    *) echo 4096 ;;
  esac
}

# libFuzzer flags shared by both modes, for target $1.
flags() {
  local t=$1
  printf '%s\n' -max_len="$(max_len "$t")" -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="build/fuzz/artifacts/$t-"
  [[ -f $dicts/$t.dict ]] && printf '%s\n' -dict="$dicts/$t.dict"
  return 0
}

check_built() {
  local t
  for t in "$@"; do
    [[ -x $targets_dir/$t ]] || { echo "run.sh: $targets_dir/$t is not built (./build.sh fuzz)" >&2; exit 2; }
    [[ -d $seeds/$t ]] || { echo "run.sh: no seed corpus $seeds/$t" >&2; exit 2; }
  done
}

smoke() {
  local t failed=() runs=${FUZZ_RUNS:-4000}
  mkdir -p build/fuzz/artifacts
  for t in "$@"; do
    # New inputs go to a scratch directory, listed first: the committed seeds stay as they are.
    local scratch=build/fuzz/smoke/$t t0=$SECONDS
    rm -rf "$scratch" && mkdir -p "$scratch"
    mapfile -t fl < <(flags "$t")
    if "$targets_dir/$t" "${fl[@]}" -timeout=10 -runs="$runs" -seed="${FUZZ_SEED:-1}" "$scratch" "$seeds/$t" \
        >"build/fuzz/smoke/$t.log" 2>&1; then
      printf '%-12s ok   %3ss  %s\n' "$t" $((SECONDS - t0)) "$(grep -o 'cov: [0-9]* ft: [0-9]*' "build/fuzz/smoke/$t.log" | tail -1)"
    else
      printf '%-12s FAILED (%ss): build/fuzz/smoke/%s.log\n' "$t" $((SECONDS - t0)) "$t"
      grep -E 'ERROR|SUMMARY|fuzz check failed|runtime error|Test unit written' "build/fuzz/smoke/$t.log" | head -20
      failed+=("$t")
    fi
  done
  ((${#failed[@]} == 0)) || { echo "fuzz targets failed: ${failed[*]}"; return 1; }
}

long_one() {  # target seconds
  local t=$1 secs=$2
  mkdir -p "build/fuzz/corpus/$t" build/fuzz/logs build/fuzz/artifacts
  mapfile -t fl < <(flags "$t")
  nice -n 19 "$targets_dir/$t" "${fl[@]}" -max_total_time="$secs" -timeout=60 \
    "build/fuzz/corpus/$t" "$seeds/$t" >"build/fuzz/logs/$t.log" 2>&1
  local rc=$?
  printf '%-12s rc=%d  %s\n' "$t" "$rc" "$(grep -E '^#[0-9]+' "build/fuzz/logs/$t.log" | tail -1)"
}

cmd=${1:-smoke}
shift || true
case $cmd in
  list) all_targets ;;
  smoke)
    (($#)) || set -- $(all_targets)
    check_built "$@"
    smoke "$@" ;;
  long)
    secs=${1:?usage: run.sh long SECONDS [TARGET...]}
    shift
    (($#)) || set -- $(all_targets)
    check_built "$@"
    export -f long_one flags max_len
    export targets_dir seeds dicts
    printf '%s\n' "$@" | xargs -P 2 -I{} bash -c 'long_one "$1" "$2"' _ {} "$secs" ;;
  *) echo "usage: tests/fuzz/run.sh smoke|long SECONDS|list [TARGET...]" >&2; exit 2 ;;
esac
