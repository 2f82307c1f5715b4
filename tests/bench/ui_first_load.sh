#!/usr/bin/env bash
# The agents' app: first load of the inbox with 50 tickets, in headless Chromium on loopback, and the bundle size.
#
#   tests/bench/ui_first_load.sh
#
# A desk of BENCH_UI_TICKETS tickets (default 3000) is written by `destek demo --size N` (as tests/bench/tickets.sh
# does); the server starts on it; tests/bench/ui_first_load.mjs opens the inbox signed in, in a fresh browser
# context each time (empty cache), and measures from the navigation's start to 50 ticket rows in the DOM.
#   first load of the inbox with 50 tickets   median of BENCH_UI_RUNS runs (default 7) after a warm-up, target <= 1 s
#   gzipped bundle (app.js + app.css)         build/web/assets/*.gz, target <= 150 KiB
# Figures only: exits 0 whether targets pass or fail, and 1 only when something could not run. Not part of
# ./build.sh test. Settings (environment): BENCH_UI_TICKETS, BENCH_UI_RUNS, DESTEK_BIN (build/destek), CHROMIUM.
set -euo pipefail
cd "$(dirname "$0")/../.."
bench_name=ui_first_load.sh
# shellcheck source=tests/bench/lib.sh
. tests/bench/lib.sh

bin=${DESTEK_BIN:-build/destek}
n_tickets=${BENCH_UI_TICKETS:-3000}
runs=${BENCH_UI_RUNS:-7}
[[ -x $bin ]] || fail "$bin is missing: run ./build.sh first"
command -v node >/dev/null || fail "node (>= 18) is needed; ./build.sh installs it"
[[ -x ${CHROMIUM:-/usr/bin/chromium} ]] || fail "Chromium is missing: apt-get install -y --no-install-recommends chromium"
[[ -f build/web/assets/app.js.gz ]] || fail "build/web has no gzipped bundle: run ./build.sh first"
bench_tmp
data=$tmp/data
password="bench-password-$RANDOM$RANDOM"

printf '%s\n' "$password" | "$bin" admin add --email bench@example.com --name Bench --role admin --data "$data" \
  >/dev/null 2>"$tmp/gen.log" || fail "admin add failed: $(tail -n 5 "$tmp/gen.log")"
"$bin" demo --size "$n_tickets" --data "$data" >"$tmp/gen.out" 2>>"$tmp/gen.log" ||
  fail "destek demo --size failed: $(tail -n 5 "$tmp/gen.log")"

"$bin" serve --listen 127.0.0.1:0 --data "$data" 2>"$tmp/destek.log" &
destek_pid=$!
line=$(wait_line "$tmp/destek.log" "$destek_pid" '^destek: listening on http://') ||
  fail "$bin did not start: $(tail -n 20 "$tmp/destek.log")"
url=${line#destek: listening on }

out=$(node tests/bench/ui_first_load.mjs "$url" bench@example.com "$password" "$runs") ||
  fail "the browser measurement failed (see above)"
kill -0 "$destek_pid" 2>/dev/null || fail "$bin died during the runs"

fig() {  # fig FIELD: the runs' values of one field, one a line
  node -e 'const d = JSON.parse(process.argv[1]); for (const r of d.runs) console.log(r[process.argv[2]] === null ? "" : r[process.argv[2]].toFixed(1));' "$out" "$1"
}
mapfile -t totals < <(fig total)
total_m=$(median "${totals[@]}")
ttfb_m=$(median $(fig ttfb)); dcl_m=$(median $(fig dcl)); list_m=$(median $(fig list))
view=$(node -e 'console.log(JSON.parse(process.argv[1]).view)' "$out")
js_gz=$(stat -c %s build/web/assets/app.js.gz)
css_gz=$( [[ -f build/web/assets/app.css.gz ]] && stat -c %s build/web/assets/app.css.gz || stat -c %s build/web/assets/app.css)
bundle_kib=$(awk -v a="$js_gz" -v b="$css_gz" 'BEGIN {printf "%.1f", (a + b) / 1024}')
version=$("$bin" version 2>/dev/null || echo "destek ?")

cat <<TXT

== Agents' app, first load: $version (tests/bench/ui_first_load.sh) ==
data:     $(head -n 1 "$tmp/gen.out")
settings: headless $("${CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null | head -n 1 | sed 's/ built on.*//'), 1280x800, signed in, a new context (empty
          cache) per run; $view; median of $runs runs after a warm-up; $(nproc) CPUs shared.

  navigation start -> 50 ticket rows     $(printf '%7.1f' "$total_m") ms   (runs: ${totals[*]})
    of which: index.html first byte      $(printf '%7.1f' "$ttfb_m") ms
              DOMContentLoaded           $(printf '%7.1f' "$dcl_m") ms
              GET /api/v1/tickets        $(printf '%7.1f' "$list_m") ms (request to last byte)

TXT
printf 'target  first load of the inbox with 50 tickets <= 1 s on loopback:  %s (median %s ms)\n' \
  "$(pf "$total_m" 1000 le)" "$total_m"
printf 'target  gzipped bundle <= 150 KiB:                                   %s (%s KiB: app.js %s B, app.css %s B)\n' \
  "$(pf "$bundle_kib" 150 le)" "$bundle_kib" "$js_gz" "$css_gz"
exit 0
