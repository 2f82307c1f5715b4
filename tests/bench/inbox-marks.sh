#!/usr/bin/env bash
# The inbox's per-agent seen marks and the search by order number at scale (issue 19): on a desk of 100,000 tickets
# (`destek demo --size`), sequential requests over loopback (one at a time, so each figure is one request's time):
#   GET /api/v1/tickets?limit=50                   the inbox page, for comparison
#   GET /api/v1/tickets/seen?ids=<those 50>        the agent's marks of that page (one extra request per refresh)
#   POST /api/v1/tickets/{id}/seen                 opening a ticket (a write)
#   GET /api/v1/order-references/{number}          an order number's tickets (the orders service + an index)
# p50 / p95 in ms of each, and the server's CPU per request (utime+stime of the process over the run / requests).
# Figures only: exits 0, and 1 only when something could not run.
#
#   tests/bench/inbox-marks.sh           settings: BENCH_TICKETS (100000), BENCH_REQUESTS (300), DESTEK_BIN
set -euo pipefail
cd "$(dirname "$0")/../.."
bench_name=inbox-marks.sh
bin=${DESTEK_BIN:-build/destek}
n_tickets=${BENCH_TICKETS:-100000}
n_req=${BENCH_REQUESTS:-300}
say() { printf '%s\n' "$*"; }
fail() { printf '%s: %s\n' "$bench_name" "$*" >&2; exit 1; }
[[ -x $bin ]] || fail "$bin is missing: run ./build.sh first"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/destek-bench.XXXXXX")
destek_pid=
cleanup() {
  [[ -n $destek_pid ]] && { kill -TERM "$destek_pid" 2>/dev/null || true; wait "$destek_pid" 2>/dev/null || true; }
  rm -rf "$tmp"
}
trap cleanup EXIT
data=$tmp/data
password="bench-password-$RANDOM$RANDOM"
printf '%s\n' "$password" | "$bin" admin add --email bench@example.com --name Bench --role admin --data "$data" \
  >/dev/null 2>"$tmp/gen.log" || fail "admin add failed: $(tail -n 5 "$tmp/gen.log")"
"$bin" demo --size "$n_tickets" --data "$data" >"$tmp/gen.out" 2>>"$tmp/gen.log" || fail "demo --size failed: $(tail -n 5 "$tmp/gen.log")"
say "desk: $(head -n 1 "$tmp/gen.out")"

"$bin" serve --listen 127.0.0.1:0 --data "$data" 2>"$tmp/destek.log" &
destek_pid=$!
url=
for _ in $(seq 3000); do
  line=$(grep -m1 -E '^destek: listening on http://' "$tmp/destek.log" 2>/dev/null || true)
  [[ -n $line ]] && { url=${line#destek: listening on }; break; }
  kill -0 "$destek_pid" 2>/dev/null || fail "the server did not start: $(tail -n 20 "$tmp/destek.log")"
  sleep 0.005
done
[[ -n $url ]] || fail "no listening line"

# shellcheck disable=SC2016  # JavaScript, not shell
node -e '
const fs = require("fs");
const [url, email, password, pid, nReq] = process.argv.slice(1);
const ticks = () => { const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" "); return Number(f[11]) + Number(f[12]); };
const HZ = 100;
(async () => {
  const login = await fetch(url + "/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }) });
  if (login.status !== 200) throw new Error("login " + login.status);
  const cookie = /destek_session=([^;,\s]+)/.exec(login.headers.get("set-cookie"))[0];
  const csrf = (await login.json()).csrf_token;
  const h = { Cookie: cookie };
  const page = await (await fetch(url + "/api/v1/tickets?limit=50", { headers: h })).json();
  const ids = page.items.map((x) => x.id);
  // An order number some tickets name (the bench desk writes numbers into order_number).
  const withOrder = page.items.find((x) => x.order_number) || {};
  const number = withOrder.order_number || "100001";
  const cases = [
    ["GET /tickets?limit=50", () => fetch(url + "/api/v1/tickets?limit=50", { headers: h })],
    ["GET /tickets/seen?ids=(50)", () => fetch(url + "/api/v1/tickets/seen?ids=" + ids.join(","), { headers: h })],
    ["POST /tickets/{id}/seen", (i) => fetch(url + "/api/v1/tickets/" + ids[i % ids.length] + "/seen",
      { method: "POST", headers: { ...h, "X-CSRF-Token": csrf } })],
    ["GET /order-references/{n}", () => fetch(url + "/api/v1/order-references/" + encodeURIComponent(number), { headers: h })],
  ];
  for (const [name, call] of cases) {
    for (let i = 0; i < 20; i++) { const r = await call(i); await r.arrayBuffer(); }   // warm-up
    const times = [];
    const c0 = ticks();
    for (let i = 0; i < Number(nReq); i++) {
      const t0 = process.hrtime.bigint();
      const r = await call(i);
      await r.arrayBuffer();
      if (r.status >= 400 && !(r.status === 404 && name.includes("order"))) throw new Error(name + ": HTTP " + r.status);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const cpuMs = (ticks() - c0) * 1000 / HZ / Number(nReq);
    times.sort((a, b) => a - b);
    const p = (f) => times[Math.min(times.length - 1, Math.floor(f * times.length))].toFixed(2);
    console.log(`${name.padEnd(28)} p50 ${p(0.5)} ms  p95 ${p(0.95)} ms  server CPU ${cpuMs.toFixed(2)} ms/request  (${nReq} requests)`);
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
' "$url" bench@example.com "$password" "$destek_pid" "$n_req" || fail "the measurement failed (see above)"
