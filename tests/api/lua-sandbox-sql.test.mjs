// A Lua plugin's SQL must not become the server's (issue 9, items 1, 2, 4 and 5), against the real binary: hostile
// plugins in a data directory try the shapes a security review reproduced (native code through fts3_tokenizer, a
// trigger fired by a cascade from core_sessions that made an agent an admin when they logged out, reading
// imap_password and the ticket-link key, a migration that unregistered ticketing), and a well-behaved plugin shows
// that ordinary SQL keeps working. The plugins are tests/lua/hostile_sql_*.lua and sql_legit.lua; one-migration
// plugins for the catalogue of refused migrations are written from the table MIGRATIONS below.
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {ROOT, T, ADMIN_PASSWORD, startServer, tempDir, setupAdmin, createUser, login, assertSubset, sqlite3} from './lib.mjs';

const LUA = path.join(ROOT, 'tests/lua');

/** A data directory whose plugins/ holds copies of the named files of tests/lua/ and the given migration plugins. */
function dataWith(files, migrationPlugins = []) {
  const dir = tempDir('destek-sql-');
  fs.chmodSync(dir, 0o700);
  fs.mkdirSync(path.join(dir, 'plugins'));
  for (const f of files) fs.copyFileSync(path.join(LUA, f), path.join(dir, 'plugins', f));
  for (const m of migrationPlugins) writeMigrationPlugin(dir, m);
  return dir;
}

/** A plugin that is nothing but its migrations ($P in them is its name). */
function writeMigrationPlugin(dir, {name, steps}) {
  const lua = steps.map((s) => `[==[${s.replaceAll('$P', name)}]==]`).join(',\n    ');
  fs.writeFileSync(path.join(dir, 'plugins', `${name}.lua`),
    `return { name = "${name}", version = "1.0.0", migrations = {\n    ${lua}\n  } }\n`);
}

/** The log line of a plugin refused at load, whose reason matches re ($P in re's source is the plugin's name). */
function refusedAtLoad(server, name, re) {
  const why = new RegExp(re.source.replaceAll('\\$P', name));
  return server.waitStderr(new RegExp(`ERROR lua: ${name} \\(.*\\): not loaded: migration ${name}/\\d+_step\\.sql failed: `
    + `refused: .*${why.source}`), T(3000), `${name} refused with ${why}`);
}

const schemaNames = (server) => sqlite3(path.join(server.dataDir, 'destek.db'),
  'SELECT type || \' \' || name FROM sqlite_master ORDER BY 1').stdout.trim().split('\n');

// Migrations that must be refused, each as the only plugin of its kind: {name, steps, item, re}.
const MIGRATIONS = [
  // item 1: native code through SQLite
  {name: 'hostile_sql_m_fts3', item: 1, steps: ['CREATE VIRTUAL TABLE $P_t USING fts3(body)'],
    re: /plugin \$P may not create a virtual table using fts3 \(\$P_t\): fts5 is the only virtual table module plugins may use/},
  {name: 'hostile_sql_m_fts4', item: 1, steps: ['CREATE VIRTUAL TABLE $P_t USING fts4(body, tokenize=evil)'],
    re: /may not create a virtual table using fts4/},
  {name: 'hostile_sql_m_fts4aux', item: 1, steps: ['CREATE VIRTUAL TABLE $P_t USING fts4aux(tkt_search)'],
    re: /may not create a virtual table using fts4aux/},
  {name: 'hostile_sql_m_rtree', item: 1, steps: ['CREATE VIRTUAL TABLE $P_t USING rtree(id, x0, x1)'],
    re: /may not create a virtual table using rtree/},
  {name: 'hostile_sql_m_tokenizer', item: 1, steps: ["SELECT fts3_tokenizer('evil', x'4141414141414141')"],
    re: /plugin \$P may not call the SQL function fts3_tokenizer\(\): a plugin's SQL calls only SQLite's ordinary/},
  {name: 'hostile_sql_m_check', item: 1, steps: ["CREATE TABLE $P_t (a TEXT CHECK (fts3_tokenizer('simple') IS NOT NULL))"],
    re: /may not call the SQL function fts3_tokenizer\(\)/},
  {name: 'hostile_sql_m_default', item: 1, steps: ['CREATE TABLE $P_t (a TEXT, b BLOB DEFAULT (fts5(NULL)))'],
    re: /may not call the SQL function fts5\(\).* \(in the default value of \$P_t\.b\)/},
  {name: 'hostile_sql_m_trigger_fn', item: 1, steps: [`CREATE TABLE $P_t (a TEXT);
      CREATE TRIGGER $P_tr AFTER INSERT ON $P_t BEGIN SELECT sqlite_compileoption_get(0); END`],
    re: /may not call the SQL function sqlite_compileoption_get\(\).* \(in its trigger \$P_tr\)/},
  // item 2: a plugin's objects acting on tables it does not own
  {name: 'hostile_sql_m_fk', item: 2,
    steps: ['CREATE TABLE $P_t (sid INTEGER REFERENCES core_sessions(id) ON DELETE CASCADE)'],
    re: /plugin \$P's table \$P_t has a foreign key to core_sessions, a table it does not own: foreign keys may point only at the plugin's own tables \(\$P_\*\)/},
  {name: 'hostile_sql_m_trigger_write', item: 2, steps: [`CREATE TABLE $P_t (uid INTEGER);
      CREATE TRIGGER $P_tr AFTER INSERT ON $P_t BEGIN UPDATE core_users SET role = 'admin' WHERE id = new.uid; END`],
    re: /plugin \$P's trigger \$P_tr writes to core_users, a table it does not own: a plugin's triggers and views may use only its own tables \(\$P_\*\)/},
  {name: 'hostile_sql_m_trigger_read', item: 2, steps: [`CREATE TABLE $P_t (uid INTEGER, h TEXT);
      CREATE TRIGGER $P_tr AFTER INSERT ON $P_t BEGIN
        UPDATE $P_t SET h = (SELECT email FROM core_users WHERE id = new.uid); END`],
    re: /plugin \$P's trigger \$P_tr reads core_users, a table it does not own/},
  {name: 'hostile_sql_m_trigger_later', item: 2, steps: ['CREATE TABLE $P_t (a INTEGER)',
    'CREATE TRIGGER $P_tr AFTER DELETE ON $P_t BEGIN DELETE FROM tkt_tickets; END'],
    re: /trigger \$P_tr writes to tkt_tickets/},
  {name: 'hostile_sql_m_view', item: 2, steps: ['CREATE VIEW $P_v AS SELECT email, role FROM core_users'],
    re: /plugin \$P's view \$P_v reads core_users, a table it does not own/},
  {name: 'hostile_sql_m_fts5_content', item: 2,
    steps: ["CREATE VIRTUAL TABLE $P_f USING fts5(email, content='core_users', content_rowid='id')"],
    re: /plugin \$P's fts5 table \$P_f takes its content from core_users, a table it does not own/},
  {name: 'hostile_sql_m_commit', item: 2, steps: [`CREATE TABLE $P_t (uid INTEGER);
      CREATE TRIGGER $P_tr AFTER INSERT ON $P_t BEGIN UPDATE core_users SET role = 'admin'; END;
      COMMIT; BEGIN`],
    re: /plugin \$P may not begin, commit or roll back a transaction: the host commits .* each migration step, itself/},
  {name: 'hostile_sql_m_rename', item: 2, steps: ['CREATE TABLE $P_t (a INTEGER); ALTER TABLE $P_t RENAME TO core_shadow'],
    re: /plugin \$P's migration made or renamed table core_shadow .*: a plugin's migrations make and change only objects named \$P_\*/},
];

// Migrations that touch other owners' bookkeeping (item 5): run on a database that already has rows of others.
const BOOKKEEPING = [
  {name: 'hostile_sql_b_fake_version', steps: [
    "INSERT INTO schema_migrations(owner, version, name, applied_at) VALUES ('ticketing', 999, 'x', 'now')"],
    re: /plugin \$P may not write to schema_migrations: the host records each migration step itself/},
  {name: 'hostile_sql_b_sequence', steps: ["UPDATE sqlite_sequence SET seq = 0 WHERE name = 'tkt_mailboxes'"],
    re: /plugin \$P's migration changed sqlite_sequence's row for tkt_mailboxes, a table it does not own/},
  {name: 'hostile_sql_b_sequence_all', steps: ['DELETE FROM sqlite_sequence'],
    re: /migration changed sqlite_sequence's row for (core_webhooks|tkt_mailboxes)/},
  {name: 'hostile_sql_b_stat1', steps: [`CREATE TABLE $P_t (a INTEGER); CREATE INDEX $P_i ON $P_t(a); ANALYZE $P_t;
      INSERT INTO sqlite_stat1(tbl, idx, stat) VALUES ('core_users', 'sqlite_autoindex_core_users_1', '1000000 1')`],
    re: /migration changed sqlite_stat1's row for core_users/},
  {name: 'hostile_sql_b_analyze', steps: ['ANALYZE core_users'],
    re: /plugin \$P may analyze only its own tables, in its migrations \(ANALYZE \$P_table\); it tried to analyze core_users/},
];

let srv, admin, agent, agentUser;
before(async () => {
  srv = await startServer({dataDir: dataWith(['hostile_sql_reader.lua', 'hostile_sql_escalate.lua',
    'hostile_sql_unregister.lua', 'sql_legit.lua'], MIGRATIONS)});
  admin = await setupAdmin(srv);
  agentUser = await createUser(srv, admin, {role: 'agent'});
  agent = await login(srv, agentUser.email, agentUser.password);
  const box = await srv.api('POST', '/api/v1/mailboxes', {session: admin, body: {name: 'Destek kutusu',
    imap_url: 'imaps://mail.example.com', imap_user: 'destek@example.com', imap_password: 'imap pw 42', active: false}});
  assert.equal(box.status, 201, box.text);
  const hook = await srv.api('POST', '/api/v1/webhooks', {session: admin, body: {url: 'http://hooks.example.com/', events: ['*']}});
  assert.equal(hook.status, 201, hook.text);
  const set = await srv.api('PATCH', '/api/v1/settings', {session: admin, body: {'mail.smtp_password': 'smtp pw 7'}});
  assert.equal(set.status, 200, set.text);
});

const refused = (probe, re) => {
  assert.equal(probe.ok, false, `expected a refusal, got ${JSON.stringify(probe)}`);
  assert.match(probe.err, re);
};

// ---------------------------------------------------------------------------------------------------------------
// item 1

test('a plugin cannot call fts3_tokenizer or create an fts3 table, however the arguments are bound; nor reach other native code through SQLite', async () => {
  const res = await srv.api('POST', '/hostile-sql/native');
  assert.equal(res.status, 200, res.text);
  const r = res.json;
  const fn = (name) => new RegExp(`refused: plugin hostile_sql_reader may not call the SQL function ${name}\\(\\): `
    + 'a plugin\'s SQL calls only SQLite\'s ordinary scalar, aggregate, window, math, date and time, JSON and FTS5 '
    + '\\(bm25, highlight, snippet\\) functions');
  for (const k of ['tokenizer_pointer', 'tokenizer_pointer_bound', 'tokenizer_register_bound', 'tokenizer_register_exec',
    'tokenizer_nested']) refused(r[k], fn('fts3_tokenizer'));
  refused(r.load_extension, fn('load_extension'));
  refused(r.fts5_pointer, fn('fts5'));
  refused(r.compileoption, fn('sqlite_compileoption_get'));
  // internal virtual tables are gone from the connection (and refused by the authorizer were they there)
  refused(r.dbstat, /no such table: dbstat|may not read dbstat/);
  refused(r.sqlite_stmt, /no such table: sqlite_stmt|may not read sqlite_stmt/);
  refused(r.sqlite_dbpage, /no such table: sqlite_dbpage|may not read sqlite_dbpage/);
  refused(r.pragma_functions, /may not run pragma function_list: only the read-only schema pragmas are available/);
  refused(r.pragma_compile, /may not run pragma compile_options/);
  refused(r.writable_schema, /may not run pragma writable_schema/);
  refused(r.savepoint, /may not begin, commit or roll back/);

  for (const m of MIGRATIONS.filter((x) => x.item === 1)) await refusedAtLoad(srv, m.name, m.re);
  const names = schemaNames(srv);
  for (const m of MIGRATIONS.filter((x) => x.item === 1))
    assert.ok(!names.some((n) => n.includes(m.name)), `${m.name} left ${names.filter((n) => n.includes(m.name))}`);
  assert.equal((await srv.api('GET', '/healthz')).status, 200);
});

// ---------------------------------------------------------------------------------------------------------------
// item 2

test('a plugin cannot make a foreign key or trigger that acts on core tables: an agent who logs out stays an agent', async () => {
  // The exploit: arm the cascade with the agent's own session, log out.
  const armed = await srv.api('POST', '/hostile-sql/arm', {session: agent});
  const out = await srv.api('POST', '/api/v1/auth/logout', {session: agent});
  assert.equal(out.status, 204, out.text);
  const user = await srv.api('GET', `/api/v1/users/${agentUser.id}`, {session: admin});
  assert.equal(user.json.role, 'agent', 'the agent logged out and stayed an agent');
  assert.equal(armed.status, 404, 'the plugin is not loaded');
  await refusedAtLoad(srv, 'hostile_sql_escalate',
    /plugin \$P's table \$P_s has a foreign key to core_sessions, a table it does not own/);

  for (const m of MIGRATIONS.filter((x) => x.item === 2)) await refusedAtLoad(srv, m.name, m.re);
  const names = schemaNames(srv);
  for (const bad of ['trigger hostile_sql_escalate_t', 'table hostile_sql_escalate_s', 'trigger hostile_sql_m_commit_tr',
    'table core_shadow', 'view hostile_sql_m_view_v', 'trigger hostile_sql_m_trigger_write_tr'])
    assert.ok(!names.includes(bad), `${bad} is in the schema`);
  assert.ok(names.includes('table hostile_sql_m_trigger_later_t'), 'the step before the refused one stays applied');
});

test('a trigger an older version let a plugin make is dropped at start; the agent logs out, stays an agent', async () => {
  // The database as an older Destek left it: the plugin migrated, its cascade and trigger in place.
  const dir = dataWith([]);
  const first = await startServer({dataDir: dir});
  const boss = await setupAdmin(first);
  const victim = await createUser(first, boss, {role: 'agent'});
  await first.stop();
  const db = path.join(dir, 'destek.db');
  const seeded = sqlite3(db, `BEGIN;
    CREATE TABLE hostile_sql_escalate_s (sid INTEGER REFERENCES core_sessions(id) ON DELETE CASCADE, uid INTEGER);
    CREATE TRIGGER hostile_sql_escalate_t AFTER DELETE ON hostile_sql_escalate_s BEGIN
      UPDATE core_users SET role = 'admin' WHERE id = old.uid; END;
    INSERT INTO schema_migrations(owner, version, name, applied_at) VALUES
      ('hostile_sql_escalate', 1, '001_step.sql', 'then'), ('hostile_sql_escalate', 2, '002_step.sql', 'then');
    COMMIT;`);
  assert.equal(seeded.code, 0, seeded.stderr);
  fs.copyFileSync(path.join(LUA, 'hostile_sql_escalate.lua'), path.join(dir, 'plugins', 'hostile_sql_escalate.lua'));

  const s = await startServer({dataDir: dir});
  const session = await login(s, victim.email, victim.password);
  const armed = await s.api('POST', '/hostile-sql/arm', {session});
  assert.equal(armed.status, 201, armed.text);
  const out = await s.api('POST', '/api/v1/auth/logout', {session});
  assert.equal(out.status, 204, out.text);   // the core's DELETE still compiles and runs
  const admin2 = await login(s, 'admin@example.com', ADMIN_PASSWORD);
  assert.equal((await s.api('GET', `/api/v1/users/${victim.id}`, {session: admin2})).json.role, 'agent');
  await s.waitStderr(/ERROR lua: trigger hostile_sql_escalate_t of plugin hostile_sql_escalate dropped: refused: plugin hostile_sql_escalate's trigger hostile_sql_escalate_t writes to core_users, a table it does not own/,
    T(3000), 'the trigger dropped');
  await s.waitStderr(/WARN lua: plugin hostile_sql_escalate's table hostile_sql_escalate_s has a foreign key to core_sessions/,
    T(3000), 'the foreign key reported');
  assert.ok(!schemaNames(s).includes('trigger hostile_sql_escalate_t'));
  await s.stop();
});

// ---------------------------------------------------------------------------------------------------------------
// item 4

test('credentials of every owner read as NULL to other plugins (imap_password, the link key, settings, a plugin\'s SECRET column); a plugin reads its own', async () => {
  const res = await srv.api('GET', '/hostile-sql/secrets');
  assert.equal(res.status, 200, res.text);
  const r = res.json;
  const rows = (probe) => { assert.equal(probe.ok, true, JSON.stringify(probe)); return probe.rows; };
  assert.deepEqual(rows(r.imap), [{name: 'Destek kutusu'}], 'imap_password reads as NULL');
  assert.equal(rows(r.imap_star)[0].imap_password, undefined);
  assert.equal(rows(r.imap_star)[0].imap_user, 'destek@example.com');
  assert.deepEqual(rows(r.imap_oracle), [{n: 0}], 'no oracle: the column is NULL in WHERE too');
  assert.deepEqual(rows(r.imap_json), [{p: '[null]'}]);
  assert.deepEqual(rows(r.imap_subquery), [{}]);
  assert.deepEqual(rows(r.link_key), [{name: 'link_key'}], 'the key that signs ticket links reads as NULL');
  assert.deepEqual(rows(r.link_key_length), [{}]);
  assert.deepEqual(rows(r.settings), [{name: 'mail.smtp_password'}]);
  for (const kv of rows(r.kv)) assert.equal(kv.value, undefined, JSON.stringify(kv));
  assert.deepEqual(rows(r.webhooks), [{}], 'a webhook\'s URL (a chat\'s incoming-webhook URL is its credential) reads as NULL');
  for (const s of rows(r.sessions)) assert.deepEqual(Object.keys(s), ['user_id']);
  assert.deepEqual(rows(r.users), [{email: 'admin@example.com'}]);
  assert.deepEqual(rows(r.other_plugin), [{}], 'another plugin\'s SECRET column reads as NULL');

  const own = await srv.api('GET', '/sql-legit/misc');
  assert.equal(own.status, 200, own.text);
  assert.deepEqual(own.json.own_secret, {k: 'own secret'}, 'a plugin reads its own SECRET column');
  assertSubset(own.json.mailbox, {name: 'Destek kutusu', imap_url: 'imaps://mail.example.com/INBOX'});

  // Declared where the tables are made; the affinity is still TEXT; the core still reads them.
  const db = path.join(srv.dataDir, 'destek.db');
  const types = sqlite3(db, `SELECT m.name || '.' || p.name || ' ' || p.type FROM sqlite_master m,
    pragma_table_info(m.name) p WHERE p.type LIKE '%SECRET%' ORDER BY 1`).stdout.trim().split('\n');
  assert.deepEqual(types, ['chat_shops.identity_secret TEXT SECRET', 'core_kv.value TEXT SECRET', 'core_settings.value TEXT SECRET',
    'orders_sources.api_key TEXT SECRET', 'orders_sources.api_secret TEXT SECRET', 'orders_sources.webhook_secret TEXT SECRET',
    'returns_returns.iban TEXT SECRET', 'sql_legit_keys.k TEXT SECRET', 'tkt_mailboxes.imap_password TEXT SECRET', 'tkt_secrets.value TEXT SECRET']);
  assert.equal(sqlite3(db, "SELECT typeof(imap_password) FROM tkt_mailboxes").stdout.trim(), 'text');
  const boxes = await srv.api('GET', '/api/v1/mailboxes', {session: admin});
  assertSubset(boxes.json.items[0], {name: 'Destek kutusu', imap_password_set: true});
});

// ---------------------------------------------------------------------------------------------------------------
// item 5

test('a plugin cannot unregister another module nor change SQLite\'s bookkeeping of others\' tables: ticketing still loads after a restart', async () => {
  // migrations, on a database that has others' rows (a mailbox and a webhook made their sqlite_sequence rows)
  const dir = dataWith([]);
  const first = await startServer({dataDir: dir});
  const boss = await setupAdmin(first);
  for (const name of ['a', 'b', 'c']) {
    const box = await first.api('POST', '/api/v1/mailboxes', {session: boss, body: {name, imap_url: 'imaps://mail.example.com',
      active: false}});
    assert.equal(box.status, 201, box.text);
  }
  assert.equal((await first.api('DELETE', '/api/v1/mailboxes/3', {session: boss})).status, 204);
  await first.api('POST', '/api/v1/webhooks', {session: boss, body: {url: 'http://hooks.example.com/', events: ['*']}});
  await first.stop();
  const db = path.join(dir, 'destek.db');
  const bookkeeping = () => sqlite3(db, "SELECT name || '=' || seq FROM sqlite_sequence ORDER BY 1; "
    + "SELECT owner || ':' || count(*) || ':' || max(version) FROM schema_migrations GROUP BY owner ORDER BY 1").stdout;
  const was = bookkeeping();
  assert.match(was, /tkt_mailboxes=3/);

  fs.copyFileSync(path.join(LUA, 'hostile_sql_unregister.lua'), path.join(dir, 'plugins', 'hostile_sql_unregister.lua'));
  for (const m of BOOKKEEPING) writeMigrationPlugin(dir, m);
  const second = await startServer({dataDir: dir});
  await second.stop();
  const is = bookkeeping();

  const third = await startServer({dataDir: dir});
  const boss3 = await login(third, 'admin@example.com', ADMIN_PASSWORD);
  const tickets = await third.api('GET', '/api/v1/tickets', {session: boss3});
  assert.equal(tickets.status, 200, `ticketing is loaded after the restart: ${tickets.status} ${tickets.text}`);
  assert.doesNotMatch(third.stderrText(), /ticketing.*(failed|not loaded|newer)/);
  assert.equal(is.replace(/^hostile_sql_[a-z_]+:.*\n/gm, ''), was, 'others\' rows are as they were');
  const box = await third.api('POST', '/api/v1/mailboxes', {session: boss3, body: {name: 'd', imap_url: 'imaps://mail.example.com', active: false}});
  assert.equal(box.json.id, 4, 'a deleted mailbox\'s id is never reused');
  await third.stop();
  await refusedAtLoad(second, 'hostile_sql_unregister',
    /plugin \$P may not write to schema_migrations: the host records each migration step itself/);
  for (const m of BOOKKEEPING) await refusedAtLoad(second, m.name, m.re);

  // db.exec at run time
  const rt = await srv.api('POST', '/hostile-sql/bookkeeping');
  assert.equal(rt.status, 200, rt.text);
  refused(rt.json.sequence, /refused: plugin hostile_sql_reader may not write to sqlite_sequence: SQLite keeps its bookkeeping itself/);
  refused(rt.json.analyze, /may analyze only its own tables, in its migrations/);
  refused(rt.json.migrations, /may not write to schema_migrations: the host records each migration step itself/);
});

// ---------------------------------------------------------------------------------------------------------------
// what keeps working

test('a plugin\'s ordinary SQL keeps working: own tables, indexes, FTS5 with bm25/snippet, triggers and views on its tables, reading core tables, JSON and date functions', async () => {
  await srv.waitStderr(/INFO lua: loaded sql_legit 1\.0\.0/, T(3000), 'sql_legit loaded');
  for (const [body, tag] of [['Kargom gelmedi, iade istiyorum', 'kargo'], ['Fatura adresi yanlış', null],
    ['İkinci kargo sorusu', 'kargo']]) {
    const res = await srv.api('POST', '/sql-legit/notes', {body: {body, tag, edit: tag ? null : 'Fatura adresi değişti'}});
    assert.equal(res.status, 201, res.text);
  }
  const search = await srv.api('GET', `/sql-legit/search?q=${encodeURIComponent('kargo*')}`);
  assert.equal(search.status, 200, search.text);
  assert.deepEqual(search.json.items.map((i) => i.id).sort(), [1, 3]);
  for (const i of search.json.items) {
    assert.equal(typeof i.score, 'number');
    assert.match(i.snip, /\[kargo\]|\[Kargom\]/i);
    assert.match(i.hl, /<kargo>|<Kargom>/i);
  }
  const misc = await srv.api('GET', '/sql-legit/misc');
  assert.equal(misc.status, 200, misc.text);
  const m = misc.json;
  assertSubset(m.users, {first: 'admin@example.com', role: 'agent'});
  assert.equal(m.users.n, 2);
  assert.equal(m.tickets.n, 0);
  assert.deepEqual(m.json, {o: '{"a":1,"b":[1,2]}', y: 7, each: '3,4,5', k: 'v', bad: 0});
  assert.deepEqual(m.dates, {d: '2026-02-28', now_ok: 1, u: 1767225600, days: 1});
  assert.deepEqual(m.math, {pi: 3.142, a: 2, f: '003.1', up: 'ışıK'});   // upper() folds ASCII only
  assert.deepEqual(m.recent.map((x) => [x.id, x.what]), [[1, 'created kargo'], [2, 'created -'], [2, 'edited'],
    [3, 'created kargo']], 'triggers on its tables fired (after its log table was renamed)');
  assert.deepEqual(m.window.map((x) => x.run), [1, 3, 6]);
  assert.deepEqual(m.columns, [{name: 'k', type: 'TEXT SECRET'}]);
  assert.equal(m.cte.s, 15);
  assert.ok(m.stat.n >= 1, 'ANALYZE of its own table');
});

// ---------------------------------------------------------------------------------------------------------------
// the prepared-statement cache (issue 13): a statement a plugin prepared is reused only by that plugin, in that mode

test('a cached statement never serves another plugin or another mode: the same SQL text stays refused, and secrets stay NULL, for the plugin that may not', async () => {
  const run = async (where, body) => {
    const res = await srv.api('POST', where === 'legit' ? '/sql-legit/run' : '/hostile-sql/run', {body});
    assert.equal(res.status, 200, res.text);
    return res.json;
  };
  const insert = "INSERT INTO sql_legit_notes(body) VALUES ('from the cache test')";
  const secret = 'SELECT k FROM sql_legit_keys';
  // Last in the file: it adds notes. Alternating, several times: the writer's cache is shared by every worker, a reader's by one worker's calls.
  for (let i = 0; i < 6; i++) {
    const own = await run('legit', {sql: insert, mode: 'exec'});
    assert.equal(own.ok, true, JSON.stringify(own));
    assert.equal(own.rows.changes, 1);
    refused(await run('hostile', {sql: insert, mode: 'exec'}), /plugin hostile_sql_reader may write to only its own tables/);
    refused(await run('legit', {sql: insert, mode: 'query'}), /db\.query/);
    for (const write_first of [false, true]) {
      const mine = await run('legit', {sql: secret, mode: 'query', write_first});
      assert.equal(mine.ok, true, JSON.stringify(mine));
      assert.deepEqual(mine.rows, [{k: 'own secret'}]);
      const theirs = await run('hostile', {sql: secret, mode: 'query', write_first});
      assert.equal(theirs.ok, true, JSON.stringify(theirs));
      assert.deepEqual(theirs.rows, [{}], 'another owner\'s SECRET column reads as NULL, cached or not');
    }
  }
});
