// The law as the default policy (returns.eligible), at its edges in Europe/Istanbul time: delivered on 1 January at
// 10:00, a withdrawal is accepted until 15 January 23:59:59 (day 14 after the day of delivery) and refused from
// 16 January 00:00 (day 15). The policy is asked at a given time through POST /api/v1/returns/preview (the clock the
// tests set); before delivery a withdrawal is allowed; defects are not limited; exceptions by product flag; a
// merchant's Lua policy replaces the default.
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {startServer, setupAdmin, createToken, assertError, assertSubset, tempDir, runCli} from './lib.mjs';
import {putOrder} from './returns-helpers.mjs';

let server, admin, tok;

const preview = (body) => server.api('POST', '/api/v1/returns/preview', {session: admin, body: {lang: 'en', ...body}});

before(async () => {
  const dir = tempDir('destek-returns-policy-');
  fs.mkdirSync(path.join(dir, 'plugins'), {recursive: true, mode: 0o700});
  fs.chmodSync(dir, 0o700);
  server = await startServer({dataDir: dir});
  admin = await setupAdmin(server);
  tok = (await createToken(server, admin, {scopes: ['orders']})).secret;
  await putOrder(server, tok, 'P-1', {delivered: '2026-01-01T10:00:00+03:00'});
  // delivered just before midnight in Istanbul (20:59 UTC) and just after (21:00 UTC = 00:00 the next day)
  await putOrder(server, tok, 'P-2', {delivered: '2026-01-01T20:59:00Z'});
  await putOrder(server, tok, 'P-3', {delivered: '2026-01-01T21:00:00Z'});
  await putOrder(server, tok, 'P-4', {delivered: null});
});

test('day 14 at 23:59 Istanbul is in time; day 15 at 00:00 is not', async () => {
  for (const [at, ok] of [
    ['2026-01-15T23:59:00+03:00', true], ['2026-01-15T23:59:59+03:00', true],
    ['2026-01-16T00:00:00+03:00', false], ['2026-01-16T00:00:01+03:00', false], ['2026-01-01T10:00:00+03:00', true]]) {
    const r = await preview({order_number: 'P-1', reason: 'changed_mind', at});
    assert.equal(r.status, 200, r.text);
    for (const it of r.json.items) {
      assert.equal(it.eligible, ok, `${at}: ${JSON.stringify(it)}`);
      assert.equal(it.deadline, Date.parse('2026-01-15T23:59:59+03:00') / 1000);
    }
    if (!ok) assert.match(r.json.items[0].message, /14 days.*15\.01\.2026/);
    else assertSubset(r.json.items[0], {review: false, rule: 'withdrawal'});
  }
  const tr = await preview({order_number: 'P-1', reason: 'changed_mind', at: '2026-01-16T00:00:00+03:00', lang: 'tr'});
  assert.match(tr.json.items[0].message, /Cayma hakkı teslimattan sonra 14 gündür ve 15\.01\.2026/);
});

test('the day of delivery is the Istanbul day, not the UTC day', async () => {
  // 20:59 UTC on 1 January is 23:59 in Istanbul: the period ends on 15 January
  let r = await preview({order_number: 'P-2', reason: 'changed_mind', at: '2026-01-15T23:59:59+03:00'});
  assert.equal(r.json.items[0].eligible, true);
  r = await preview({order_number: 'P-2', reason: 'changed_mind', at: '2026-01-16T00:00:00+03:00'});
  assert.equal(r.json.items[0].eligible, false);
  // 21:00 UTC on 1 January is 00:00 on 2 January in Istanbul: one day more
  r = await preview({order_number: 'P-3', reason: 'changed_mind', at: '2026-01-16T23:59:59+03:00'});
  assert.equal(r.json.items[0].eligible, true);
  r = await preview({order_number: 'P-3', reason: 'changed_mind', at: '2026-01-17T00:00:00+03:00'});
  assert.equal(r.json.items[0].eligible, false);
});

test('defects are not limited by the 14 days and need a person; damage needs a photo', async () => {
  const r = await preview({order_number: 'P-1', reason: 'damaged', at: '2026-06-01T12:00:00+03:00'});
  assertSubset(r.json.items[0], {eligible: true, review: true, photo: 'required', rule: 'defect'});
  const d = await preview({order_number: 'P-1', reason: 'defective', at: '2026-06-01T12:00:00+03:00'});
  assertSubset(d.json.items[0], {eligible: true, review: true, photo: 'optional'});
});

test('before delivery a withdrawal is allowed', async () => {
  const r = await preview({order_number: 'P-4', reason: 'changed_mind', at: '2027-01-01T00:00:00Z'});
  assertSubset(r.json, {delivered_at: undefined});
  assertSubset(r.json.items[0], {eligible: true, rule: 'before_delivery', review: false});
});

test('exceptions by product flag, whatever the date; flags are checked', async () => {
  let r = await server.api('PUT', '/api/v1/returns/product-flags/TSHIRT-M', {session: admin, body: {flags: ['personalised']}});
  assert.equal(r.status, 200, r.text);
  r = await server.api('PUT', '/api/v1/returns/product-flags/MUG', {session: admin, body: {flags: ['fragile']}});
  assertError(r, 422, 'invalid_field', 'flags');
  r = await preview({order_number: 'P-1', reason: 'changed_mind', at: '2026-01-02T10:00:00+03:00'});
  assertSubset(r.json.items[0], {eligible: false, rule: 'exception_personalised'});
  assert.match(r.json.items[0].message, /personalised/);
  assert.equal(r.json.items[1].eligible, true);
  // a defect claim on an excepted product is still taken
  r = await preview({order_number: 'P-1', reason: 'defective', at: '2026-01-02T10:00:00+03:00'});
  assert.equal(r.json.items[0].eligible, true);
  r = await server.api('PUT', '/api/v1/returns/product-flags/TSHIRT-M', {session: admin, body: {flags: []}});
  assert.equal(r.status, 200);
  const list = await server.api('GET', '/api/v1/returns/product-flags', {session: admin});
  assert.equal(list.json.items.length, 0);
});

test('the rules in words for the admin screen, in the admin\'s language', async () => {
  const r = await server.api('GET', '/api/v1/returns/policy?lang=en', {session: admin});
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.rules.length >= 6);
  assert.ok(r.json.rules.some((x) => /14 days/.test(x.text)));
  assert.ok(r.json.rules.some((x) => /10 days/.test(x.text)));
});

test('a merchant\'s Lua policy replaces the default: 30 days for everyone', async () => {
  fs.writeFileSync(path.join(server.dataDir, 'plugins', 'loyal.lua'), `
local destek = require "destek"
return { name = "loyal", version = "1.0.0", init = function()
  destek.policy("returns.eligible", function(order, item, reason, ctx)
    local d = destek.call("returns.default_policy", { order = order, item = item, reason = reason, ctx = ctx })
    if d.rule == "too_late" and ctx.now <= order.delivered_at + 30 * 86400 then
      return true, nil, { review = false, rule = "loyal_30" }
    end
    return d.eligible, d.message, d
  end)
end }`);
  const rl = await runCli(['plugins', 'reload', '--data', server.dataDir]);
  assert.equal(rl.code, 0, rl.stderr);
  const r = await preview({order_number: 'P-1', reason: 'changed_mind', at: '2026-01-20T10:00:00+03:00'});
  assertSubset(r.json.items[0], {eligible: true, rule: 'loyal_30'});
  const late = await preview({order_number: 'P-1', reason: 'changed_mind', at: '2026-02-20T10:00:00+03:00'});
  assertSubset(late.json.items[0], {eligible: false, rule: 'too_late'});
});

test('preview: a bad time or reason is a 422, an unknown order a 404, agents only', async () => {
  assertError(await preview({order_number: 'P-1', at: 'yesterday'}), 422, 'invalid_field', 'at');
  assertError(await preview({order_number: 'P-1', reason: 'bored'}), 422, 'invalid_field', 'reason');
  assertError(await preview({order_number: 'NOPE'}), 404, 'not_found');
  const anon = await server.api('POST', '/api/v1/returns/preview', {body: {order_number: 'P-1'}});
  assert.equal(anon.status, 401);
});
