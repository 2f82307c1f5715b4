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

// Writes commit in groups (one transaction for the requests that queue for the writer, each in a savepoint): with many
// in flight, mixed with requests that fail, a kill -9 still loses no acknowledged ticket, takes back no refused
// one, and the search index (written once per group, just before its COMMIT) holds every acknowledged ticket.
test('group commit: 32 writers in flight, some refused, kill -9: every acknowledged ticket and its index row survive',
  {timeout: T(120000)}, async () => {
    const server = await startServer();
    const admin = await setupAdmin(server);
    const {secret} = await createToken(server, admin, {name: 'crash-agent', scopes: ['agent']});
    const token = secret;
    const closed = (await server.api('POST', '/api/v1/tickets', {token, body: {subject: 'kapalı', body: 'x',
      customer: {email: 'kapali@example.com'}}})).json;
    assert.equal((await server.api('PATCH', `/api/v1/tickets/${closed.id}`, {token, body: {status: 'closed'}})).status, 200);
    const acked = new Map();   // word -> ticket id
    let killing = null, next = 0, refused = 0;
    const worker = async () => {
      while (next < 600 && !killing) {
        const i = next++;
        try {
          if (i % 5 === 4) {   // a reply to a closed ticket: refused, and nothing of it may stay
            const r = await server.api('POST', `/api/v1/tickets/${closed.id}/messages`, {token, body: {body: `red${i}`}});
            if (!killing) assert.equal(r.status, 409, r.text);
            refused++;
            continue;
          }
          const word = `grup${i}kelime`;
          const r = await server.api('POST', '/api/v1/tickets', {token, body: {subject: `Sipariş ${word}`, body: 'Kargo?',
            customer: {email: `grup${i % 40}@example.com`, name: 'Grup Müşteri'}}});
          if (r.status === 201) acked.set(word, r.json.id);
          else if (!killing) assert.fail(`ticket ${i} answered ${r.status} before the kill: ${r.text}`);
        } catch (e) {
          if (!killing) throw e;
        }
        if (acked.size >= 250 && !killing) killing = server.kill9();
      }
    };
    await Promise.all(Array.from({length: 32}, worker));
    assert.ok(killing, 'the server was killed mid-stream');
    await killing;
    assert.ok(refused > 0);
    const again = await startServer({dataDir: server.dataDir});
    for (const [word, id] of acked) {
      const got = await again.api('GET', `/api/v1/tickets/${id}`, {token});
      assert.equal(got.status, 200, `ticket ${id} (${word}) lost: ${got.text}`);
      const hit = await again.api('GET', `/api/v1/tickets?q=${word}`, {token});
      assert.deepEqual(hit.json.items.map((t) => t.id), [id], `the index has ${word}`);
    }
    const thread = (await again.api('GET', `/api/v1/tickets/${closed.id}`, {token})).json;
    assert.equal(thread.messages.length, 1, 'no refused reply was kept');
    await again.stop();
  });
