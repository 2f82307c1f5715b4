// The complete Lua plugin in plugins/README.md runs as printed: the guide's example must never rot.
import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {ROOT, cleanup, eventually, setupAdmin, startServer, tempDir} from './lib.mjs';

after(cleanup);

test('the kargo_tags example from plugins/README.md tags shipping tickets and counts them', async () => {
  const guide = fs.readFileSync(path.join(ROOT, 'plugins/README.md'), 'utf8');
  const code = guide.match(/```lua\n(-- <data>\/plugins\/kargo_tags\.lua[\s\S]*?)```/);
  assert.ok(code, 'the guide has the kargo_tags.lua example');
  const dataDir = tempDir('destek-readme-');
  fs.mkdirSync(path.join(dataDir, 'plugins'));
  fs.writeFileSync(path.join(dataDir, 'plugins', 'kargo_tags.lua'), code[1]);
  const server = await startServer({dataDir});
  assert.doesNotMatch(server.stderrText(), /kargo_tags.*(not loaded|failed|error)/i);
  const admin = await setupAdmin(server);

  const create = (subject, body) => server.api('POST', '/api/v1/tickets', {session: admin,
    body: {subject, body, customer: {email: 'musteri@example.com', name: 'Müşteri'}}});
  const shipping = await create('KARGOM nerede?', 'Siparişim üç gündür yolda.');
  assert.equal(shipping.status, 201, shipping.text);
  const other = await create('Fatura talebi', 'Faturamı e-posta ile alabilir miyim?');
  assert.equal(other.status, 201, other.text);

  const t1 = await server.api('GET', `/api/v1/tickets/${shipping.json.id}`, {session: admin});
  assert.ok(t1.json.tags.includes('kargo'), JSON.stringify(t1.json.tags));
  const t2 = await server.api('GET', `/api/v1/tickets/${other.json.id}`, {session: admin});
  assert.ok(!t2.json.tags.includes('kargo'));

  const stats = await eventually(() => server.api('GET', '/api/v1/kargo-tags/stats', {session: admin}),
    (r) => r.status === 200 && r.json.count === 1);
  assert.equal(stats.json.count, 1, stats.text);
  assert.equal(stats.json.text, '1 kargo sorusu etiketlendi');
});
