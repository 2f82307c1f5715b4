// SMS campaigns (issue 17): the core's messages carry SMS (core migration 010), sent through the gateway adapter
// sms.gateway:netgsm (plugins/campaigns/sms.lua) to a loopback mock of Netgsm's REST v2 send API. A commercial SMS goes
// only to a contact with a current ONAY for sms (the segment count says how many per channel), carries the refusal line
// (trade name, MERSİS, RET to 3338) and iysfilter 11; the gateway's job id is recorded, a final refusal is not retried;
// a commercial SMS without ONAY is refused by the core whoever asks; kill -9 while sending loses no one and re-sends at
// most the one gateway call in flight.
import {before, after, test} from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import {startServer, setupAdmin, tempDir, eventually, sqlite3, T} from './lib.mjs';

let server, admin, mock, dir, db;
const calls = [];          // every request the mock got: {auth, body}
let delay = 0;             // ms the mock waits before answering (the kill -9 test)
const api = (method, p, body) => server.api(method, p, {session: admin, body});
const count = (sql) => Number(sqlite3(db, sql).stdout.trim());

before(async () => {
  mock = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const answer = (status, o) => { res.writeHead(status, {'content-type': 'application/json'}); res.end(JSON.stringify(o)); };
      if (req.method !== 'POST' || req.url !== '/sms/rest/v2/send') return answer(404, {code: '404'});
      const j = JSON.parse(body);
      calls.push({auth: req.headers.authorization, body: j});
      setTimeout(() => {
        if (j.messages.some((m) => m.no === '905550000070')) return answer(200, {code: '70', description: 'invalid'});
        answer(200, {code: '00', jobid: `J${calls.length}`, description: 'queued'});
      }, delay);
    });
  });
  await new Promise((r) => mock.listen(0, '127.0.0.1', r));
  dir = tempDir();
  db = path.join(dir, 'destek.db');
  server = await startServer({dataDir: dir, args: ['--allow-private-net']});
  admin = await setupAdmin(server);
  const res = await api('PATCH', '/api/v1/settings', {
    'campaigns.netgsm_url': `http://127.0.0.1:${mock.address().port}`, 'campaigns.netgsm_user': '8503001122',
    'campaigns.netgsm_password': 'gizli', 'campaigns.netgsm_header': 'MAGAZA'});
  assert.equal(res.status, 200, res.text);
});

after(() => mock.close());

const HEADER = 'contact,channel,status,at,source,text_shown,address,ip,name,lang,tags';
const row = (phone, status, tags, lang = '') => [phone, 'sms', status, '2026-10-01T09:00:00Z', 'call_centre',
  'SMS ile kampanya almak istiyorum.', '', '', 'Ali Veli', lang, tags].join(',');
const importCsv = (name, lines) => api('POST', '/api/v1/campaign-imports', {name, csv: [HEADER, ...lines].join('\n')});
const sentTo = () => calls.flatMap((c) => c.body.messages.map((m) => m.no));

test('an SMS campaign goes to the ONAY numbers only, with the refusal line, iysfilter 11, and the job ids recorded', async () => {
  let res = await importCsv('sms', [row('0532 100 00 01', 'ONAY', 'sms1'), row('0532 100 00 02', 'ONAY', 'sms1', 'en'),
    row('0532 100 00 03', 'RET', 'sms1'), row('0555 000 00 70', 'ONAY', 'sms70')]);
  assert.equal(res.status, 201, res.text);
  // A number with an ONAY that a later RET overrides.
  const later = Number(sqlite3(db, "SELECT id FROM core_contacts WHERE phone = '+905321000001'").stdout.trim());
  res = await importCsv('sms ret', [['0532 100 00 04', 'sms', 'ONAY', '2026-10-01T09:00:00Z', 'call_centre', 'Evet.', '',
    '', 'X', '', 'sms1'].join(','), ['0532 100 00 04', 'sms', 'RET', '2026-10-02T09:00:00Z', 'call_centre', '', '', '', 'X',
    '', 'sms1'].join(',')]);
  assert.equal(res.status, 201, res.text);

  res = await api('POST', '/api/v1/campaign-segments/count', {rules: {tags: ['sms1']}, channel: 'sms'});
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.matched, 4);
  assert.deepEqual(res.json.by_channel.sms, {with_address: 4, sendable: 2, no_consent: 2, no_address: 0});
  assert.deepEqual(res.json.by_channel.email, {with_address: 0, sendable: 0, no_consent: 0, no_address: 4});
  assert.equal(res.json.sendable, 2);

  res = await api('POST', '/api/v1/campaigns', {name: 'SMS', channel: 'sms', rules: {tags: ['sms1']},
    body_tr: 'Merhaba {{first_name}}, bugün %20 indirim!', body_en: 'Hello {{first_name}}, 20% off today!'});
  assert.equal(res.status, 201, res.text);
  assert.equal(res.json.channel, 'sms');
  const id = res.json.id;
  const bad = await api('POST', '/api/v1/campaigns', {name: 'x', channel: 'sms', rules: {}, subject_tr: 'a', body_tr: 'b', body_en: 'c'});
  assert.equal(bad.status, 422);

  // The law's refusal line needs the trade name, MERSİS number and the RET keyword: no sending without them.
  res = await api('POST', `/api/v1/campaigns/${id}/schedule`, {});
  assert.equal(res.status, 409, res.text);
  assert.equal(res.json.error.code, 'sms_not_configured');
  res = await api('PATCH', '/api/v1/settings', {'sms.trade_name': 'Örnek Mağazacılık A.Ş.', 'sms.mersis': '0123456789000015',
    'sms.ret_keyword': 'ORNEK'});
  assert.equal(res.status, 200, res.text);

  res = await api('POST', `/api/v1/campaigns/${id}/preview`, {contact_id: later});
  assert.equal(res.json.to, '+905321000001');
  assert.equal(res.json.may_send, true);

  res = await api('POST', `/api/v1/campaigns/${id}/schedule`, {});
  assert.equal(res.status, 202, res.text);
  res = await eventually(() => api('GET', `/api/v1/campaigns/${id}`), (r) => r.json.status === 'done' &&
    r.json.results.messages.pending === 0, {ms: T(15000)});
  assert.equal(res.json.results.sent, 2, res.text);
  assert.deepEqual(res.json.results.skipped_by_reason, {no_consent: 2});
  assert.equal(res.json.results.messages.delivered, 2);

  assert.deepEqual(sentTo().sort(), ['905321000001', '905321000002']);
  const ok = calls.find((c) => c.body.messages.some((m) => m.no === '905321000001'));
  assert.equal(ok.auth, 'Basic ' + Buffer.from('8503001122:gizli').toString('base64'));
  assert.equal(ok.body.msgheader, 'MAGAZA');
  assert.equal(ok.body.iysfilter, '11');
  assert.equal(ok.body.encoding, 'TR');
  const tr = ok.body.messages.find((m) => m.no === '905321000001').msg;
  assert.equal(tr, "Merhaba Ali, bugün %20 indirim!\nÖrnek Mağazacılık A.Ş. Mersis: 0123456789000015. Ret için RET ORNEK" +
    " yazıp 3338'e ücretsiz SMS gönderin.");
  const en = ok.body.messages.find((m) => m.no === '905321000002').msg;
  assert.match(en, /^Hello Ali, 20% off today!\n.*To stop these messages, free: text RET ORNEK to 3338\.$/);
  // The gateway's job id is kept with each message; the refused one says why.
  assert.equal(count("SELECT count(*) FROM core_messages WHERE channel = 'sms' AND status = 'sent' AND gateway_ref LIKE 'J%'"), 2);
  res = await api('GET', `/api/v1/campaigns/${id}/recipients?status=sent`);
  assert.equal(res.json.items.find((r) => r.phone === '+905321000001').delivery, 'delivered');
});

test('the core refuses a commercial SMS without a current ONAY, and a RET stops the next one', async () => {
  const noConsent = Number(sqlite3(db, "SELECT id FROM core_contacts WHERE phone = '+905321000003'").stdout.trim());
  const c = await api('POST', '/api/v1/campaigns', {name: 'T', channel: 'sms', rules: {tags: ['sms1']}, body_tr: 'Deneme', body_en: 'Test'});
  let res = await api('POST', `/api/v1/campaigns/${c.json.id}/test`, {contact_id: noConsent});
  assert.equal(res.status, 403, res.text);
  assert.equal(res.json.error.code, 'no_consent');
  const yes = Number(sqlite3(db, "SELECT id FROM core_contacts WHERE phone = '+905321000001'").stdout.trim());
  res = await api('POST', `/api/v1/contacts/${yes}/consent`, {channel: 'sms', status: 'RET', source: 'reply'});
  assert.equal(res.status, 201, res.text);
  res = await api('POST', `/api/v1/campaigns/${c.json.id}/test`, {contact_id: yes});
  assert.equal(res.status, 403, res.text);
  assert.equal(count("SELECT count(*) FROM core_messages WHERE channel = 'sms' AND body LIKE '[TEST]%'"), 0);
  // A test send the gateway refuses for good (Netgsm code 70): failed at once, not tried again.
  const bad = Number(sqlite3(db, "SELECT id FROM core_contacts WHERE phone = '+905550000070'").stdout.trim());
  res = await api('POST', `/api/v1/campaigns/${c.json.id}/test`, {contact_id: bad});
  assert.equal(res.status, 201, res.text);
  await eventually(async () => count(`SELECT count(*) FROM core_messages WHERE id = ${res.json.message_id} AND status = 'failed'`),
    (n) => n === 1, {ms: T(5000)});
  assert.match(sqlite3(db, `SELECT last_error FROM core_messages WHERE id = ${res.json.message_id}`).stdout, /Netgsm 70/);
  assert.equal(count(`SELECT attempts FROM core_messages WHERE id = ${res.json.message_id}`), 1);
});

test('kill -9 while sending: every ONAY number gets it, re-sent at most the gateway call in flight', async () => {
  const lines = [];
  for (let i = 0; i < 200; i++) lines.push(row(`0533 200 ${String(Math.floor(i / 100)).padStart(2, '0')} ${String(i % 100).padStart(2, '0')}`, 'ONAY', 'kill'));
  assert.equal((await importCsv('kill', lines)).status, 201);
  const c = await api('POST', '/api/v1/campaigns', {name: 'Kill', channel: 'sms', rules: {tags: ['kill']}, per_second: 2000,
    body_tr: 'K', body_en: 'K'});
  const id = c.json.id;
  delay = 150;
  const before = calls.length;
  await api('POST', `/api/v1/campaigns/${id}/schedule`, {});
  await eventually(async () => calls.length, (n) => n - before >= 3, {ms: T(15000), every: 20});
  await server.kill9();
  const atKill = calls.length - before;
  delay = 0;
  server = await startServer({dataDir: dir, args: ['--allow-private-net']});
  const res = await eventually(() => api('GET', `/api/v1/campaigns/${id}`), (r) => r.json.status === 'done' &&
    r.json.results.messages.pending === 0, {ms: T(30000)});
  assert.equal(res.json.results.sent, 200, res.text);
  assert.equal(res.json.results.messages.delivered, 200, res.text);
  assert.equal(count("SELECT count(*) FROM core_messages WHERE to_addr LIKE '+905332%'"), 200, 'one message each');
  const got = calls.slice(before).flatMap((x) => x.body.messages.map((m) => m.no));
  assert.equal(new Set(got).size, 200, 'everyone got it');
  assert.ok(atKill >= 3);
  assert.ok(got.length - 200 <= 25, `${got.length - 200} re-sent after kill -9 (one call of at most 25)`);
});
