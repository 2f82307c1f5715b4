#!/usr/bin/env bash
# The feedback module's widget JSON for a product with 5,000 approved reviews, beside the CivetWeb ceiling.
#
#   tests/bench/feedback.sh
#
# The reviews are written into the module's tables with sqlite3 while the server is stopped (the figures row as the
# module keeps it), then, with wrk on loopback (tests/bench/lib.sh):
#   GET /api/v1/public/reviews?product=BENCH-1        the widget's JSON (the figures and the 10 newest), target >= 0.3 x
#                                                      the ceiling
#   GET /api/v1/public/reviews?product=BENCH-1&cursor=N  a page deep in the list
#   the first again past the host's page cache (an undeclared query name: each request runs the plugin and its SQL)
# Figures only: exits 0 whether the target passes or fails, and 1 only when something could not run.
# Settings (environment): BENCH_REVIEWS (5000), BENCH_DURATION (5s), BENCH_RUNS (3), BENCH_CONNECTIONS (32),
# BENCH_THREADS (2), DESTEK_BIN (build/destek).
set -euo pipefail
cd "$(dirname "$0")/../.."
bench_name=feedback.sh
# shellcheck source=tests/bench/lib.sh
. tests/bench/lib.sh
# A failure says what the server logged.
fail() {
  printf '%s: %s\n' "$bench_name" "$*" >&2
  [[ -n ${tmp:-} && -f $tmp/destek.log ]] && cp "$tmp/destek.log" /tmp/fb-bench-destek.log && grep -E 'ERROR|WARN| [45][0-9][0-9] ' "$tmp/destek.log" | tail -n 5 >&2
  exit 1
}

# run_wrk as lib.sh's, but answers that are not 2xx are counted (in errs) rather than ending the run: on a machine
# shared with other builds a Lua call can run past its 250 ms limit, and the figures say how often.
errs=0
run_wrk() {
  local name=$1 target=$2 d=${3:-$duration} out
  shift 3 || shift $#
  out="$tmp/wrk-$name.txt"
  wrk -t"$wthreads" -c"$conns" -d"$d" --latency "$@" "$target" >"$out" 2>&1 || { cat "$out" >&2; fail "wrk failed on $target"; }
  [[ -z $ceiling_pid ]] || kill -0 "$ceiling_pid" 2>/dev/null || fail "the ceiling server died during the run"
  [[ -z $destek_pid ]] || kill -0 "$destek_pid" 2>/dev/null || fail "$bin died during the run"
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  errs=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out"); errs=${errs:-0}
  [[ -n $rps ]] || { cat "$out" >&2; fail "$name: no Requests/sec in the wrk output"; }
}

bin=${DESTEK_BIN:-build/destek}
civetweb=${DESTEK_DEPS:-build/deps}/civetweb
ceiling_bin=build/bench/ceiling
n_reviews=${BENCH_REVIEWS:-5000}
duration=${BENCH_DURATION:-5s}
runs=${BENCH_RUNS:-3}
conns=${BENCH_CONNECTIONS:-32}
wthreads=${BENCH_THREADS:-2}

bench_tools
bench_tmp
ceiling_build
data=$tmp/data
mkdir -p "$data"
chmod 700 "$data"

start_destek() {
  : >"$tmp/destek.log"
  "$bin" serve --listen 127.0.0.1:0 --data "$data" 2>>"$tmp/destek.log" &
  destek_pid=$!
  local line
  line=$(wait_line "$tmp/destek.log" "$destek_pid" '^destek: listening on http://' 300) ||
    fail "$bin did not start: $(tail -n 20 "$tmp/destek.log")"
  url=${line#destek: listening on }
}
# First start: the migrations make the tables.
start_destek
kill "$destek_pid"; wait "$destek_pid" 2>/dev/null || true; destek_pid=

t0=$(date +%s%N)
sqlite3 "$data/destek.db" <<SQL >/dev/null
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n_reviews)
INSERT INTO feedback_reviews(product, product_name, order_number, author, lang, rating, body, verified, status, rule,
                             moderator_id, moderated_at, reply, reply_at, created_at)
SELECT 'BENCH-1', 'Keten Gömlek', 'B' || i, 'Müşteri ' || i % 97 || ' K.', 'tr', 1 + (i * 7) % 5,
       'Kumaşı güzel, bedeni tam oldu; kargo ' || (i % 5 + 1) || ' günde geldi. Yıkamada çekmedi, rengi solmadı. #' || i,
       1, 'approved', 'meets_rules', 1, 1767225600 + i, CASE WHEN i % 10 = 0 THEN 'Teşekkür ederiz!' END,
       CASE WHEN i % 10 = 0 THEN 1767225600 + i END, 1767225600 + i FROM n;
INSERT INTO feedback_product_stats(product, count, total, s1, s2, s3, s4, s5, updated_at)
SELECT product, count(*), sum(rating), sum(rating = 1), sum(rating = 2), sum(rating = 3), sum(rating = 4), sum(rating = 5), 0
FROM feedback_reviews WHERE product = 'BENCH-1' GROUP BY product;
COMMIT;
SQL
gen_ms=$((($(date +%s%N) - t0) / 1000000))
say "written: $n_reviews approved reviews of BENCH-1 in $gen_ms ms" >&2
start_destek
count=
for _ in 1 2 3 4 5; do   # a busy machine may answer the first calls with a time-limit 500
  count=$(curl -s "$url/api/v1/public/reviews?product=BENCH-1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).rating.count)}catch{console.log("?")}})')
  [[ $count == "$n_reviews" ]] && break
  sleep 1
done
[[ $count == "$n_reviews" ]] || fail "the widget JSON counts $count reviews, not $n_reviews"
bytes=$(curl -s "$url/api/v1/public/reviews?product=BENCH-1" | wc -c)
deep=$((n_reviews / 2))

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
ceiling_start
run_wrk warm-ceiling "$ceiling_url/healthz" 1s
run_wrk warm-json "$url/api/v1/public/reviews?product=BENCH-1" 1s
ceil=() js=() dp=() js_errs=0 dp_errs=0
for i in $(seq "$runs"); do
  say "run $i of $runs ..." >&2
  run_wrk "ceiling-$i" "$ceiling_url/healthz";                                     ceil+=("$rps")
  run_wrk "json-$i" "$url/api/v1/public/reviews?product=BENCH-1";                  js+=("$rps"); js_errs=$((js_errs + errs))
  run_wrk "deep-$i" "$url/api/v1/public/reviews?product=BENCH-1&cursor=$deep";     dp+=("$rps"); dp_errs=$((dp_errs + errs))
done
# The same past the host's cache: a query name the route does not declare is never answered from it, so every
# request runs the plugin and its SQL (what a change costs the first visitor after it).
run_wrk warm-nocache "$url/api/v1/public/reviews?product=BENCH-1&uncached=1" 1s
nc=() nc_errs=0
for i in $(seq "$runs"); do
  run_wrk "nocache-$i" "$url/api/v1/public/reviews?product=BENCH-1&uncached=1"; nc+=("$rps"); nc_errs=$((nc_errs + errs))
done
nc_m=$(median "${nc[@]}"); nc_r=$(ratio "$nc_m" "$(median "${ceil[@]}")")
ceil_m=$(median "${ceil[@]}"); js_m=$(median "${js[@]}"); dp_m=$(median "${dp[@]}")
js_r=$(ratio "$js_m" "$ceil_m"); dp_r=$(ratio "$dp_m" "$ceil_m")
p99() { awk '$1 == "99%" {print $2; exit}' "$tmp/wrk-$1.txt"; }

cat <<TXT

== Feedback widget JSON, a product with $n_reviews reviews: $("$bin" version 2>/dev/null || echo "destek ?") (tests/bench/feedback.sh) ==
settings: wrk -t$wthreads -c$conns -d$duration on loopback; median of $runs runs, interleaved; $(nproc) CPUs shared;
load average before: $load_before

TXT
printf '  %-52s %9.0f req/s   1.00 x   p99 %s\n' "ceiling: fixed {\"status\":\"ok\"}" "$ceil_m" "$(p99 "ceiling-$runs")"
printf '  %-52s %9.0f req/s   %s x   p99 %s  (%s bytes; %s non-2xx in all runs)\n' "GET /api/v1/public/reviews?product= (widget JSON)" "$js_m" "$js_r" "$(p99 "json-$runs")" "$bytes" "$js_errs"
printf '  %-52s %9.0f req/s   %s x   p99 %s  (%s non-2xx)\n' "the same, a page in the middle (cursor)" "$dp_m" "$dp_r" "$(p99 "deep-$runs")" "$dp_errs"
printf '  %-52s %9.0f req/s   %s x   p99 %s  (%s non-2xx)\n' "the widget JSON past the cache (every request reads)" "$nc_m" "$nc_r" "$(p99 "nocache-$runs")" "$nc_errs"
echo
printf 'target  widget JSON >= 0.3 x ceiling:   %s (%s x)\n' "$(pf "$js_r" 0.3 ge)" "$js_r"
grep -E '^[0-9T:.-]+Z (WARN|ERROR) ' "$tmp/destek.log" | head -n 5 | sed 's/^/server: /' || true
exit 0
