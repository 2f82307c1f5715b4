// orders.find as another module calls it (tests/plugins/svcclient.c: POST /svcclient/call {service, args}).
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {BIN, ROOT, startServer, setupAdmin, createToken, tempDir, assertError} from './lib.mjs';

const PLUGIN_DIR = path.join(ROOT, /asan/.test(BIN) ? 'build/asan/tests/plugins' : 'build/release/tests/plugins');
let server, admin;
const call = (service, args) => server.api('POST', '/svcclient/call', {session: admin, body: {service, args}});

before(async () => {
  const dir = tempDir('destek-orders-svc-');
  fs.mkdirSync(path.join(dir, 'plugins'), {recursive: true});
  fs.copyFileSync(path.join(PLUGIN_DIR, 'svcclient.so'), path.join(dir, 'plugins', 'svcclient.so'));
  server = await startServer({dataDir: dir});
  admin = await setupAdmin(server);
  const tok = await createToken(server, admin, {scopes: ['orders']});
  for (const [n, email, day] of [['S-1', 'nur@example.com', '01'], ['S-2', 'nur@example.com', '02'], ['S-3', 'can@example.com', '03']]) {
    const r = await server.api('PUT', `/api/v1/orders/${n}`, {token: tok.secret, body: {status: 'processing',
      customer: {email, phone: email.startsWith('nur') ? '05321234567' : null}, placed_at: `2025-03-${day}`,
      items: [{name: 'Havlu', quantity: 1, price_minor: 100}], shipments: [{carrier: 'Aras', tracking_number: `T${n}`}]}});
    assert.equal(r.status, 201, r.text);
  }
});

test('orders.find by number: the order in full, # ignored; unknown: an empty list', async () => {
  let r = await call('orders.find', {number: '#S-1'});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.result.items.length, 1);
  const o = r.json.result.items[0];
  assert.equal(o.number, 'S-1');
  assert.equal(o.items[0].name, 'Havlu');
  assert.equal(o.shipments[0].carrier, 'aras');
  r = await call('orders.find', {number: 'NOPE'});
  assert.deepEqual(r.json.result.items, []);
});

test('orders.find by contact, e-mail or phone: newest first', async () => {
  let r = await call('orders.find', {email: 'NUR@example.com'});
  assert.deepEqual(r.json.result.items.map((o) => o.number), ['S-2', 'S-1']);
  r = await call('orders.find', {phone: '+90 532 123 45 67'});
  assert.deepEqual(r.json.result.items.map((o) => o.number), ['S-2', 'S-1']);
  const cid = r.json.result.items[0].customer.contact_id;
  r = await call('orders.find', {contact_id: cid});
  assert.deepEqual(r.json.result.items.map((o) => o.number), ['S-2', 'S-1']);
  assertError(await call('orders.find', {}), 422, 'missing_field');
});
