#!/usr/bin/env bash
# Destek build driver.
#   ./build.sh          build build/destek (release, stripped, UI embedded)
#   ./build.sh run      build, then start the server on the embedded default (./destek-data, 127.0.0.1:8080)
#   ./build.sh test     build, then run every test: C unit tests, fuzz targets (briefly), API tests (also under
#                       ASan+UBSan), browser tests
#   ./build.sh bench    build, then run the benchmarks in tests/bench/
#   ./build.sh fuzz     build the libFuzzer targets (clang) into build/fuzz/targets/; with arguments, then run
#                       tests/fuzz/run.sh with them, e.g. `./build.sh fuzz smoke` or `./build.sh fuzz long 600 mail_parse`
# On a fresh Debian 12 machine, as root, it installs the Debian packages it needs; otherwise it prints the command.
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

say() { printf '%s\n' "$*" >&2; }
die() { say "build.sh: $*"; exit 1; }

# --- Debian packages -------------------------------------------------------------------------------------------
# The manifest names each package and the version it was tested with; stage is "build" or "test".
# "fuzz" (./build.sh fuzz) is the build packages and the test packages whose note names it: clang and its runtimes.
want_packages() {
  local stage=$1
  awk -v s="$stage" '$1=="build" || (s=="test" && $1=="test") || (s=="fuzz" && $1=="test" && /fuzz/) {print $2"\t"$3}' \
    third_party/manifest
}

ensure_packages() {
  local stage=$1 missing=() pkg ver have
  while IFS=$'\t' read -r pkg ver; do
    case $pkg in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    have=$(dpkg-query -W -f='${Status}\t${Version}' "$pkg" 2>/dev/null || true)
    if [[ $have != "install ok installed"* ]]; then
      missing+=("$pkg")
    elif [[ ${have#*$'\t'} != "$ver" ]]; then
      say "note: $pkg ${have#*$'\t'} is installed; Destek was tested with $ver"
    fi
  done < <(want_packages "$stage")
  ((${#missing[@]} == 0)) && return 0
  if [[ $(id -u) != 0 ]]; then
    say "build.sh: missing Debian packages: ${missing[*]}"
    say "run as root:  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null || die "apt-get update failed"
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install failed for: ${missing[*]}"
}

# --- npm packages (from the committed lockfile) -----------------------------------------------------------------
ensure_npm() {
  local stamp=$top/build/npm.stamp
  mkdir -p build
  if [[ ! -d web/node_modules || ! -f $stamp || web/package-lock.json -nt $stamp ]]; then
    say "installing npm packages from web/package-lock.json"
    (cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
      || die "npm ci failed in web/ (see web/package-lock.json)"
    touch "$stamp"
  fi
}

# --- build ------------------------------------------------------------------------------------------------------
build_release() {  # [TARGET...]: only these cmake targets (all by default)
  local only=()
  (($#)) && only=(--target "$@")
  scripts/fetch-deps.sh build/deps
  node scripts/build-web.mjs build/web
  cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DDESTEK_DEPS=build/deps >/dev/null
  cmake --build build/release -j "$jobs" "${only[@]}" >/dev/null || cmake --build build/release -j 1 "${only[@]}"
  cp build/release/destek build/destek
  strip build/destek
}

build_asan() {
  # No module .so files: the tests load only the release build's (scripts/run-tests.sh); each module compiles once.
  cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DDESTEK_SANITIZE=ON -DDESTEK_MODULE_SO=OFF -DDESTEK_DEPS=build/deps >/dev/null
  cmake --build build/asan -j "$jobs" >/dev/null || cmake --build build/asan -j 1
}

# The fuzz targets of tests/fuzz: the core and the built-in plugins compiled again with clang, libFuzzer's coverage
# instrumentation and ASan+UBSan. They serve no page, so an empty directory stands in for the web UI (no npm).
build_fuzz() {
  command -v clang-14 >/dev/null || die "clang-14 is missing (a test package in third_party/manifest)"
  scripts/fetch-deps.sh build/deps
  mkdir -p build/fuzz/no-web && touch build/fuzz/no-web/.stamp
  CC=clang-14 cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DDESTEK_FUZZ=ON -DDESTEK_DEPS=build/deps \
    -DDESTEK_WEB="$top/build/fuzz/no-web" >/dev/null
  cmake --build build/fuzz -j "$jobs" >/dev/null || cmake --build build/fuzz -j 1
}

cmd=${1:-build}
case $cmd in
  build)
    ensure_packages build; ensure_npm; build_release
    say "built build/destek ($(stat -c %s build/destek) bytes)" ;;
  run)
    ensure_packages build; ensure_npm; build_release
    shift || true
    exec build/destek serve "$@" ;;
  test)
    ensure_packages test
    # Only build/destek here: the browser tests need nothing else and start on it at once. The rest of the release
    # build (module .so files, unit tests, test plugins), the ASan+UBSan build and the fuzz targets are built by
    # scripts/run-tests.sh (DESTEK_TEST_BUILDS=1) beside the browser tests, which leave most of the CPU idle.
    # The step's wall seconds go to the closing table of scripts/run-tests.sh.
    t=$SECONDS; ensure_npm; build_release destek; export DESTEK_BUILD_TIMES="release, build/destek only (npm, web, cmake)=$((SECONDS - t))"
    export DESTEK_TEST_BUILDS=1
    exec scripts/run-tests.sh ;;
  test-build)   # the builds scripts/run-tests.sh makes with DESTEK_TEST_BUILDS=1: release-rest, asan, fuzz
    case ${2:-} in
      # Everything of the release build but build/destek, which browser tests may be running: never copied here.
      release-rest) cmake --build build/release -j "$jobs" >/dev/null || cmake --build build/release -j 1 ;;
      asan) build_asan ;;
      fuzz) ensure_packages fuzz; build_fuzz ;;
      *) die "test-build: release-rest, asan or fuzz" ;;
    esac ;;
  bench)
    ensure_packages test; ensure_npm; build_release
    exec tests/bench/run.sh ;;
  fuzz)
    ensure_packages fuzz; build_fuzz
    shift || true
    if (($#)); then exec tests/fuzz/run.sh "$@"; fi
    say "built the fuzz targets in build/fuzz/targets/ (run them: tests/fuzz/run.sh smoke, or see tests/fuzz/README.md)" ;;
  -h|--help|help)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$cmd' (try: build, run, test, bench, fuzz)" ;;
esac
