// The Lua sandbox against hostile plugins (issue 9, items 3 and the header half of 4): the metatables the host
// shares, code that ran outside any budget (finalizers, a plugin table's fields read after loading, single library
// calls such as a backtracking string.find), Lua values converted to JSON, and the caller's credentials in a request.
// The plugins are tests/lua/hostile_lua_*.lua (not shipped); each server here gets copies in <data>/plugins/.
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {ROOT, T, SLOW, startServer, tempDir, setupAdmin, createUser, login, createToken, assertError, assertSubset,
  request, pool} from './lib.mjs';

const LUA = path.join(ROOT, 'tests/lua');

/** A data directory whose plugins/ holds copies of the named files of tests/lua/. */
function dataWith(files) {
  const dir = tempDir('destek-lua-hostile-');
  fs.chmodSync(dir, 0o700);
  fs.mkdirSync(path.join(dir, 'plugins'));
  for (const f of files) fs.copyFileSync(path.join(LUA, f), path.join(dir, 'plugins', f));
  return dir;
}

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;   // utime, stime in clock ticks (USER_HZ = 100)
}

const logged = (s, re) => s.waitStderr(re, T(3000), `a log line matching ${re}`);

/** GET with a short client timeout (a route that spins must not hold the test for the default 30 s). */
async function timedGet(s, p, ms = T(3000)) {
  const t0 = Date.now();
  const res = await request(s.url + p, {timeout: ms, headers: {accept: 'application/json'}});
  let json = null;
  try { json = JSON.parse(res.text); } catch { /* not JSON */ }
  return {...res, json, ms: Date.now() - t0};
}

let srv;
before(async () => {
  srv = await startServer({dataDir: dataWith(['hostile_lua_forge.lua', 'hostile_lua_victim.lua',
    'hostile_lua_cpu.lua', 'lua_other.lua'])});
});

// ---------------------------------------------------------------------------------------------------------------
// shared metatables

test('a plugin cannot change the metatable of json.array() that another plugin\'s rows use', async () => {
  // hostile_forge's init set __index on getmetatable(destek.json.array()) in every state, if it could
  const victim = await srv.api('GET', '/hostile/victim');
  assert.equal(victim.status, 200, victim.text);
  assert.deepEqual(victim.json, {first: null, count: 0}, 'the victim\'s empty query stays empty');
  const forge = await srv.api('GET', '/hostile/forge');
  assert.equal(forge.status, 200, forge.text);
  assert.match(forge.json.tried.array_index, /attempt to index a string value/);
});

test('the request, veto, row and decoded-array metatables every plugin shares are locked', async () => {
  const res = await srv.api('GET', '/hostile/forge');
  assert.equal(res.status, 200, res.text);
  assertSubset(res.json, {
    tried: {request_index: /attempt to index a string value/, veto_index: /attempt to index a string value/,
      rows_setmetatable: /cannot change a protected metatable/, array_gc: /attempt to index a string value/},
    metatables: {array: 'string', rows: 'string', decoded: 'string', request: 'string', veto: 'string',
      string: 'string'},
  });
});

test('a plugin cannot attach a finalizer: the server starts and stops promptly, with no CPU burnt at teardown', async () => {
  const s = await startServer({dataDir: dataWith(['hostile_lua_gc.lua']), startTimeout: T(60000)});
  const atStart = cpuSeconds(s.proc.pid);
  // Build a state on many worker threads: each would run the finalizer at exit.
  const answers = await pool(Array.from({length: 24}, (_, i) => i), 24, () => s.api('GET', '/hostile/gc'));
  const beforeStop = cpuSeconds(s.proc.pid);
  const t0 = Date.now();
  const {code} = await s.stop(T(20000));
  const stopMs = Date.now() - t0;
  assert.ok(atStart < T(2), `start-up used ${atStart} s of CPU (the collecting state's teardown ran a finalizer?)`);
  assert.ok(beforeStop - atStart < T(2), `24 requests used ${beforeStop - atStart} s of CPU`);
  assert.ok(stopMs < T(3000), `stopping took ${stopMs} ms (finalizers at each state's teardown?)`);
  assert.equal(code, 0);
  for (const a of answers) assert.deepEqual(a.json, {array_mt: 'string', setmetatable_gc: false});
});

test('a plugin table whose fields run code cannot hang the server while it loads', async () => {
  const s = await startServer({dataDir: dataWith(['hostile_lua_spec.lua', 'hostile_lua_victim.lua']),
    startTimeout: T(10000)});
  await logged(s, /ERROR lua: hostile_spec \(.*\): not loaded: hostile_spec: version must be a string/);
  assert.equal((await s.api('GET', '/hostile/victim')).status, 200);
  await s.stop();
});

// ---------------------------------------------------------------------------------------------------------------
// single library calls

test('string.find/match/gmatch/gsub with a backtracking pattern end in a budget error within the time limit while other routes serve', async () => {
  for (const p of ['find', 'find-method', 'match', 'gsub', 'gmatch', 'pcall-find']) {
    const spinning = timedGet(srv, `/hostile/${p}`);
    const ping = await timedGet(srv, '/lua-other/ping');
    assert.equal(ping.status, 200, `another route while /hostile/${p} runs`);
    const res = await spinning;
    assertError(res, 500, 'plugin_error');
    assert.ok(res.ms < T(1000), `/hostile/${p} took ${res.ms} ms`);
  }
  await logged(srv, /ERROR hostile_cpu: GET \/hostile\/find failed: hostile_lua_cpu\.lua:\d+: (ran past its time limit \(250 ms\)|ran out of its instruction budget)/);
  await logged(srv, /ERROR hostile_cpu: GET \/hostile\/pcall-find failed: hostile_lua_cpu\.lua:\d+: (ran past its time limit|ran out of its instruction budget)/);
});

test('a loop of library calls that each take milliseconds (string.rep, collectgarbage, a big table.sort) stops at the time limit', async () => {
  for (const p of ['rep-loop', 'collect-loop', 'sort']) {
    const res = await timedGet(srv, `/hostile/${p}`);
    assertError(res, 500, 'plugin_error');
    assert.ok(res.ms < T(1000), `/hostile/${p} took ${res.ms} ms`);
    await logged(srv, new RegExp(`GET /hostile/${p} failed: .*(ran past its time limit|instruction budget|out of memory)`));
  }
});

test('library loops over an empty string.rep, a length made up by __len, or a C comparator are bounded', async () => {
  const rep = await timedGet(srv, '/hostile/rep-empty');
  assert.equal(rep.status, 200, rep.text);
  assert.deepEqual(rep.json, [0]);
  const len = await timedGet(srv, '/hostile/made-up-length');
  assert.equal(len.status, 200, len.text);
  assertSubset(len.json, {
    remove: /table\.remove: a length over 4194304 \(from __len\) is refused/,
    insert: /table\.insert: a length over 4194304 \(from __len\) is refused/,
    concat: /table\.concat: a length over 4194304 \(from __len\) is refused/,
    concat_range: /table\.concat: at most 4194304 elements at a time/,
  });
  const sort = await timedGet(srv, '/hostile/sort-cfunction');
  assertError(sort, 500, 'plugin_error');
  assert.ok(sort.ms < T(1000), `took ${sort.ms} ms`);
  await logged(srv, /GET \/hostile\/sort-cfunction failed: .*(ran past its time limit|instruction budget)/);
});

test('table.move over a range no table can hold is refused instead of looping for ever', async () => {
  const res = await timedGet(srv, '/hostile/move');
  assertError(res, 500, 'plugin_error');
  await logged(srv, /GET \/hostile\/move failed: hostile_lua_cpu\.lua:\d+: table\.move: at most 4194304 elements at a time/);
});

test('os.date refuses a format longer than 256 bytes', async () => {
  const res = await timedGet(srv, '/hostile/date');
  assertError(res, 500, 'plugin_error');
  await logged(srv, /GET \/hostile\/date failed: hostile_lua_cpu\.lua:\d+: os\.date: the format may be at most 256 bytes/);
});

test('load refuses a chunk larger than 1 MiB, given as a string or by a function', async () => {
  const res = await timedGet(srv, '/hostile/load');
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, {loaded: false, err: 'load: a chunk may be at most 1 MiB', loaded_fn: false,
    err_fn: 'load: a chunk may be at most 1 MiB'});
});

// ---------------------------------------------------------------------------------------------------------------
// Lua values as JSON

test('a table that contains itself cannot become JSON: a clear error at once', async () => {
  const res = await timedGet(srv, '/hostile/json-cycle');
  assertError(res, 500, 'plugin_error');
  assert.ok(res.ms < T(1000), `took ${res.ms} ms`);
  await logged(srv, /GET \/hostile\/json-cycle failed: a table that contains itself \(a cycle\) cannot become JSON/);
});

test('JSON built from a table that holds another twice per level counts against the memory cap', async () => {
  const res = await timedGet(srv, '/hostile/json-dag');
  assertError(res, 500, 'plugin_error');
  assert.ok(res.ms < T(1000), `took ${res.ms} ms`);
  // 64 MiB of copies take ~40 ms here; instrumented (ASan) they may take longer than the time limit
  await logged(srv, SLOW > 1 ? /GET \/hostile\/json-dag failed: (the JSON would be too big|ran past its time limit)/
    : /GET \/hostile\/json-dag failed: the JSON would be too big: a plugin state may use 64 MiB/);
  const deep = await timedGet(srv, '/hostile/json-dag-deep');   // 2^20 small nodes: memory or time runs out first
  assertError(deep, 500, 'plugin_error');
  assert.ok(deep.ms < T(1000), `took ${deep.ms} ms`);
  await logged(srv, /GET \/hostile\/json-dag-deep failed: (the JSON would be too big|ran past its time limit)/);
  const enc = await timedGet(srv, '/hostile/json-dag-encode');
  if (enc.status === 200 || SLOW === 1) {
    assert.equal(enc.status, 200, enc.text);
    assertSubset(enc.json, {ok: false, err: /json\.encode: the JSON would be too big: a plugin state may use 64 MiB/});
  } else {
    assertError(enc, 500, 'plugin_error');   // instrumented: the time limit came first
  }
  const dec = await timedGet(srv, '/hostile/json-decode-big');
  if (dec.status === 200) {
    assertSubset(dec.json, {ok: false,
      err: /json\.decode: the text is too big to decode within the 64 MiB a plugin state may use/});
  } else {
    // A loaded machine (or an instrumented build) may reach the time limit before the memory cap: still refused.
    assertError(dec, 500, 'plugin_error');
    await logged(srv, /GET \/hostile\/json-decode-big failed: ran past its time limit/);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// what must keep working

test('ordinary patterns, sorts, moves, dates, loads and JSON conversions give their usual results, quickly', async () => {
  const res = await timedGet(srv, '/hostile/ordinary');
  assert.equal(res.status, 200, res.text);
  const phrase = '  Merhaba dünya, kargo nerede? 12345 ürün iade.  ';
  const nums = Array.from({length: 20000}, (_, i) => ((i + 1) * 7919) % 20011);
  assertSubset(res.json, {
    trimmed: Buffer.byteLength(phrase.repeat(400)) - 4, words: 8 * 400, digits: 400,
    sorted: true, first: `${Math.min(...nums)},${Math.max(...nums)}`,
    back: 1000, shared_twice: /^\{"[xy]":\[1,2\],"[xy]":\[1,2\]\}$/, moved: 4, date: 10, loaded: 2,
  });
  assert.ok(res.json.json_len > 10000);
  assert.ok(res.ms < T(1000), `took ${res.ms} ms`);
});

// ---------------------------------------------------------------------------------------------------------------
// credentials

test('a plugin route never sees the caller\'s Cookie, Authorization, Proxy-Authorization or CSRF token', async () => {
  const admin = await setupAdmin(srv);
  const agentUser = await createUser(srv, admin, {role: 'agent'});
  const agent = await login(srv, agentUser.email, agentUser.password);
  const tok = await createToken(srv, admin, {scopes: ['agent']});
  const secrets = [agent.cookie.replace(/^destek_session=/, ''), agent.csrf, tok.secret, 'cHJveHk6c2VjcmV0'];
  const extra = {'X-Probe': 'seen', 'Proxy-Authorization': 'Basic cHJveHk6c2VjcmV0'};
  const bySession = await srv.api('GET', '/hostile/headers-agent?x=1', {session: agent, headers: extra});
  const byToken = await srv.api('GET', '/hostile/headers-agent', {token: tok.secret, headers: extra});
  const publicRoute = await srv.api('GET', '/hostile/headers', {session: agent, headers: extra});
  for (const res of [bySession, byToken, publicRoute]) {
    assert.equal(res.status, 200, res.text);
    const h = res.json.headers;
    for (const name of ['cookie', 'authorization', 'proxy-authorization', 'x-csrf-token'])
      assert.equal(h[name], undefined, `${name} reached the plugin: ${res.text}`);
    for (const secret of secrets) assert.ok(!res.text.includes(secret), `a credential reached the plugin: ${res.text}`);
    assert.equal(h['x-probe'], 'seen');
  }
  assert.equal(bySession.json.user, agentUser.email, 'the caller is still known, from req.user');
  assert.equal(byToken.json.user, admin.email);
  assert.deepEqual(bySession.json.query, {x: '1'});
});
