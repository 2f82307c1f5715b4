// Plugins that did not load: GET /api/v1/plugins lists them under failed[] with the reason (bounded), beside the
// loaded ones in items[]; `destek plugins` prints them too; a Lua reload replaces what the last attempt found.
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {BIN, ROOT, assertError, cleanup, createUser, login, runCli, setupAdmin, startServer, tempDir} from './lib.mjs';

const PLUGIN_DIR = path.join(ROOT, /asan/.test(BIN) ? 'build/asan/tests/plugins' : 'build/release/tests/plugins');

after(cleanup);

describe('plugins that failed to load', () => {
  let server, admin, agent, dir;
  before(async () => {
    dir = tempDir('destek-failed-');
    const plugins = path.join(dir, 'plugins');
    fs.mkdirSync(plugins, {recursive: true});
    fs.copyFileSync(path.join(PLUGIN_DIR, 'private_sym.so'), path.join(plugins, 'private_sym.so'));
    fs.copyFileSync(path.join(PLUGIN_DIR, 'bad_abi.so'), path.join(plugins, 'bad_abi.so'));
    fs.writeFileSync(path.join(plugins, 'broken.lua'), 'return { name = "broken", version = "1.0.0" ,, }\n');
    fs.writeFileSync(path.join(plugins, 'badmig.lua'),
      'return { name = "badmig", version = "1.0.0", migrations = { "CREATE TABLE badmig_t (id INTEGER PRIMARY KEY);", "THIS IS NOT SQL" } }\n');
    fs.writeFileSync(path.join(plugins, 'longerr.lua'),
      'return { name = "longerr", version = "1.0.0", init = function() error(string.rep("ğ", 2000)) end }\n');
    fs.writeFileSync(path.join(plugins, 'fine.lua'), 'return { name = "fine", version = "2.0.0" }\n');
    // One copy of an answer for everyone may only be kept of what anyone may read: a public GET.
    fs.writeFileSync(path.join(plugins, 'cachedadmin.lua'), 'local destek = require "destek"\nreturn { name = "cachedadmin",' +
      ' version = "1.0.0", init = function() destek.route("GET", "/cachedadmin/x", "admin", function() return 200, {} end,' +
      ' { cache = true }) end }\n');
    server = await startServer({dataDir: dir});
    admin = await setupAdmin(server);
    const u = await createUser(server, admin, {role: 'agent'});
    agent = await login(server, u.email, u.password);
  });

  test('the list names each failure with its kind, source and reason', async () => {
    const res = await server.api('GET', '/api/v1/plugins', {session: admin});
    assert.equal(res.status, 200);
    const names = res.json.items.map((p) => p.name);
    assert.ok(names.includes('fine') && names.includes('ticketing'));
    const failed = Object.fromEntries(res.json.failed.map((f) => [f.name, f]));
    assert.match((failed.cachedadmin || {}).error || '', /only a public GET route \(or a page\) can be cached/);
    for (const n of ['private_sym', 'bad_abi', 'broken', 'badmig', 'longerr'])
      assert.ok(failed[n], `${n} is listed as failed: ${JSON.stringify(res.json.failed)}`);
    assert.ok(!names.includes('broken') && !names.includes('badmig'));
    assert.equal(failed.private_sym.kind, 'c (.so)');
    assert.match(failed.private_sym.error, /it uses db_reader, which is not part of the plugin API/);
    assert.match(failed.private_sym.source, /private_sym\.so$/);
    assert.match(failed.bad_abi.error, /ABI 99.*ABI 1: refused/);
    assert.equal(failed.broken.kind, 'lua');
    assert.match(failed.broken.error, /broken\.lua:1:.*(unexpected symbol|expected)/);
    assert.match(failed.badmig.error, /migration .*failed/i);
    // A reason is bounded (a few hundred bytes), cut at a character boundary.
    assert.ok(Buffer.byteLength(failed.longerr.error) <= 404, `reason of ${Buffer.byteLength(failed.longerr.error)} bytes`);
    assert.match(failed.longerr.error, /^init failed: .*ğ…$/);
    assert.ok(!failed.longerr.error.includes('\ufffd'));
  });

  test('admins only', async () => {
    assertError(await server.api('GET', '/api/v1/plugins', {session: agent}), 403, 'forbidden');
  });

  test('a reload replaces the Lua failures with what it finds', async () => {
    fs.writeFileSync(path.join(dir, 'plugins', 'broken.lua'), 'return { name = "broken", version = "1.0.1" }\n');
    const r = await runCli(['plugins', 'reload', '--data', dir]);
    assert.equal(r.code, 0, r.stderr);
    const res = await server.api('GET', '/api/v1/plugins', {session: admin});
    const failed = res.json.failed.map((f) => f.name);
    assert.ok(!failed.includes('broken'));
    assert.ok(res.json.items.some((p) => p.name === 'broken' && p.version === '1.0.1'));
    assert.ok(failed.includes('badmig') && failed.includes('private_sym'));
    const list = await runCli(['plugins', '--data', dir]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /not loaded:[\s\S]*private_sym[\s\S]*not part of the plugin API/);
  });
});
