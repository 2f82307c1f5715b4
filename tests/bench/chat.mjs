// Live chat under load (run by tests/bench/chat.sh): BENCH_VISITORS visitors, each with a conversation open, of whom
// up to 8 hold a waiting poll (the server's cap) and the rest poll every second; meanwhile
//   (a) visitor -> agent: BENCH_MESSAGES messages, one at a time from random visitors, timed from the visitor's POST to
//       the message.added frame on an agent's live socket (what makes the ticket view refetch);
//   (b) agent -> visitor: BENCH_REPLIES replies by the agent through the ticket API, timed from the POST to the answer
//       of the visitor's waiting poll.
// Prints p50/p95 of both, the server's RSS idle and at its peak, and the widget's size. Figures only: exits 1 only
// when something could not run.
import fs from 'node:fs';
import zlib from 'node:zlib';
import {startServer, setupAdmin, request} from '../api/lib.mjs';
import {wsConnect} from '../api/ws.mjs';

const visitors = Number(process.env.BENCH_VISITORS || 100);
const messages = Number(process.env.BENCH_MESSAGES || 200);
const replies = Number(process.env.BENCH_REPLIES || 50);
const rssMb = (pid) => Number((fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/) || [0, 0])[1]) / 1024;
const pct = (xs, p) => { const s = xs.slice().sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };
const ms = (x) => `${x.toFixed(1)} ms`;

const server = await startServer();
const pid = server.proc.pid;
const fail = (e) => { server.proc.kill('SIGKILL'); console.error('chat:', e); process.exit(1); };
process.on('unhandledRejection', fail);
const admin = await setupAdmin(server);
await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'chat.address_limit': 0, 'chat.visitor_limit': 0,
  'chat.session_limit': 0}});
const shop = (await server.api('POST', '/api/v1/chat/shops', {session: admin, body: {name: 'Bench'}})).json;
const widget = await request(server.url + '/chat/widget.js');
console.log(`chat: widget ${widget.body.length} bytes, ${zlib.gzipSync(widget.body, {level: 9}).length} bytes gzip (budget 30720)`);

const chat = (method, p, token, body) => server.api(method, p, {body, headers: token ? {'x-chat-token': token} : {}});
const vs = [];
for (let i = 0; i < visitors; i++) {
  const s = await chat('POST', '/api/v1/chat/session', null, {site_key: shop.site_key});
  const token = s.json.token;
  const m = await chat('POST', '/api/v1/chat/messages', token, {client_id: 'first', body: `Merhaba ${i}`, email: `v${i}@example.com`});
  if (m.status !== 201) fail(new Error(`first message: ${m.status} ${m.text}`));
  vs.push({token, seq: m.json.seq, n: 0});
}
const sock = await wsConnect(server.url + '/api/v1/stream', {cookie: admin.cookie});
await sock.next((f) => f.type === 'hello');
const idle = rssMb(pid);
let peak = idle;
const sampler = setInterval(() => { peak = Math.max(peak, rssMb(pid)); }, 100);

// Background polling: the first 8 wait, the others poll every second.
let running = true;
const waiters = vs.slice(0, Math.min(8, vs.length));
const pollers = vs.slice(8).map(async (v) => {
  while (running) {
    const r = await chat('GET', `/api/v1/chat/messages?after=${v.seq}`, v.token);
    if (r.json && r.json.items.length) v.seq = r.json.items.at(-1).seq;
    await new Promise((res) => setTimeout(res, 1000));
  }
});

// (a) visitor -> agent socket
let waiting = null;
sock.onFrame = (f) => {
  if (waiting && f.type === 'event' && f.name === 'message.added') { const w = waiting; waiting = null; w(Date.now()); }
  sock.frames.length = 0;
};
const toAgent = [];
for (let i = 0; i < messages; i++) {
  const v = vs[Math.floor(Math.random() * vs.length)];
  const arrived = new Promise((res) => { waiting = res; });
  const t0 = Date.now();
  const r = await chat('POST', '/api/v1/chat/messages', v.token, {client_id: `m${i}`, body: `Soru ${i}`});
  if (r.status !== 201) fail(new Error(`message: ${r.status} ${r.text}`));
  toAgent.push((await arrived) - t0);
}

// (b) agent -> visitor waiting poll
const tickets = (await server.api('GET', '/api/v1/tickets?channel=chat&limit=200', {session: admin})).json.items;
const toVisitor = [];
for (let i = 0; i < replies; i++) {
  const k = i % waiters.length;
  const v = waiters[k];
  const t = tickets.find((x) => x.customer.email === `v${k}@example.com`);
  const info = await chat('GET', '/api/v1/chat/messages', v.token);
  const after = info.json.conversation.last_seq;
  const poll = chat('GET', `/api/v1/chat/messages?after=${after}&wait=10`, v.token);
  await new Promise((res) => setTimeout(res, 50));
  const t0 = Date.now();
  const rep = await server.api('POST', `/api/v1/tickets/${t.id}/messages`, {session: admin, body: {body: `Yanıt ${i}`}});
  if (rep.status !== 201) fail(new Error(`reply: ${rep.status} ${rep.text}`));
  const got = await poll;
  if (!got.json.items.length) fail(new Error('the waiting poll answered without the reply'));
  toVisitor.push(Date.now() - t0);
}
running = false;
await Promise.all(pollers);
clearInterval(sampler);
console.log(`chat: polling fallback: ${visitors} visitors (8 waiting polls, ${Math.max(0, visitors - 8)} polling every second)`);
console.log(`chat: visitor -> agent socket: p50 ${ms(pct(toAgent, 0.5))}, p95 ${ms(pct(toAgent, 0.95))} over ${messages} messages (target p95 <= 100 ms)`);
console.log(`chat: agent reply -> visitor's waiting poll: p50 ${ms(pct(toVisitor, 0.5))}, p95 ${ms(pct(toVisitor, 0.95))} over ${replies} replies`);
console.log(`chat: RSS idle ${idle.toFixed(1)} MB, peak ${peak.toFixed(1)} MB (target < 128 MB)`);
sock.close && sock.close();
await server.stop();
process.exit(0);
