#!/usr/bin/env bash
# The module boundary (STYLE.md habit 3; issue 10), checked by `./build.sh test`:
#   1. every C file of every plugins/<name>/ compiles with include/ and its own folder on the include path, and
#      nothing else of the project (system headers of what it uses are allowed: SQLite, cJSON, GMime, libcurl);
#   2. no file of plugins/<name>/ includes anything of core/ or of another plugin (a quoted include names a header
#      of its own folder or of include/);
#   3. the destek binary exports only the plugin API: sqlite3_* and cJSON_* (core/exports.list); everything else a
#      plugin needs comes through the host table;
#   4. each module's .so (build/release/plugins/<name>.so) exports destek_plugin alone and needs nothing of the
#      binary but sqlite3_* and cJSON_* (the rest from the C library and the system libraries it links: libcurl,
#      GLib/GMime), and links no SQLite or cJSON of its own.
#
#   scripts/check-plugins.sh [BINARY]        BINARY defaults to build/destek
# Prints what is wrong, file by file; exits 1 when anything is.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/destek}
cc=${CC:-cc}
failed=0
problem() { printf 'check-plugins: %s\n' "$*" >&2; failed=1; }

cjson=
for d in build/release/cjson-include build/asan/cjson-include /usr/include; do
  [[ -f $d/cjson/cJSON.h ]] && { cjson=$d; break; }
done
[[ -n $cjson ]] || { problem "no cjson/cJSON.h found (build first)"; exit 1; }
sys_flags=$(pkg-config --cflags gmime-3.0 libcurl 2>/dev/null) || { problem "pkg-config cannot find gmime-3.0 and libcurl"; exit 1; }

modules=0 files=0
for dir in plugins/*/; do
  dir=${dir%/}
  name=${dir##*/}
  sources=("$dir"/*.c)
  [[ -e ${sources[0]} ]] || continue   # plugins/lua: Lua plugins, nothing to compile
  modules=$((modules + 1))
  for f in "$dir"/*.c "$dir"/*.h; do
    [[ -e $f ]] || continue
    while IFS=: read -r line text; do
      header=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/' <<<"$text")
      case $header in
        ../*|*/../*|core/*|plugins/*) problem "$f:$line: includes $header: a module reaches the core through include/destek.h and other modules through their services and events" ;;
        */*) problem "$f:$line: includes $header: a quoted include names a header of $dir/ or include/" ;;
        *) [[ -f $dir/$header || -f include/$header ]] ||
             problem "$f:$line: includes \"$header\", which is neither in $dir/ nor in include/" ;;
      esac
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
    [[ $f == *.c ]] || continue
    # shellcheck disable=SC2086  # word splitting of the pkg-config flags is intended
    if out=$("$cc" -std=c11 -D_GNU_SOURCE -DDESTEK_PLUGIN_SYMBOL="${name}_plugin" -fsyntax-only \
          -Werror=implicit-function-declaration -I include -I "$dir" -I "$cjson" $sys_flags "$f" 2>&1); then
      files=$((files + 1))
    else
      problem "$f does not compile with -I include -I $dir only:"$'\n'"$(grep -m 5 -E 'error' <<<"$out" | sed 's/^/    /')"
    fi
  done
done

if [[ -x $bin ]]; then
  others=$(nm -D --defined-only "$bin" | awk '{print $NF}' | grep -vE '^(sqlite3_|cJSON_)' | grep -v '@' || true)
  [[ -z $others ]] || problem "$bin exports more than the plugin API (sqlite3_*, cJSON_*): $(tr '\n' ' ' <<<"$others")"
  n=$(nm -D --defined-only "$bin" | grep -cE ' (sqlite3_|cJSON_)')
  ((n > 100)) || problem "$bin exports only $n sqlite3_*/cJSON_* functions: is --dynamic-list=core/exports.list applied?"
else
  problem "no binary at $bin"
fi

sos=0
for so in build/release/plugins/*.so; do
  [[ -e $so ]] || continue
  sos=$((sos + 1))
  exported=$(nm -D --defined-only "$so" | awk '{print $NF}' | grep -v '^destek_plugin$' || true)
  [[ -z $exported ]] || problem "$so exports more than destek_plugin: $(tr '\n' ' ' <<<"$exported")"
  # Undefined symbols: the binary gives sqlite3_*/cJSON_*; versioned ones are the C library's; libcurl and GLib/GMime
  # are linked by the module itself. Anything else (mbedtls_*, a core function) would fail at load.
  foreign=$(nm -D --undefined-only "$so" | awk '{print $NF}' | grep -v '@' |
            grep -vE '^(sqlite3_|cJSON_|curl_|g_|internet_address_|_ITM_|__gmon_start__|__cxa_finalize)' || true)
  [[ -z $foreign ]] || problem "$so needs symbols nothing provides to a plugin: $(tr '\n' ' ' <<<"$foreign")"
  needed=$(readelf -d "$so" | awk '/NEEDED/ {print $NF}' | tr -d '[]' | grep -E 'sqlite|cjson' || true)
  [[ -z $needed ]] || problem "$so links its own $(tr '\n' ' ' <<<"$needed")(it must use the binary's)"
done

((failed)) && exit 1
printf 'check-plugins: %d modules, %d C files compile within the boundary; %d module .so files load-clean; %s exports only the plugin API\n' \
  "$modules" "$files" "$sos" "$bin"
