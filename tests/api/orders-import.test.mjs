// destek orders import FILE.csv [--dry-run]: every bad line reported with its number; a dry run stores nothing; the
// running server does the work; an order with a bad line is not stored in part.
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {startServer, setupAdmin, runCli, tempDir, login, listAll, sqlite3} from './lib.mjs';

const CSV = [
  '\uFEFFnumber;status;total;placed_at;email;phone;province;district;sku;item_name;variant;quantity;price;carrier;tracking_number',
  'T-1;processing;549,90;2025-03-01T10:00:00+03:00;a@example.com;05321112233;İstanbul;Kadıköy;KG-M;Gömlek;M;1;549.90;;',
  'T-2;shipped;100.00;2025-03-01;b@example.com;;Ankara;Çankaya;H-1;Havlu;;2;50.00;Aras Kargo;1234567890123',
  'T-2;shipped;100.00;2025-03-01;b@example.com;;Ankara;Çankaya;H-2;"Havlu; ""büyük""";;1;0;;',
  ';processing;1.00;;c@example.com;;;;;x;;1;1.00;;',
  'T-3;lost;1.00;;c@example.com;;;;;x;;1;1.00;;',
  'T-4;processing;1.00;yesterday;d@example.com;;;;;x;;1;1.00;;',
  'T-5;processing;1.00;;e@example.com;;;;;x;;0;1.00;;',
  'T-5;processing;1.00;;e@example.com;;;;;y;;1;1.00;;',
  'T-6;completed;12.50;;f@example.com;;;;;z;;3;4.1666;;',
  'T-7;completed;12.50;;f@example.com;;;;;z;;1;12.50;;',
].join('\r\n') + '\r\n';

let dir, file;
before(() => {
  dir = tempDir('destek-orders-csv-');
  file = path.join(dir, 'orders.csv');
  fs.writeFileSync(file, CSV);
});

function expectReport(text) {
  for (const re of [/line 2: total: '549,90' is not an amount/, /line 5: number: the order number is empty/,
    /line 6: status: /, /line 7: placed_at: /, /line 8: quantity: '0' is not a whole number/,
    /line 9: order T-5 is not stored: its line 8 is bad/, /line 10: price: '4\.1666' is not an amount/]) {
    assert.match(text, re);
  }
  assert.ok(!/line (3|4|11):/.test(text), text);
}

test('a dry run reports every bad line with its number and stores nothing', async () => {
  const data = tempDir();
  const r = await runCli(['orders', 'import', file, '--dry-run', '--data', data]);
  assert.equal(r.code, 1, r.stderr + r.stdout);
  expectReport(r.stderr);
  assert.match(r.stderr, /dry run: 2 orders would be stored \(2 new, 0 updated\), 7 bad lines/);
  const srv = await startServer({dataDir: data});
  const admin = await setupAdmin(srv);
  const list = await srv.api('GET', '/api/v1/orders', {session: admin});
  assert.deepEqual(list.json.items, []);
});

test('an import in the running server stores the good orders; running it again changes nothing', async () => {
  const srv = await startServer();
  const admin = await setupAdmin(srv);
  let r = await runCli(['orders', 'import', file, '--data', srv.dataDir]);
  assert.equal(r.code, 1);
  expectReport(r.stderr);
  assert.match(r.stderr, /2 orders stored \(2 new, 0 updated\), 7 bad lines/);
  const t2 = (await srv.api('GET', '/api/v1/orders/T-2', {session: admin})).json;
  assert.equal(t2.source, 'csv');
  assert.equal(t2.total_minor, 10000);
  assert.deepEqual(t2.items.map((i) => [i.sku, i.name, i.quantity, i.price_minor]),
    [['H-1', 'Havlu', 2, 5000], ['H-2', 'Havlu; "büyük"', 1, 0]]);
  assert.equal(t2.shipments[0].carrier, 'aras');
  assert.equal(t2.placed_at, '2025-03-01T00:00:00Z');
  assert.equal((await srv.api('GET', '/api/v1/orders/T-5', {session: admin})).status, 404);
  r = await runCli(['orders', 'import', file, '--data', srv.dataDir]);
  assert.match(r.stderr, /2 orders stored \(0 new, 0 updated\)/);
  // a relative path is refused: the server would read it from its own directory
  r = await runCli(['orders', 'import', 'orders.csv', '--data', srv.dataDir], {cwd: dir});
  assert.equal(r.code, 2);
  assert.match(r.stderr, /absolute path/);
});

test('usage errors', async () => {
  const data = tempDir();
  let r = await runCli(['orders', 'import', '--data', data]);
  assert.equal(r.code, 2);
  r = await runCli(['orders', 'import', path.join(dir, 'none.csv'), '--data', data]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot read/);
  const bad = path.join(dir, 'nohead.csv');
  fs.writeFileSync(bad, 'a,b\n1,2\n');
  r = await runCli(['orders', 'import', bad, '--data', data]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /header/);
  // `destek orders` alone, or with a word that is not one of its commands, names both of them (it named only the
  // first, orders demo); `destek orders --help` too.
  for (const args of [['orders'], ['orders', 'frob']]) {
    r = await runCli([...args, '--data', data]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage: destek orders demo /);
    assert.match(r.stderr, /usage: destek orders import .*FILE\.csv/);
  }
  r = await runCli(['orders', '--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /usage: destek orders demo /);
  assert.match(r.stdout, /usage: destek orders import /);
});

test('destek demo fills orders in every state for the demo customers (orders.demo); orders demo adds them by hand', async () => {
  const data = tempDir();
  let r = await runCli(['orders', 'demo', '--data', data]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /run `destek demo` first/);
  r = await runCli(['demo', '--data', data], {timeout: 120000});
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /orders: 120 demo orders for 60 customers/);
  r = await runCli(['orders', 'demo', '--data', data]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /has orders already/);
  // Its help says so, rather than to run it after `destek demo` (which is refused, as above).
  r = await runCli(['orders', 'demo', '--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /`destek demo` adds them itself/);
  assert.doesNotMatch(r.stdout, /Run it after `destek demo`/);
  const srv = await startServer({dataDir: data});
  const admin = await login(srv, 'admin@anadolutekstil.example', 'demo-admin-2026');
  const all = await listAll(srv, '/api/v1/orders', {session: admin, limit: 200});
  assert.equal(all.length, 120);
  assert.ok(all.every((o) => o.customer.contact_id > 0));
  assert.equal((await srv.api('GET', '/api/v1/orders/AT-10400')).status, 401, 'agents only');
  const statuses = new Set();
  const rows = sqlite3(path.join(data, 'destek.db'), 'SELECT DISTINCT status FROM orders_shipments').stdout.trim().split('\n');
  for (const s of ['InfoReceived', 'InTransit', 'OutForDelivery', 'AttemptFail', 'Delivered', 'AvailableForPickup',
    'Exception', 'Expired']) statuses.add(s);
  assert.deepEqual(rows.sort(), [...statuses].sort());
  const unmatched = sqlite3(path.join(data, 'destek.db'), 'SELECT count(*) FROM orders_orders WHERE contact_id IS NULL').stdout.trim();
  assert.equal(unmatched, '0');
});
