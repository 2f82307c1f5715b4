// Shared harness for the API and CLI tests: it drives the real binary (STYLE.md habit 12).
//
// The binary is $DESTEK_BIN (default build/destek, relative to the repository root or the current directory).
// Every server started here runs on 127.0.0.1 with a port the kernel picks and a fresh data directory, and is
// stopped by an after() hook registered when this module is imported, even when a test fails. That hook also fails
// the file if a server printed an AddressSanitizer/UBSan report or did not exit 0 on SIGTERM.
import {after} from 'node:test';
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import {fileURLToPath} from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function resolveBin() {
  const want = process.env.DESTEK_BIN || 'build/destek';
  if (path.isAbsolute(want)) return want;
  const fromCwd = path.resolve(process.cwd(), want);
  return fs.existsSync(fromCwd) ? fromCwd : path.resolve(ROOT, want);
}
export const BIN = resolveBin();

// Sanitizer builds are several times slower: every wait scales with this.
// New password hashes in tests use 1,000 PBKDF2 rounds instead of 600,000: thousands of log-ins would otherwise spend
// minutes of the suite hashing. Verification reads the count from the stored hash, so the code path is the same.
const TEST_PASSWORD_ITERATIONS = '1000';
// Also every CLI a test spawns with the inherited environment (destek demo, user add, ...).
process.env.DESTEK_PASSWORD_ITERATIONS ??= TEST_PASSWORD_ITERATIONS;
export const SLOW = /asan|sanitize/i.test(BIN) || process.env.DESTEK_SANITIZED === '1' || process.env.DESTEK_TEST_SLOW === '1' ? 4 : 1;
export const T = (ms) => ms * SLOW;

const servers = new Set();
const tempDirs = new Set();
const cliProblems = [];

// ---------------------------------------------------------------------------------------------------------------
// temp dirs

/** A fresh directory under the OS temp dir, removed when the test file ends. */
export function tempDir(prefix = 'destek-api-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

// A module built as a .so (scripts/run-tests.sh runs the ticketing tests once more that way): with
// DESTEK_TEST_MODULE_SO=path[,path] every data directory a server or a CLI command is given gets those files in
// plugins/ first, and DESTEK_NO_BUILTIN (passed on in the environment) switches the built-in copies off.
const MODULE_SO = (process.env.DESTEK_TEST_MODULE_SO || '').split(',').filter(Boolean);

function installModules(dataDir) {
  if (!MODULE_SO.length || !dataDir) return;
  const dir = path.join(dataDir, 'plugins');
  fs.mkdirSync(dir, {recursive: true, mode: 0o700});
  fs.chmodSync(dataDir, 0o700);
  for (const so of MODULE_SO) {
    const to = path.join(dir, path.basename(so));
    if (!fs.existsSync(to)) fs.copyFileSync(path.resolve(ROOT, so), to);
  }
}

function dataDirOf(args) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--data' && i + 1 < args.length) return args[i + 1];
    if (String(args[i]).startsWith('--data=')) return String(args[i]).slice(7);
  }
  return null;
}

function checkBinary() {
  if (!fs.existsSync(BIN)) {
    throw new Error(`destek binary not found at ${BIN} (build it with ./build.sh, or set DESTEK_BIN)`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// servers

const LISTEN_RE = /destek: listening on (https?:\/\/[^\s]+)/;
const SETUP_RE = /\/setup\?token=([A-Za-z0-9_-]+)/;

/**
 * Starts `destek serve --listen 127.0.0.1:0 --data <dir> ...args` and resolves once it prints its listening line.
 * opts: {dataDir, args (added after those), rawArgs (instead of all of them), env, cwd, startTimeout}.
 * Returns the server handle:
 *   {url, dataDir, proc, stderrText(), setupToken(), api(), stop(), kill9(), exited}
 */
export async function startServer(opts = {}) {
  checkBinary();
  const dataDir = opts.dataDir || tempDir();
  const args = opts.rawArgs || ['serve', '--listen', '127.0.0.1:0', '--data', dataDir, ...(opts.args || [])];
  const env = {...process.env};
  delete env.DESTEK_LISTEN;
  delete env.DESTEK_DATA;
  env.DESTEK_PASSWORD_ITERATIONS ??= TEST_PASSWORD_ITERATIONS;
  Object.assign(env, opts.env || {});
  installModules(dataDirOf(args) || dataDir);
  const proc = spawn(BIN, args, {env, cwd: opts.cwd || dataDir, stdio: ['ignore', 'pipe', 'pipe']});
  let stderr = '';
  let stdout = '';
  const listeners = new Set();
  proc.stderr.setEncoding('utf8');
  proc.stdout.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr += d; for (const f of listeners) f(); });
  proc.stdout.on('data', (d) => { stdout += d; });
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => { server.exitCode = code; server.exitSignal = signal; resolve({code, signal});
      for (const f of listeners) f(); });
  });
  proc.on('error', (e) => {
    stderr += `\n[spawn error] ${e.message}\n`;
    if (server.exitCode === undefined) server.exitCode = -1;
    for (const f of listeners) f();
  });

  // Resolves with the first match of re in stderr; rejects when the process exits first or time runs out.
  const waitStderr = (re, ms, what) => new Promise((resolve, reject) => {
    const check = () => {
      const m = stderr.match(re);
      if (m) { done(); resolve(m); return; }
      if (server.exitCode !== undefined) {
        done();
        reject(new Error(`destek exited (code ${server.exitCode}, signal ${server.exitSignal}) before printing ${what};`
          + ` stderr:\n${stderr}`));
      }
    };
    const timer = setTimeout(() => { done(); reject(new Error(`no ${what} from destek within ${ms} ms; stderr:\n${stderr}`)); }, ms);
    const done = () => { clearTimeout(timer); listeners.delete(check); };
    listeners.add(check);
    check();
  });

  const server = {
    dataDir, proc, args, exited, exitCode: undefined, exitSignal: undefined, stopped: false, killed: false,
    url: null,
    stderrText: () => stderr,
    stdoutText: () => stdout,
    /** The setup token from the `no admin yet` line (waits for the line). */
    setupToken: async (ms = T(10000)) => (await waitStderr(SETUP_RE, ms, 'the setup line'))[1],
    waitStderr,
    api: (method, p, o) => api(server, method, p, o),
    /** SIGTERM, then wait for exit (SIGKILL after a generous timeout). Resolves {code, signal}. */
    stop: async (ms = T(15000)) => {
      if (server.exitCode !== undefined) return {code: server.exitCode, signal: server.exitSignal};
      server.stopped = true;
      proc.kill('SIGTERM');
      const t = setTimeout(() => { server.killed = true; proc.kill('SIGKILL'); }, ms);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
    /** kill -9: no chance to clean up. */
    kill9: async () => {
      if (server.exitCode !== undefined) return {code: server.exitCode, signal: server.exitSignal};
      server.killed = true;
      proc.kill('SIGKILL');
      return exited;
    },
  };
  servers.add(server);
  const m = await waitStderr(LISTEN_RE, opts.startTimeout || T(20000), 'the "listening on" line');
  server.url = m[1].replace(/\/+$/, '');
  // A run with modules as .so files proves nothing unless the server loaded them (and not a built-in copy).
  for (const so of MODULE_SO) {
    const name = path.basename(so, '.so');
    if (!new RegExp(`loaded ${name} \\S+ \\(so\\)`).test(stderr))
      throw new Error(`DESTEK_TEST_MODULE_SO: the server did not load ${name} from ${so}; stderr:\n${stderr}`);
  }
  return server;
}

const SANITIZER_RE = /ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer)|runtime error:|SUMMARY: UndefinedBehaviorSanitizer/;

/** Stops every server this file started and removes every temp dir; fails on sanitizer reports / unclean exits. */
export async function cleanup() {
  const problems = [];
  for (const s of servers) {
    const {code, signal} = await s.stop();
    if (SANITIZER_RE.test(s.stderrText())) {
      problems.push(`server ${s.url || '(not started)'} (${s.dataDir}) printed a sanitizer report:\n${s.stderrText()}`);
    } else if (s.stopped && !s.killed && code !== 0) {
      problems.push(`server ${s.url} did not exit 0 on SIGTERM (code ${code}, signal ${signal}); stderr:\n`
        + s.stderrText().slice(-4000));
    }
  }
  servers.clear();
  problems.push(...cliProblems.splice(0));
  for (const d of tempDirs) fs.rmSync(d, {recursive: true, force: true});
  tempDirs.clear();
  if (problems.length) throw new Error(problems.join('\n\n'));
}
after(cleanup);
// Last resort if the runner dies before after() hooks run: no orphaned servers, no temp dirs left behind.
process.on('exit', () => {
  for (const s of servers) { try { s.proc.kill('SIGKILL'); } catch { /* already gone */ } }
  for (const d of tempDirs) { try { fs.rmSync(d, {recursive: true, force: true}); } catch { /* ignore */ } }
});

// ---------------------------------------------------------------------------------------------------------------
// HTTP

/**
 * One HTTP(S) request with node:http (no automatic decompression, no cookie jar, a new connection each time).
 * opts: {method, headers, body: string|Buffer|AsyncIterable (chunked), timeout}.
 * Resolves {status, headers (lower-case; set-cookie is an array), body: Buffer, text}.
 */
export function request(url, opts = {}) {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = mod.request(u, {
      method: opts.method || 'GET',
      headers: opts.headers || {},
      agent: false,
      rejectUnauthorized: false,
      timeout: opts.timeout || T(30000),
    }, (res) => {
      answered = true;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({status: res.statusCode, headers: res.headers, body, text: body.toString('utf8')});
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${opts.method || 'GET'} ${url}`)));
    // A server may answer (413, say) and close before it has read the whole body: that is not our error.
    req.on('error', (e) => { if (!answered) reject(e); });
    let b = opts.body;
    if (b === undefined || b === null) { req.end(); return; }
    if ((typeof b === 'string' || Buffer.isBuffer(b)) && Buffer.byteLength(b) <= BIG_BODY) { req.end(b); return; }
    // A big body: send the headers, give the server a moment to answer early (413) the way curl waits on
    // `Expect: 100-continue`, then send the body in pieces, stopping once an answer has begun. Otherwise a server
    // that answers and closes without draining the body makes Node report EPIPE and drop the answer.
    if (typeof b === 'string' || Buffer.isBuffer(b)) b = pieces(Buffer.from(b));
    (async () => {
      try {
        req.flushHeaders();
        await new Promise((r) => { const t = setTimeout(r, T(200)); req.once('response', () => { clearTimeout(t); r(); }); });
        for await (const chunk of b) {
          if (answered || req.destroyed) return;
          if (!req.write(chunk)) await new Promise((r) => { req.once('drain', r); req.once('close', r); });
        }
        if (!answered) req.end();
      } catch (e) { req.destroy(e); }
    })();
  });
}

const BIG_BODY = 64 * 1024;
function* pieces(buf, size = BIG_BODY) {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

/** The `destek_session=...` pair from a response's Set-Cookie, or null. */
export function sessionCookie(res) {
  for (const c of res.headers['set-cookie'] || []) {
    const m = c.match(/^\s*(destek_session=[^;]*)/);
    if (m) return m[1];
  }
  return null;
}

/** The full Set-Cookie line for destek_session, or null. */
export function sessionSetCookie(res) {
  return (res.headers['set-cookie'] || []).find((c) => /^\s*destek_session=/.test(c)) || null;
}

/**
 * A JSON API call. opts:
 *   body (object, sent as JSON) | rawBody (string/Buffer/AsyncIterable, sent as is)
 *   contentType (default application/json when there is a body; null sends none)
 *   token (Bearer), cookie ('destek_session=...' or the bare value), csrf (X-CSRF-Token),
 *   session ({cookie, csrf} or {token}), headers (extra)
 * Resolves {status, headers, json (null unless the body parses), text, body, cookie (new session cookie or null)}.
 */
export async function api(server, method, p, opts = {}) {
  const headers = {accept: 'application/json', ...(opts.headers || {})};
  const sess = opts.session || {};
  const token = opts.token ?? sess.token;
  const cookie = opts.cookie ?? sess.cookie;
  const csrf = opts.csrf === undefined ? sess.csrf : opts.csrf;
  if (token) headers.authorization = `Bearer ${token}`;
  if (cookie) headers.cookie = cookie.includes('=') ? cookie : `destek_session=${cookie}`;
  if (csrf) headers['x-csrf-token'] = csrf;
  let body;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) {
    const ct = opts.contentType === undefined ? 'application/json' : opts.contentType;
    if (ct !== null && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = ct;
    if (typeof body === 'string' || Buffer.isBuffer(body)) headers['content-length'] = String(Buffer.byteLength(body));
  }
  const res = await request(server.url + p, {method, headers, body});
  let json = null;
  try { json = JSON.parse(res.text); } catch { /* not JSON */ }
  return {...res, json, cookie: sessionCookie(res)};
}

// ---------------------------------------------------------------------------------------------------------------
// sessions and users

export const ADMIN_PASSWORD = 'correct horse battery staple';
let seq = 0;
/** A unique e-mail address for this test process. */
export function uniqueEmail(tag = 'user') {
  seq += 1;
  return `${tag}-${process.pid}-${seq}@example.com`;
}

/** Runs the first-admin setup through the API; resolves a logged-in admin session {cookie, csrf, user, email, password}. */
export async function setupAdmin(server, {email = 'admin@example.com', name = 'Ada Admin', password = ADMIN_PASSWORD} = {}) {
  const token = await server.setupToken();
  const res = await server.api('POST', '/api/v1/setup', {body: {token, email, name, password}});
  assert.equal(res.status, 201, `setup failed: ${res.status} ${res.text}`);
  assert.ok(res.cookie, 'setup sets a session cookie');
  assert.equal(typeof res.json.csrf_token, 'string');
  return {cookie: res.cookie, csrf: res.json.csrf_token, user: res.json.user, email, password};
}

/** Logs in; resolves {cookie, csrf, user, email, password}, failing the test unless the answer is 200. */
export async function login(server, email, password) {
  const res = await server.api('POST', '/api/v1/auth/login', {body: {email, password}});
  assert.equal(res.status, 200, `login ${email} failed: ${res.status} ${res.text}`);
  assert.ok(res.cookie, 'login sets a session cookie');
  return {cookie: res.cookie, csrf: res.json.csrf_token, user: res.json.user, email, password};
}

/** Creates a user through POST /api/v1/users as `by` (a session or {token}); resolves the user object. */
export async function createUser(server, by, {email = uniqueEmail(), name = 'Test User', role = 'agent',
  password = 'agent password 1', lang} = {}) {
  const body = {email, name, role, password};
  if (lang) body.lang = lang;
  const res = await server.api('POST', '/api/v1/users', {session: by, body});
  assert.equal(res.status, 201, `create user ${email} failed: ${res.status} ${res.text}`);
  return {...res.json, password};
}

/** Creates an API token as `by`; resolves {token, secret, id}. */
export async function createToken(server, by, {name = `tok-${++seq}`, scopes = ['admin']} = {}) {
  const res = await server.api('POST', '/api/v1/tokens', {session: by, body: {name, scopes}});
  assert.equal(res.status, 201, `create token failed: ${res.status} ${res.text}`);
  assert.match(res.json.secret, /^dtk_/);
  return {token: res.json.token, secret: res.json.secret, id: res.json.token.id};
}

/**
 * Walks a list endpoint through next_cursor; resolves every item. Checks the list shape on every page.
 * opts: {limit, session, maxPages}
 */
export async function listAll(server, p, opts = {}) {
  const items = [];
  let cursor = null;
  const sep = p.includes('?') ? '&' : '?';
  for (let page = 0; page < (opts.maxPages || 10000); page++) {
    const q = [];
    if (opts.limit) q.push(`limit=${opts.limit}`);
    if (cursor !== null) q.push(`cursor=${encodeURIComponent(cursor)}`);
    const res = await server.api('GET', p + (q.length ? sep + q.join('&') : ''), {session: opts.session});
    assert.equal(res.status, 200, `GET ${p} page ${page}: ${res.status} ${res.text}`);
    assert.ok(Array.isArray(res.json.items), 'list has items[]');
    assert.ok('next_cursor' in res.json, 'list has next_cursor');
    if (opts.limit) assert.ok(res.json.items.length <= opts.limit, `page of ${res.json.items.length} > limit ${opts.limit}`);
    items.push(...res.json.items);
    cursor = res.json.next_cursor;
    if (cursor === null) return items;
    assert.equal(typeof cursor, 'string', 'next_cursor is a string or null');
  }
  throw new Error(`${p}: no end of list after ${opts.maxPages} pages`);
}

/** Every audit entry (all pages), as an admin session or token. */
export const auditAll = (server, session) => listAll(server, '/api/v1/audit', {session, limit: 200});

/** Waits (polling) until pred(await fn()) holds; resolves the last value. Events may be recorded just after a reply. */
export async function eventually(fn, pred, {ms = T(5000), every = 100} = {}) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (pred(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Runs fn over items with at most n in flight; resolves the results in order. */
export async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i], i); }
  };
  await Promise.all(Array.from({length: Math.min(n, items.length)}, worker));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// assertions

export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** The headers every response carries (contract: "Every response carries"). */
export function assertSecurityHeaders(res, what = '') {
  const h = res.headers;
  const where = `${what} (status ${res.status})`;
  const csp = h['content-security-policy'];
  assert.ok(csp, `Content-Security-Policy missing ${where}`);
  assert.match(csp, /default-src 'self'/, `CSP default-src ${where}: ${csp}`);
  assert.match(csp, /script-src 'self'/, `CSP script-src ${where}: ${csp}`);
  assert.match(csp, /frame-ancestors 'none'/, `CSP frame-ancestors ${where}: ${csp}`);
  const scriptSrc = (csp.split(';').find((d) => /^\s*script-src\b/.test(d)) || '');
  assert.doesNotMatch(scriptSrc, /unsafe-inline|unsafe-eval/, `CSP allows inline scripts ${where}: ${csp}`);
  assert.equal(h['x-content-type-options'], 'nosniff', `X-Content-Type-Options ${where}`);
  assert.equal(h['referrer-policy'], 'same-origin', `Referrer-Policy ${where}`);
  assert.equal(h['x-frame-options'], 'DENY', `X-Frame-Options ${where}`);
}

/** API responses: no-store plus the security headers. */
export function assertApiHeaders(res, what = '') {
  assertSecurityHeaders(res, what);
  assert.match(res.headers['cache-control'] || '', /no-store/, `Cache-Control no-store ${what} (status ${res.status})`);
}

/** The standard error body: {"error":{"code","message"[,"field"]}}. */
export function assertError(res, status, code, field) {
  const statuses = Array.isArray(status) ? status : [status];
  assert.ok(statuses.includes(res.status), `expected status ${statuses.join('|')}, got ${res.status}: ${res.text}`);
  assert.match(res.headers['content-type'] || '', /^application\/json/, `error Content-Type: ${res.headers['content-type']}`);
  assert.ok(res.json && typeof res.json.error === 'object' && res.json.error !== null, `error body: ${res.text}`);
  const codes = Array.isArray(code) ? code : [code];
  if (code !== undefined) assert.ok(codes.includes(res.json.error.code), `error code: expected ${codes.join('|')}, got ${res.text}`);
  assert.match(res.json.error.code, /^[a-z][a-z0-9_]*$/, 'error code is snake_case');
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 0, 'error message is not empty');
  if (field !== undefined) assert.equal(res.json.error.field, field, `error field: ${res.text}`);
}

/**
 * Checks that actual contains expected: objects key by key (recursively), arrays element by element and of the
 * same length, RegExp values match strings, functions are predicates, anything else must be equal.
 */
export function assertSubset(actual, expected, at = '$') {
  if (expected instanceof RegExp) { assert.match(String(actual), expected, `${at}`); return; }
  if (typeof expected === 'function') { assert.ok(expected(actual), `${at}: predicate failed on ${JSON.stringify(actual)}`); return; }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${at}: expected an array, got ${JSON.stringify(actual)}`);
    assert.equal(actual.length, expected.length, `${at}: array length`);
    expected.forEach((e, i) => assertSubset(actual[i], e, `${at}[${i}]`));
    return;
  }
  if (expected && typeof expected === 'object') {
    assert.ok(actual && typeof actual === 'object', `${at}: expected an object, got ${JSON.stringify(actual)}`);
    for (const k of Object.keys(expected)) assertSubset(actual[k], expected[k], `${at}.${k}`);
    return;
  }
  assert.deepEqual(actual, expected, at);
}

/** The user object U of the contract, with no secret in it. */
export function assertUser(u, expected = {}) {
  assert.ok(u && typeof u === 'object', `user object: ${JSON.stringify(u)}`);
  for (const k of ['id', 'email', 'name', 'role', 'lang', 'active', 'created_at', 'updated_at']) {
    assert.ok(k in u, `user has ${k}: ${JSON.stringify(u)}`);
  }
  assert.ok(['admin', 'agent'].includes(u.role));
  assert.ok(['tr', 'en'].includes(u.lang));
  assert.equal(typeof u.active, 'boolean');
  assert.match(u.created_at, ISO_UTC);
  assert.match(u.updated_at, ISO_UTC);
  for (const k of Object.keys(u)) assert.doesNotMatch(k, /password|hash|secret/i, `user object leaks ${k}`);
  assertSubset(u, expected, 'user');
}

// ---------------------------------------------------------------------------------------------------------------
// scenario tables

/**
 * Runs one scenario row against ctx.server. A row:
 *   {name, method, path (string or ctx => string), as (key into ctx.auth, or a function ctx => session),
 *    body | rawBody (value or ctx => value), contentType, headers, csrf (override: false drops it, string replaces it),
 *    expect: {status (number|number[]), code, field, body (subset), headers ({name: string|RegExp|true}),
 *             notStatus},
 *    audit: [actions that must be recorded], noAudit: [actions that must not be]}
 * Audit checks need ctx.auth.audit (an admin token session).
 */
export async function runScenario(ctx, row) {
  const v = (x) => (typeof x === 'function' ? x(ctx) : x);
  const session = row.as ? (typeof row.as === 'function' ? row.as(ctx) : ctx.auth[row.as]) : undefined;
  if (row.as) assert.ok(session, `scenario auth "${row.as}" is not set up`);
  const p = v(row.path);
  const opts = {session: session && {...session}, headers: v(row.headers), contentType: row.contentType};
  if (row.csrf === false) opts.csrf = null;
  else if (row.csrf !== undefined) opts.csrf = v(row.csrf);
  if (row.rawBody !== undefined) opts.rawBody = v(row.rawBody);
  else if (row.body !== undefined) opts.body = v(row.body);

  const watchAudit = row.audit || row.noAudit;
  let before = 0;
  if (watchAudit) before = maxId(await auditAll(ctx.server, ctx.auth.audit));

  const res = await ctx.server.api(row.method, p, opts);
  const e = row.expect || {};
  const what = `${row.method} ${p}`;
  if (e.code !== undefined || e.field !== undefined) assertError(res, e.status, e.code, e.field);
  else if (e.status !== undefined) {
    const st = Array.isArray(e.status) ? e.status : [e.status];
    assert.ok(st.includes(res.status), `${what}: expected ${st.join('|')}, got ${res.status}: ${res.text}`);
  }
  assert.ok(res.status < 500, `${what}: server error ${res.status}: ${res.text}`);
  if (e.notStatus !== undefined) assert.notEqual(res.status, e.notStatus, `${what}: must not be ${e.notStatus}: ${res.text}`);
  if (res.status >= 400 && p.startsWith('/api/')) assertError(res, res.status);
  if (e.body !== undefined) assertSubset(res.json, v(e.body));
  for (const [k, want] of Object.entries(e.headers || {})) {
    const got = res.headers[k.toLowerCase()];
    if (want === true) assert.ok(got !== undefined, `${what}: header ${k} missing`);
    else if (want === false) assert.equal(got, undefined, `${what}: header ${k} must be absent`);
    else if (want instanceof RegExp) assert.match(String(got), want, `${what}: header ${k}`);
    else if (typeof want === 'function') assert.ok(want(got), `${what}: header ${k} is ${JSON.stringify(got)}`);
    else assert.equal(got, want, `${what}: header ${k}`);
  }
  if (p.startsWith('/api/')) assertApiHeaders(res, what);
  else assertSecurityHeaders(res, what);

  if (watchAudit) {
    const want = row.audit || [];
    const fresh = await eventually(async () => (await auditAll(ctx.server, ctx.auth.audit)).filter((a) => Number(a.id) > before),
      (items) => want.every((w) => items.some((a) => a.action === w)), {ms: want.length ? T(3000) : 300});
    const actions = fresh.map((a) => a.action);
    for (const w of want) assert.ok(actions.includes(w), `${what}: audit should record ${w}; new entries: ${actions.join(', ')}`);
    for (const w of row.noAudit || []) assert.ok(!actions.includes(w), `${what}: audit must not record ${w}; new entries: ${actions.join(', ')}`);
  }
  if (row.check) await row.check(res, ctx);
  return res;
}

const maxId = (items) => items.reduce((m, a) => Math.max(m, Number(a.id) || 0), 0);

// ---------------------------------------------------------------------------------------------------------------
// CLI

/**
 * Runs the binary with args; resolves {code, signal, stdout, stderr, timedOut}. opts: {input, env, cwd, timeout}.
 * A run that outlives the timeout is killed (and reported with timedOut: true) rather than hanging the suite.
 */
export function runCli(args, opts = {}) {
  checkBinary();
  const env = {...process.env};
  delete env.DESTEK_LISTEN;
  delete env.DESTEK_DATA;
  env.DESTEK_PASSWORD_ITERATIONS ??= TEST_PASSWORD_ITERATIONS;
  Object.assign(env, opts.env || {});
  const cwd = opts.cwd || tempDir('destek-cli-');
  const data = dataDirOf(args);
  if (data) installModules(path.resolve(cwd, data));
  return new Promise((resolve) => {
    const proc = spawn(BIN, args, {env, cwd, stdio: ['pipe', 'pipe', 'pipe']});
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    proc.stdin.on('error', () => { /* the command may not read stdin */ });
    const timer = setTimeout(() => { timedOut = true; proc.kill('SIGKILL'); }, opts.timeout || T(20000));
    proc.on('error', (e) => { stderr += `\n[spawn error] ${e.message}`; });
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      if (SANITIZER_RE.test(stderr)) cliProblems.push(`destek ${args.join(' ')} printed a sanitizer report:\n${stderr}`);
      resolve({code, signal, stdout, stderr, timedOut});
    });
    proc.stdin.end(opts.input ?? '');
  });
}

/** sqlite3 CLI; resolves {code, stdout, stderr}. */
export function sqlite3(file, sql) {
  const r = spawnSync('sqlite3', [file, sql], {encoding: 'utf8'});
  return {code: r.status, stdout: r.stdout, stderr: r.stderr};
}

/**
 * Turns off the default out-of-hours auto-reply trigger, for tests that count the mails or messages a ticket
 * gets: otherwise their result would depend on the time of day they run at (the trigger follows the real clock).
 */
export async function disableOutOfHoursReply(server, session) {
  const list = await server.api('GET', '/api/v1/triggers', {session});
  assert.equal(list.status, 200, `GET /api/v1/triggers: ${list.status} ${list.text}`);
  for (const t of list.json.items.filter((x) => /business_hours/.test(JSON.stringify(x.conditions || {})))) {
    const res = await server.api('PATCH', `/api/v1/triggers/${t.id}`, {session, body: {active: false}});
    assert.equal(res.status, 200, `PATCH trigger ${t.id}: ${res.status} ${res.text}`);
  }
}
