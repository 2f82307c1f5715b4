// Carrier adapters and tracking polling (issue 12, second part): the generic JSON adapter configured by the admin API
// against a loopback carrier mock, a Lua `tracking.carrier:<code>` policy (the shipped example, pointed at the mock),
// the backoff 3 h -> 6 h -> 12 h -> 24 h under the test clock (DESTEK_TEST_CLOCK=1), stopping at a final status
// and after 30 days, one request at a time per carrier, and the schedule surviving a restart.
import {test, after, before} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {startServer, setupAdmin, tempDir, ROOT, assertError} from './lib.mjs';

let mock, server, admin, dataDir;
const carrier = {};               // tracking number -> {state, events}
const stats = {inFlight: 0, maxInFlight: 0, requests: [], auth: []};
const slow = {inFlight: 0, maxInFlight: 0, per: {}, maxPer: {}};

function startMock() {
  const srv = http.createServer(async (req, res) => {
    const u = new URL(req.url, 'http://x');
    let m = u.pathname.match(/^\/slow\/([a-z]+)\/(.+)$/);
    if (m) {                                                       // two slow carriers' APIs (the Lua policies below)
      const [, who, n] = m;
      slow.inFlight++;
      slow.maxInFlight = Math.max(slow.maxInFlight, slow.inFlight);
      slow.per[who] = (slow.per[who] || 0) + 1;
      slow.maxPer[who] = Math.max(slow.maxPer[who] || 0, slow.per[who]);
      await new Promise((r) => setTimeout(r, 300));
      slow.inFlight--;
      slow.per[who]--;
      res.writeHead(200, {'content-type': 'application/json'});
      res.end(JSON.stringify({state: 'InTransit', at: '2026-11-05T09:00:00+03:00', note: `${who} ${n}`}));
      return;
    }
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    stats.requests.push(u.pathname);
    stats.auth.push(req.headers.authorization);
    await new Promise((r) => setTimeout(r, 30));
    stats.inFlight--;
    if ((m = u.pathname.match(/^\/track\/(.+)$/))) {            // the generic adapter's carrier
      const c = carrier[decodeURIComponent(m[1])];
      if (!c) { res.writeHead(404); res.end('{}'); return; }
      res.writeHead(200, {'content-type': 'application/json'});
      res.end(JSON.stringify({data: {state: c.state, events: c.events}}));
    } else if ((m = u.pathname.match(/^\/v1\/shipments\/(.+)$/))) {   // the Lua example's imaginary API
      const c = carrier[decodeURIComponent(m[1])];
      if (!c) { res.writeHead(404); res.end('{}'); return; }
      res.writeHead(200, {'content-type': 'application/json'});
      res.end(JSON.stringify({state: c.state, movements: c.events}));
    } else { res.writeHead(404); res.end(); }
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({srv, url: `http://127.0.0.1:${srv.address().port}`})));
}

const api = (method, p, body) => server.api(method, p, {session: admin, body});
const clock = async (now) => { const r = await api('POST', '/api/v1/test/orders-clock', {now}); assert.equal(r.status, 200, r.text); };
const run = async () => { const r = await api('POST', '/api/v1/order-tracking/run'); assert.equal(r.status, 200, r.text); return r.json; };
const shipment = async (number) => (await api('GET', `/api/v1/orders/${number}`)).json.shipments[0];
const at = (iso, hours) => new Date(Date.parse(iso) + hours * 3600e3).toISOString().replace('.000Z', 'Z');

async function order(number, carrierName, tracking, status = 'InfoReceived') {
  const r = await api('PUT', `/api/v1/orders/${number}`, {status: 'shipped', payment_status: 'paid', currency: 'TRY',
    total_minor: 10000, customer: {email: `c${number}@example.com`, name: 'Ali Veli'},
    shipping_address: {province: 'Ankara', country: 'TR'}, updated_at: '2026-11-02T07:00:00Z',
    shipments: [{carrier: carrierName, tracking_number: tracking, status}]});
  assert.ok([200, 201].includes(r.status), r.text);
}

before(async () => {
  mock = await startMock();
  dataDir = tempDir();
  fs.mkdirSync(path.join(dataDir, 'plugins'), {recursive: true});
  const example = fs.readFileSync(path.join(ROOT, 'plugins/orders/examples/tracking_carrier_example.lua'), 'utf8')
    .replace('local BASE = "https://api.example-kargo.com.tr"', `local BASE = "${mock.url}"`);
  fs.writeFileSync(path.join(dataDir, 'plugins', 'tracking_carrier_example.lua'), example);
  // two more carriers' Lua adapters, each answering after 300 ms
  fs.writeFileSync(path.join(dataDir, 'plugins', 'tracking_slow_two.lua'), `local destek = require "destek"
local function ask(who, s)
  local res, err = destek.http.request { method = "GET", url = "${mock.url}/slow/" .. who .. "/" .. s.tracking_number, timeout = 10 }
  if not res then return { error = err } end
  local doc = destek.json.decode(res.body)
  return { status = doc.state, checkpoints = { { at = doc.at, status = doc.state, message = doc.note } } }
end
return { name = "tracking_slow_two", version = "1.0.0", init = function()
  destek.policy("tracking.carrier:mng", function(s) return ask("mng", s) end)
  destek.policy("tracking.carrier:surat", function(s) return ask("surat", s) end)
end }
`);
  server = await startServer({dataDir, args: ['--allow-private-net'], env: {DESTEK_TEST_CLOCK: '1'}});
  admin = await setupAdmin(server);
  await clock('2026-11-02T07:00:00Z');
});
after(() => mock && mock.srv.close());

test('the generic JSON adapter: validated, header values never shown, audited', async () => {
  let r = await api('PUT', '/api/v1/order-carriers/yurtici/adapter', {adapter: {url: 'ftp://x/{n}', status_path: 'a'}});
  assertError(r, 422, 'invalid_field', 'adapter.url');
  r = await api('PUT', '/api/v1/order-carriers/yurtici/adapter', {adapter: {url: `${mock.url}/track/{n}`}});
  assertError(r, 422, 'missing_field', 'adapter.status_path');
  r = await api('PUT', '/api/v1/order-carriers/yurtici/adapter', {adapter: {url: `${mock.url}/track/{n}`,
    status_path: 'data.state', status_map: {YOLDA: 'Yolda'}}});
  assertError(r, 422, 'invalid_field', 'adapter.status_map');
  r = await api('PUT', '/api/v1/order-carriers/nope/adapter', {adapter: null});
  assertError(r, 404, 'not_found');
  r = await api('PUT', '/api/v1/order-carriers/yurtici/adapter', {adapter: {url: `${mock.url}/track/{n}`,
    headers: ['Authorization: Bearer yk-secret-key'], status_path: 'data.state',
    status_map: {HAZIR: 'InfoReceived', YOLDA: 'InTransit', DAGITIMDA: 'OutForDelivery', TESLIM: 'Delivered'},
    checkpoints_path: 'data.events', checkpoint: {at: 'time', status: 'code', message: 'text', location: 'city'}}});
  assert.equal(r.status, 200, r.text);
  assert.ok(!r.text.includes('yk-secret-key'));
  assert.deepEqual(r.json.adapter.header_names, ['Authorization']);
  assert.equal(r.json.policy, 'tracking.carrier:yurtici');
  assert.equal(r.json.has_policy, false);
  const aras = await api('GET', '/api/v1/order-carriers/aras/adapter');
  assert.equal(aras.json.has_policy, true, 'the example Lua plugin defines tracking.carrier:aras');
  const audit = await api('GET', '/api/v1/audit?limit=50');
  assert.ok(audit.json.items.some((a) => a.action === 'orders.carrier_adapter_changed' && a.target === 'yurtici'));
});

test('polling backs off 3 h -> 6 h -> 12 h -> 24 h, resets after a change, stops at Delivered', async () => {
  carrier['YK100'] = {state: 'YOLDA', events: [
    {time: '2026-11-02T09:00:00+03:00', code: 'HAZIR', text: 'Gönderi kabul edildi', city: 'İstanbul'},
    {time: '2026-11-02T09:40:00+03:00', code: 'YOLDA', text: 'Transfer merkezinden çıktı', city: 'İstanbul'}]};
  await order('T-100', 'Yurtiçi Kargo', 'YK100');
  const t0 = '2026-11-02T07:00:00Z';
  const enrolled = (await shipment('T-100')).tracking;
  assert.deepEqual([enrolled.polls, enrolled.next_poll_at, enrolled.stopped], [0, t0, null], 'enrolled as it was stored');
  stats.auth.length = 0;
  let r = await run();
  assert.equal(r.polled, 1);
  assert.deepEqual(stats.auth, ['Bearer yk-secret-key']);
  let s = await shipment('T-100');
  assert.equal(s.status, 'InTransit');
  assert.deepEqual(s.checkpoints.map((c) => c.message).filter(Boolean).sort(), ['Gönderi kabul edildi', 'Transfer merkezinden çıktı']);
  assert.equal(s.tracking.interval_seconds, 3 * 3600);
  assert.equal(s.tracking.next_poll_at, at(t0, 3));
  assert.equal((await run()).polled, 0, 'not due yet');
  // nothing changes: the wait doubles each time, up to a day
  let now = t0;
  for (const [wait, next] of [[3, 6], [6, 12], [12, 24], [24, 24]]) {
    now = at(now, wait);
    await clock(now);
    assert.equal((await run()).polled, 1);
    s = await shipment('T-100');
    assert.equal(s.tracking.interval_seconds, next * 3600, `after waiting ${wait} h`);
    assert.equal(s.tracking.next_poll_at, at(now, next));
    assert.equal(s.checkpoints.filter((c) => c.message).length, 2, 'the same checkpoints are not added twice');
  }
  // out for delivery: back to 3 h; delivered: polling stops
  carrier['YK100'].state = 'DAGITIMDA';
  carrier['YK100'].events.push({time: at(now, 1), code: 'DAGITIMDA', text: 'Kurye dağıtımda', city: 'Ankara'});
  now = at(now, 24);
  await clock(now);
  await run();
  s = await shipment('T-100');
  assert.equal(s.status, 'OutForDelivery');
  assert.equal(s.tracking.interval_seconds, 3 * 3600);
  carrier['YK100'].state = 'TESLIM';
  carrier['YK100'].events.push({time: at(now, 2), code: 'TESLIM', text: 'Teslim edildi', city: 'Ankara'});
  now = at(now, 3);
  await clock(now);
  await run();
  s = await shipment('T-100');
  assert.equal(s.status, 'Delivered');
  assert.equal(s.tracking.stopped, 'final');
  now = at(now, 48);
  await clock(now);
  const before = stats.requests.length;
  await run();
  assert.equal(stats.requests.filter((p) => p === '/track/YK100').length, stats.requests.slice(0, before).filter((p) => p === '/track/YK100').length,
    'a delivered shipment is not polled again');
});

test('the Lua policy tracking.carrier:aras (the shipped example) maps the carrier API; one request at a time per carrier', async () => {
  for (let i = 1; i <= 4; i++) {
    carrier[`AR${i}`] = {state: 'IN_TRANSFER', events: [{date: '2026-11-05T10:00:00+03:00', state: 'ACCEPTED',
      description: 'Şubeden kabul', branch: 'Kadıköy'}, {date: '2026-11-05T18:00:00+03:00', state: 'IN_TRANSFER',
      description: 'Aktarmada', branch: 'Gebze'}]};
    await order(`T-AR${i}`, 'Aras Kargo', `AR${i}`);
  }
  stats.maxInFlight = 0;
  const r = await run();
  assert.equal(r.polled, 4);
  assert.equal(stats.maxInFlight, 1, 'the requests to a carrier never overlap');
  const s = await shipment('T-AR1');
  assert.equal(s.carrier, 'aras');
  assert.equal(s.status, 'InTransit');
  assert.deepEqual(s.checkpoints.map((c) => c.location).filter(Boolean).sort(), ['Gebze', 'Kadıköy']);
  assert.equal(s.tracking.polls, 1);
  // the policy reports an error: counted as a failure, backed off
  carrier['AR2'] = undefined;
  const later = at((await api('GET', '/api/v1/orders/T-AR2')).json.shipments[0].tracking.next_poll_at, 0);
  await clock(later);
  await run();
  const s2 = await shipment('T-AR2');
  assert.equal(s2.tracking.failures, 1);
  assert.match(s2.tracking.last_error, /HTTP 404/);
  assert.equal(s2.tracking.interval_seconds, 6 * 3600);
  // the admin's list of tracked shipments, filtered
  const failing = (await api('GET', '/api/v1/order-tracking?state=failing')).json.items;
  assert.deepEqual(failing.map((x) => x.order_number), ['T-AR2']);
  assert.match(failing[0].tracking.last_error, /HTTP 404/);
  const stopped = (await api('GET', '/api/v1/order-tracking?state=stopped')).json.items;
  assert.deepEqual(stopped.map((x) => [x.order_number, x.tracking.stopped]), [['T-100', 'final']]);
  const aras = await api('GET', '/api/v1/order-tracking?carrier=aras&limit=2');
  assert.equal(aras.json.items.length, 2);
  assert.ok(aras.json.next_cursor);
  const rest = await api('GET', `/api/v1/order-tracking?carrier=aras&limit=2&cursor=${encodeURIComponent(aras.json.next_cursor)}`);
  assert.equal(new Set([...aras.json.items, ...rest.json.items].map((x) => x.order_number)).size, 4);
  assertError(await api('GET', '/api/v1/order-tracking?state=lost'), 422, 'invalid_field', 'state');
});

test('two slow Lua adapters of two carriers are asked at once; each carrier one request at a time', async () => {
  for (let i = 1; i <= 3; i++) {
    await order(`T-MNG${i}`, 'MNG Kargo', `MN${i}`);
    await order(`T-SUR${i}`, 'Sürat Kargo', `SR${i}`);
  }
  const r = await run();
  assert.ok(r.polled >= 6, JSON.stringify(r));
  // 6 answers of 300 ms each: one after another they never overlap; here the two carriers' calls run at once
  assert.equal(slow.maxInFlight, 2, 'the two carriers overlap');
  assert.deepEqual(slow.maxPer, {mng: 1, surat: 1}, 'one request at a time per carrier');
  for (const n of ['T-MNG1', 'T-MNG3', 'T-SUR2']) {
    const s = await shipment(n);
    assert.equal(s.status, 'InTransit');
    assert.equal(s.tracking.polls, 1);
    assert.ok(s.checkpoints.some((c) => /^(mng|surat) (MN|SR)\d$/.test(c.message || '')), JSON.stringify(s.checkpoints));
  }
});

test('the generic adapter sends a few requests at once per carrier (orders.tracking_per_carrier)', async () => {
  for (let i = 1; i <= 8; i++) {
    carrier[`YKP${i}`] = {state: 'YOLDA', events: [{time: '2026-11-05T09:00:00+03:00', code: 'YOLDA', text: 'Yolda', city: 'Bursa'}]};
    await order(`T-P${i}`, 'Yurtiçi Kargo', `YKP${i}`);
  }
  stats.maxInFlight = 0;
  let r = await run();
  assert.ok(r.polled >= 8, JSON.stringify(r));
  assert.ok(stats.maxInFlight > 1 && stats.maxInFlight <= 4, `at most 4 at once (the default), saw ${stats.maxInFlight}`);
  for (let i = 1; i <= 8; i++) assert.equal((await shipment(`T-P${i}`)).status, 'InTransit');
  // one at a time when the merchant's contract says so
  assert.equal((await api('PATCH', '/api/v1/settings', {'orders.tracking_per_carrier': 1})).status, 200);
  for (let i = 9; i <= 12; i++) {
    carrier[`YKP${i}`] = {state: 'YOLDA', events: [{time: '2026-11-05T09:00:00+03:00', code: 'YOLDA', text: 'Yolda', city: 'Bursa'}]};
    await order(`T-P${i}`, 'Yurtiçi Kargo', `YKP${i}`);
  }
  stats.maxInFlight = 0;
  r = await run();
  assert.ok(r.polled >= 4);
  assert.equal(stats.maxInFlight, 1);
  await api('PATCH', '/api/v1/settings', {'orders.tracking_per_carrier': 4});
});

test('tracking stops 30 days after it began; the schedule survives a restart', async () => {
  const start = (await api('POST', '/api/v1/test/orders-clock', {now: null})).json;   // back to the real clock
  assert.ok(start.now);
  await clock('2026-12-01T07:00:00Z');
  carrier['YK300'] = {state: 'YOLDA', events: [{time: '2026-12-01T08:00:00+03:00', code: 'YOLDA', text: 'Yolda', city: 'Bursa'}]};
  await order('T-300', 'Yurtiçi', 'YK300');
  await run();
  const before = (await shipment('T-300')).tracking;
  assert.equal(before.stopped, null);
  await server.stop();
  server = await startServer({dataDir, args: ['--allow-private-net'], env: {DESTEK_TEST_CLOCK: '1'}});
  await clock('2026-12-01T08:00:00Z');
  const again = (await shipment('T-300')).tracking;
  assert.deepEqual(again, before, 'the polling state is in the database');
  await run();
  assert.equal((await shipment('T-300')).tracking.polls, before.polls, 'still not due after the restart');
  await clock('2027-01-01T08:00:00Z');
  await run();
  assert.equal((await shipment('T-300')).tracking.stopped, 'expired');
});

test('without --allow-private-net a carrier API on loopback is refused, by the adapter and by the Lua policy', async () => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'plugins'), {recursive: true});
  fs.copyFileSync(path.join(dataDir, 'plugins', 'tracking_carrier_example.lua'), path.join(dir, 'plugins', 'tracking_carrier_example.lua'));
  const plain = await startServer({dataDir: dir});
  try {
    const adm = await setupAdmin(plain);
    const call = (method, p, body) => plain.api(method, p, {session: adm, body});
    let r = await call('PUT', '/api/v1/order-carriers/yurtici/adapter', {adapter: {url: `${mock.url}/track/{n}`, status_path: 'data.state'}});
    assert.equal(r.status, 200, r.text);
    carrier['YKX'] = {state: 'YOLDA', events: []};
    carrier['ARX'] = {state: 'IN_TRANSFER', movements: []};
    for (const [n, c, t] of [['X-1', 'Yurtiçi Kargo', 'YKX'], ['X-2', 'Aras Kargo', 'ARX']]) {
      r = await call('PUT', `/api/v1/orders/${n}`, {status: 'shipped', payment_status: 'paid', currency: 'TRY',
        shipments: [{carrier: c, tracking_number: t, status: 'InfoReceived'}]});
      assert.equal(r.status, 201, r.text);
    }
    const before = stats.requests.length;
    r = await call('POST', '/api/v1/order-tracking/run');
    assert.equal(r.json.polled, 2);
    assert.equal(stats.requests.length, before, 'nothing reached the mock');
    for (const n of ['X-1', 'X-2']) {
      const s = (await call('GET', `/api/v1/orders/${n}`)).json.shipments[0];
      assert.equal(s.status, 'InfoReceived');
      assert.equal(s.tracking.failures, 1);
      assert.ok(s.tracking.last_error, n);
    }
  } finally {
    await plain.stop();
  }
});
