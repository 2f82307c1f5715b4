// The agents' returns queue (GET /api/v1/returns): its JSON is written by destek.db.json and kept by the host for
// every agent (private_cache = "role"). Every write of the returns module must show in the next page read: a
// request from the portal, approve, reject, bulk approve, a ticket linked, shipped, the carrier's scans (an event
// handled in the background), inspection, refund, credit, a person erased (KVKK); the page goes to no one the route
// refuses; the refund deadline's warnings ("due soon" three days before the legal limit, "overdue" after it) are
// right in the list as in a return's page, and turn on by themselves when their time comes (valid_until).
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {startServer, setupAdmin, createToken, createUser, login, assertSubset, eventually, sqlite3, ADMIN_PASSWORD, T} from './lib.mjs';
import {PNG, putOrder, request} from './returns-helpers.mjs';

let server, admin, agent, tok;

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  tok = (await createToken(server, admin, {scopes: ['orders']})).secret;
  await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'returns.lookup_limit': 1000}});
  await createUser(server, admin, {email: 'agent@example.com', role: 'agent', password: ADMIN_PASSWORD});
  agent = await login(server, 'agent@example.com', ADMIN_PASSWORD);
});

const recent = () => new Date(Date.now() - 3 * 86400e3).toISOString();
const page = async (q = 'limit=100', who = agent) => {
  const r = await server.api('GET', `/api/v1/returns?${q}`, {session: who});
  assert.equal(r.status, 200, r.text);
  return r;
};
const row = async (code, q) => (await page(q)).json.items.find((x) => x.code === code);
const act = async (id, step, body = {}) => {
  const r = await server.api('POST', `/api/v1/returns/${id}/${step}`, {session: agent, body});
  assert.equal(r.status, 200, `${step}: ${r.text}`);
  return r.json;
};

test('every write of the module shows in the next page; the page goes to no one the route refuses', async () => {
  await putOrder(server, tok, 'Q-1', {delivered: recent()});
  await putOrder(server, tok, 'Q-2', {delivered: recent(), email: 'mehmet@example.com', phone: '0533 222 33 44'});
  const before = await page();
  assert.equal(before.json.items.length, 0);
  assert.match(before.headers['cache-control'], /private/);
  // the portal: a withdrawal (approved at once) and a damaged item (a person looks)
  const a = await request(server, 'Q-1', 'ayse@example.com', [{line: 2, reason: 'changed_mind'}]);
  const b = await request(server, 'Q-2', 'mehmet@example.com', [{line: 1, reason: 'damaged',
    photos: [{name: 'h.png', type: 'image/png', data: PNG}]}]);
  const c = await request(server, 'Q-2', 'mehmet@example.com', [{line: 2, reason: 'defective'}]);
  const d = await request(server, 'Q-1', 'ayse@example.com', [{line: 1, reason: 'defective'}]);
  for (const x of [a, b, c, d]) assert.equal(x.status, 303, x.text);
  const listed = await page();
  assert.equal(listed.json.items.length, 4, 'the new returns are in the queue');
  const A = listed.json.items.find((x) => x.code === a.code), B = listed.json.items.find((x) => x.code === b.code);
  const C = listed.json.items.find((x) => x.code === c.code), D = listed.json.items.find((x) => x.code === d.code);
  assertSubset(A, {status: 'approved', review: false, cod: false, reason: 'changed_mind', refund_due_soon: false, refund_overdue: false});
  assertSubset(B, {status: 'requested', review: true, reason: 'damaged', email: 'mehmet@example.com'});
  // the same page for an admin (their own copy) and none for a stranger or a token without the agent scope
  assert.deepEqual((await page('limit=100', admin)).json, listed.json);
  assert.equal((await server.api('GET', '/api/v1/returns?limit=100')).status, 401);
  assert.equal((await server.api('GET', '/api/v1/returns?limit=100', {token: tok})).status, 403);
  // the agents' steps
  await act(B.id, 'approve');
  assert.equal((await row(b.code)).status, 'approved');
  await act(C.id, 'reject', {reason: 'Kullanım izi var'});
  assert.equal((await row(c.code)).status, 'rejected');
  const bulk = await server.api('POST', '/api/v1/returns/bulk-approve', {session: agent, body: {ids: [D.id]}});
  assert.equal(bulk.status, 200, bulk.text);
  assert.equal((await row(d.code)).status, 'approved');
  const linked = await server.api('PATCH', `/api/v1/returns/${D.id}`, {session: agent, body: {ticket_id: B.ticket_id}});
  assert.equal(linked.status, 200, linked.text);
  assert.equal((await row(d.code)).ticket_id, B.ticket_id);
  await act(A.id, 'shipped', {tracking_number: 'RT123', carrier: 'Aras Kargo'});
  assertSubset(await row(a.code), {status: 'shipped_back', tracking_number: 'RT123'});
  await act(A.id, 'receive');
  assert.equal((await row(a.code)).status, 'received');
  const det = await server.api('GET', `/api/v1/returns/${A.id}`, {session: agent});
  await act(A.id, 'inspect', {items: [{id: det.json.items[0].id, condition: 'as_new'}]});
  assert.equal((await row(a.code)).status, 'inspected');
  await act(A.id, 'credit', {amount_minor: 100000});
  assertSubset(await row(a.code), {status: 'credited', refund_minor: 100000});
  // the carrier's scans come through an event handled in the background
  const s = await server.api('POST', '/api/v1/orders/Q-2/shipments', {session: agent,
    body: {tracking_number: b.code, carrier: 'Aras Kargo', status: 'Delivered'}});
  assert.equal(s.status, 201, s.text);
  await eventually(() => row(b.code), (r) => r.status === 'received');
  const detB = await server.api('GET', `/api/v1/returns/${B.id}`, {session: agent});
  await act(B.id, 'inspect', {items: [{id: detB.json.items[0].id, condition: 'damaged'}]});
  await act(B.id, 'refund', {amount_minor: 25000, method: 'card'});
  assertSubset(await row(b.code), {status: 'refunded', refund_minor: 25000});
  // the person erased (a service the core calls): the page no longer names them
  assert.ok(B.contact_id > 0);
  const er = await server.api('POST', `/api/v1/contacts/${B.contact_id}/erase`, {session: admin, body: {confirm_id: B.contact_id}});
  assert.equal(er.status, 200, er.text);
  const gone = await row(b.code);
  assert.equal(gone.email, null);
  assert.equal(gone.customer_name, null);
  // a filter and a cursor are pages of their own
  assert.deepEqual((await page('status=approved&limit=100')).json.items.map((x) => x.code), [d.code]);
  const first = await page('limit=2');
  assert.equal(first.json.items.length, 2);
  const rest = await page(`limit=2&cursor=${first.json.next_cursor}`);
  assert.deepEqual(rest.json.items.map((x) => x.id), listed.json.items.slice(2).map((x) => x.id));
});

test('refund deadline warnings: due soon from three days before the limit, overdue after it, on time by themselves', async () => {
  await putOrder(server, tok, 'Q-3', {delivered: recent()});
  const q = await request(server, 'Q-3', 'ayse@example.com', [{line: 1, reason: 'defective'}]);
  assert.equal(q.status, 303, q.text);
  const fresh = await row(q.code, 'limit=5');
  assertSubset(fresh, {refund_due_soon: false, refund_overdue: false});
  assert.ok(Math.abs(fresh.refund_due_at - (fresh.created_at + 14 * 86400)) < 5, 'the law: 14 days from the notice');
  // the limit set (outside the server) to 3 days and 8 seconds from now: not yet due soon; in 8 seconds it is, with no
  // write in between (the kept page turns by itself). 8 s: a loaded machine may take seconds to spawn sqlite3.
  const db = path.join(server.dataDir, 'destek.db');
  const now = Math.floor(Date.now() / 1000);
  assert.equal(sqlite3(db, `UPDATE returns_returns SET refund_due_at = ${now + 3 * 86400 + 8} WHERE id = ${fresh.id}`).code, 0);
  const before = await row(q.code, 'limit=6');
  if (Date.now() / 1000 < now + 7) assertSubset(before, {refund_due_soon: false, refund_overdue: false});
  const soon = await eventually(() => row(q.code, 'limit=6'), (r) => r.refund_due_soon === true, {ms: T(15000), every: 250});
  assertSubset(soon, {refund_due_soon: true, refund_overdue: false});
  const det = await server.api('GET', `/api/v1/returns/${fresh.id}`, {session: agent});
  assertSubset(det.json, {refund_due_soon: true, refund_overdue: false});
  // past the limit: overdue (and still flagged due soon); a closed return never is
  assert.equal(sqlite3(db, `UPDATE returns_returns SET refund_due_at = ${now - 60} WHERE id = ${fresh.id}`).code, 0);
  assertSubset(await row(q.code, 'limit=7'), {refund_due_soon: true, refund_overdue: true});
  const rej = await server.api('POST', `/api/v1/returns/${fresh.id}/reject`, {session: agent, body: {reason: 'Arıza yok'}});
  assert.equal(rej.status, 200, rej.text);
  assertSubset(await row(q.code, 'limit=7'), {status: 'rejected', refund_due_soon: false, refund_overdue: false});
});
