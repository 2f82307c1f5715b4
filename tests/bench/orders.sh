#!/usr/bin/env bash
# The orders module (plugins/orders/) with 100,000 orders and 150,000 shipments, beside the CivetWeb ceiling.
#
#   tests/bench/orders.sh
#
# The orders are loaded through the module's own CSV import (`destek orders import`, handed to the running server:
# every order through the same upsert as the webhooks and the API — contacts, events, search text), 25,000 orders a
# file; half the orders have a second parcel (a second line with another tracking number). The import was measured
# faster than PUT /api/v1/orders 24 at a time (about 360 against 120 orders/s here, on a loaded machine). Then, with
# wrk on loopback
# (tests/bench/lib.sh):
#   POST /api/v1/order-sources/{id}/webhook   signed WooCommerce deliveries of new orders (HMAC-SHA256 checked, order
#                                             upserted, contact resolved, event emitted, delivery logged, committed
#                                             before the answer): requests/s, target >= 0.05 x ceiling
#   POST /track                               the public tracking page (number + e-mail; rate limits raised for the
#                                             run), requests/s, target >= 0.2 x ceiling
#   GET /api/v1/orders?...                    the orders screen's filters and searches on 100k orders, p50/p95 one at a
#                                             time (figures; "fast" means a few ms)
#   GET /api/v1/me                            p99 while idle, and while a tracking-polling pass asks a mock carrier
#                                             (50 ms per answer) about 10,000 in-transit shipments: target <= 2 x idle.
#                                             Runs only when the binary has the poller (POST /api/v1/order-tracking/run
#                                             and the generic carrier adapter); otherwise it says so.
# Figures only: exits 0 whether targets pass or fail, and 1 only when something could not run.
#
# Settings (environment): BENCH_ORDERS (default 100000), BENCH_DURATION (5s), BENCH_RUNS (3), BENCH_CONNECTIONS (32),
# BENCH_THREADS (2), BENCH_DELIVERIES (30000 a run), BENCH_POLL_SECONDS (20: how long /api/v1/me is measured during the polling pass), DESTEK_BIN.
# For quick iterations: BENCH_ORDERS=10000 (a tenth of the data: the import takes about a minute, not ten), and
# BENCH_DATA_CACHE=DIR, which keeps the loaded data directory in DIR after the import (a VACUUM INTO copy) and,
# when DIR already holds one for the same BENCH_ORDERS, starts from a copy of it instead of importing again.
set -euo pipefail
cd "$(dirname "$0")/../.."
bench_name=orders.sh
# shellcheck source=tests/bench/lib.sh
. tests/bench/lib.sh
fail() {
  printf '%s: %s\n' "$bench_name" "$*" >&2
  [[ -n ${tmp:-} && -f $tmp/destek.log ]] && grep -E 'ERROR|WARN' "$tmp/destek.log" | tail -n 5 >&2
  exit 1
}

bin=${DESTEK_BIN:-build/destek}
n_orders=${BENCH_ORDERS:-100000}
duration=${BENCH_DURATION:-5s}
runs=${BENCH_RUNS:-3}
conns=${BENCH_CONNECTIONS:-32}
wthreads=${BENCH_THREADS:-2}
poll_seconds=${BENCH_POLL_SECONDS:-20}
n_transit=$((n_orders / 10))

bench_tools
bench_tmp
ceiling_build
command -v sqlite3 >/dev/null || fail "sqlite3 is needed (apt-get install sqlite3)"
data=$tmp/data
mkdir -p "$data"
chmod 700 "$data"
cache=${BENCH_DATA_CACHE:-}
cached=0
if [[ -n $cache && -f $cache/destek.db && $(cat "$cache/.bench-orders" 2>/dev/null) == "$n_orders" ]]; then
  cp -a "$cache/." "$data/"
  password=$(cat "$cache/.bench-password")
  cached=1
else
  password="bench-password-$RANDOM$RANDOM"
  printf '%s\n' "$password" | "$bin" admin add --email bench@example.com --name Bench --role admin --data "$data" \
    >/dev/null 2>"$tmp/gen.log" || fail "admin add failed: $(tail -n 5 "$tmp/gen.log")"
fi

# The mock carrier for the polling pass: every answer after 50 ms.
cat >"$tmp/mock.mjs" <<'JS'
import http from 'node:http';
let n = 0;
const server = http.createServer((req, res) => {
  n++;
  setTimeout(() => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: 'InTransit', events: [] }));
  }, 50);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log('mock: listening on ' + server.address().port));
process.on('SIGTERM', () => { console.log('mock: answered ' + n); process.exit(0); });
JS
node "$tmp/mock.mjs" >"$tmp/mock.log" 2>&1 &
mock_pid=$!
trap 'kill -TERM "$mock_pid" 2>/dev/null || true; bench_cleanup' EXIT
line=$(wait_line "$tmp/mock.log" "$mock_pid" '^mock: listening on ') || fail "the mock carrier did not start"
mock_port=${line#mock: listening on }

"$bin" serve --listen 127.0.0.1:0 --data "$data" --allow-private-net --trust-proxy 2>>"$tmp/destek.log" &
destek_pid=$!
line=$(wait_line "$tmp/destek.log" "$destek_pid" '^destek: listening on http://' 300) ||
  fail "$bin did not start: $(tail -n 20 "$tmp/destek.log")"
url=${line#destek: listening on }

# --- set-up through the API: tokens, limits, a WooCommerce source, the carrier adapter (when the poller exists) ------
# shellcheck disable=SC2016  # JavaScript, not shell
node -e '
const [url, email, password, mockPort, out] = process.argv.slice(1);
const fs = require("fs");
const call = async (method, path, body, headers = {}) => {
  const res = await fetch(url + path, { method, headers: { ...headers, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, text, json: (() => { try { return JSON.parse(text); } catch { return null; } })() };
};
(async () => {
  const login = await fetch(url + "/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }) });
  if (login.status !== 200) throw new Error("login: " + login.status);
  const cookie = /destek_session=([^;,\s]+)/.exec(login.headers.get("set-cookie"))[0];
  const csrf = (await login.json()).csrf_token;
  const auth = { Cookie: cookie, "X-CSRF-Token": csrf };
  const tok = await call("POST", "/api/v1/tokens", { name: "bench", scopes: ["admin"] }, auth);
  const bearer = { Authorization: "Bearer " + tok.json.secret };
  // The lookups of the bench come from 65,536 addresses (X-Forwarded-For behind --trust-proxy), each a few times: limits
  // as a shop would set them count a handful of hits per key, as in real traffic (one address with a limit of
  // millions would measure counting a million hits instead).
  let r = await call("PATCH", "/api/v1/settings", { "orders.track_limit": 1000, "orders.track_number_limit": 1000 }, bearer);
  if (r.status !== 200) throw new Error("settings: " + r.status + " " + r.text);
  const secret = "bench-woo-secret";
  r = await call("POST", "/api/v1/order-sources", { kind: "woocommerce", name: "Bench shop", webhook_secret: secret }, bearer);
  if (r.status !== 201) throw new Error("source: " + r.status + " " + r.text);
  const probe = await call("POST", "/api/v1/order-tracking/run?probe=1", null, { Authorization: "Bearer x" });
  let poller = probe.status !== 404 && probe.status !== 405;
  if (poller) {
    const a = await call("PUT", "/api/v1/order-carriers/yurtici/adapter",
      { adapter: { url: "http://127.0.0.1:" + mockPort + "/track/{n}", status_path: "status" } }, bearer);
    if (a.status !== 200) { console.error("adapter: " + a.status + " " + a.text); poller = false; }
  }
  fs.writeFileSync(out, JSON.stringify({ token: tok.json.secret, source: r.json.id, webhook: r.json.webhook_url, secret, poller }));
})().catch((e) => { console.error(e.message); process.exit(1); });
' "$url" bench@example.com "$password" "$mock_port" "$tmp/setup.json" || fail "set-up failed (see above)"
token=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1])).token' "$tmp/setup.json")
webhook=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1])).webhook' "$tmp/setup.json")
poller=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1])).poller' "$tmp/setup.json")

# --- the orders: CSV files, imported by the running server -----------------------------------------------------------
# Order i: B-<i>, customer c<i mod N/2>@example.com (two orders a person), placed over the last year; its first parcel
# InTransit on Yurtiçi for the newest 10% (what the polling pass asks about; in a shop the parcels on the way are the
# recent orders'), else Delivered/Exception/... on the other carriers; every second order a second parcel.
t0=$(date +%s%N)
if [[ $cached == 0 ]]; then
# shellcheck disable=SC2016
node -e '
const fs = require("fs");
const [dir, nStr, transitStr] = process.argv.slice(1);
const n = Number(nStr), transit = Number(transitStr);
const STAT = ["pending", "processing", "processing", "shipped", "shipped", "completed", "completed", "completed", "cancelled", "refunded"];
const PAY = ["paid", "paid", "paid", "paid", "pending", "refunded", "authorized"];
const CARR = ["Aras Kargo", "MNG Kargo", "PTT Kargo", "Sürat Kargo", "HepsiJet", "Trendyol Express", "UPS"];
const SHIP = ["Delivered", "Delivered", "Delivered", "InfoReceived", "OutForDelivery", "Exception", "AttemptFail", "Expired"];
const NAMES = ["Ayşe Yılmaz", "Mehmet Öztürk", "Şükrü Işık", "Zeynep Çelik", "Can Güneş", "Elif Şahin", "İsmail Ağa", "Gülşen Ünal"];
const head = "number,status,payment_status,total,placed_at,email,phone,customer_name,province,district,item_name,quantity,price,carrier,tracking_number,shipment_status\n";
const per = 25000;
let file = -1, out = null, lines = 0;
const day0 = Date.parse("2025-12-01T00:00:00Z");
for (let i = 1; i <= n; i++) {
  if ((i - 1) % per === 0) { if (out) fs.closeSync(out); file++; out = fs.openSync(`${dir}/orders-${file}.csv`, "w"); fs.writeSync(out, head); }
  const num = "B-" + String(i).padStart(6, "0");
  const person = i % Math.max(1, Math.floor(n / 2));
  const placed = new Date(day0 + Math.floor(i * (365 * 86400000 / n))).toISOString().slice(0, 19) + "Z";
  const name = NAMES[person % NAMES.length] + " " + person;
  const phone = "0532" + String(1000000 + person).slice(-7);
  const base = [num, STAT[i % STAT.length], PAY[i % PAY.length], "149.90", placed, `c${person}@example.com`, phone, name, "İstanbul", "Kadıköy"];
  let s1;
  if (i > n - transit) s1 = ["Yurtiçi Kargo", "YK" + i, "InTransit"];
  else s1 = [CARR[i % CARR.length], "T1-" + i, SHIP[i % SHIP.length]];
  const row = (item, s) => base.concat([item, "1", "149.90"], s).map((v) => /[,"]/.test(v) ? `"${v.replace(/"/g, "\"\"")}"` : v).join(",") + "\n";
  let text = row("Keten Gömlek", s1);
  lines++;
  if (i % 2 === 0) { text += row("Havlu", [CARR[(i + 3) % CARR.length], "T2-" + i, "Delivered"]); lines++; }
  fs.writeSync(out, text);
}
if (out) fs.closeSync(out);
' "$tmp" "$n_orders" "$n_transit" || fail "could not write the CSV files"
for f in "$tmp"/orders-*.csv; do
  "$bin" orders import "$f" --data "$data" >"$tmp/import.log" 2>&1 || fail "import of $f failed: $(tail -n 5 "$tmp/import.log")"
done
fi
gen_ms=$((($(date +%s%N) - t0) / 1000000))
db=$data/destek.db
if [[ -n $cache && $cached == 0 ]]; then
  rm -rf "$cache" && mkdir -p "$cache" && chmod 700 "$cache"
  for f in "$data"/* "$data"/.[!.]*; do
    case ${f##*/} in destek.db|destek.db-wal|destek.db-shm|'*'|'.[!.]*'|*.lock|lock) ;; *) cp -a "$f" "$cache/" ;; esac
  done
  # VACUUM INTO reads one snapshot: .backup starts again whenever the server writes (its event backlog after the import
  # keeps it writing for minutes), and so never finished.
  sqlite3 "$db" "VACUUM INTO '$cache/destek.db'" || fail "could not keep the data in $cache"
  printf '%s\n' "$password" >"$cache/.bench-password"
  printf '%s\n' "$n_orders" >"$cache/.bench-orders"
fi
[[ $cached == 1 ]] && gen_ms=0
n_o=$(sqlite3 "$db" 'SELECT count(*) FROM orders_orders')
n_s=$(sqlite3 "$db" 'SELECT count(*) FROM orders_shipments')
say "loaded: $n_o orders, $n_s shipments through \`destek orders import\` in $gen_ms ms ($(awk -v n="$n_o" -v ms="$gen_ms" 'BEGIN {printf "%.0f", n / ms * 1000}') orders/s)" >&2

# --- the orders screen's queries, one at a time ------------------------------------------------------------------------
# shellcheck disable=SC2016
node -e '
const [url, token] = process.argv.slice(1);
const qs = ["", "?status=processing", "?status=refunded", "?payment_status=authorized", "?shipment_status=Exception",
  "?carrier=ups&shipment_status=Delivered", "?not_shipped=true", "?late=true", "?from=2026-03-01&to=2026-03-07",
  "?q=B-054321", "?q=c777%40example.com", "?q=0532%20100%2012%2034", "?q=" + encodeURIComponent("ŞÜKRÜ ışık 4242"),
  "?q=" + encodeURIComponent("gülşen"), "?q=nobodyhere", "?source=csv&status=shipped", "?status=shipped&q=" + encodeURIComponent("ayşe")];
(async () => {
  const times = {};
  for (let round = 0; round < 6; round++) {
    for (const q of qs) {
      const t0 = process.hrtime.bigint();
      const res = await fetch(url + "/api/v1/orders" + q + (q ? "&" : "?") + "limit=50", { headers: { Authorization: "Bearer " + token } });
      await res.text();
      if (res.status !== 200) throw new Error(q + ": " + res.status);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (round) (times[q] = times[q] || []).push(ms);
    }
  }
  const all = Object.values(times).flat().sort((a, b) => a - b);
  const p = (a, f) => a[Math.min(a.length - 1, Math.floor(f * a.length))].toFixed(1);
  let worst = ["", 0];
  for (const [q, t] of Object.entries(times)) { t.sort((a, b) => a - b); if (t[t.length - 1] > worst[1]) worst = [q || "(no filter)", t[t.length - 1]]; }
  console.log(p(all, 0.5), p(all, 0.95), all.length, worst[0], worst[1].toFixed(1));
})().catch((e) => { console.error(e.message); process.exit(1); });
' "$url" "$token" >"$tmp/list.txt" || fail "the list queries failed"
read -r l_p50 l_p95 l_n l_worst_q l_worst_ms <"$tmp/list.txt"

# --- signed WooCommerce deliveries, new orders each (never a duplicate in a run) -------------------------------------
per_run=${BENCH_DELIVERIES:-30000}   # deliveries a run may send (each a new order); more than a run can take
# shellcheck disable=SC2016
node -e '
const fs = require("fs"), crypto = require("crypto");
const [file, totalStr, secret] = process.argv.slice(1);
const out = fs.openSync(file, "w");
let buf = [];
for (let i = 1; i <= Number(totalStr); i++) {
  const id = 5000000 + i, t = new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString().slice(0, 19);
  const body = JSON.stringify({ id, number: "W-" + id, status: "processing", currency: "TRY", date_created_gmt: t, date_modified_gmt: t,
    total: "249.90", shipping_total: "29.90", discount_total: "0.00", date_paid_gmt: t,
    billing: { first_name: "Ayşe", last_name: "Kaya", email: `w${i % 20000}@example.com`, phone: "", state: "TR34", city: "Kadıköy", country: "TR" },
    shipping: { first_name: "Ayşe", last_name: "Kaya", state: "TR34", city: "Kadıköy", address_1: "Moda Cd. 1", country: "TR" },
    line_items: [{ id: i, name: "Keten Gömlek - M", quantity: 1, total: "220.00", sku: "KG-M", price: 220 }],
    shipping_lines: [{ method_title: "Yurtiçi Kargo", total: "29.90" }], meta_data: [] });
  const sig = crypto.createHmac("sha256", secret).update(body).digest("base64");
  buf.push(sig + "\t" + body);
  if (buf.length === 5000) { fs.writeSync(out, buf.join("\n") + "\n"); buf = []; }
}
if (buf.length) fs.writeSync(out, buf.join("\n") + "\n");
fs.closeSync(out);
' "$tmp/deliveries.txt" "$((per_run * runs))" bench-woo-secret || fail "could not sign the deliveries"
hook_path=${webhook#*://*/}
cat >"$tmp/webhook.lua" <<LUA
-- Each wrk thread sends its own slice of the deliveries of this run: no delivery twice.
local lines, first, count, step, i = {}, 0, 0, 1, 0
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  local run = tonumber(os.getenv("BENCH_RUN") or "1") - 1
  local f = assert(io.open("$tmp/deliveries.txt", "r"))
  local skip, n = run * $per_run, 0
  for line in f:lines() do
    n = n + 1
    if n > skip and n <= skip + $per_run then lines[#lines + 1] = line end
  end
  f:close()
  step = $wthreads
  i = tid or 0
end
function request()
  i = i + step
  local line = lines[(i % #lines) + 1]
  local tab = line:find("\t", 1, true)
  return wrk.format("POST", "/$hook_path", { ["Content-Type"] = "application/json", ["X-WC-Webhook-Topic"] = "order.created",
    ["X-WC-Webhook-Signature"] = line:sub(1, tab - 1) }, line:sub(tab + 1))
end
LUA

cat >"$tmp/track.lua" <<LUA
local n = 0
local half = math.max(1, math.floor($n_orders / 2))
function request()
  n = n + 1
  local i = ((n * 7919) % $n_orders) + 1
  local body = string.format("number=B-%06d&contact=c%d%%40example.com&lang=tr", i, i % half)
  local ip = string.format("198.51.%d.%d", math.floor(n / 256) % 256, n % 256)
  return wrk.format("POST", "/track", { ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Forwarded-For"] = ip }, body)
end
LUA
# A tracking lookup must find the order (not the "no such order" page): check one.
curl -s -X POST -d "number=B-000042&contact=c42%40example.com" "$url/track" | grep -q 'B-000042' ||
  fail "the tracking page did not find order B-000042"

ceiling_start
run_wrk warm-ceiling "$ceiling_url/healthz" 1s
run_wrk warm-track "$url" 1s -s "$tmp/track.lua"
# Server CPU per request (user + system time of the process over the requests wrk completed): what a request costs,
# which a machine shared with other work disturbs far less than requests/s do.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
cpu_us() {  # pid ticks-before name: microseconds of CPU per request of wrk run name
  local n
  n=$(awk '/requests in/ {print $1; exit}' "$tmp/wrk-$3.txt")
  awk -v a="$2" -v b="$(ticks "$1")" -v n="$n" -v hz="$hz" 'BEGIN {printf "%.0f", (b - a) / hz * 1e6 / (n > 0 ? n : 1)}'
}
ceil=() hook=() track=() ceil_cpu=() hook_cpu=() track_cpu=()
for i in $(seq "$runs"); do
  say "run $i of $runs ..." >&2
  t=$(ticks "$ceiling_pid"); run_wrk "ceiling-$i" "$ceiling_url/healthz"; ceil+=("$rps")
  ceil_cpu+=("$(cpu_us "$ceiling_pid" "$t" "ceiling-$i")")
  t=$(ticks "$destek_pid"); BENCH_RUN=$i run_wrk "webhook-$i" "$url" "$duration" -s "$tmp/webhook.lua"; hook+=("$rps")
  hook_cpu+=("$(cpu_us "$destek_pid" "$t" "webhook-$i")")
  t=$(ticks "$destek_pid"); run_wrk "track-$i" "$url" "$duration" -s "$tmp/track.lua"; track+=("$rps")
  track_cpu+=("$(cpu_us "$destek_pid" "$t" "track-$i")")
done
ceil_m=$(median "${ceil[@]}"); hook_m=$(median "${hook[@]}"); track_m=$(median "${track[@]}")
ceil_cpu_m=$(median "${ceil_cpu[@]}"); hook_cpu_m=$(median "${hook_cpu[@]}"); track_cpu_m=$(median "${track_cpu[@]}")
hook_r=$(ratio "$hook_m" "$ceil_m"); track_r=$(ratio "$track_m" "$ceil_m")
p99() { awk '$1 == "99%" {print $2; exit}' "$tmp/wrk-$1.txt"; }
kept=$(sqlite3 "$db" "SELECT count(*) FROM orders_deliveries WHERE outcome = 'kept'")
dups=$(sqlite3 "$db" "SELECT count(*) FROM orders_deliveries WHERE outcome <> 'kept'")

# --- GET /api/v1/me: idle, and during a tracking-polling pass ----------------------------------------------------------
me_wrk() { wrk -t1 -c4 -d"$1" --latency -H "Authorization: Bearer $token" "$url/api/v1/me" >"$tmp/wrk-$2.txt" 2>&1; }
to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.2f", v / 1000; else if (v ~ /ms$/) printf "%.2f", v + 0; else printf "%.2f", v * 1000 }'; }
me_wrk 3s me-warm
me_wrk "${poll_seconds}s" me-idle
idle_p99=$(to_ms "$(p99 me-idle)")
poll_line="not measured: this binary has no tracking poller (POST /api/v1/order-tracking/run and carrier adapters come with"
poll_line+=" the poller of issue 12's other part; the section runs once it is merged)"
busy_p99=''
if [[ $poller == true ]]; then
  enrolled=$(sqlite3 "$db" "SELECT count(*) FROM orders_tracking" 2>/dev/null || echo '?')
  curl -s -X POST -H "Authorization: Bearer $token" "$url/api/v1/order-tracking/run" >"$tmp/poll.json" 2>&1 &
  poll_pid=$!
  sleep 0.5
  me_wrk "${poll_seconds}s" me-busy
  wait "$poll_pid" || true
  busy_p99=$(to_ms "$(p99 me-busy)")
  polled=$(node -p 'try { JSON.parse(require("fs").readFileSync(process.argv[1])).polled } catch { "?" }' "$tmp/poll.json")
  poll_line="$(pf "$busy_p99" "$(awk -v v="$idle_p99" 'BEGIN {print v * 2}')" le) (p99 $busy_p99 ms during the pass vs $idle_p99 ms idle;"
  poll_line+=" $polled shipments polled in that run of at most 45 s against a mock answering in 50 ms; $enrolled enrolled)"
fi

cat <<TXT

== Orders with $n_o orders / $n_s shipments: $("$bin" version 2>/dev/null || echo "destek ?") (tests/bench/orders.sh) ==
settings: wrk -t$wthreads -c$conns -d$duration on loopback; median of $runs runs, interleaved; $(nproc) CPUs shared.
load: $n_o orders through \`destek orders import\` (4 files, the running server) in $gen_ms ms

TXT
printf '  %-48s %9.0f req/s   1.00 x   p99 %-9s server CPU %5s us/req\n' "ceiling: fixed {\"status\":\"ok\"}" "$ceil_m" "$(p99 "ceiling-$runs")" "$ceil_cpu_m"
printf '  %-48s %9.0f req/s   %s x   p99 %-9s server CPU %5s us/req\n' "POST webhook (WooCommerce, signed, new orders)" "$hook_m" "$hook_r" "$(p99 "webhook-$runs")" "$hook_cpu_m"
printf '  %-48s %9.0f req/s   %s x   p99 %-9s server CPU %5s us/req\n' "POST /track (number + e-mail)" "$track_m" "$track_r" "$(p99 "track-$runs")" "$track_cpu_m"
printf '  (CPU per request: the ceiling'"'"'s over the module'"'"'s, a load-independent view of the ratio: webhook %s x, track %s x)\n' \
  "$(ratio "$ceil_cpu_m" "$hook_cpu_m")" "$(ratio "$ceil_cpu_m" "$track_cpu_m")"
echo
printf 'target  webhook ingest >= 0.05 x ceiling:  %s (%s x; %s deliveries kept, %s not kept)\n' "$(pf "$hook_r" 0.05 ge)" "$hook_r" "$kept" "$dups"
printf 'target  tracking page >= 0.2 x ceiling:    %s (%s x)\n' "$(pf "$track_r" 0.2 ge)" "$track_r"
printf '        load average during the runs: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'target  /api/v1/me p99 during polling <= 2 x idle: %s\n' "$poll_line"
printf '        orders screen queries on %s orders: p50 %s ms, p95 %s ms over %s (slowest: %s, %s ms)\n' \
  "$n_o" "$l_p50" "$l_p95" "$l_n" "$l_worst_q" "$l_worst_ms"
grep -E '^[0-9T:.-]+Z (WARN|ERROR) ' "$tmp/destek.log" | head -n 5 | sed 's/^/server: /' || true
exit 0
