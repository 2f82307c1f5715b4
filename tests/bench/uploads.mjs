// Upload burst: the server's memory when BENCH_POSTS maximum-size posts arrive at once (run by tests/bench/uploads.sh).
//
// Starts build/destek (or $DESTEK_BIN; extra server flags in $BENCH_SERVER_ARGS, e.g. "--body-memory 64") with a fresh
// data directory, raises the public form's per-address limit out of the way, and measures one maximum-size post
// alone, then fires BENCH_POSTS of them at once (each on its own connection) at POST /api/v1/public/tickets: a
// JSON body of just under 16 MiB (the route's cap) carrying two files, 10 MiB (the largest one file may be) and the
// rest, as base64. RSS (VmRSS) is sampled every 10 ms, and the kernel's high-water mark (VmHWM) read at the end.
// Prints the RSS idle, after the single post and at the burst's peak (budget: BENCH_BUDGET_MB, default 512 MB), what
// the posts were answered (status counts), and whether every accepted post is whole: each 201 is a ticket with both
// files at their full size and checksum, no refused post left a ticket, and no file lies on disk without its row.
// Figures only: exits 1 only when something could not run, the server died, or a post was half-written.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {startServer, setupAdmin, listAll, request} from '../api/lib.mjs';

const posts = Number(process.env.BENCH_POSTS || 64);
const budgetMb = Number(process.env.BENCH_BUDGET_MB || 512);
const serverArgs = (process.env.BENCH_SERVER_ARGS || '').split(/\s+/).filter(Boolean);

const status = (pid, key) => Number((fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${key}:\\s+(\\d+)`)) || [0, 0])[1]) / 1024;
const die = (msg) => { console.error(`uploads: ${msg}`); process.exit(1); };

const server = await startServer({args: serverArgs});
const pid = server.proc.pid;
process.on('unhandledRejection', (e) => { server.proc.kill('SIGKILL'); die(e.stack || e); });
const admin = await setupAdmin(server);
const set = await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'ticketing.public_form_limit': 100000}});
if (set.status !== 200) die(`PATCH /api/v1/settings: ${set.status} ${set.text}`);

// One body, sent by every post: files of 10 MiB and of what is left of the 16 MiB cap, as JSON with base64.
const CAP = 16 << 20;
const big = crypto.randomBytes(10 << 20);
const frame = (b64a, b64b) => JSON.stringify({name: 'Yük Testi', email: 'burst@example.com', subject: 'Büyük dosyalar',
  body: 'İki dosya ekledim.', attachments: [{filename: 'a.bin', content_type: 'application/octet-stream', data_base64: b64a},
    {filename: 'b.bin', content_type: 'application/octet-stream', data_base64: b64b}]});
const b64a = big.toString('base64');
const room = CAP - Buffer.byteLength(frame(b64a, '')) - 16;
const small = crypto.randomBytes(Math.floor(room / 4) * 3);
const body = Buffer.from(frame(b64a, small.toString('base64')));
if (body.length > CAP) die(`the body is ${body.length} bytes, over the cap`);
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const want = [{size: big.length, sha256: sha(big)}, {size: small.length, sha256: sha(small)}];

const post = () => request(server.url + '/api/v1/public/tickets', {method: 'POST', body, timeout: 120000,
  headers: {'content-type': 'application/json', 'content-length': String(body.length), accept: 'application/json'}})
  .catch((e) => ({status: `closed unread (${e.code || e.message})`, headers: {}}));

const idle = status(pid, 'VmRSS');
const one = await post();
if (one.status !== 201) die(`a single maximum-size post was answered ${one.status}: ${one.text}`);
await new Promise((r) => setTimeout(r, 300));
const afterOne = status(pid, 'VmRSS');
const hwmOne = status(pid, 'VmHWM');

let peak = afterOne;
const sampler = setInterval(() => { try { peak = Math.max(peak, status(pid, 'VmRSS')); } catch { /* exited */ } }, 10);
const started = Date.now();
const results = await Promise.all(Array.from({length: posts}, post));
const seconds = (Date.now() - started) / 1000;
clearInterval(sampler);
if (server.exitCode !== undefined) die(`the server died during the burst (code ${server.exitCode}, signal ${server.exitSignal}); stderr:\n${server.stderrText().slice(-3000)}`);
const hwm = status(pid, 'VmHWM');
peak = Math.max(peak, hwm);
const settled = status(pid, 'VmRSS');

const counts = {};
for (const r of results) counts[r.status] = (counts[r.status] || 0) + 1;
const retry = results.filter((r) => r.status === 503).map((r) => r.headers['retry-after']);

// Whole or absent: every accepted post is a ticket with both files, refused ones left nothing.
const refs = new Set(results.filter((r) => r.status === 201).map((r) => JSON.parse(r.text).reference));
refs.add(JSON.parse(one.text).reference);
const tickets = await listAll(server, '/api/v1/tickets?channel=web', {session: admin, limit: 200});
const problems = [];
if (tickets.length !== refs.size) problems.push(`${tickets.length} tickets for ${refs.size} accepted posts`);
let rows = 0;
for (const t of tickets) {
  if (!refs.has(t.reference)) problems.push(`${t.reference} was not answered 201`);
  const full = await server.api('GET', `/api/v1/tickets/${t.id}`, {session: admin});
  const files = full.json.messages.flatMap((m) => m.attachments || []);
  rows += files.length;
  const got = files.map((f) => ({size: f.size, sha256: f.sha256}));
  if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${t.reference}: files ${JSON.stringify(got)}`);
}
const dir = path.join(server.dataDir, 'attachments');
const onDisk = fs.existsSync(dir) ? fs.readdirSync(dir).length : 0;
if (onDisk !== rows) problems.push(`${onDisk} files on disk for ${rows} attachment rows`);
await server.stop();

const mb = (x) => `${x.toFixed(1)} MB`;
console.log(`uploads: ${server.args.slice(5).join(' ') || '(default flags)'}; each post ${(body.length / 1048576).toFixed(2)} MiB of JSON (files of 10 MiB and ${(small.length / 1048576).toFixed(2)} MiB)`);
console.log(`uploads: RSS ${mb(idle)} idle, ${mb(afterOne)} after one post (high-water mark ${mb(hwmOne)})`);
console.log(`uploads: ${posts} at once in ${seconds.toFixed(1)} s: peak RSS ${mb(peak)} (budget ${budgetMb} MB: ${peak <= budgetMb ? 'PASS' : 'FAIL'}), ${mb(settled)} after`);
console.log(`uploads: answers ${Object.entries(counts).map(([k, v]) => `${v} x ${k}`).join(', ')}${retry.length ? `; Retry-After ${[...new Set(retry)].join('/')} s on the 503s` : ''}`);
console.log(`uploads: ${refs.size} tickets with ${rows} files, ${onDisk} files on disk: ${problems.length ? 'HALF-WRITTEN: ' + problems.slice(0, 5).join('; ') : 'every accepted post whole, nothing left by the refused ones'}`);
if (problems.length) process.exit(1);
