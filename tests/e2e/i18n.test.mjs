// The strings of both bundles as the build merges them (scripts/web-modules.mjs): the core's (web/<app>/i18n/) and
// each module's (plugins/<name>/i18n/<app>/). Every source has the same keys in every language, no empty text,
// matching placeholders, and no key of another source; every key the code uses exists, and every key is used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './server.mjs';
import { findModules, mergeStrings } from '../../scripts/web-modules.mjs';

const modules = findModules(path.join(repoRoot, 'plugins'), repoRoot);

function sourceFiles(d) {
  if (!fs.existsSync(d)) return [];
  return fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(d, e.name)) : e.name.endsWith('.js') ? [path.join(d, e.name)] : []);
}
const read = (files) => files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
const usedKeys = (source) => new Set([...source.matchAll(/\bt\(\s*'([a-z_]+\.[a-z_.]+)'/g)].map((m) => m[1]));
const vars = (s) => (s.match(/\{\w+\}/g) || []).sort();

/* Checks one bundle. dynamic: keys built at run time ('error.' + code …), which no source names whole. */
function checkApp(app, dynamic) {
  const { langs, messages, sources } = mergeStrings(app, path.join(repoRoot, 'web', app, 'i18n'), modules, repoRoot);
  const core = sourceFiles(path.join(repoRoot, 'web', app)).filter((f) => !f.includes(path.sep + 'i18n' + path.sep));
  const code = { core: read(core) };
  for (const m of modules) code[m.name] = read(sourceFiles(path.join(m.dir, 'web', app)));
  const all = Object.values(code).join('\n');

  test(`${app}: tr and en, each source with the same keys in both (per module), no text empty, placeholders alike`, () => {
    assert.deepEqual([...langs].sort(), ['en', 'tr']);
    assert.ok(sources.length >= 1 && sources[0].owner === 'core');
    for (const src of sources) {
      for (const key of src.keys) {
        for (const l of langs) {
          assert.equal(typeof messages[l][key], 'string', `${src.file}: ${l}: ${key}`);
          assert.ok(messages[l][key].trim(), `${src.file}: ${l}: ${key} is empty`);
          assert.deepEqual(vars(messages[l][key]), vars(messages.en[key]), `${src.file}: ${l}: ${key} placeholders`);
        }
      }
    }
    const total = sources.reduce((n, s) => n + s.keys.length, 0);
    for (const l of langs) assert.equal(Object.keys(messages[l]).length, total, `${l}: a key defined twice`);
  });

  test(`${app}: every key the code uses exists, and every key is used by its own source or the core`, () => {
    const used = usedKeys(all);
    for (const key of used) if (!/[._]$/.test(key)) assert.ok(key in messages.en, `the ${app} code uses '${key}', which no strings file has`);
    for (const src of sources) {
      // A module's key is used by that module; the core's keys by anyone (modules use the common ones).
      const own = src.owner === 'core' ? all : code[src.owner];
      const unused = src.keys.filter((k) => !usedKeys(own).has(k) && !dynamic.test(k) && !own.includes(`'${k}'`));
      assert.deepEqual(unused, [], `${src.file}: keys nothing uses`);
    }
  });

  test(`${app}: the core's code uses no module's key`, () => {
    const coreKeys = new Set(sources[0].keys);
    const foreign = [...usedKeys(code.core)].filter((k) => !coreKeys.has(k) && !/[._]$/.test(k));
    assert.deepEqual(foreign, [], `web/${app} uses keys only a module defines`);
  });
  return messages;
}

// Keys built at run time: 'error.' + code, 'role.' + role, 'lang.' + code; ticketing's 'status.' + status and the like;
// a setting's label and help ('setting.' + name), its group ('settings.group.' + prefix), a day ('day.' + weekday).
checkApp('agent', /^(error|role|lang|status|priority|channel|view|kind|author|filter|setting|settings\.group|day)\./);
const portal = checkApp('portal', /^(status|lang)\./);

test('portal: the ticket page has a word for every status', () => {
  for (const s of ['new', 'open', 'pending', 'on_hold', 'solved', 'closed']) assert.ok(`status.${s}` in portal.en, `status.${s}`);
});
