// Durability across a crash: every write the server acknowledged (201) before `kill -9` is there after a restart.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, createToken, listAll, T} from './lib.mjs';

const TOTAL = 300;
const IN_FLIGHT = 8;
const KILL_AFTER = 150; // acknowledged writes before the kill; the rest are in flight or never sent

test(`kill -9 in the middle of ${TOTAL} writes loses none that were acknowledged`, {timeout: T(120000)}, async () => {
  const server = await startServer();
  const admin = await setupAdmin(server);
  const {secret} = await createToken(server, admin, {name: 'crash-admin', scopes: ['admin']});

  const acked = new Map(); // name -> id
  let killing = null;
  let next = 0;
  const worker = async () => {
    while (next < TOTAL) {
      const name = `crash-${next++}`;
      try {
        const r = await server.api('POST', '/api/v1/tokens', {token: secret, body: {name, scopes: ['metrics']}});
        if (r.status === 201) {
          assert.equal(r.json.token.name, name);
          acked.set(name, r.json.token.id);
        } else if (!killing) {
          assert.fail(`write ${name} answered ${r.status} before the kill: ${r.text}`);
        }
      } catch (e) {
        if (!killing) throw e; // after the kill, refused connections are expected
      }
      if (acked.size >= KILL_AFTER && !killing) killing = server.kill9();
    }
  };
  await Promise.all(Array.from({length: IN_FLIGHT}, worker));
  assert.ok(killing, 'the server was killed mid-stream');
  const {signal} = await killing;
  assert.equal(signal, 'SIGKILL');
  assert.ok(acked.size >= KILL_AFTER, `acknowledged ${acked.size}`);
  assert.ok(acked.size < TOTAL, 'the kill landed before the stream ended');

  const again = await startServer({dataDir: server.dataDir});
  const items = await listAll(again, '/api/v1/tokens', {session: {token: secret}, limit: 200});
  const byName = new Map(items.map((t) => [t.name, t]));
  const lost = [...acked.keys()].filter((n) => !byName.has(n));
  assert.deepEqual(lost, [], `${lost.length} acknowledged writes lost after kill -9 (of ${acked.size})`);
  for (const [name, id] of acked) assert.equal(byName.get(name).id, id, `${name} kept its id`);
  assert.equal(new Set(items.map((t) => t.id)).size, items.length, 'no duplicate rows');

  // the restarted server takes writes again
  const w = await again.api('POST', '/api/v1/tokens', {token: secret, body: {name: 'after-restart', scopes: ['metrics']}});
  assert.equal(w.status, 201, w.text);
  const audit = await listAll(again, '/api/v1/audit', {session: {token: secret}, limit: 200});
  // the audit entry commits with the write it records
  const created = audit.filter((a) => a.action === 'token.created').length;
  assert.ok(created >= acked.size + 2, `token.created audit entries (${created}) cover the acknowledged writes (${acked.size})`);
  await again.stop();
});
