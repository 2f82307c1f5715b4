// The Lua sandbox against hostile plugins, the holes the first hardening pass left (issue 9: a plugin "cannot read
// another owner's secrets, write another owner's tables ..."), against the real binary:
//   1. secret settings: destek.setting gave any setting (mail.smtp_password, another plugin's API key);
//   2. forged events: destek.emit took any name, so a plugin could emit ticket.created or user.updated to the
//      subscribers and webhooks that trust them;
//   3. a route's response headers: a plugin could set destek_session (session fixation, login CSRF) or the server's
//      security headers and the response's framing;
//   4. SQL outside the memory cap: values up to SQLite's 1 GB limit, sorts on the writer, printf loops no budget
//      reached, and an interrupted write that left the connection committing each later statement on its own.
// The plugins are tests/lua/hostile_more_*.lua (not shipped); plugins that must be refused at load are written from
// the tables below.
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {ROOT, T, SLOW, startServer, tempDir, setupAdmin, createUser, login, assertError, assertSubset, listAll,
  eventually, request, sqlite3} from './lib.mjs';

const LUA = path.join(ROOT, 'tests/lua');
const FILES = ['hostile_more_forge.lua', 'hostile_more_headers.lua', 'hostile_more_secrets.lua', 'hostile_more_sql.lua',
  'hostile_more_victim.lua'];

// Plugins refused at load because the event nouns they would own are someone else's. Their files sort after
// hostile_more_victim.lua, so more_victim has taken its nouns first.
const CLAIMS = [
  {name: 'hostile_more_zclaim_ticket', events: ['ticket'],
    re: /events = \{\.\.\.\}: the event noun ticket belongs to ticketing; a plugin declares only nouns that no one else emits/},
  {name: 'hostile_more_zclaim_user', events: ['note', 'user'], re: /the event noun user belongs to core/},
  {name: 'hostile_more_zclaim_sla', events: ['sla'], re: /the event noun sla belongs to ticketing/},
  {name: 'hostile_more_zclaim_c', events: ['ticketing'], re: /the event noun ticketing belongs to ticketing/},
  {name: 'hostile_more_zclaim_lua', events: ['parcel'], re: /the event noun parcel belongs to more_victim/},
  {name: 'hostile_more_zclaim_bad', events: ['Ticket.created'],
    re: /events\[1\] must be an event noun \(1 to 60 lower-case letters, digits or _\), such as "note" for note\.added/},
  // a plugin named like a noun someone owns would emit under that name
  {name: 'message', file: 'hostile_more_zname_message', events: [],
    re: /its name is the event noun message, which belongs to ticketing: a plugin's events are named after it \(message\.<verb>\), so it needs another name/},
  {name: 'user', file: 'hostile_more_zname_user', events: [], re: /its name is the event noun user, which belongs to core/},
];

// A migration that makes a value far past what a plugin's SQL may make.
const MIGRATION = {name: 'hostile_more_zmig', sql: "CREATE TABLE hostile_more_zmig_t AS SELECT printf('%.*c', 100000000, 'x') AS v"};

function dataDir() {
  const dir = tempDir('destek-lua-more-');
  fs.chmodSync(dir, 0o700);
  fs.mkdirSync(path.join(dir, 'plugins'));
  for (const f of FILES) fs.copyFileSync(path.join(LUA, f), path.join(dir, 'plugins', f));
  for (const c of CLAIMS) {
    fs.writeFileSync(path.join(dir, 'plugins', `${c.file || c.name}.lua`), `return { name = "${c.name}", version = "1.0.0",
  events = { ${c.events.map((e) => `"${e}"`).join(', ')} },
  init = function(destek) destek.route("GET", "/${c.name}/loaded", "public", function() return 200, {} end) end }\n`);
  }
  fs.writeFileSync(path.join(dir, 'plugins', `${MIGRATION.name}.lua`),
    `return { name = "${MIGRATION.name}", version = "1.0.0", migrations = { [[${MIGRATION.sql}]] } }\n`);
  return dir;
}

const logged = (s, re) => s.waitStderr(re, T(5000), `a log line matching ${re}`);

/** VmHWM (peak resident memory) of a process, in MiB. */
function peakMiB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
  return Number(m[1]) / 1024;
}

let srv, admin;
before(async () => {
  srv = await startServer({dataDir: dataDir()});
  admin = await setupAdmin(srv);
  const set = await srv.api('PATCH', '/api/v1/settings', {session: admin, body: {
    'mail.smtp_password': 'smtp pw 7', 'mail.imap_password': 'imap pw 9', 'mail.from': 'destek@example.com',
    'more_victim.api_key': 'partner key 3', 'hostile_secrets.key': 'own key 5'}});
  assert.equal(set.status, 200, set.text);
  const hook = await srv.api('POST', '/api/v1/webhooks', {session: admin,
    body: {url: 'http://hooks.example.com/services/T0/B0/chat-secret', events: ['*']}});
  assert.equal(hook.status, 201, hook.text);
});

// ---------------------------------------------------------------------------------------------------------------
// 1. secrets

test('a plugin reads its own settings and others\' that are not secret; another owner\'s secret is refused, and no door leads to one', async () => {
  const res = await srv.api('GET', '/hostile-more/settings');
  assert.equal(res.status, 200, res.text);
  const r = res.json;
  const refused = (probe, name, owner) => {
    assert.equal(probe.ok, false, `${name} was read: ${JSON.stringify(probe)}`);
    assert.match(probe.err, new RegExp(`destek\\.setting: ${name.replaceAll('.', '\\.')} is a secret setting of ${owner}: `
      + 'a plugin reads its own settings and only the settings of others that are not secret'));
  };
  refused(r.smtp_password, 'mail.smtp_password', 'ticketing');
  refused(r.imap_password, 'mail.imap_password', 'ticketing');
  refused(r.victim_secret, 'more_victim.api_key', 'more_victim');
  assertSubset(r, {
    own_secret: {ok: true, value: 'own key 5'},
    victim_plain: {ok: true, value: 'merhaba'},
    mail_from: {ok: true, value: 'destek@example.com'},
    core_plain: {ok: true, value: '10'},   // typed only for settings a Lua plugin declared
    unknown: {ok: true, value: null},
  });
  // the settings' table and a webhook's URL (a chat's incoming-webhook URL is its credential) read as NULL
  assert.equal(r.settings_table.ok, true, JSON.stringify(r.settings_table));
  for (const row of r.settings_table.value) assert.equal(row.value, undefined, JSON.stringify(row));
  assert.deepEqual(r.webhook_urls.value.map((w) => Object.keys(w)), [['id']], JSON.stringify(r.webhook_urls));
  // the owner still reads its own secret
  const own = await srv.api('POST', '/more-victim/send');
  assert.equal(own.status, 200, own.text);
  assert.equal(own.json.key, 'partner key 3');

  // No event payload carries a credential: whatever a subscriber to "*" saw after users, passwords, tickets and
  // settings changed, there is no secret in it.
  const agent = await createUser(srv, admin, {role: 'agent', password: 'agent pw 11 long'});
  const me = await login(srv, agent.email, agent.password);
  assert.equal((await srv.api('PATCH', `/api/v1/users/${agent.id}`, {session: admin, body: {name: 'Renamed'}})).status, 200);
  const pw = await srv.api('PATCH', '/api/v1/me', {session: me,
    body: {current_password: agent.password, password: 'agent pw 12 longer'}});
  assert.equal(pw.status, 200, pw.text);
  const ticket = await srv.api('POST', '/api/v1/tickets', {session: admin,
    body: {subject: 'Kargo', body: 'Nerede?', customer: {email: 'ayse@example.com', name: 'Ayşe'}}});
  assert.equal(ticket.status, 201, ticket.text);
  const seen = await eventually(() => srv.api('GET', '/more-victim/seen'),
    (x) => x.json && x.json.some((e) => e.event === 'ticket.created') && x.json.some((e) => e.event === 'user.updated'));
  const text = JSON.stringify(seen.json);
  assert.ok(seen.json.some((e) => e.event === 'ticket.created'), text);
  for (const secret of ['smtp pw 7', 'imap pw 9', 'partner key 3', 'own key 5', 'chat-secret', 'agent pw 1',
    'password', 'token', 'secret', 'hash', 'public_sig'])
    assert.ok(!text.toLowerCase().includes(secret), `an event payload carries ${secret}: ${text}`);
});

// ---------------------------------------------------------------------------------------------------------------
// 2. events

test('a plugin emits only its own events: the core\'s, ticketing\'s and another plugin\'s are refused and reach no one', async () => {
  const res = await srv.api('POST', '/hostile-more/forge');
  assert.equal(res.status, 200, res.text);
  const r = res.json;
  const refusedAs = (owner) => new RegExp(`destek\\.emit: plugin hostile_forger may not emit \\S+ \\(the event noun \\w+ `
    + `belongs to ${owner}\\): a plugin emits only hostile_forger\\.<verb> and the nouns its table declares in events = \\{\\.\\.\\.\\}`);
  assertSubset(r, {
    ticket_created: refusedAs('ticketing'), user_updated: refusedAs('core'), message_added: refusedAs('ticketing'),
    sla_breached: refusedAs('ticketing'), customer_merged: refusedAs('ticketing'), core: refusedAs('core'),
    ticketing: refusedAs('ticketing'), victim_noun: refusedAs('more_victim'), victim_name: refusedAs('more_victim'),
    nobody: /^[^(]*destek\.emit: plugin hostile_forger may not emit invoice\.paid: a plugin emits only hostile_forger\.<verb> and the nouns its table declares in events = \{\.\.\.\}$/,
    own_name: 'emitted', own_noun: 'emitted',
  });
  for (const name of ['ticket.created', 'user.updated', 'message.added', 'sla.breached', 'customer.merged', 'parcel.sent',
    'invoice.paid', 'core.restarted']) {
    const forged = await listAll(srv, `/api/v1/events?event=${name}&subject=forged:1`, {session: admin, limit: 200});
    assert.deepEqual(forged, [], `a forged ${name} is in the outbox`);
  }
  const own = await listAll(srv, '/api/v1/events?subject=forged:1', {session: admin, limit: 200});
  assert.deepEqual(own.map((e) => e.event).sort(), ['hostile_forger.done', 'hostile_note.added']);
  // the owner of a noun emits it; anyone may subscribe to anything
  const seen = await eventually(() => srv.api('GET', '/more-victim/seen'),
    (x) => x.json && x.json.some((e) => e.event === 'hostile_note.added'));
  assert.ok(seen.json.some((e) => e.event === 'parcel.sent'), JSON.stringify(seen.json));
  assert.ok(!seen.json.some((e) => e.event === 'parcel.sent' && /666/.test(e.payload)), 'the forged parcel.sent arrived');
});

test('a plugin that would own another\'s event noun (by its events list or its name) is refused at load', async () => {
  for (const c of CLAIMS) {
    await logged(srv, new RegExp(`ERROR lua: ${c.name} \\(.*${c.file || c.name}\\.lua\\): not loaded: .*${c.re.source}`));
    const loaded = await srv.api('GET', `/${c.name}/loaded`);
    assert.equal(loaded.status, 404, `${c.name} loaded`);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// 3. response headers

test('a route cannot set the server\'s cookies, security headers or framing: it ends in a 500 naming the header', async () => {
  const cases = {
    session: /the header Set-Cookie sets the cookie destek_session, which is not the plugin's: a plugin's route sets only cookies named hostile_headers_<name> \(never the server's destek_\*\)/,
    session_upper: /the header Set-Cookie sets the cookie DESTEK_SESSION, which is not the plugin's/,
    other_plugin: /the header Set-Cookie sets the cookie lua_api_pref, which is not the plugin's/,
    smuggled: /the header Set-Cookie sets the cookie hostile_headers_a to a value with a character a cookie may not hold \(a space, quote, comma, semicolon or backslash\)/,
    domain: /the header Set-Cookie gives the cookie hostile_headers_a a Domain: a plugin's cookies are for this host alone/,
    csp: /the header Content-Security-Policy is one of the server's security headers, which a plugin's route may not set, change or remove/,
    frame: /the header x-frame-options is one of the server's security headers/,
    hsts: /the header Strict-Transport-Security is one of the server's security headers/,
    clear: /the header Clear-Site-Data is one of the server's security headers/,
    length: /the header Content-Length frames the response, which only the server does: a plugin's route may not set Content-Length, Transfer-Encoding, Connection, Keep-Alive, Upgrade, TE or Trailer/,
    chunked: /the header Transfer-Encoding frames the response/,
    connection: /the header Connection frames the response/,
    bad_name: /the header X-Bad.Name is malformed or too long/,
  };
  for (const [name, re] of Object.entries(cases)) {
    const res = await srv.api('GET', `/hostile-more/headers/${name}`);
    assertError(res, 500, 'plugin_error');
    assert.equal(res.headers['set-cookie'], undefined, `${name}: ${res.headers['set-cookie']}`);
    assert.equal(res.headers['x-frame-options'], 'DENY', name);
    assert.equal(res.headers['transfer-encoding'], undefined, name);
    assert.match(res.headers['content-security-policy'], /^default-src 'self'; .*frame-ancestors 'none'$/, name);
    await logged(srv, new RegExp(`ERROR hostile_headers: GET /hostile-more/headers/\\{case\\} failed: ${re.source}`));
  }
});

test('a route sets its own cookies, given safe defaults, and ordinary headers', async () => {
  const res = await srv.api('GET', '/hostile-more/headers/own_cookie');
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.headers['set-cookie'], ['hostile_headers_pref=dark; Path=/; HttpOnly; SameSite=Lax']);
  assert.equal(res.headers['x-plugin'], 'yes');
  const attrs = await srv.api('GET', '/hostile-more/headers/own_cookie_attrs');
  assert.equal(attrs.status, 200, attrs.text);
  assert.deepEqual(attrs.headers['set-cookie'],
    ['hostile_headers_seen=1; Max-Age=60; SameSite=Strict; Path=/hostile-more; HttpOnly']);
  // one CSP, the server's (a raw look: Node joins repeated headers)
  const raw = await request(`${srv.url}/hostile-more/headers/own_cookie`);
  assert.equal(raw.status, 200);
  assert.match(raw.headers['content-security-policy'], /^default-src 'self'; [^,]*frame-ancestors 'none'; sandbox [^,]*$/);
});

test('a plugin\'s page runs sandboxed, in an origin of its own: it cannot act as the agent who opens it', async () => {
  const page = await request(`${srv.url}/hostile-more/page`);
  assert.equal(page.status, 200);
  assert.match(page.headers['content-type'], /^text\/html/);
  const csp = page.headers['content-security-policy'];
  assert.match(csp, /^default-src 'self'; .*frame-ancestors 'none'; sandbox allow-scripts allow-forms/);
  assert.ok(!/allow-same-origin/.test(csp), csp);
  // its JSON too (a document the browser may be sent to); the server's own pages and answers are not sandboxed
  const json = await request(`${srv.url}/hostile-more/headers/own_cookie`);
  assert.match(json.headers['content-security-policy'], /; sandbox /);
  for (const p of ['/healthz', '/login', '/api/v1/me']) {
    const res = await request(`${srv.url}${p}`);
    assert.ok(!/sandbox/.test(res.headers['content-security-policy']), `${p}: ${res.headers['content-security-policy']}`);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// 4. SQL

test('a plugin\'s SQL makes no value over 16 MiB, and printf cannot loop past the time budget', async () => {
  const before = peakMiB(srv.proc.pid);
  const t0 = Date.now();
  const res = await srv.api('POST', '/hostile-more/sql/values');
  const ms = Date.now() - t0;
  assert.equal(res.status, 200, res.text);
  const tooBig = /db\.query: a string, blob or row in plugin hostile_sqlmem's SQL may be at most 16 MiB \(string or blob too big\)/;
  const r = res.json;
  for (const k of ['printf_precision', 'format_text_arg', 'printf_literal', 'zeroblob', 'randomblob', 'group_concat', 'replace']) {
    assert.equal(r[k].ok, false, `${k}: ${JSON.stringify(r[k])}`);
    assert.match(r[k].err, tooBig, k);
  }
  assert.deepEqual(r.ordinary, {ok: true, rows: [{s: '002.3|ab |ç', z: 1000, m: 1000000, f: '7-a'}]});
  assert.ok(ms < T(2500), `the probes took ${ms} ms (printf looped?)`);
  if (SLOW === 1) assert.ok(peakMiB(srv.proc.pid) < Math.max(before, 100) + 150, `peak ${peakMiB(srv.proc.pid)} MiB`);

  // and a migration that would make one is refused, the plugin not loaded
  await logged(srv, new RegExp(`ERROR lua: ${MIGRATION.name} \\(.*\\): not loaded: migration ${MIGRATION.name}/001_step\\.sql `
    + `failed: a string, blob or row in plugin ${MIGRATION.name}'s SQL may be at most 16 MiB \\(string or blob too big\\)`));
  const names = sqlite3(path.join(srv.dataDir, 'destek.db'), "SELECT name FROM sqlite_master WHERE name LIKE 'hostile_more_zmig%'");
  assert.equal(names.stdout.trim(), '');
});

test('SQLite may use 64 MiB for one of a plugin\'s statements: a sort of big rows on the writer is refused', async () => {
  const res = await srv.api('POST', '/hostile-more/sql/sort');
  assert.equal(res.status, 409, res.text);
  assert.equal(res.json.sort.ok, false, JSON.stringify(res.json.sort));
  assert.match(res.json.sort.err, /db\.query: the statement needed more than the 64 MiB of memory SQLite may use for one of plugin hostile_sqlmem's statements \(out of memory\)/);
  assert.equal((await srv.api('GET', '/healthz')).status, 200);
});

test('a write interrupted by the time limit loses the call\'s transaction: nothing the call wrote, before or after, is kept, and it fails', async () => {
  const res = await srv.api('POST', '/hostile-more/sql/lost');
  assertError(res, 503, 'db_busy');
  const count = await srv.api('GET', '/hostile-more/sql/count');
  assert.deepEqual(count.json, {n: 0, twos: 0, threes: 0}, 'a write of the failed call was committed');
  await logged(srv, /WARN db: SQLite rolled back the open transaction \(a statement was interrupted or ran out of memory\)/);
  // the writer works as before for everyone
  const agent = await createUser(srv, admin, {role: 'agent'});
  assert.ok(agent.id > 0);
});

test('a query without end stops at the time limit; rows without LIMIT stop at the state\'s 64 MiB (or the time limit)', async () => {
  const forever = await srv.api('GET', '/hostile-more/sql/forever');
  assert.equal(forever.status, 200, forever.text);
  assert.deepEqual(forever.json.forever, {ok: false, err: 'db.query ran past the time limit'});
  const rows = await srv.api('GET', '/hostile-more/sql/rows');
  assertError(rows, 500, 'plugin_error');
  await logged(srv, /ERROR hostile_sqlmem: GET \/hostile-more\/sql\/rows failed: .*(ran out of memory|ran past (its|the) time limit)/);
  assert.equal((await srv.api('GET', '/healthz')).status, 200);
});
