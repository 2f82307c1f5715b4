#!/usr/bin/env bash
# Ticketing at scale: a desk of 100,000 tickets and 500,000 messages, beside the CivetWeb ceiling of the stack.
#
#   tests/bench/tickets.sh
#
# The data is written by `destek demo --size N` (bulk SQL in one transaction, search index included). Then, with
# wrk on loopback (see tests/bench/lib.sh, shared with the ceiling build of http.sh):
#   GET  /api/v1/tickets?limit=50        requests/s, target >= 0.15 x ceiling
#   POST /api/v1/tickets (JSON, bearer)  requests/s, target >= 0.03 x ceiling: the full create (customer matched,
#                                        triage, SLA, triggers and the search row in its transaction; the 201 is
#                                        the triaged ticket with its thread)
#   GET  /api/v1/tickets?q=...           p50/p95 over varied Turkish queries, one at a time, target p95 <= 20 ms
#   start-up with that database          exec to the listening line, target <= 300 ms
#   RSS under load                       peak VmHWM after the runs, target <= 64 MiB
# Figures only: exits 0 whether targets pass or fail, and 1 only when something could not run.
#
# Settings (environment): BENCH_TICKETS (default 100000), BENCH_DURATION (5s), BENCH_RUNS (3), BENCH_CONNECTIONS
# (32), BENCH_THREADS (2), DESTEK_BIN (build/destek).
set -euo pipefail
cd "$(dirname "$0")/../.."
bench_name=tickets.sh
# shellcheck source=tests/bench/lib.sh
. tests/bench/lib.sh

bin=${DESTEK_BIN:-build/destek}
n_tickets=${BENCH_TICKETS:-100000}
duration=${BENCH_DURATION:-5s}
runs=${BENCH_RUNS:-3}
conns=${BENCH_CONNECTIONS:-32}
wthreads=${BENCH_THREADS:-2}

bench_tools
bench_tmp
ceiling_build
data=$tmp/data
password="bench-password-$RANDOM$RANDOM"

# --- the database -------------------------------------------------------------------------------------------------
printf '%s\n' "$password" | "$bin" admin add --email bench@example.com --name Bench --role admin --data "$data" \
  >/dev/null 2>"$tmp/gen.log" || fail "admin add failed: $(tail -n 5 "$tmp/gen.log")"
t0=$(date +%s%N)
"$bin" demo --size "$n_tickets" --data "$data" >"$tmp/gen.out" 2>>"$tmp/gen.log" ||
  fail "destek demo --size failed: $(tail -n 5 "$tmp/gen.log")"
gen_ms=$((($(date +%s%N) - t0) / 1000000))
db_mib=$(awk -v s="$(stat -c %s "$data/destek.db")" 'BEGIN {printf "%.0f", s / 1048576}')
say "generated: $(cat "$tmp/gen.out") in $gen_ms ms ($db_mib MiB)" >&2

# --- start-up time: exec to the listening line (median of 3 starts) -------------------------------------------------
start_server() {
  : >"$tmp/destek.log"
  local t0 line
  t0=$(date +%s%N)
  "$bin" serve --listen 127.0.0.1:0 --data "$data" 2>>"$tmp/destek.log" &
  destek_pid=$!
  for _ in $(seq 3000); do
    line=$(grep -m1 -E '^destek: listening on http://' "$tmp/destek.log" 2>/dev/null || true)
    [[ -n $line ]] && break
    kill -0 "$destek_pid" 2>/dev/null || fail "$bin did not start: $(tail -n 20 "$tmp/destek.log")"
    sleep 0.002
  done
  [[ -n $line ]] || fail "$bin printed no listening line"
  start_ms=$((($(date +%s%N) - t0) / 1000000))
  url=${line#destek: listening on }
}
stop_server() {
  kill -TERM "$destek_pid" 2>/dev/null || true
  wait "$destek_pid" 2>/dev/null || true
  destek_pid=
}
starts=()
for i in 1 2 3; do
  start_server; starts+=("$start_ms")
  ((i == 3)) || stop_server
done
start_m=$(median "${starts[@]}")

# --- a bearer token (scope agent) and the search latencies ------------------------------------------------------------
# shellcheck disable=SC2016  # JavaScript, not shell
token=$(node -e '
const [url, email, password] = process.argv.slice(1);
const json = async (method, path, body, headers = {}) => {
  const res = await fetch(url + path, { method, headers: { ...headers, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined });
  return { res, text: await res.text() };
};
(async () => {
  const login = await json("POST", "/api/v1/auth/login", { email, password });
  if (login.res.status !== 200) throw new Error("login: " + login.res.status + " " + login.text);
  const cookie = /destek_session=([^;,\s]+)/.exec(login.res.headers.get("set-cookie"))[0];
  const csrf = JSON.parse(login.text).csrf_token;
  const t = await json("POST", "/api/v1/tokens", { name: "bench", scopes: ["agent"] }, { Cookie: cookie, "X-CSRF-Token": csrf });
  if (t.res.status !== 201) throw new Error("token: " + t.res.status + " " + t.text);
  console.log(JSON.parse(t.text).secret);
})().catch((e) => { console.error(e.message); process.exit(1); });
' "$url" bench@example.com "$password") || fail "could not sign in and create a token (see above)"

# Sequential, so each figure is the server's time for one search plus loopback; first pass is a warm-up.
# shellcheck disable=SC2016
search=$(node -e '
const [url, token] = process.argv.slice(1);
const queries = ["kargo", "iade", "hasarlı ürün", "hasarli", "yanlış beden", "ücretsiz kargo", "fatura",
  "kupon", "bornoz", "peştemal", "siparişim gelmedi", "adres değişikliği", "değişim", "kargo ücreti",
  "havlu seti", "İade talebi", "e-fatura", "çocuk bornozu", "Yılmaz", "teslimat", "damaged", "return label",
  "leke", "etiket", "nevresim"];
(async () => {
  const times = [];
  let hits = 0;
  for (let round = 0; round < 9; round++) {
    for (const q of queries) {
      const t0 = process.hrtime.bigint();
      const res = await fetch(url + "/api/v1/tickets?limit=25&q=" + encodeURIComponent(q), { headers: { Authorization: "Bearer " + token } });
      const body = await res.json();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (res.status !== 200) throw new Error(q + ": HTTP " + res.status);
      if (round > 0) { times.push(ms); hits += body.items.length ? 1 : 0; }
    }
  }
  times.sort((a, b) => a - b);
  const p = (f) => times[Math.min(times.length - 1, Math.floor(f * times.length))].toFixed(1);
  console.log(p(0.5), p(0.95), times.length, hits);
})().catch((e) => { console.error(e.message); process.exit(1); });
' "$url" "$token") || fail "search measurement failed (see above)"
read -r s_p50 s_p95 s_n s_hits <<<"$search"

# --- wrk: list, create, ceiling -----------------------------------------------------------------------------------
cat >"$tmp/post.lua" <<LUA
local n = 0
local id = tostring(math.random(1, 1000000))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
request = function()
  n = n + 1
  local body = '{"subject":"Kargom gelmedi, sipariş ' .. id .. '-' .. n .. '","customer":{"email":"wrk' .. id .. '-' ..
    (n % 500) .. '@bench.example","name":"Bench Müşteri"},"body":"Merhaba, siparişim hâlâ kargoya verilmedi. ' ..
    'Ne zaman gelir?","channel":"web","tags":["kargo"]}'
  return wrk.format(nil, "/api/v1/tickets", nil, body)
end
LUA
ceiling_start
auth="Authorization: Bearer $token"
say "warming up (1 s each) ..." >&2
run_wrk warm-ceiling "$ceiling_url/healthz" 1s
run_wrk warm-list "$url/api/v1/tickets?limit=50" 1s -H "$auth"
ceil=() list=() post=() list_cpu=() post_cpu=()
# The server's CPU time (user + system, clock ticks) and its share per request of a wrk run: less distorted by the
# machine's other load than requests/s.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_per_req() {
  awk -v t="$1" -v hz="$(getconf CLK_TCK)" -v n="$(awk '/requests in/ {print $1}' "$tmp/wrk-$2.txt")" \
    'BEGIN {printf "%.0f", (n > 0 ? t * 1e6 / hz / n : 0)}'
}
for i in $(seq "$runs"); do
  say "run $i of $runs ..." >&2
  run_wrk "ceiling-$i" "$ceiling_url/healthz";                                 ceil+=("$rps")
  c0=$(cpu_ticks "$destek_pid")
  run_wrk "list-$i" "$url/api/v1/tickets?limit=50" "$duration" -H "$auth";    list+=("$rps")
  c1=$(cpu_ticks "$destek_pid"); list_cpu+=("$(cpu_per_req "$((c1 - c0))" "list-$i")")
  run_wrk "post-$i" "$url" "$duration" -s "$tmp/post.lua";                    post+=("$rps")
  c0=$(cpu_ticks "$destek_pid"); post_cpu+=("$(cpu_per_req "$((c0 - c1))" "post-$i")")
done
hwm=$(rss_kib "$destek_pid" VmHWM)
rss_now=$(rss_kib "$destek_pid")
ceil_m=$(median "${ceil[@]}"); list_m=$(median "${list[@]}"); post_m=$(median "${post[@]}")
list_r=$(ratio "$list_m" "$ceil_m"); post_r=$(ratio "$post_m" "$ceil_m")
p99() { awk '$1 == "99%" {print $2; exit}' "$tmp/wrk-$1.txt"; }
version=$("$bin" version 2>/dev/null || echo "destek ?")
total=$(sqlite3 "$data/destek.db" 'SELECT count(*) FROM tkt_tickets' 2>/dev/null || echo '?')

cat <<TXT

== Ticketing at scale: $version (tests/bench/tickets.sh) ==
data:     $n_tickets tickets, $((n_tickets * 5)) messages written by \`destek demo --size\` in $gen_ms ms ($db_mib MiB;
          $total tickets after the POST runs)
settings: wrk -t$wthreads -c$conns -d$duration on loopback; median of $runs runs, interleaved; $(nproc) CPUs shared.

TXT
printf '  %-40s %9.0f req/s   1.00 x   p99 %s\n' "ceiling: fixed {\"status\":\"ok\"}" "$ceil_m" "$(p99 "ceiling-$runs")"
printf '  %-40s %9.0f req/s   %s x   p99 %s\n' "GET /api/v1/tickets?limit=50" "$list_m" "$list_r" "$(p99 "list-$runs")"
printf '  %-40s %9.0f req/s   %s x   p99 %s\n' "POST /api/v1/tickets" "$post_m" "$post_r" "$(p99 "post-$runs")"
printf '  %-40s list %s us, create %s us (median of %s runs)\n' "server CPU per request:" "$(median "${list_cpu[@]}")" \
  "$(median "${post_cpu[@]}")" "$runs"
echo
printf 'target  list   >= 0.15 x ceiling:        %s (%s x)\n' "$(pf "$list_r" 0.15 ge)" "$list_r"
printf 'target  create >= 0.03 x ceiling:        %s (%s x)\n' "$(pf "$post_r" 0.03 ge)" "$post_r"
printf 'target  search p95 <= 20 ms:             %s (p50 %s ms, p95 %s ms over %s searches, %s with hits)\n' \
  "$(pf "$s_p95" 20 le)" "$s_p50" "$s_p95" "$s_n" "$s_hits"
printf 'target  start-up <= 300 ms:              %s (median %s ms of 3: %s)\n' "$(pf "$start_m" 300 le)" "$start_m" "${starts[*]}"
printf 'target  RSS under load <= 64 MiB:        %s (peak %.1f MiB VmHWM; %.1f MiB after the runs)\n' \
  "$(pf "$hwm" $((64 * 1024)) le)" "$(awk -v k="$hwm" 'BEGIN {print k / 1024}')" "$(awk -v k="$rss_now" 'BEGIN {print k / 1024}')"
grep -E '^[0-9T:.-]+Z (WARN|ERROR) ' "$tmp/destek.log" | head -n 5 | sed 's/^/server: /' || true
exit 0
