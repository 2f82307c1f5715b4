// Every route of every module, found in the sources (C route tables and Lua destek.route/destek.page), is called as
// an admin of the demo desk with hostile input: bodies that are not JSON, JSON of the wrong shape, fields of the wrong
// type, huge and control-character strings; path parameters that are negative, too large, not numbers or not ASCII;
// and query strings of the same kind. A user's mistake is a 4xx with {"error":{"code","message"}}; never a 5xx (a
// 502/503/504 only where the route reached outside and says so in the same shape), and the server keeps serving.
// New routes are swept without editing this file.
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {startServer, login, runCli, tempDir, T} from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let server, admin;
const creds = {};

function sources(dir, ext, out = []) {
  for (const e of fs.readdirSync(dir, {withFileTypes: true})) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== 'web' && e.name !== 'node_modules') sources(p, ext, out); } else if (ext.some((x) => p.endsWith(x))) out.push(p);
  }
  return out;
}

// [method, pattern, file] of every declared route and page.
function routes() {
  const found = new Map();
  const add = (m, p, f) => { if (p.startsWith('/')) found.set(`${m} ${p}`, [m, p, path.relative(root, f)]); };
  for (const f of [...sources(path.join(root, 'core'), ['.c']), ...sources(path.join(root, 'plugins'), ['.c', '.lua'])]) {
    const s = fs.readFileSync(f, 'utf8');
    for (const m of s.matchAll(/\{\s*"(GET|POST|PUT|PATCH|DELETE)",\s*"(\/[^"]*)"/g)) add(m[1], m[2], f);
    for (const m of s.matchAll(/destek\.route\(\s*"(GET|POST|PUT|PATCH|DELETE)",\s*"(\/[^"]*)"/g)) add(m[1], m[2], f);
    for (const m of s.matchAll(/destek\.page\(\s*"(\/[^"]*)"/g)) add('GET', m[1], f);
  }
  return [...found.values()];
}

// Routes that end the caller's session or the server's life: called by their own tests, not here.
const SKIP = new Set(['POST /api/v1/auth/logout', 'POST /api/v1/auth/password', 'PATCH /api/v1/me', 'POST /api/v1/me/password']);

const HUGE = 'ş'.repeat(300000);
const WRONG = {name: [], email: {}, subject: 7, body: null, status: 12, priority: [], tags: 'x', id: 'abc', items: 'x',
  score: '∞', rating: {}, quantity: -1e308, customer: 'x', channel: 0, order_number: [], number: {}, phone: true,
  lang: 'xx', language: 99, reason: {}, text: [], title: 5, slug: {}, url: 'javascript:alert(1)', events: 'x', scopes: 'x',
  role: 'root', team_id: 'x', assignee_id: -1, contact_id: 'x', from: 'yesterday', to: [], at: {}, limit: 'x'};
const BODIES = [
  ['nothing', undefined, null],
  ['not JSON', '{"a":', 'application/json'],
  ['JSON null', 'null', 'application/json'],
  ['an array', '[1,2,3]', 'application/json'],
  ['a string', '"x"', 'application/json'],
  ['an empty object', '{}', 'application/json'],
  ['wrong types', JSON.stringify(WRONG), 'application/json'],
  ['deep nesting', '['.repeat(5000) + ']'.repeat(5000), 'application/json'],
  ['control characters', JSON.stringify({name: 'a\u0000b\u0007', subject: '\u0000', body: '\ud800', email: 'a\u0000@x.example'}), 'application/json'],
  ['huge strings', JSON.stringify({name: HUGE, subject: HUGE, body: HUGE, text: HUGE}), 'application/json'],
  ['a form', 'a=1&b=%00&c=%ZZ', 'application/x-www-form-urlencoded'],
  ['bytes', Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3]), 'application/octet-stream'],
];
const PARAMS = ['2', '1', '0', '-1', '99999999999999999999999', 'abc', '%C5%9F%00', '..%2F..%2Fetc', 'x'.repeat(300)];
const QUERIES = ['?limit=-1&after=abc&cursor=%00', '?q=%00%FF%FE&status=zz&sort=;drop&lang=..', '?limit=999999999999&page=1e400',
  '?id=1&id=2&score=abc&sig=%00&from=2026-13-45&to=x'];

before(async () => {
  const dir = tempDir('destek-hostile-');
  const demo = await runCli(['demo', '--data', dir], {timeout: T(60000)});
  assert.equal(demo.code, 0, demo.stderr);
  const m = /admin\s+(\S+@anadolutekstil\.example)\s+password: (\S+)/.exec(demo.stdout);
  [creds.email, creds.password] = [m[1], m[2]];
  server = await startServer({dataDir: dir});
  admin = await login(server, creds.email, creds.password);
});

after(async () => { if (server) await server.stop(); });

const fill = (pattern, v) => pattern.replace(/\{[^}]+\}/g, v);

async function call(method, p, body, type) {
  const headers = {accept: 'application/json', cookie: admin.cookie, 'x-csrf-token': admin.csrf};
  if (type) headers['content-type'] = type;
  const send = async () => {
    try {
      return await server.api(method, p, {rawBody: body, headers, contentType: null});
    } catch (e) {
      // A route whose body limit is smaller answers 413 and closes while a big body is still being sent: the client
      // may then see the closed socket before the answer. That is a refusal, not a failure (the server still serves:
      // checked after the sweep).
      if (body && body.length > 64 * 1024 && /EPIPE|ECONNRESET|socket hang up/.test(String(e.code || e.message))) {
        return {status: 413, json: {error: {code: 'closed', message: 'closed while the body was sent'}}, text: ''};
      }
      throw e;
    }
  };
  let res = await send();
  if (res.status === 401) {          // a route that ended the session (erasing a user, say): sign in again
    admin = await login(server, creds.email, creds.password);
    headers.cookie = admin.cookie;
    headers['x-csrf-token'] = admin.csrf;
    res = await send();
  }
  return res;
}

const serverError = (res) => res.status >= 500 &&
  !((res.status === 502 || res.status === 503 || res.status === 504) && res.json && res.json.error);

function check(res, what, failures, statuses) {
  statuses[res.status] = (statuses[res.status] || 0) + 1;
  if (serverError(res)) {
    failures.push({what, status: res.status, text: res.text.slice(0, 200)});
    return;
  }
  if (res.status >= 400 && what.includes(' /api/') && !(res.json && res.json.error && res.json.error.code && res.json.error.message)) {
    failures.push({what, status: res.status, text: `without {"error":{"code","message"}}: ${res.text.slice(0, 200)}`, shape: true});
  }
}

test('every route answers hostile input with a 4xx and its error shape, never a 5xx, and the server keeps serving', {timeout: T(600000)}, async (t) => {
  const list = routes().filter(([m, p]) => !SKIP.has(`${m} ${p}`));
  assert.ok(list.length > 150, `routes found in the sources: ${list.length}`);
  const failures = [];
  let calls = 0;
  const statuses = {};
  for (const [method, pattern] of list) {
    const params = pattern.includes('{') ? PARAMS : ['2'];
    for (const v of params) {
      const p = fill(pattern, v);
      if (method === 'GET' || method === 'DELETE') {
        for (const q of ['', ...QUERIES]) {
          const again = () => call(method, p + q, undefined, null);
          const res = await again();
          calls++;
          check(res, `${method} ${p}${q}`, failures, statuses);
          if (failures.length && !failures.at(-1).again) failures.at(-1).again = again;
        }
      } else {
        for (const [label, body, type] of (v === '2' ? BODIES : BODIES.slice(5, 7))) {
          const again = () => call(method, p, body, type);
          const res = await again();
          calls++;
          check(res, `${method} ${p} (${label})`, failures, statuses);
          if (failures.length && !failures.at(-1).again) failures.at(-1).again = again;
        }
      }
    }
  }
  t.diagnostic(`${list.length} routes, ${calls} calls; answers by status: ${JSON.stringify(statuses)}`);
  // The calls reached the handlers: most answers are the handlers' own, not the gate's (CSRF, access).
  assert.ok((statuses[200] || 0) + (statuses[201] || 0) > 250 && (statuses[422] || 0) > 200, JSON.stringify(statuses));
  assert.equal((await server.api('GET', '/healthz')).status, 200);
  // A 5xx is asked again once, alone: a Lua handler that ran past its time limit on a loaded machine answers 500 too,
  // and that is the budget's doing, not the input's. What fails twice is reported, with what it answered.
  const lasting = [];
  for (const f of failures) {
    if (!f.shape) {
      const res = await f.again();
      if (!serverError(res)) { t.diagnostic(`once ${f.status}, then ${res.status}: ${f.what} (${f.text})`); continue; }
    }
    lasting.push(`${f.what}: ${f.status} ${f.text}`);
  }
  assert.deepEqual(lasting, []);
});
