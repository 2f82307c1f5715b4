// Live updates under load: memory and commit-to-frame latency with many sockets open (run by tests/bench/live.sh).
//
// Starts build/destek (or $DESTEK_BIN) with a fresh data directory, signs in BENCH_USERS agents and opens
// BENCH_SOCKETS websockets among them (8 a user at most, as the server allows), then creates BENCH_TICKETS tickets
// (BENCH_CONCURRENCY at a time, through the API with a token) while the same number of clients list tickets,
// sampling the server's RSS every 100 ms. Prints the RSS before, with the sockets idle and at its peak; the time
// from each ticket's request to its frame on the first and on the last socket; and how long SIGTERM takes.
// Figures only: exits 1 only when something could not run or a frame went missing.
import fs from 'node:fs';
import {startServer, setupAdmin, createUser, login, createToken, pool, uniqueEmail} from '../api/lib.mjs';
import {wsConnect} from '../api/ws.mjs';

const users = Number(process.env.BENCH_USERS || 5);
const sockets = Number(process.env.BENCH_SOCKETS || 40);
const tickets = Number(process.env.BENCH_TICKETS || 300);
const concurrency = Number(process.env.BENCH_CONCURRENCY || 8);

const rssMb = (pid) => Number((fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/) || [0, 0])[1]) / 1024;
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))];

const server = await startServer();
const pid = server.proc.pid;
process.on('unhandledRejection', (e) => { server.proc.kill('SIGKILL'); console.error('live:', e); process.exit(1); });
process.on('uncaughtException', (e) => { server.proc.kill('SIGKILL'); console.error('live:', e); process.exit(1); });
const admin = await setupAdmin(server);
const token = (await createToken(server, admin, {scopes: ['agent']})).secret;
const sessions = [admin];
for (let i = 1; i < users; i++) {
  const u = await createUser(server, admin, {role: 'agent'});
  sessions.push(await login(server, u.email, u.password));
}
const before = rssMb(pid);
const socks = [];
for (let i = 0; i < sockets; i++) {
  socks.push(await wsConnect(server.url + '/api/v1/stream', {cookie: sessions[i % sessions.length].cookie}));
}
await Promise.all(socks.map((c) => c.next((f) => f.type === 'hello')));
const arrivals = new Map();   // ticket id -> arrival times of its ticket.created, one per socket
for (const c of socks) {
  c.onFrame = (f) => {
    if (f.type === 'event' && f.name === 'ticket.created') {
      if (!arrivals.has(f.ticket_id)) arrivals.set(f.ticket_id, []);
      arrivals.get(f.ticket_id).push(f._at);
    }
    c.frames.length = 0;
  };
}
await new Promise((r) => setTimeout(r, 500));
const idle = rssMb(pid);

let peak = idle;
const sampler = setInterval(() => { peak = Math.max(peak, rssMb(pid)); }, 100);
const firstLag = [];
const lastLag = [];
const started = Date.now();
let listing = true;
const readers = Array.from({length: concurrency}, async () => {
  while (listing) await server.api('GET', '/api/v1/tickets?limit=50', {token});
});
await pool(Array.from({length: tickets}, (_, i) => i), concurrency, async (i) => {
  const sent = Date.now();
  const res = await server.api('POST', '/api/v1/tickets', {token, body: {subject: `Yük ${i}`, body: 'Merhaba',
    customer: {email: uniqueEmail('bench'), name: 'Bench'}}});
  if (res.status !== 201) throw new Error(`POST /api/v1/tickets: ${res.status} ${res.text}`);
  const id = res.json.id;
  const until = Date.now() + 15000;
  while ((arrivals.get(id) || []).length < sockets) {
    if (Date.now() > until) throw new Error(`ticket ${id}: ${(arrivals.get(id) || []).length} of ${sockets} frames arrived`);
    await new Promise((r) => setTimeout(r, 2));
  }
  const ats = arrivals.get(id);
  firstLag.push(Math.min(...ats) - sent);
  lastLag.push(Math.max(...ats) - sent);
});
listing = false;
await Promise.all(readers);
const seconds = (Date.now() - started) / 1000;
clearInterval(sampler);
peak = Math.max(peak, rssMb(pid));
firstLag.sort((a, b) => a - b);
lastLag.sort((a, b) => a - b);

const t0 = Date.now();
const {code} = await server.stop();
const stopMs = Date.now() - t0;
const closes = await Promise.all(socks.map((c) => c.closed));

console.log(`live: ${sockets} sockets (${users} users), ${tickets} tickets in ${seconds.toFixed(1)} s with ${concurrency} writers and ${concurrency} readers`);
console.log(`live: RSS ${before.toFixed(1)} MB before the sockets, ${idle.toFixed(1)} MB with them idle, ${peak.toFixed(1)} MB at peak (budget 64 MB: ${peak <= 64 ? 'PASS' : 'FAIL'})`);
console.log(`live: request sent -> frame on the first socket: median ${pct(firstLag, 0.5)} ms, p95 ${pct(firstLag, 0.95)} ms; on all ${sockets}: median ${pct(lastLag, 0.5)} ms, p95 ${pct(lastLag, 0.95)} ms, max ${lastLag[lastLag.length - 1]} ms`);
console.log(`live: SIGTERM to exit with ${sockets} sockets open: ${stopMs} ms (exit ${code}); ${closes.filter((c) => c.code === 1001).length} of ${sockets} were told 1001`);
