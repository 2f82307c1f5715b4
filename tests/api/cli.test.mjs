// The command line: version, help, usage errors (exit 2), `admin add` with the server stopped and running,
// backup/restore, one server per data directory, and refusing a database newer than the binary.
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import {spawnSync} from 'node:child_process';
import {startServer, runCli, tempDir, login, setupAdmin, sqlite3, T} from './lib.mjs';

const out = (r) => `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
const addAdmin = (dataDir, {email, name = 'CLI User', role = 'admin', password = 'cli password 1'}, extra = []) =>
  runCli(['admin', 'add', '--email', email, '--name', name, '--role', role, '--data', dataDir, ...extra],
    {input: `${password}\n`});

/** The SQLite database file in a data directory (found, not assumed: any regular file starting with the SQLite magic). */
function findDb(dataDir) {
  const found = [];
  for (const f of fs.readdirSync(dataDir)) {
    const p = path.join(dataDir, f);
    if (!fs.statSync(p).isFile() || /-(wal|shm|journal)$/.test(f)) continue;
    const fd = fs.openSync(p, 'r');
    const head = Buffer.alloc(16);
    fs.readSync(fd, head, 0, 16, 0);
    fs.closeSync(fd);
    if (head.toString('latin1') === 'SQLite format 3\0') found.push(p);
  }
  assert.equal(found.length, 1, `one database in ${dataDir}: ${fs.readdirSync(dataDir).join(', ')}`);
  return found[0];
}
const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

// Every group works in its own data directories, so the groups run side by side.
describe('destek CLI', {concurrency: true}, () => {
describe('version, help and usage errors', () => {
  test('version prints "destek X.Y.Z"', async () => {
    const r = await runCli(['version']);
    assert.equal(r.code, 0, out(r));
    assert.match(r.stdout.trim(), /^destek \d+\.\d+\.\d+\S*$/, out(r));
  });

  const helps = [['--help'], ['-h'], ['help'], ['serve', '--help'], ['serve', '-h'], ['admin', '--help'],
    ['admin', 'add', '--help'], ['admin', 'add', '-h'], ['backup', '--help'], ['restore', '--help'], ['migrate', '--help'],
    ['version', '--help']];
  test('--help / -h on every command exits 0 with usage text, and does nothing else', async () => {
    const data = tempDir();
    const results = await Promise.all(helps.map((args) => runCli([...args], {cwd: data, timeout: T(10000)})));
    results.forEach((r, i) => {
      const args = helps[i].join(' ');
      assert.equal(r.code, 0, `destek ${args}: ${out(r)}`);
      assert.ok((r.stdout + r.stderr).trim().length > 20, `destek ${args} prints help: ${out(r)}`);
      assert.match(r.stdout + r.stderr, /usage|destek/i, `destek ${args}: ${out(r)}`);
      assert.doesNotMatch(r.stdout + r.stderr, /%%/, `destek ${args}: a doubled printf escape (%%) leaked into the help`);
    });
    // the top-level help names every command
    const top = results[0].stdout + results[0].stderr;
    for (const cmd of ['serve', 'admin', 'backup', 'restore', 'migrate', 'version']) assert.match(top, new RegExp(cmd), top);
    assert.deepEqual(fs.readdirSync(data), [], '--help created nothing (no destek-data, no server)');
  });

  // [what, args (given the data dir), exit codes allowed, what the message must name]
  const usage = [
    ['an unknown flag', (d) => ['serve', '--data', d, '--bogus-flag'], [2], /--bogus-flag/],
    ['an unknown top-level flag', () => ['--bogus-flag'], [2], /--bogus-flag/],
    ['an unknown command', () => ['frobnicate'], [2], /frobnicate/],
    ['an unknown admin subcommand', (d) => ['admin', 'frob', '--data', d], [2], /frob|admin add/],
    ['a bad --role', (d) => ['admin', 'add', '--email', 'x@example.com', '--name', 'X', '--role', 'boss', '--data', d], [2],
      /role/i],
    ['a bad --durability', (d) => ['serve', '--listen', '127.0.0.1:0', '--data', d, '--durability', 'sometimes'], [2],
      /durability/i],
    ['an unknown flag on admin add', (d) => ['admin', 'add', '--email', 'x@example.com', '--name', 'X', '--role', 'agent',
      '--data', d, '--colour', 'red'], [2], /--colour/],
    ['a flag without its value', (d) => ['serve', '--data', d, '--listen'], [2], /listen/i],
    ['--tls-cert without --tls-key', (d) => ['serve', '--listen', '127.0.0.1:0', '--data', d, '--tls-cert', 'x.pem'], [1, 2],
      /tls/i],
    ['admin add without --email', (d) => ['admin', 'add', '--name', 'X', '--role', 'agent', '--data', d], [2], /email/i],
    ['backup without a file', (d) => ['backup', '--data', d], [2], /file|usage/i],
  ];
  for (const [what, args, codes, mentions] of usage) {
    test(`${what}: exit ${codes.join(' or ')} with a message`, async () => {
      const data = tempDir();
      const argv = args(data);
      const r = await runCli(argv, {cwd: data, input: 'cli password 1\n', timeout: T(10000)});
      assert.ok(codes.includes(r.code), `destek ${argv.join(' ')}: ${out(r)}`);
      assert.match(r.stderr, mentions, `the message names the problem: ${out(r)}`);
      if (codes.length === 1) assert.deepEqual(fs.readdirSync(data), [], 'a usage error created nothing');
    });
  }
});

describe('admin add', () => {
  test('with the server stopped: writes directly; the server then knows the user', async () => {
    const data = tempDir();
    const r = await addAdmin(data, {email: 'offline@example.com', role: 'admin', password: 'offline password'});
    assert.equal(r.code, 0, out(r));
    assert.match(r.stdout, /^created admin offline@example\.com \(id \d+\)\s*$/, out(r));
    const server = await startServer({dataDir: data});
    const st = await server.api('GET', '/api/v1/setup');
    assert.deepEqual(st.json, {needed: false}, 'an admin exists, no setup needed');
    assert.ok(!/setup\?token=/.test(server.stderrText()), 'no setup line once an admin exists');
    const s = await login(server, 'offline@example.com', 'offline password');
    assert.equal(s.user.role, 'admin');
    assert.equal(s.user.name, 'CLI User');
    const dup = await addAdmin(data, {email: 'Offline@Example.com'});
    assert.notEqual(dup.code, 0, `a duplicate e-mail must fail (handed to the running server): ${out(dup)}`);
    assert.match(dup.stderr, /already|taken|exists|in use/i, out(dup));
    await server.stop();
  });

  test('while the server runs: handed to it; the user can log in at once', async () => {
    const server = await startServer();
    const r = await addAdmin(server.dataDir, {email: 'online@example.com', role: 'agent', name: 'Online Agent',
      password: 'online password'});
    assert.equal(r.code, 0, out(r));
    assert.match(r.stdout, /^created agent online@example\.com \(id \d+\)\s*$/, out(r));
    const s = await login(server, 'online@example.com', 'online password');
    assert.equal(s.user.role, 'agent');
    assert.equal(s.user.name, 'Online Agent');
    // an agent is not an admin: setup is still needed
    assert.deepEqual((await server.api('GET', '/api/v1/setup')).json, {needed: true});
  });

  test('a duplicate e-mail fails with a clear message (server stopped)', async () => {
    const data = tempDir();
    assert.equal((await addAdmin(data, {email: 'dup@example.com'})).code, 0);
    const r = await addAdmin(data, {email: 'dup@example.com'});
    assert.notEqual(r.code, 0, out(r));
    assert.notEqual(r.code, null, out(r));
    assert.match(r.stderr, /already|taken|exists|in use/i, out(r));
    assert.match(r.stderr, /dup@example\.com|e-?mail/i, out(r));
  });

  test('a password outside 8..1024 characters is refused', async () => {
    const data = tempDir();
    const short = await addAdmin(data, {email: 'short@example.com', password: 'seven77'});
    assert.notEqual(short.code, 0, out(short));
    assert.match(short.stderr, /password/i, out(short));
    const empty = await runCli(['admin', 'add', '--email', 'e@example.com', '--name', 'E', '--role', 'agent', '--data', data],
      {input: ''});
    assert.notEqual(empty.code, 0, out(empty));
  });
});

describe('backup and restore', () => {
  test('backup while the server runs holds a valid SQLite database with the users; restore is refused while it runs', async () => {
    const server = await startServer();
    const admin = await setupAdmin(server, {email: 'backup-admin@example.com'});
    const add = await addAdmin(server.dataDir, {email: 'backup-agent@example.com', role: 'agent', password: 'agent pw 123'});
    assert.equal(add.code, 0, out(add));
    // some traffic while the copy is taken
    const busy = Promise.all(Array.from({length: 20}, (_, i) => server.api('POST', '/api/v1/tokens',
      {session: admin, body: {name: `during-backup-${i}`, scopes: ['metrics']}})));
    const dir = tempDir();
    const file = path.join(dir, 'copy.db');
    const r = await runCli(['backup', file, '--data', server.dataDir]);
    await busy;
    assert.equal(r.code, 0, out(r));
    assert.ok(fs.existsSync(file), 'backup file written');
    // one tar: the database first (its stored files: tests/api/backup.test.mjs)
    const x = tempDir();
    const tar = spawnSync('tar', ['-xf', file, '-C', x, 'destek.db'], {encoding: 'utf8'});
    assert.equal(tar.status, 0, tar.stderr);
    const db = path.join(x, 'destek.db');
    const check = sqlite3(db, 'PRAGMA integrity_check');
    assert.equal(check.code, 0, check.stderr);
    assert.equal(check.stdout.trim(), 'ok');
    const dump = sqlite3(db, '.dump');
    assert.equal(dump.code, 0, dump.stderr);
    assert.ok(dump.stdout.includes('backup-admin@example.com'), 'the backup holds the admin');
    assert.ok(dump.stdout.includes('backup-agent@example.com'), 'the backup holds the user added a moment ago');
    assert.ok(!fs.existsSync(`${db}-wal`) || fs.statSync(`${db}-wal`).size === 0, 'the backup is self-contained');

    const refused = await runCli(['restore', file, '--data', server.dataDir], {input: 'y\n'});
    assert.notEqual(refused.code, 0, out(refused));
    assert.match(refused.stderr, /running|in use|stop|locked/i, out(refused));
    // and the running server is unharmed
    assert.equal((await server.api('GET', '/api/v1/me', {session: admin})).status, 200);
    await server.stop();

    // restored into a fresh directory, the copy serves the same users
    const fresh = tempDir();
    const restored = await runCli(['restore', file, '--data', fresh], {input: 'y\n'});
    assert.equal(restored.code, 0, out(restored));
    // Nothing to warn about: SQLite's allocator is wrapped before the backup is opened (no "no memory budget").
    assert.doesNotMatch(restored.stderr, /WARN/, out(restored));
    const again = await startServer({dataDir: fresh});
    assert.deepEqual((await again.api('GET', '/api/v1/setup')).json, {needed: false});
    await login(again, 'backup-agent@example.com', 'agent pw 123');
    await again.stop();
  });
});

describe('serve and migrate', () => {
  test('serve is the default command and reads DESTEK_DATA and DESTEK_LISTEN', async () => {
    const data = tempDir();
    const cwd = tempDir();
    const server = await startServer({rawArgs: [], cwd, env: {DESTEK_DATA: data, DESTEK_LISTEN: '127.0.0.1:0'}});
    assert.equal((await server.api('GET', '/healthz')).status, 200);
    assert.ok(fs.readdirSync(data).length > 0, 'the data went to $DESTEK_DATA');
    assert.deepEqual(fs.readdirSync(cwd), [], 'nothing in the working directory');
    const {code} = await server.stop();
    assert.equal(code, 0);
  });

  test('SIGINT stops the server cleanly and frees the data directory at once', async () => {
    const server = await startServer({args: ['--durability', 'full']});
    assert.equal((await server.api('GET', '/healthz')).status, 200);
    server.stopped = true;
    server.proc.kill('SIGINT');
    const {code, signal} = await server.exited;
    assert.equal(code, 0, `exit on SIGINT: code ${code} signal ${signal}\n${server.stderrText()}`);
    const again = await startServer({dataDir: server.dataDir});
    assert.equal((await again.api('GET', '/healthz')).status, 200);
    await again.stop();
  });

  test('migrate on a fresh directory succeeds, and the server then starts on it', async () => {
    const data = tempDir();
    const r = await runCli(['migrate', '--data', data]);
    assert.equal(r.code, 0, out(r));
    assert.ok((r.stdout + r.stderr).trim().length > 0, 'migrate reports something');
    const again = await runCli(['migrate', '--data', data]);
    assert.equal(again.code, 0, `migrate twice: ${out(again)}`);
    const server = await startServer({dataDir: data});
    assert.deepEqual((await server.api('GET', '/api/v1/setup')).json, {needed: true});
    await server.stop();
  });
});

describe('one process per data directory', () => {
  test('a second serve on the same data dir is refused, and says the directory is in use', async () => {
    const server = await startServer();
    const r = await runCli(['serve', '--listen', '127.0.0.1:0', '--data', server.dataDir], {timeout: T(15000)});
    assert.ok(!r.timedOut, `the second server kept running: ${out(r)}`);
    assert.notEqual(r.code, 0, out(r));
    assert.match(r.stderr, /in use|locked|already running|another/i, out(r));
    assert.equal((await server.api('GET', '/healthz')).status, 200, 'the first server is unharmed');
  });
});

describe('a database newer than the binary', () => {
  test('is refused untouched', async () => {
    const server = await startServer();
    const data = server.dataDir;
    const {code} = await server.stop();
    assert.equal(code, 0, 'clean stop');
    const db = findDb(data);
    const ins = sqlite3(db, "INSERT INTO schema_migrations(owner,version,name,applied_at) VALUES('core',9999,'future','2030-01-01T00:00:00Z')");
    assert.equal(ins.code, 0, `sqlite3: ${ins.stderr}`);
    for (const f of fs.readdirSync(data)) if (/-wal$/.test(f)) assert.equal(fs.statSync(path.join(data, f)).size, 0, f);
    const before = sha256(db);

    const r = await runCli(['serve', '--listen', '127.0.0.1:0', '--data', data], {timeout: T(15000)});
    assert.ok(!r.timedOut, `a server started on a newer database: ${out(r)}`);
    assert.notEqual(r.code, 0, out(r));
    assert.match(r.stderr, /newer|upgrade|version|9999/i, out(r));
    assert.equal(sha256(db), before, 'the database file was modified');

    const m = await runCli(['migrate', '--data', data], {timeout: T(15000)});
    assert.notEqual(m.code, 0, `migrate on a newer database: ${out(m)}`);
    assert.equal(sha256(db), before, 'migrate modified the database');
    const rows = sqlite3(db, "SELECT count(*) FROM schema_migrations WHERE version=9999");
    assert.equal(rows.stdout.trim(), '1');
  });
});
});
