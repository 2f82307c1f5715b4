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

// The customer portal has its own texts (web/i18n/portal/), so that its bundle carries only what it shows; they
// are checked the same way against web/portal.
const portalDir = path.join(repoRoot, 'web/i18n/portal');
const portalLangs = fs.readdirSync(portalDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
const portal = Object.fromEntries(portalLangs.map((l) => [l, JSON.parse(fs.readFileSync(path.join(portalDir, l + '.json'), 'utf8'))]));

test('portal: tr and en exist with the same keys, no empty text, matching placeholders', () => {
  assert.deepEqual(portalLangs, ['en', 'tr']);
  const keys = Object.keys(portal.en).sort();
  const vars = (s) => (s.match(/\{\w+\}/g) || []).sort();
  for (const l of portalLangs) {
    assert.deepEqual(Object.keys(portal[l]).sort(), keys, `portal/${l}.json keys differ from portal/en.json`);
    for (const key of keys) {
      assert.equal(typeof portal[l][key], 'string', `portal ${l}: ${key}`);
      assert.ok(portal[l][key].trim(), `portal ${l}: ${key} is empty`);
      assert.deepEqual(vars(portal[l][key]), vars(portal.en[key]), `portal ${l}: ${key} placeholders`);
    }
  }
});

test('portal: every key it uses exists, and every key is used', () => {
  const source = sourceFiles(path.join(repoRoot, 'web/portal')).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  const used = new Set([...source.matchAll(/\bt\(\s*'([a-z_]+\.[a-z_.]+)'/g)].map((m) => m[1]));
  for (const key of used) if (!/[._]$/.test(key)) assert.ok(key in portal.en, `web/portal uses '${key}' but portal/en.json has no such key`);
  // Keys built at run time: 'status.' + the ticket's status, 'lang.' + code.
  const dynamic = /^(status|lang)\./;
  const unused = Object.keys(portal.en).filter((k) => !used.has(k) && !dynamic.test(k) && !source.includes(`'${k}'`));
  assert.deepEqual(unused, [], 'portal keys nothing uses');
  for (const s of ['new', 'open', 'pending', 'on_hold', 'solved', 'closed']) assert.ok(`status.${s}` in portal.en, `status.${s}`);
});
