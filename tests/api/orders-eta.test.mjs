// ETAs (issue 12, second part): the transit-time table per carrier x province (81 provinces) in business days, the
// holiday calendar (Turkish public holidays, arife counted whole), the admin API that edits both, and the shipment's
// eta as the API shows it.
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, createUser, login, assertError} from './lib.mjs';

let server, admin, agent;
const api = (method, p, body, session = admin) => server.api(method, p, {session, body});

async function shipped(number, carrierName, province, at) {
  const r = await api('PUT', `/api/v1/orders/${number}`, {status: 'shipped', payment_status: 'paid', currency: 'TRY',
    total_minor: 100, customer: {email: 'eta@example.com'}, shipping_address: {province, country: 'TR'},
    shipments: [{carrier: carrierName, tracking_number: `N-${number}`, status: 'InTransit', at}]});
  assert.ok([200, 201].includes(r.status), r.text);
  return (await api('GET', `/api/v1/orders/${number}`)).json.shipments[0];
}

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  const u = await createUser(server, admin, {email: 'eta-agent@example.com', role: 'agent', password: 'agent password 123'});
  agent = await login(server, u.email, 'agent password 123');
});

test('the default table: 81 provinces, 2 business days, 3 for the far east and south-east', async () => {
  const r = await api('GET', '/api/v1/order-eta', undefined, agent);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.provinces.length, 81);
  assert.ok(r.json.provinces.includes('İstanbul') && r.json.provinces.includes('Şırnak'));
  assert.equal(r.json.default_days, 2);
  assert.equal(r.json.saturday, false);
  assert.deepEqual(r.json.items.find((x) => x.province === 'Van'), {carrier: '*', province: 'Van', days: 3, updated_at: null});
  const h = await api('GET', '/api/v1/order-holidays', undefined, agent);
  assert.ok(h.json.items.some((x) => x.day === '2026-10-29' && /Cumhuriyet/.test(x.name)));
  assert.ok(h.json.items.some((x) => x.day === '2026-05-27' && /Kurban/.test(x.name)));
});

test('business days skip weekends and holidays (28-29 October 2026)', async () => {
  // shipped Friday 23 Oct 2026 18:00 Istanbul: +2 business days is Tuesday 27 Oct
  assert.equal((await shipped('E-1', 'Yurtiçi Kargo', 'İzmir', '2026-10-23T15:00:00Z')).eta, '2026-10-27');
  // shipped Tuesday 27 Oct: Wednesday 28 (arife) and Thursday 29 do not count -> Friday 30 Oct, Monday 2 Nov
  assert.equal((await shipped('E-2', 'Yurtiçi Kargo', 'İzmir', '2026-10-27T09:00:00Z')).eta, '2026-11-02');
  // Van: 3 days
  assert.equal((await shipped('E-3', 'Aras Kargo', 'Van', '2026-11-02T09:00:00Z')).eta, '2026-11-05');
  // 23:30 UTC on Monday is Tuesday in Istanbul
  assert.equal((await shipped('E-4', 'Aras Kargo', 'Ankara', '2026-11-02T21:30:00Z')).eta, '2026-11-05');
  // not shipped yet: no eta
  const r = await api('PUT', '/api/v1/orders/E-5', {status: 'processing', payment_status: 'paid', currency: 'TRY',
    shipments: [{carrier: 'PTT', tracking_number: 'P5', status: 'InfoReceived'}]});
  assert.equal(r.status, 201, r.text);
  assert.equal((await api('GET', '/api/v1/orders/E-5')).json.shipments[0].eta, null);
});

test('admins edit the table and the holidays; the most specific row wins; agents may not edit', async () => {
  assertError(await api('PUT', '/api/v1/order-eta', {carrier: 'yurtici', province: 'İzmir', days: 1}, agent), 403);
  assertError(await api('PUT', '/api/v1/order-eta', {carrier: 'nope', province: 'İzmir', days: 1}), 422, 'invalid_field', 'carrier');
  assertError(await api('PUT', '/api/v1/order-eta', {carrier: 'yurtici', province: 'Istanbul City', days: 1}), 422, 'invalid_field', 'province');
  assertError(await api('PUT', '/api/v1/order-eta', {carrier: 'yurtici', province: 'İzmir', days: 61}), 422, 'invalid_field', 'days');
  assertError(await api('PUT', '/api/v1/order-eta', {carrier: '*', province: '*', days: null}), 422, 'invalid_field', 'days');
  let r = await api('PUT', '/api/v1/order-eta', {carrier: 'yurtici', province: 'İzmir', days: 1});
  assert.equal(r.status, 200, r.text);
  assert.equal((await api('GET', '/api/v1/orders/E-1')).json.shipments[0].eta, '2026-10-26');
  r = await api('PUT', '/api/v1/order-eta', {carrier: 'yurtici', province: '*', days: 4});
  assert.equal((await api('GET', '/api/v1/orders/E-1')).json.shipments[0].eta, '2026-10-26', 'carrier x province beats carrier x *');
  r = await api('PUT', '/api/v1/order-eta', {carrier: 'yurtici', province: 'İzmir', days: null});
  // yurtici x * (4 days) from Friday 23 Oct: 26, 27, (28, 29 holidays), 30 Oct, 2 Nov
  assert.equal((await api('GET', '/api/v1/orders/E-1')).json.shipments[0].eta, '2026-11-02');
});

test('holidays: added and removed by admins, audited', async () => {
  // E-3: Aras to Van, 3 days from Monday 2 Nov -> Thursday 5 Nov; a holiday on Wednesday 4 Nov moves it to Friday 6
  assertError(await api('PUT', '/api/v1/order-holidays/2026-11-04', {name: 'Kurum tatili'}, agent), 403);
  assertError(await api('PUT', '/api/v1/order-holidays/4-11-2026', {name: 'x'}), 404, 'not_found');
  assertError(await api('PUT', '/api/v1/order-holidays/2026-11-04', {}), 422, 'missing_field', 'name');
  let r = await api('PUT', '/api/v1/order-holidays/2026-11-04', {name: 'Kurum tatili'});
  assert.equal(r.status, 200, r.text);
  assert.equal((await api('GET', '/api/v1/orders/E-3')).json.shipments[0].eta, '2026-11-06');
  r = await api('DELETE', '/api/v1/order-holidays/2026-11-04');
  assert.equal(r.status, 204);
  assertError(await api('DELETE', '/api/v1/order-holidays/2026-11-04'), 404, 'not_found');
  assert.equal((await api('GET', '/api/v1/orders/E-3')).json.shipments[0].eta, '2026-11-05');
  const audit = await api('GET', '/api/v1/audit?limit=50');
  const actions = audit.json.items.map((a) => a.action);
  for (const a of ['orders.eta_changed', 'orders.holiday_set', 'orders.holiday_removed']) assert.ok(actions.includes(a), a);
});

test('Saturdays count when orders.eta_saturday is on', async () => {
  const r = await api('PATCH', '/api/v1/settings', {'orders.eta_saturday': true});
  assert.equal(r.status, 200, r.text);
  // E-4: Aras to Ankara, shipped Tuesday 3 Nov (Istanbul), 2 days -> Thursday 5 Nov either way; E-1 on Fri 23 Oct with
  // 4 days (yurtici x *): Sat 24, Mon 26, Tue 27, Fri 30 Oct
  assert.equal((await api('GET', '/api/v1/orders/E-1')).json.shipments[0].eta, '2026-10-30');
  await api('PATCH', '/api/v1/settings', {'orders.eta_saturday': false});
});

test('the tracking page shows the ETA of a shipment on its way, in Turkish and English', async () => {
  for (const [lang, text] of [['tr', 'Tahmini teslim: <time>2026-11-05</time>'], ['en', 'Expected delivery: <time>2026-11-05</time>']]) {
    const r = await server.api('POST', '/track', {rawBody: `number=E-3&contact=eta%40example.com&lang=${lang}`,
      headers: {'content-type': 'application/x-www-form-urlencoded'}});
    assert.equal(r.status, 200, r.text);
    assert.ok(r.text.includes(text), r.text);
  }
});
