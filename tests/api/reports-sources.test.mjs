// Reports over the demo shop (destek demo: tickets, orders with shipments, returns, CSAT answers): after a rebuild,
// the figures of orders, returns and CSAT match a direct computation over the modules' own tables (sqlite3 here, as
// the reports module itself never reads them).
import {before, test} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {startServer, login, runCli, sqlite3, tempDir, T} from './lib.mjs';

let server, admin, db, dash;
const api = (method, p, body) => server.api(method, p, {session: admin, body});
const OFF = 3 * 3600;          // the shop's days: UTC+3
const sql = (q) => {
  const r = sqlite3(db, q);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split('|'));
};

before(async () => {
  const dir = tempDir();
  const demo = await runCli(['demo', '--data', dir], {timeout: T(120000)});
  assert.equal(demo.code, 0, demo.stderr);
  const m = /admin\s+(\S+@\S+)\s+password: (\S+)/.exec(demo.stdout);
  server = await startServer({dataDir: dir});
  admin = await login(server, m[1], m[2]);
  db = path.join(dir, 'destek.db');
  const res = await api('POST', '/api/v1/reports/rebuild');
  assert.equal(res.status, 200, res.text);
  const to = new Date(Date.now() + OFF * 1000 + 86400000).toISOString().slice(0, 10);
  const from = new Date(Date.now() - 3 * 365 * 86400000).toISOString().slice(0, 10);
  const d = await api('GET', `/api/v1/reports/dashboard?from=${from}&to=${to}`);
  assert.equal(d.status, 200, d.text);
  dash = d.json;
});

const byValue = (rows) => Object.fromEntries((rows || []).map((r) => [r.value, r.count]));

test('orders: count, carriers, provinces and the delay rate', () => {
  const o = dash.kinds.order.current;
  const [[count]] = sql('SELECT count(*) FROM orders_orders');
  assert.equal(o.count, Number(count));
  const carriers = Object.fromEntries(sql(`SELECT c, count(*) FROM (SELECT coalesce((SELECT coalesce(s.carrier, nullif(s.carrier_name, ''), 'none')
    FROM orders_shipments s WHERE s.order_id = o.id ORDER BY s.id DESC LIMIT 1), 'none') AS c FROM orders_orders o) GROUP BY c`).map(([k, v]) => [k, Number(v)]));
  assert.deepEqual(byValue(o.by.carrier), carriers);
  const provinces = Object.fromEntries(sql(`SELECT coalesce(nullif(ship_province, ''), 'none'), count(*) FROM orders_orders GROUP BY 1`).map(([k, v]) => [k, Number(v)]));
  assert.deepEqual(byValue(o.by.province), provinces);
  const [[delayed]] = sql(`SELECT count(*) FROM orders_orders o WHERE EXISTS (SELECT 1 FROM orders_notices n WHERE n.order_id = o.id
    AND n.kind IN ('not_shipped', 'no_scan', 'past_eta'))`);
  assert.equal(o.measures.delayed.sum, Number(delayed));
  assert.equal(o.measures.delayed.n, o.count);
  assert.ok(Object.keys(carriers).length > 1);
});

test('returns: count, reasons and products', () => {
  const r = dash.kinds.return.current;
  const [[count]] = sql('SELECT count(*) FROM returns_returns');
  assert.equal(r.count, Number(count));
  const reasons = Object.fromEntries(sql('SELECT reason, count(DISTINCT return_id) FROM returns_items GROUP BY reason').map(([k, v]) => [k, Number(v)]));
  assert.deepEqual(byValue(r.by.reason), reasons);
  const products = Object.fromEntries(sql('SELECT name, count(DISTINCT return_id) FROM returns_items GROUP BY name').map(([k, v]) => [k, Number(v)]));
  assert.deepEqual(byValue(r.by.product), products);
  const [[refunded, sum]] = sql("SELECT count(*), coalesce(sum(refunded_at - created_at), 0) FROM returns_returns WHERE refunded_at IS NOT NULL");
  assert.equal(r.durations.refund.n, Number(refunded));
  if (Number(refunded)) assert.ok(Math.abs(r.durations.refund.avg - Number(sum) / Number(refunded)) < 1e-6);
});

test('CSAT: answers, average score and the satisfied share, per agent', () => {
  const c = dash.kinds.csat.current;
  const [[n, sum, sat]] = sql('SELECT count(*), sum(score), sum(score >= 4) FROM feedback_csat WHERE score IS NOT NULL AND answered_at IS NOT NULL');
  assert.equal(c.count, Number(n));
  assert.equal(c.measures.score.sum, Number(sum));
  assert.equal(c.measures.satisfied.sum, Number(sat));
  const agents = Object.fromEntries(sql(`SELECT coalesce(agent_id, 'none'), count(*) FROM feedback_csat WHERE score IS NOT NULL
    AND answered_at IS NOT NULL GROUP BY 1`).map(([k, v]) => [k, Number(v)]));
  assert.deepEqual(byValue(c.by.agent), agents);
});

test('a module without figures shows nothing: no kind for the help centre (chat and campaigns publish theirs)', () => {
  assert.deepEqual(Object.keys(dash.kinds).sort(), ['campaign', 'conversation', 'csat', 'nps', 'order', 'return', 'ticket']);
});
