// Public limits hold under parallel requests (issue 9, item 8): a limit is checked and counted in one step on the
// writer (core/ratelimit.c), so requests that arrive together cannot all see the same free slot. Each case uses up
// part of a limit one request at a time, then fires more requests at once than there are slots left.
import {before, test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, createUser, assertError, listAll, disableOutOfHoursReply, uniqueEmail} from './lib.mjs';

let server, admin;

before(async () => {
  // --trust-proxy: each case speaks from its own client address (X-Forwarded-For of a loopback peer).
  server = await startServer({args: ['--trust-proxy']});
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
});

const api = (method, p, body) => server.api(method, p, {session: admin, body});
const from = (ip) => ({'x-forwarded-for': ip});
const statuses = (results) => results.map((r) => r.status).sort().join(' ');

test('fifteen parallel form posts with three slots left file exactly three tickets', async () => {
  assert.equal((await api('PATCH', '/api/v1/settings', {'ticketing.public_form_limit': 5})).status, 200);
  const form = (i) => server.api('POST', '/api/v1/public/tickets', {headers: from('198.51.100.15'),
    body: {name: 'Yarış', email: `race${i}@example.com`, subject: `Yarış ${i}`, body: 'Aynı anda.'}});
  for (let i = 0; i < 2; i++) assert.equal((await form(i)).status, 201);
  const before = (await listAll(server, '/api/v1/tickets?channel=web', {session: admin})).length;
  const results = await Promise.all(Array.from({length: 15}, (_, i) => form(100 + i)));
  assert.equal(statuses(results), `201 201 201 ${Array(12).fill(429).join(' ')}`, 'three accepted, twelve refused');
  for (const r of results.filter((x) => x.status === 429)) {
    assertError(r, 429, 'rate_limited');
    assert.match(r.headers['retry-after'] || '', /^\d+$/);
  }
  const after = await listAll(server, '/api/v1/tickets?channel=web', {session: admin});
  assert.equal(after.length - before, 3, 'exactly three tickets were filed');
});

test('twelve parallel replies through a signed link with two slots left add exactly two messages', async () => {
  assert.equal((await api('PATCH', '/api/v1/settings', {'ticketing.public_reply_limit': 4})).status, 200);
  const t = (await api('POST', '/api/v1/tickets', {subject: 'Link', body: 'q', customer: {email: uniqueEmail('link'), name: 'L'}})).json;
  const sig = (await api('GET', `/api/v1/tickets/${t.id}`)).json.public_sig;
  const reply = (i) => server.api('POST', `/api/v1/public/tickets/${t.number}/messages`, {headers: from('198.51.100.16'),
    body: {body: `yanıt ${i}`, sig}});
  for (let i = 0; i < 2; i++) assert.equal((await reply(i)).status, 201);
  const results = await Promise.all(Array.from({length: 12}, (_, i) => reply(100 + i)));
  assert.equal(statuses(results), `201 201 ${Array(10).fill(429).join(' ')}`);
  const msgs = (await api('GET', `/api/v1/tickets/${t.id}`)).json.messages.filter((m) => m.kind === 'customer');
  assert.equal(msgs.length, 1 + 4, 'the first message and four replies');
});

test('six parallel wrong passwords with two attempts left on an account: two are checked, four refused', async () => {
  const u = await createUser(server, admin, {role: 'agent'});
  const wrong = () => server.api('POST', '/api/v1/auth/login', {headers: from('198.51.100.17'),
    body: {email: u.email, password: 'not the password'}});
  for (let i = 0; i < 8; i++) assertError(await wrong(), 401, 'bad_credentials');
  // Each check takes half a second: counted only after it, all six would be checked.
  const results = await Promise.all(Array.from({length: 6}, wrong));
  assert.equal(statuses(results), '401 401 429 429 429 429', results.map((r) => r.text).join('\n'));
  for (const r of results.filter((x) => x.status === 429)) assertError(r, 429, 'too_many_attempts');
  // The right password is refused too until the window passes: the account is locked, not guessed.
  const right = await server.api('POST', '/api/v1/auth/login', {headers: from('198.51.100.18'),
    body: {email: u.email, password: u.password}});
  assertError(right, 429, 'too_many_attempts');
});
