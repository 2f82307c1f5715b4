// Every language file has the same keys, no empty text, and every key the agent app uses exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './server.mjs';

const dir = path.join(repoRoot, 'web/i18n');
const langs = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
const messages = Object.fromEntries(langs.map((l) => [l, JSON.parse(fs.readFileSync(path.join(dir, l + '.json'), 'utf8'))]));

function sourceFiles(d) {
  return fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(d, e.name)) : e.name.endsWith('.js') ? [path.join(d, e.name)] : []);
}

test('tr and en exist', () => {
  assert.deepEqual(langs, ['en', 'tr']);
});

test('every language has the same keys', () => {
  const keys = Object.keys(messages.en).sort();
  for (const l of langs) assert.deepEqual(Object.keys(messages[l]).sort(), keys, `${l}.json keys differ from en.json`);
});

test('no text is empty and placeholders match', () => {
  for (const key of Object.keys(messages.en)) {
    const vars = (s) => (s.match(/\{\w+\}/g) || []).sort();
    for (const l of langs) {
      assert.equal(typeof messages[l][key], 'string', `${l}: ${key}`);
      assert.ok(messages[l][key].trim(), `${l}: ${key} is empty`);
      assert.deepEqual(vars(messages[l][key]), vars(messages.en[key]), `${l}: ${key} placeholders`);
    }
  }
});

test('every key used by the agent app exists, and every key is used', () => {
  const source = sourceFiles(path.join(repoRoot, 'web/agent')).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  const used = new Set([...source.matchAll(/\bt\(\s*'([a-z_]+\.[a-z_.]+)'/g)].map((m) => m[1]));
  for (const key of used) if (!/[._]$/.test(key)) assert.ok(key in messages.en, `web/agent uses '${key}' but en.json has no such key`);
  // Keys built at run time: 'error.' + code, 'role.' + role, 'lang.' + code, notices passed to t(notice).
  const dynamic = /^(error|role|lang|status|priority|channel|view|kind|author|filter)\.|^admin\.(tab|f)_|^login\.signed_out$/;
  const unused = Object.keys(messages.en).filter((k) => !used.has(k) && !dynamic.test(k) && !source.includes(`'${k}'`));
  assert.deepEqual(unused, [], 'keys nothing uses');
});
