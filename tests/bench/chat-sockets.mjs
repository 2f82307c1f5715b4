// Live chat over the visitors' websockets (run by tests/bench/chat.sh): BENCH_SOCKETS visitors (500), each with a
// conversation and its websocket open at once (GET /api/v1/chat/socket, the core's public websockets); meanwhile
//   (a) visitor -> agent: BENCH_MESSAGES messages, one at a time from random visitors over their sockets, timed from
//       the send to the message.added frame on an agent's live socket (what makes the ticket view refetch), and to
//       the visitor's ack (kept: committed);
//   (b) agent -> visitor: BENCH_REPLIES replies by the agent through the ticket API, timed from the POST to the
//       "messages" frame on that visitor's socket.
// Prints p50/p95, the server's RSS before the sockets, with them idle and at its peak, its CPU time per message, and
// the open sockets the server counts. Figures only: exits 1 only when something could not run.
import fs from 'node:fs';
import {startServer, setupAdmin, login, ADMIN_PASSWORD, disableOutOfHoursReply, pool} from '../api/lib.mjs';
import {wsConnect} from '../api/ws.mjs';

const N = Number(process.env.BENCH_SOCKETS || 500);
const messages = Number(process.env.BENCH_MESSAGES || 200);
const replies = Number(process.env.BENCH_REPLIES || 100);
const ORIGIN = 'https://shop.example';
const rssMb = (pid) => Number((fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/) || [0, 0])[1]) / 1024;
const cpuMs = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;   // utime + stime, clock ticks of 10 ms
};
const pct = (xs, p) => { const s = xs.slice().sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };
const ms = (x) => `${x.toFixed(1)} ms`;

// Sockets are counted at start (chat.visitor_sockets, default 100): set N + a few, then start again.
let server = await startServer();
{
  const a = await setupAdmin(server);
  await server.api('PATCH', '/api/v1/settings', {session: a, body: {'chat.visitor_sockets': N + 12}});
  const dataDir = server.dataDir;
  await server.stop();
  server = await startServer({dataDir});
}
const pid = server.proc.pid;
const fail = (e) => { server.proc.kill('SIGKILL'); console.error('chat:', e); process.exit(1); };
process.on('unhandledRejection', fail);
const admin = await login(server, 'admin@example.com', ADMIN_PASSWORD);
await disableOutOfHoursReply(server, admin);
await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'chat.address_limit': 0, 'chat.visitor_limit': 0,
  'chat.session_limit': 0}});
const shop = (await server.api('POST', '/api/v1/chat/shops', {session: admin, body: {name: 'Bench', origins: [ORIGIN]}})).json;
const chat = (method, p, token, body) =>
  server.api(method, p, {body, headers: {origin: ORIGIN, ...(token ? {'x-chat-token': token} : {})}});

const vs = await pool([...Array(N).keys()], 8, async (i) => {
  const s = await chat('POST', '/api/v1/chat/session', null, {site_key: shop.site_key});
  const m = await chat('POST', '/api/v1/chat/messages', s.json.token, {client_id: 'first', body: `Merhaba ${i}`,
    email: `v${i}@example.com`});
  if (m.status !== 201) throw new Error(`first message: ${m.status} ${m.text}`);
  return {i, token: s.json.token, email: `v${i}@example.com`};
});
const tickets = new Map();
for (let cursor = null; ;) {
  const r = await server.api('GET', `/api/v1/tickets?channel=chat&limit=200${cursor ? `&cursor=${cursor}` : ''}`, {session: admin});
  for (const t of r.json.items) tickets.set(t.customer.email, t.id);
  if (!r.json.next_cursor) break;
  cursor = r.json.next_cursor;
}
const agentSock = await wsConnect(server.url + '/api/v1/stream', {cookie: admin.cookie});
await agentSock.next((f) => f.type === 'hello');
await new Promise((r) => setTimeout(r, 500));
const before = rssMb(pid);

const t0 = Date.now();
const socks = await pool(vs, 16, async (v) => {
  const ws = await wsConnect(`${server.url}/api/v1/chat/socket?token=${v.token}&after=1`, {origin: ORIGIN});
  await ws.next((f) => f.type === 'hello', 10000);
  return ws;
});
const opened = Date.now() - t0;
await new Promise((r) => setTimeout(r, 1000));
const idle = rssMb(pid);
let peak = idle;
const sampler = setInterval(() => { peak = Math.max(peak, rssMb(pid)); }, 100);
const counted = (await server.api('GET', '/metrics', {session: admin})).text.match(/destek_public_sockets (\d+)/)[1];

// (a) visitor -> agent
let waiting = null;
agentSock.onFrame = (f) => {
  if (waiting && f.type === 'event' && f.name === 'message.added') { const w = waiting; waiting = null; w(Date.now()); }
  agentSock.frames.length = 0;
};
const cpu0 = cpuMs(pid);
const toAgent = [], toAck = [];
for (let i = 0; i < messages; i++) {
  const k = Math.floor(Math.random() * N);
  const ws = socks[k];
  ws.clear();
  const arrived = new Promise((res) => { waiting = res; });
  const s = Date.now();
  ws.send({type: 'message', ref: i, client_id: `m${i}`, body: `Soru ${i}`});
  const ack = await ws.next((f) => f.type === 'ack' || f.type === 'error', 10000);
  if (ack.type !== 'ack') fail(new Error(`message refused: ${JSON.stringify(ack)}`));
  toAck.push(Date.now() - s);
  toAgent.push((await arrived) - s);
}
const cpuA = cpuMs(pid) - cpu0;

// (b) agent -> visitor socket
const toVisitor = [];
const cpu1 = cpuMs(pid);
for (let i = 0; i < replies; i++) {
  const k = Math.floor(Math.random() * N);
  const ws = socks[k];
  ws.clear();
  const body = `Yanıt ${i}`;
  const got = ws.next((f) => f.type === 'messages' && f.items.some((m) => m.body === body), 10000);
  const s = Date.now();
  const rep = await server.api('POST', `/api/v1/tickets/${tickets.get(vs[k].email)}/messages`, {session: admin, body: {body}});
  if (rep.status !== 201) fail(new Error(`reply: ${rep.status} ${rep.text}`));
  await got;
  toVisitor.push(Date.now() - s);
}
const cpuB = cpuMs(pid) - cpu1;
clearInterval(sampler);
const closedEarly = socks.filter((s) => s.isClosed).length;
console.log(`chat: ${N} visitor websockets open at once (the server counts ${counted}), opened in ${opened} ms; ${closedEarly} closed during the run`);
console.log(`chat: visitor socket -> agent socket: p50 ${ms(pct(toAgent, 0.5))}, p95 ${ms(pct(toAgent, 0.95))} over ${messages} messages (target p95 <= 100 ms); ack p50 ${ms(pct(toAck, 0.5))}, p95 ${ms(pct(toAck, 0.95))}`);
console.log(`chat: agent reply -> visitor socket: p50 ${ms(pct(toVisitor, 0.5))}, p95 ${ms(pct(toVisitor, 0.95))} over ${replies} replies`);
console.log(`chat: server CPU ${(cpuA / messages).toFixed(2)} ms per visitor message, ${(cpuB / replies).toFixed(2)} ms per agent reply (10 ms ticks)`);
console.log(`chat: RSS ${before.toFixed(1)} MB before the sockets, ${idle.toFixed(1)} MB with ${N} idle, peak ${peak.toFixed(1)} MB (target < 128 MB)`);
for (const s of socks) s.socket.destroy();
agentSock.socket.destroy();
await server.stop();
process.exit(0);
