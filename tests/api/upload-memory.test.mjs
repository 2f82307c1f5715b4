// Large request bodies share a memory budget (issue 9, item 8; core/http.c "body memory"): a burst of uploads waits
// for it or is answered 503 with Retry-After before being kept, so that the server's memory stays bounded. Here in a
// small configuration (--body-memory 16, MiB); tests/bench/uploads.sh measures 64 posts of 16 MiB against 512 MB.
import {before, test} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {startServer, setupAdmin, assertError, listAll, request, disableOutOfHoursReply, eventually, T, SLOW} from './lib.mjs';

const BUDGET_MB = 16;
let server, admin;

before(async () => {
  server = await startServer({args: ['--body-memory', String(BUDGET_MB)]});
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const set = await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'ticketing.public_form_limit': 1000}});
  assert.equal(set.status, 200, set.text);
});

/** A series of /metrics, as a number. */
const metric = async (name) => Number((await server.api('GET', '/metrics', {session: admin})).text
  .match(new RegExp(`^${name} (\\d+)$`, 'm'))[1]);
const mb = (key) => Number((fs.readFileSync(`/proc/${server.proc.pid}/status`, 'utf8').match(new RegExp(`${key}:\\s+(\\d+)`)) || [0, 0])[1]) / 1024;

test('a burst of large posts holds no more than --body-memory at once: the rest wait or get 503, nothing half-written', async (t) => {
  // One file of 4.5 MiB: each post is 6 MiB of JSON, and reading one costs twice that while it is parsed.
  const data = crypto.randomBytes(4608 * 1024);
  const sha256 = crypto.createHash('sha256').update(data).digest('hex');
  const body = Buffer.from(JSON.stringify({name: 'Dosya', email: 'files@example.com', subject: 'Fotoğraflar', body: 'Ekte.',
    attachments: [{filename: 'foto.jpg', content_type: 'image/jpeg', data_base64: data.toString('base64')}]}));
  const post = () => request(server.url + '/api/v1/public/tickets', {method: 'POST', body, timeout: T(60000),
    headers: {'content-type': 'application/json', 'content-length': String(body.length), accept: 'application/json'}});

  assert.equal((await post()).status, 201, 'one post alone is taken');   // warms the caches the burst will use
  await new Promise((r) => setTimeout(r, 200));
  const base = mb('VmRSS');
  let peak = base;
  const sampler = setInterval(() => { peak = Math.max(peak, mb('VmRSS')); }, 5);
  const results = await Promise.all(Array.from({length: 12}, post));
  clearInterval(sampler);

  const counts = {};
  t.diagnostic(`RSS ${base.toFixed(1)} MB before the burst, ${peak.toFixed(1)} MB at its peak`);
  for (const r of results) counts[r.status] = (counts[r.status] || 0) + 1;
  assert.deepEqual(Object.keys(counts).sort(), ['201', '503'], `answers: ${JSON.stringify(counts)}`);
  for (const r of results.filter((x) => x.status === 503)) {
    r.json = JSON.parse(r.text);
    assertError(r, 503, 'server_busy');
    assert.match(r.headers['retry-after'] || '', /^\d+$/, 'Retry-After in seconds');
  }
  // Twelve posts held at once would be 72 MiB of text and as much again parsed: the budget keeps it to 16. The server
  // counts what it reserved; the process's memory shows it too, plus what the server needs besides (a thread's
  // stack, SQLite's caches, the answer) — but not under AddressSanitizer, whose allocator keeps freed memory.
  assert.ok(await metric('destek_http_body_memory_peak_bytes') <= BUDGET_MB << 20, 'reserved at most the budget');
  assert.equal(await metric('destek_http_body_memory_limit_bytes'), BUDGET_MB << 20);
  assert.equal(await metric('destek_http_body_refused_total'), counts[503]);
  assert.equal(await eventually(() => metric('destek_http_body_memory_bytes'), (v) => v === 0), 0, 'all of it given back');
  if (SLOW === 1) assert.ok(peak - base <= BUDGET_MB + 12, `RSS grew by ${(peak - base).toFixed(1)} MB over ${base.toFixed(1)} MB`);

  // Every 201 is a whole ticket with its file; a refused post left nothing, not even a file on disk.
  const accepted = new Set(results.filter((r) => r.status === 201).map((r) => JSON.parse(r.text).reference));
  const tickets = await listAll(server, '/api/v1/tickets?channel=web', {session: admin});
  assert.equal(tickets.length, accepted.size + 1, 'one ticket per accepted post (and the first)');
  for (const t of tickets) {
    const full = (await server.api('GET', `/api/v1/tickets/${t.id}`, {session: admin})).json;
    const files = full.messages.flatMap((m) => m.attachments || []);
    assert.deepEqual(files.map((f) => [f.size, f.sha256]), [[data.length, sha256]], `${t.reference}'s file`);
  }
  assert.equal(fs.readdirSync(path.join(server.dataDir, 'attachments')).length, tickets.length, 'no file without its row');

  // Once the burst is over the budget is free again.
  assert.equal((await post()).status, 201);
});
