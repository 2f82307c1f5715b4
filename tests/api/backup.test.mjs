// `destek backup` writes one tar holding the database and every stored file (ticket attachments, modules' files);
// `destek restore` brings back a working desk from it, refuses a hostile or truncated archive without changing
// anything, and still restores an old backup (a bare SQLite file) with a warning.
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import {spawnSync} from 'node:child_process';
import {startServer, runCli, tempDir, login, setupAdmin, assertError, eventually, request, sqlite3, ADMIN_PASSWORD} from './lib.mjs';

const out = (r) => `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
const b64 = (buf) => Buffer.from(buf).toString('base64');

/** One ustar entry (header + data padded to 512), built by hand so that hostile names stay as written. */
function tarEntry(name, data, type = '0') {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000600\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(data.length.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  if (type === '2') h.write('/etc/passwd', 157);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return Buffer.concat([h, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}
const tarEnd = () => Buffer.alloc(1024);

/** A listing of a directory tree: relative path -> sha256 (files only). */
function treeHash(dir) {
  const outMap = {};
  const walk = (d, rel) => {
    for (const e of fs.readdirSync(d, {withFileTypes: true})) {
      const p = path.join(d, e.name), r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p, r);
      else if (e.isFile() && e.name !== 'destek.lock') outMap[r] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir, '');
  return outMap;
}

let server, admin, ticket, attachment, image, backupFile, oldBackup;
const attBytes = crypto.randomBytes(70000);   // binary, several blocks, not a multiple of 512
const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), crypto.randomBytes(300)]);

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  let res = await server.api('POST', '/api/v1/tickets', {session: admin, body: {subject: 'Yedek', body: 'Merhaba',
    customer: {email: 'musteri@backup.example', name: 'Müşteri'}}});
  assert.equal(res.status, 201, res.text);
  ticket = res.json;
  res = await server.api('POST', `/api/v1/tickets/${ticket.id}/messages`, {session: admin, body: {body: 'Ekte.',
    attachments: [{filename: 'fatura.bin', content_type: 'application/octet-stream', data_base64: b64(attBytes)}]}});
  assert.equal(res.status, 201, res.text);
  attachment = res.json.message.attachments[0];
  // a module's stored file (<data>/files/helpcentre/...): an image of a help centre article
  res = await server.api('POST', '/api/v1/helpcentre/articles', {session: admin, body: {texts: {tr: {title: 'Yedekli', body: 'x'}}}});
  assert.equal(res.status, 201, res.text);
  res = await server.api('POST', `/api/v1/helpcentre/articles/${res.json.id}/images`, {session: admin,
    body: {filename: 'kutu.png', data_base64: png.toString('base64')}});
  assert.equal(res.status, 201, res.text);
  image = res.json.items[0];
  assert.ok(fs.readdirSync(path.join(server.dataDir, 'files')).length > 0, 'the image is under <data>/files');
});
after(async () => { if (server) await server.stop(); });

describe('backup', () => {
  test('while the server runs: one tar with the database and every stored file', async () => {
    // traffic while the copy is taken
    const busy = Promise.all(Array.from({length: 10}, (_, i) => server.api('POST', `/api/v1/tickets/${ticket.id}/messages`,
      {session: admin, body: {body: `during ${i}`, attachments: [{filename: `d${i}.txt`, content_type: 'text/plain',
        data_base64: b64(`during backup ${i}`)}]}})));
    const dir = tempDir();
    backupFile = path.join(dir, 'desk.tar');
    const r = await runCli(['backup', backupFile, '--data', server.dataDir]);
    await busy;
    assert.equal(r.code, 0, out(r));
    assert.match(r.stdout, /stored file/, out(r));
    assert.equal(fs.statSync(backupFile).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(dir), ['desk.tar'], 'no temporary file left beside it');
    const whole = fs.readFileSync(backupFile);
    assert.equal(whole.length % 10240, 0, 'whole tar records');
    assert.ok(whole.subarray(whole.length - 1024).every((b) => b === 0), 'it ends with two zero blocks');
    // a person opens it with tar
    const list = spawnSync('tar', ['-tf', backupFile], {encoding: 'utf8'});
    assert.equal(list.status, 0, list.stderr);
    const names = list.stdout.trim().split('\n');
    assert.equal(names[0], 'destek.db');
    assert.ok(names.some((n) => n.startsWith('attachments/')), names.join(' '));
    assert.ok(names.some((n) => n.startsWith('files/helpcentre/')), names.join(' '));
    const x = tempDir();
    const ex = spawnSync('tar', ['-xf', backupFile, '-C', x], {encoding: 'utf8'});
    assert.equal(ex.status, 0, ex.stderr);
    assert.equal(sqlite3(path.join(x, 'destek.db'), 'PRAGMA integrity_check').stdout.trim(), 'ok');
    // every file the database names is in it
    const storages = sqlite3(path.join(x, 'destek.db'), 'SELECT storage FROM tkt_attachments').stdout.trim().split('\n');
    assert.ok(storages.length >= 1);
    for (const s of storages) assert.ok(fs.existsSync(path.join(x, 'attachments', s)), `attachments/${s} is in the backup`);
    // an old-format backup, for the test below: the database alone
    oldBackup = path.join(dir, 'old.db');
    fs.copyFileSync(path.join(x, 'destek.db'), oldBackup);
  });
});

describe('restore', () => {
  test('into a new data directory: the attachment and the module\'s file come back byte-identical', async () => {
    const fresh = tempDir();
    const r = await runCli(['restore', backupFile, '--data', fresh]);
    assert.equal(r.code, 0, out(r));
    assert.match(r.stdout, /stored file/, out(r));
    assert.deepEqual(fs.readdirSync(fresh).filter((f) => f.startsWith('.restore')), [], 'no staging folder left');
    const again = await startServer({dataDir: fresh});
    try {
      const s = await login(again, 'admin@example.com', ADMIN_PASSWORD);
      const dl = await again.api('GET', attachment.url, {session: s});
      assert.equal(dl.status, 200, dl.text);
      assert.ok(dl.body.equals(attBytes), 'byte-identical attachment');
      const img = await request(again.url + image.url);
      assert.equal(img.status, 200);
    } finally { await again.stop(); }
  });

  test('an old backup (a bare SQLite file) still restores, with a warning; a missing file is a clear error', async () => {
    const fresh = tempDir();
    const r = await runCli(['restore', oldBackup, '--data', fresh]);
    assert.equal(r.code, 0, out(r));
    assert.match(r.stderr, /warning.*no stored\s+files/is, out(r));
    const again = await startServer({dataDir: fresh});
    try {
      const s = await login(again, 'admin@example.com', ADMIN_PASSWORD);
      assert.equal((await again.api('GET', `/api/v1/tickets/${ticket.id}`, {session: s})).status, 200);
      const dl = await again.api('GET', attachment.url, {session: s});
      assertError(dl, 500, 'file_missing');
      assert.match(dl.json.error.message, /missing/);
      // the log line is written by the server's logger thread: wait for it
      const logged = await eventually(async () => again.stderrText(), (t) => /file is missing: .*attachments\//.test(t));
      assert.match(logged, /file is missing: .*attachments\//, 'the path is logged');
    } finally { await again.stop(); }
  });

  test('a backup a person unpacked and packed again with tar(1) restores', async () => {
    const x = tempDir();
    assert.equal(spawnSync('tar', ['-xf', backupFile, '-C', x]).status, 0);
    const repacked = path.join(tempDir(), 'repacked.tar');
    const pack = spawnSync('tar', ['-cf', repacked, '-C', x, 'destek.db', 'attachments', 'files'], {encoding: 'utf8'});
    assert.equal(pack.status, 0, pack.stderr);
    const fresh = tempDir();
    const r = await runCli(['restore', repacked, '--data', fresh]);
    assert.equal(r.code, 0, out(r));
    const want = treeHash(x);
    const got = treeHash(fresh);
    for (const [name, hash] of Object.entries(want)) if (name !== 'destek.db') assert.equal(got[name], hash, name);
  });

  test('a restore that fails half-way puts back what it moved: the desk stays as it was', async () => {
    const data = tempDir();
    assert.equal((await runCli(['restore', backupFile, '--data', data])).code, 0);
    const before = treeHash(data);
    // files/ cannot be moved aside (a copy of that name exists already): destek.db and attachments/ were moved first
    const stamp = (d) => d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    for (let i = 0; i < 30; i++) fs.mkdirSync(path.join(data, `files.before-restore-${stamp(new Date(Date.now() + i * 1000))}`));
    const r = await runCli(['restore', backupFile, '--data', data]);
    assert.notEqual(r.code, 0, out(r));
    assert.match(r.stderr, /left as it was/, out(r));
    assert.deepEqual(treeHash(data), before, 'the desk is as it was');
    assert.deepEqual(fs.readdirSync(data).filter((f) => /^(destek\.db|attachments)\.before-restore/.test(f) || f.startsWith('.restore')), []);
  });

  const hostile = [
    ['a "../" path', () => Buffer.concat([tarEntry('destek.db', fs.readFileSync(oldBackup)), tarEntry('attachments/../../evil', Buffer.from('x')), tarEntry('../evil', Buffer.from('x')), tarEnd()]), /"\.\.\/\.\.|accepted/],
    ['an absolute path', () => Buffer.concat([tarEntry('destek.db', fs.readFileSync(oldBackup)), tarEntry('/tmp/destek-evil', Buffer.from('x')), tarEnd()]), /accepted/],
    ['a symlink', () => Buffer.concat([tarEntry('destek.db', fs.readFileSync(oldBackup)), tarEntry('attachments/link', Buffer.alloc(0), '2'), tarEnd()]), /not a regular file/],
    ['a name outside attachments/ and files/', () => Buffer.concat([tarEntry('destek.db', fs.readFileSync(oldBackup)), tarEntry('plugins/evil.lua', Buffer.from('x')), tarEnd()]), /accepted/],
    ['a truncated archive', () => fs.readFileSync(backupFile).subarray(0, Math.floor(fs.statSync(backupFile).size / 2)), /truncated/],
    ['an archive cut before its end blocks', () => { const b = fs.readFileSync(backupFile); let end = b.length; while (end > 0 && b[end - 1] === 0) end--; return b.subarray(0, Math.ceil(end / 512) * 512); }, /truncated/],
    ['an archive without a database', () => Buffer.concat([tarEntry('attachments/a', Buffer.from('x')), tarEnd()]), /no destek\.db/],
  ];
  for (const [what, make, why] of hostile) {
    test(`${what} is refused and changes nothing`, async () => {
      // a desk with data of its own: restored from the good backup
      const data = tempDir();
      assert.equal((await runCli(['restore', backupFile, '--data', data])).code, 0);
      const before = treeHash(data);
      const bad = path.join(tempDir(), 'bad.tar');
      fs.writeFileSync(bad, make());
      const r = await runCli(['restore', bad, '--data', data]);
      assert.notEqual(r.code, 0, out(r));
      assert.match(r.stderr, why, out(r));
      assert.match(r.stderr, /nothing was changed/, out(r));
      assert.deepEqual(treeHash(data), before, 'the desk is as it was');
      assert.ok(!fs.existsSync('/tmp/destek-evil') && !fs.existsSync(path.join(data, '..', 'evil')), 'nothing written outside');
    });
  }
});
