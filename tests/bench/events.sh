#!/usr/bin/env bash
# Events delivered per second to a webhook receiver on loopback.
#
#   tests/bench/events.sh          (run by tests/bench/run.sh, which `./build.sh bench` runs after the build)
#
# Starts build/destek with --allow-private-net and a fresh data directory, a receiver (node:http, a separate
# process) that answers 200 to every POST and counts distinct X-Destek-Delivery ids, registers a webhook for "*",
# then emits BENCH_EVENTS events twice:
#   (a) live: the bus delivers while the events are emitted; measured from the first emit to the last receipt
#       (when the emitter is slower than delivery this is the emit rate);
#   (b) backlog: the receiver holds its first answer while all the events are emitted, then answers; measured
#       from that moment to the last receipt: the bus and webhook delivery path alone.
# Emitters:
#   - with the test plugin tests/lua/bench_emit.lua (copied into <data>/plugins/), which emits up to 500 events per
#     request: emitting costs next to nothing, so the figure is the bus and webhook delivery path;
#   - or, when the Lua host cannot load it, with PATCH /api/v1/users/{id} (one user.updated per request) spread
#     over BENCH_USERS users, each request a transaction of its own (the note says which emitter ran).
# Prints events/s delivered in (a) and (b), and the emit rate. Figures only: exits 0 whether or not the
# numbers are good, and 1 only when something could not run (or not every event arrived).
#
# Settings (environment): BENCH_EVENTS (default 2000), BENCH_USERS (default 8), BENCH_TIMEOUT (seconds to wait for
# the deliveries, default 120), DESTEK_BIN (default build/destek).
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=${DESTEK_BIN:-build/destek}
events=${BENCH_EVENTS:-2000}
users=${BENCH_USERS:-8}
wait_s=${BENCH_TIMEOUT:-120}

say() { printf '%s\n' "$*"; }
fail() { printf 'events.sh: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null || fail "node (>= 18) is needed for the receiver and the driver; ./build.sh installs it"
[[ -x $bin ]] || fail "$bin is missing: run ./build.sh first"

# --- clean-up: every process started here is stopped on exit ----------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/destek-bench-events.XXXXXX")
destek_pid= receiver_pid=
cleanup() {
  local p pids=()
  for p in "$destek_pid" "$receiver_pid"; do [[ -n $p ]] && pids+=("$p"); done
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

# --- the receiver: 200 to every POST; GET /stats answers {count, unique, first, last} (ms since the epoch); ------
# GET /pause withholds answers (and their counting) until GET /resume
cat >"$tmp/receiver.mjs" <<'EOF'
import http from 'node:http';
const seen = new Set();
let count = 0, first = 0, last = 0, paused = false;
const held = [];   // [res, delivery id] withheld while paused, counted when answered
const answer = (res, uid) => {
  const now = Date.now();
  if (!first) first = now;
  last = now;
  count++;
  seen.add(uid);
  res.writeHead(200, {'content-type': 'text/plain', 'content-length': '2'});
  res.end('ok');
};
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, {'content-type': 'application/json'});
    res.end(JSON.stringify({count, unique: seen.size, first, last, held: held.length}));
    return;
  }
  if (req.method === 'GET' && (req.url === '/pause' || req.url === '/resume')) {
    paused = req.url === '/pause';
    if (!paused) while (held.length) answer(...held.shift());
    res.end('ok');
    return;
  }
  req.resume();
  req.on('end', () => {
    if (paused) held.push([res, req.headers['x-destek-delivery']]);
    else answer(res, req.headers['x-destek-delivery']);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.error(`receiver: listening on http://127.0.0.1:${server.address().port}`));
EOF
node "$tmp/receiver.mjs" 2>"$tmp/receiver.log" &
receiver_pid=$!
line=$(wait_line "$tmp/receiver.log" "$receiver_pid" '^receiver: listening on http://') ||
  fail "the receiver did not start: $(cat "$tmp/receiver.log")"
receiver_url=${line#receiver: listening on }

# --- the server, with the emitter plugin --------------------------------------------------------------------------
mkdir -p "$tmp/data/plugins"
cp tests/lua/bench_emit.lua "$tmp/data/plugins/"
"$bin" serve --listen 127.0.0.1:0 --data "$tmp/data" --allow-private-net 2>>"$tmp/destek.log" &
destek_pid=$!
line=$(wait_line "$tmp/destek.log" "$destek_pid" '^destek: listening on http://') ||
  fail "$bin did not start: $(tail -n 20 "$tmp/destek.log")"
url=${line#destek: listening on }
line=$(wait_line "$tmp/destek.log" "$destek_pid" '^destek: no admin yet; open .*/setup\?token=') ||
  fail "$bin printed no setup link: $(tail -n 20 "$tmp/destek.log")"
setup_token=$(sed -E 's/.*setup\?token=([A-Za-z0-9_-]+).*/\1/' <<<"$line")
version=$("$bin" version 2>/dev/null || echo "destek ?")

# --- the driver: admin, webhook, emit, wait, report ---------------------------------------------------------------
set +e
node - "$url" "$setup_token" "$receiver_url" "$events" "$users" "$wait_s" >"$tmp/result.txt" 2>"$tmp/driver.log" <<'EOF'
const [url, token, rx, nEvents, nUsers, waitS] = process.argv.slice(process.argv[1] === "-" ? 2 : 1).map((v, i) => (i >= 3 ? Number(v) : v));
const email = 'bench@example.com', password = 'bench-password-' + Math.random().toString(36).slice(2);
let session = {};
const call = async (method, path, body) => {
  const headers = {};
  if (session.cookie) headers.cookie = session.cookie;
  if (session.csrf) headers['x-csrf-token'] = session.csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url + path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return {status: res.status, json, text, headers: res.headers};
};
const must = (what, r, status) => {
  if (r.status !== status) throw new Error(`${what}: HTTP ${r.status} (wanted ${status}): ${r.text.slice(0, 500)}`);
  return r.json;
};
const stats = async () => (await (await fetch(rx + '/stats')).json());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
  const setup = await call('POST', '/api/v1/setup', {token, email, name: 'Bench', password});
  must('setup', setup, 201);
  const m = /destek_session=([^;,\s]+)/.exec(setup.headers.get('set-cookie') || '');
  if (!m) throw new Error('setup: no session cookie');
  session = {cookie: 'destek_session=' + m[1], csrf: setup.json.csrf_token};

  // a delivery held past the 10 s timeout is retried after 1 s, not 10
  must('settings', await call('PATCH', '/api/v1/settings', {'events.retry_base_seconds': 1}), 200);

  // emitter: the Lua plugin if the server loaded it, else user renames
  let emitter = 'lua';
  const probe = await call('POST', '/api/v1/bench_emit/emit?n=1&from=0');
  if (probe.status !== 200) emitter = 'users';
  const targets = [];
  if (emitter === 'users') {
    const made = await Promise.all(Array.from({length: nUsers}, (_, i) => call('POST', '/api/v1/users',
      {email: `bench-${i}@example.com`, name: `Bench ${i}`, role: 'agent', password: 'bench user password'})));
    for (const r of made) targets.push(must('create user', r, 201).id);
  }
  // events emitted before the webhook exists are not sent to it
  const hook = must('create webhook', await call('POST', '/api/v1/webhooks', {url: rx + '/hook', events: ['*']}), 201);

  // warm-up: one event through, so connections and statement caches are ready
  const base = (await stats()).unique;
  if (emitter === 'lua') must('warm-up emit', await call('POST', '/api/v1/bench_emit/emit?n=1&from=0'), 200);
  else must('warm-up rename', await call('PATCH', `/api/v1/users/${targets[0]}`, {name: 'warm'}), 200);
  for (let i = 0; i < 200 && (await stats()).unique < base + 1; i++) await sleep(50);
  const start = await stats();
  if (start.unique < base + 1) throw new Error('the warm-up event was not delivered within 10 s');

  // emit n events numbered from `from`; resolves the number sent
  const emitAll = async (n, from) => {
    let sent = 0;
    if (emitter === 'lua') {
      const per = 500;
      const batches = [];
      for (let f = from; f < from + n; f += per) batches.push([f, Math.min(per, from + n - f)]);
      let next = 0;
      const worker = async () => {
        while (next < batches.length) {
          const [f, k] = batches[next++];
          must('emit', await call('POST', `/api/v1/bench_emit/emit?n=${k}&from=${f}`), 200);
          sent += k;
        }
      };
      await Promise.all(Array.from({length: 4}, worker));
    } else {
      let next = 0;
      const worker = async () => {
        while (next < n) {
          const i = from + next++;
          must('rename', await call('PATCH', `/api/v1/users/${targets[i % targets.length]}`, {name: `Bench ${i}`}), 200);
          sent++;
        }
      };
      await Promise.all(Array.from({length: 16}, worker));
    }
    return sent;
  };
  const waitUnique = async (want) => {
    let s = await stats();
    const deadline = Date.now() + waitS * 1000;
    while (s.unique < want && Date.now() < deadline) { await sleep(20); s = await stats(); }
    return s;
  };

  // (a) live: the bus delivers while the events are being emitted
  const t0 = Date.now();
  const sent = await emitAll(nEvents, 1);
  const tEmitted = Date.now();
  const s = await waitUnique(start.unique + nEvents);
  const got = s.unique - start.unique;
  const elapsed = (s.last - t0) / 1000;

  // (b) backlog: the receiver holds its first answer while all events are emitted, then the queue drains
  await fetch(rx + '/pause');
  const sentB = await emitAll(nEvents, nEvents + 1);
  for (let i = 0; i < 100 && (await stats()).held < 1; i++) await sleep(50);
  const tRelease = Date.now();
  await fetch(rx + '/resume');
  const sB = await waitUnique(s.unique + nEvents);
  const gotB = sB.unique - s.unique;
  const drainS = (sB.last - tRelease) / 1000;

  const dead = must('deliveries', await call('GET', `/api/v1/webhooks/${hook.id}/deliveries?status=dead&limit=1`), 200);
  const out = {
    emitter, events: nEvents, sent, delivered: got, duplicates: sB.count - sB.unique, dead: dead.items.length,
    emit_seconds: (tEmitted - t0) / 1000, seconds: elapsed,
    rate: got / Math.max(elapsed, 0.001), emit_rate: sent / Math.max((tEmitted - t0) / 1000, 0.001),
    drain_after_emit: (s.last - tEmitted) / 1000,
    backlog_sent: sentB, backlog_delivered: gotB, backlog_seconds: drainS, backlog_rate: gotB / Math.max(drainS, 0.001),
  };
  console.log(JSON.stringify(out));
  if (got < nEvents || gotB < nEvents) process.exit(3);
})().catch((e) => { console.error(e.stack || e.message); process.exit(1); });
EOF
rc=$?
set -e
if ((rc == 1)); then
  cat "$tmp/driver.log" >&2
  fail "the driver failed (server log tail: $(tail -n 5 "$tmp/destek.log"))"
fi
[[ -s $tmp/result.txt ]] || fail "the driver printed nothing: $(cat "$tmp/driver.log")"
r=$(cat "$tmp/result.txt")
get() { node -e 'const o = JSON.parse(process.argv[1]); const v = o[process.argv[2]]; console.log(typeof v === "number" && !Number.isInteger(v) ? v.toFixed(2) : v)' "$r" "$1"; }

emitter=$(get emitter)
if [[ $emitter == lua ]]; then
  how="tests/lua/bench_emit.lua: POST /api/v1/bench_emit/emit, 500 events per request, 4 requests in flight"
else
  how="PATCH /api/v1/users/{id} (one user.updated each) over $users users, 16 in flight (the Lua test plugin did not load)"
fi
cpus=$(nproc 2>/dev/null || echo '?')
cat <<EOT

== Events delivered per second to a loopback webhook (tests/bench/events.sh) ==
settings: $version serve --allow-private-net, fresh data dir; one webhook for "*" to a node:http receiver on
          127.0.0.1 (200 to every POST, keep-alive); $events events; $cpus CPUs shared by everything.
emitter:  $how
EOT
printf '  (a) live:                %s of %s events delivered in %s s, first emit to last receipt\n' "$(get delivered)" "$events" "$(get seconds)"
printf '  events delivered / s:    %.0f (live)\n' "$(get rate)"
printf '  events emitted / s:      %.0f (all %s emitted in %s s)\n' "$(get emit_rate)" "$(get sent)" "$(get emit_seconds)"
printf '  drain after last emit:   %s s\n' "$(get drain_after_emit)"
printf '  (b) backlog drain:       %s events queued while the receiver held its first answer, delivered in %s s\n' \
  "$(get backlog_delivered)" "$(get backlog_seconds)"
printf '  events delivered / s:    %.0f (backlog: the bus and webhook path alone)\n' "$(get backlog_rate)"
printf '  duplicates / dead:       %s / %s\n' "$(get duplicates)" "$(get dead)"
warn=$(grep -E '^[0-9T:.-]+Z (WARN|ERROR) ' "$tmp/destek.log" | grep -v 'allow-private-net' | head -n 5 || true)
[[ -n $warn ]] && { echo "the server logged warnings or errors (first 5):"; sed 's/^/  /' <<<"$warn"; }
if ((rc == 3)); then
  fail "not every event arrived within ${wait_s} s: live $(get delivered), backlog $(get backlog_delivered) of $events"
fi
exit 0
