// Tracking polling (run by tests/bench/orders-tracking.sh): BENCH_SHIPMENTS in-transit shipments of one carrier whose
// generic JSON adapter points at a loopback mock answering after BENCH_DELAY_MS (50), polled by one pass
// (POST /api/v1/order-tracking/run: the job's work, 20 s at most from the route). Prints the pass's throughput, how many requests the
// mock had in flight at most, the time a full round over every shipment takes at that rate against the 3-hour
// schedule, the p50/p99 of GET /api/v1/me (4 clients) idle and during the pass, and a pass with nothing due.
// Figures only: exits 1 only when something could not run.
import http from 'node:http';
import {startServer, setupAdmin, pool} from '../api/lib.mjs';

const N = Number(process.env.BENCH_SHIPMENTS || 300);
const DELAY = Number(process.env.BENCH_DELAY_MS || 50);
const die = (m) => { console.error(`orders-tracking: ${m}`); process.exit(1); };
let inFlight = 0, maxInFlight = 0, served = 0;
const mock = await new Promise((resolve) => {
  const srv = http.createServer((req, res) => {
    inFlight++; maxInFlight = Math.max(maxInFlight, inFlight);
    setTimeout(() => {
      inFlight--; served++;
      res.writeHead(200, {'content-type': 'application/json'});
      res.end(JSON.stringify({data: {state: 'YOLDA', events: [{time: '2026-11-02T09:00:00+03:00', code: 'YOLDA', text: 'Yolda', city: 'Gebze'}]}}));
    }, DELAY);
  });
  srv.listen(0, '127.0.0.1', () => resolve({srv, url: `http://127.0.0.1:${srv.address().port}`}));
});
const server = await startServer({args: ['--allow-private-net'], env: {DESTEK_TEST_CLOCK: '1'}});
process.on('unhandledRejection', (e) => { server.proc.kill('SIGKILL'); die(e.stack || e); });
const admin = await setupAdmin(server);
const api = (m, p, body) => server.api(m, p, {session: admin, body});
await api('POST', '/api/v1/test/orders-clock', {now: '2026-11-02T07:00:00Z'});
let r = await api('PUT', '/api/v1/order-carriers/yurtici/adapter', {adapter: {url: `${mock.url}/track/{n}`, status_path: 'data.state',
  status_map: {YOLDA: 'InTransit'}, checkpoints_path: 'data.events', checkpoint: {at: 'time', status: 'code', message: 'text', location: 'city'}}});
if (r.status !== 200) die(`adapter: ${r.status} ${r.text}`);
const ids = Array.from({length: N}, (_, i) => i + 1);
await pool(ids, 8, async (i) => {
  const res = await api('PUT', `/api/v1/orders/B-${i}`, {status: 'shipped', payment_status: 'paid', currency: 'TRY',
    customer: {email: `b${i}@example.com`}, shipments: [{carrier: 'Yurtiçi Kargo', tracking_number: `YKB${i}`, status: 'InTransit'}]});
  if (res.status !== 201) die(`PUT order: ${res.status} ${res.text}`);
});
async function latencies(ms, until = null) {
  const out = [];
  const end = Date.now() + ms;
  await Promise.all([0, 1, 2, 3].map(async () => {
    while (until ? !until.done : Date.now() < end) {
      const t = process.hrtime.bigint();
      const res = await server.api('GET', '/api/v1/me', {session: admin});
      if (res.status !== 200) die(`GET /api/v1/me: ${res.status}`);
      out.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }));
  out.sort((a, b) => a - b);
  return {p50: out[Math.floor(out.length * 0.5)], p99: out[Math.floor(out.length * 0.99)], n: out.length};
}
const idle = await latencies(5000);
const t0 = Date.now();
let passMs = 0, polled = 0;
const state = {done: false};
const pass = api('POST', '/api/v1/order-tracking/run').then((res) => { passMs = Date.now() - t0; polled = res.json.polled; state.done = true; });
const busy = await latencies(0, state);
await pass;
const rate = polled / (passMs / 1000);
const f = (x) => x.toFixed(1);
console.log(`orders-tracking: ${N} in-transit shipments, mock answers in ${DELAY} ms`);
console.log(`orders-tracking: one pass polled ${polled} in ${f(passMs / 1000)} s = ${f(rate)} shipments/s; the mock had at most ${maxInFlight} request(s) in flight`);
console.log(`orders-tracking: 10000 shipments at that rate take ${f(10000 / rate / 60)} min of job time (schedule: every 3 h at the shortest)`);
console.log(`orders-tracking: GET /api/v1/me idle p50 ${f(idle.p50)} ms p99 ${f(idle.p99)} ms (${idle.n}); during the pass p50 ${f(busy.p50)} ms p99 ${f(busy.p99)} ms (${busy.n}); p99 ratio ${f(busy.p99 / idle.p99)}`);
// a pass with nothing due: the enrolment sweep and the delay scan over every shipment
for (let k = 0; k < 20 && r.json.polled !== 0; k++) r = await api('POST', '/api/v1/order-tracking/run');
const t1 = Date.now();
r = await api('POST', '/api/v1/order-tracking/run');
console.log(`orders-tracking: a pass with nothing due (enrolment sweep + delay scan over ${N} shipments) took ${Date.now() - t1} ms (polled ${r.json.polled})`);
mock.srv.close();
await server.stop();
process.exit(0);
