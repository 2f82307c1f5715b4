// `destek demo` adds returns in every state (the returns.demo service after the orders module's demo), each linked to
// a ticket with the notices of its steps; the KVKK erasure of a customer scrubs their returns.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, runCli, tempDir, login} from './lib.mjs';

test('destek demo: returns in every state, linked to tickets; erasure scrubs them', async () => {
  const dir = tempDir('destek-returns-demo-');
  const out = await runCli(['demo', '--data', dir], {timeout: 120000});
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /returns: 18 returns in every state/);
  const server = await startServer({dataDir: dir});
  const email = /admin\s+(\S+@\S+)\s+password: (\S+)/.exec(out.stdout);
  assert.ok(email, out.stdout);
  const admin = await login(server, email[1], email[2]);
  for (const status of ['requested', 'approved', 'shipped_back', 'received', 'inspected', 'refunded', 'exchanged',
    'credited', 'rejected']) {
    const r = await server.api('GET', `/api/v1/returns?status=${status}`, {session: admin});
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.items.length, 2, status);
    assert.ok(r.json.items.every((x) => x.ticket_id > 0), status);
  }
  const one = (await server.api('GET', '/api/v1/returns?status=refunded', {session: admin})).json.items[0];
  const det = await server.api('GET', `/api/v1/returns/${one.id}`, {session: admin});
  assert.deepEqual(det.json.history.map((h) => h.action), ['requested', 'approved', 'shipped_back', 'received', 'inspected', 'refunded']);
  // the person's erasure (KVKK): their returns keep their rows, lose what names them
  assert.ok(one.contact_id > 0);
  const er = await server.api('POST', `/api/v1/contacts/${one.contact_id}/erase`, {session: admin, body: {confirm_id: one.contact_id}});
  assert.equal(er.status, 200, er.text);
  const after = await server.api('GET', `/api/v1/returns/${one.id}`, {session: admin});
  assert.equal(after.json.email, undefined);
  assert.equal(after.json.customer_name, undefined);
  assert.equal(after.json.status, 'refunded');
});
