// The campaigns module (plugins/campaigns, issue 17): the import of a consent list with its proof (all or nothing),
// segments counted before sending, preview and test send, a campaign sent only through the core's commercial path to
// those with a current ONAY (the rest skipped with the reason), throttled, paused and resumed, per-recipient results,
// unsubscribes through the one-click link counted, and kill -9 mid-campaign sending no one twice and skipping no one.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {startServer, setupAdmin, tempDir, eventually, sqlite3, request, T} from './lib.mjs';
import {startSmtp} from './mail-helpers.mjs';

let server, admin, smtp, db, dir;
const api = (method, p, body) => server.api(method, p, {session: admin, body});

before(async () => {
  dir = tempDir();
  smtp = await startSmtp();
  server = await startServer({dataDir: dir});
  admin = await setupAdmin(server);
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'kampanya@shop.example'});
  assert.equal(set.status, 200, set.text);
  db = path.join(dir, 'destek.db');
});

const HEADER = 'contact,channel,status,at,source,text_shown,address,ip,name,lang,tags';
const TEXT = '"Kampanyalardan e-posta ile haberdar olmak istiyorum, ""evet""."';
const row = (email, status = 'ONAY', extra = {}) => [email, extra.channel || 'email', status, extra.at || '2026-10-01T09:00:00Z',
  extra.source || 'web_form', extra.text ?? TEXT, '', extra.ip ?? '203.0.113.9', extra.name || 'Ayşe Yılmaz', extra.lang || '',
  extra.tags || ''].join(',');
const importCsv = (name, lines) => api('POST', '/api/v1/campaign-imports', {name, csv: [HEADER, ...lines].join('\r\n') + '\r\n'});
const contactOf = (email) => Number(sqlite3(db, `SELECT id FROM core_contacts WHERE email = '${email}'`).stdout.trim());
const count = (sql) => Number(sqlite3(db, sql).stdout.trim());

describe('consent import', () => {
  test('one bad row refuses the whole file with every problem named; nothing is recorded', async () => {
    const before = count('SELECT count(*) FROM core_consent');
    const res = await importCsv('bad list', [
      row('iyi@example.com'),
      row('no-text@example.com', 'ONAY', {text: ''}),
      row('no-ip@example.com', 'ONAY', {ip: ''}),
      row('future@example.com', 'ONAY', {at: '2099-01-01T00:00:00Z'}),
      row('chan@example.com', 'ONAY', {channel: 'fax'}),
      row('not-an-address', 'ONAY', {source: 'call_centre'}),
    ]);
    assert.equal(res.status, 422, res.text);
    assert.equal(res.json.error.code, 'invalid_rows');
    const cols = res.json.error.rows.map((r) => `${r.line}:${r.column}`);
    assert.deepEqual(cols, ['3:text_shown', '4:ip', '5:at', '6:channel'], res.text);
    assert.equal(count('SELECT count(*) FROM core_consent'), before, 'nothing recorded');
    assert.equal(count("SELECT count(*) FROM core_contacts WHERE email = 'iyi@example.com'"), 0, 'no contact made either');
    // The core's own check (not an address) also refuses the file, after the rows passed the module's checks.
    const res2 = await importCsv('bad address', [row('iyi@example.com'), row('not-an-address', 'ONAY', {source: 'call_centre'})]);
    assert.equal(res2.status, 422, res2.text);
    assert.equal(res2.json.error.rows[0].line, 3);
    assert.equal(count("SELECT count(*) FROM core_contacts WHERE email = 'iyi@example.com'"), 0);
    const noHeader = await importCsv('no header', []);
    assert.equal(noHeader.status, 422);
  });

  test('a good file records each row with its proof (time, source, text, address, IP, who)', async () => {
    const res = await importCsv('list 2025', [
      row('a1@example.com'), row('a2@example.com'), row('a3@example.com', 'RET', {text: ''}),
      row('a4@example.com', 'ONAY', {source: 'call_centre', ip: ''}),
    ]);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.rows, 4);
    const id = contactOf('a1@example.com');
    const ledger = await api('GET', `/api/v1/contacts/${id}/consent`);
    assert.equal(ledger.status, 200);
    const rec = ledger.json.items[0];
    assert.equal(rec.status, 'ONAY');
    assert.equal(rec.source, 'web_form');
    assert.equal(rec.at, '2026-10-01T09:00:00Z');
    assert.equal(rec.ip, '203.0.113.9');
    assert.equal(rec.address, 'a1@example.com');
    assert.match(rec.text_shown, /"evet"/);
    assert.match(rec.recorded_by, /^user:/);
    const list = await api('GET', '/api/v1/campaign-imports');
    assert.equal(list.json.items[0].name, 'list 2025');
  });
});

describe('segments and campaigns', () => {
  let c1, onay, ret, none, en;
  before(async () => {
    const lines = [];
    for (let i = 0; i < 30; i++) lines.push(row(`s${i}@example.com`));
    lines.push(row('ret@example.com'), row('ret@example.com', 'RET', {text: '', at: '2026-10-02T09:00:00Z'}));
    lines.push(row('none@example.com', 'ONAY', {channel: 'sms'}));
    lines.push(row('en@example.com', 'ONAY', {lang: 'en'}));
    const res = await importCsv('segment list', lines);
    assert.equal(res.status, 201, res.text);
    onay = contactOf('s0@example.com'); ret = contactOf('ret@example.com'); none = contactOf('none@example.com');
    en = contactOf('en@example.com');
    for (const id of [onay, ret, none, en]) {
      const t = await api('PUT', `/api/v1/campaign-tags/${id}`, {tags: ['VIP', 'İstanbul']});
      assert.equal(t.status, 200, t.text);
      assert.deepEqual(t.json.tags, ['istanbul', 'vip']);
    }
    c1 = await api('POST', '/api/v1/campaigns', {name: 'Yılbaşı', rules: {tags: ['vip']}, per_second: 1000,
      subject_tr: 'Merhaba {{first_name}}, yılbaşı indirimi', body_tr: 'Sevgili {{name}}, %20 indirim sizi bekliyor.',
      subject_en: 'Hello {{first_name}}, new year sale', body_en: 'Dear {{name}}, 20% off awaits.'});
    assert.equal(c1.status, 201, c1.text);
  });

  test('a segment is counted before sending: matched, with an address, with a current ONAY', async () => {
    const res = await api('POST', '/api/v1/campaign-segments/count', {rules: {tags: ['vip']}});
    assert.equal(res.status, 200, res.text);
    const {matched, with_address, sendable, no_consent, no_address} = res.json;
    assert.deepEqual({matched, with_address, sendable, no_consent, no_address},
      {matched: 4, with_address: 4, sendable: 2, no_consent: 2, no_address: 0});
    assert.equal(res.json.channel, 'email');
    assert.deepEqual(res.json.by_channel.sms, {with_address: 0, sendable: 0, no_consent: 0, no_address: 4});
    const en_ = await api('POST', '/api/v1/campaign-segments/count', {rules: {tags: ['vip'], lang: 'en'}});
    assert.equal(en_.json.matched, 1);
    const bad = await api('POST', '/api/v1/campaign-segments/count', {rules: {colour: 'red'}});
    assert.equal(bad.status, 422);
    assert.equal(bad.json.error.field, 'rules.colour');
    const noOrders = await api('POST', '/api/v1/campaign-segments/count', {rules: {bought: {from: '2026-01-01', to: '2026-02-01'}}});
    assert.equal(noOrders.status, 200, noOrders.text);   // the orders module is built in: no buyers in that window
    assert.equal(noOrders.json.matched, 0);
  });

  test('preview per contact (its language) and a test send that needs that contact\'s ONAY too', async () => {
    let p = await api('POST', `/api/v1/campaigns/${c1.json.id}/preview`, {contact_id: en});
    assert.equal(p.status, 200, p.text);
    assert.equal(p.json.subject, 'Hello Ayşe, new year sale');
    assert.equal(p.json.may_send, true);
    p = await api('POST', `/api/v1/campaigns/${c1.json.id}/preview`, {contact_id: ret});
    assert.equal(p.json.subject, 'Merhaba Ayşe, yılbaşı indirimi');
    assert.equal(p.json.may_send, false);
    const refused = await api('POST', `/api/v1/campaigns/${c1.json.id}/test`, {contact_id: ret});
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.json.error.code, 'no_consent');
    const ok = await api('POST', `/api/v1/campaigns/${c1.json.id}/test`, {contact_id: onay});
    assert.equal(ok.status, 201, ok.text);
    const m = await eventually(() => smtp.mails().filter((x) => x.headers.to.includes('<s0@example.com>')), (l) => l.length === 1);
    assert.ok(m[0].headers['list-unsubscribe-post'], 'the core added one-click unsubscribe');
  });

  test('the campaign goes only to those with a current ONAY; the rest are skipped with the reason', async () => {
    const id = c1.json.id;
    const s = await api('POST', `/api/v1/campaigns/${id}/schedule`, {});
    assert.equal(s.status, 202, s.text);
    const again = await api('POST', `/api/v1/campaigns/${id}/schedule`, {});
    assert.equal(again.status, 409);
    const done = await eventually(() => api('GET', `/api/v1/campaigns/${id}`), (r) => r.json.status === 'done' &&
      r.json.results.messages.delivered === 2, {ms: T(15000)});
    assert.equal(done.json.results.recipients, 4);
    assert.equal(done.json.results.sent, 2);
    assert.deepEqual(done.json.results.skipped_by_reason, {no_consent: 2});
    const skipped = await api('GET', `/api/v1/campaigns/${id}/recipients?status=skipped`);
    assert.deepEqual(skipped.json.items.map((r) => r.contact_id).sort(), [ret, none].sort());
    const en_ = smtp.mails().filter((x) => x.headers.to.includes('<en@example.com>'));
    assert.equal(en_.length, 1);
    const subj = /=\?UTF-8\?B\?([^?]+)\?=/.exec(en_[0].headers.subject);
    assert.equal(Buffer.from(subj[1], 'base64').toString('utf8'), 'Hello Ayşe, new year sale');
    // One-click unsubscribe from the campaign's message is counted.
    const url = /<([^>]+)>/.exec(en_[0].headers['list-unsubscribe'])[1];
    const u = await request(server.url + new URL(url).pathname, {method: 'POST', body: 'List-Unsubscribe=One-Click',
      headers: {'content-type': 'application/x-www-form-urlencoded'}});
    assert.equal(u.status, 200);
    const after = await api('GET', `/api/v1/campaigns/${id}`);
    assert.equal(after.json.results.unsubscribed, 1);
  });

  test('pause stops sending; resume goes on; a RET meanwhile stops that person; throttled per second', async () => {
    const c = await api('POST', '/api/v1/campaigns', {name: 'Throttled', rules: {}, per_second: 5,
      subject_tr: 'Kış', body_tr: 'İndirim.', subject_en: 'Winter', body_en: 'Sale.'});
    const id = c.json.id;
    const count0 = await api('POST', '/api/v1/campaign-segments/count', {rules: {}});
    await api('POST', `/api/v1/campaigns/${id}/schedule`, {});
    await eventually(() => api('GET', `/api/v1/campaigns/${id}`), (r) => r.json.results.sent >= 5, {ms: T(10000)});
    const p = await api('POST', `/api/v1/campaigns/${id}/pause`);
    assert.equal(p.status, 200, p.text);
    const s1 = (await api('GET', `/api/v1/campaigns/${id}`)).json;
    // a RET while paused: that person is not sent to after the resume
    const queued = await api('GET', `/api/v1/campaigns/${id}/recipients?status=queued&limit=1`);
    const victim = queued.json.items[0].contact_id;
    const r = await api('POST', `/api/v1/contacts/${victim}/consent`, {channel: 'email', status: 'RET', source: 'call_centre'});
    assert.equal(r.status, 201, r.text);
    await new Promise((res) => setTimeout(res, 1500));
    const s2 = (await api('GET', `/api/v1/campaigns/${id}`)).json;
    assert.equal(s2.results.sent, s1.results.sent, 'nothing sent while paused');
    assert.ok(s2.results.queued > 0);
    const t0 = Date.now();
    assert.equal((await api('POST', `/api/v1/campaigns/${id}/resume`)).status, 200);
    const done = await eventually(() => api('GET', `/api/v1/campaigns/${id}`), (x) => x.json.status === 'done', {ms: T(20000)});
    const secs = (Date.now() - t0) / 1000;
    const rest = done.json.results.sent - s1.results.sent;
    assert.ok(secs >= Math.floor(rest / 5) - 1, `throttled: ${rest} in ${secs} s at 5/s`);
    assert.equal(done.json.results.sent + done.json.results.skipped, count0.json.matched);
    const v = await api('GET', `/api/v1/campaigns/${id}/recipients?status=skipped&reason=no_consent&limit=200`);
    assert.ok(v.json.items.some((x) => x.contact_id === victim), 'the RET stopped that person');
    assert.equal(count(`SELECT count(*) FROM core_messages m JOIN campaigns_recipients r ON r.message_id = m.id WHERE r.campaign_id = ${id}` +
      ` AND m.contact_id = ${victim}`), 0);
  });

  test('a scheduled campaign starts at its time; the daily cap stops sending until the next day', async () => {
    const sentToday = count("SELECT count(*) FROM campaigns_recipients WHERE status = 'sent'");
    assert.equal((await api('PATCH', '/api/v1/settings', {'campaigns.daily_cap': sentToday})).status, 200);
    const c = await api('POST', '/api/v1/campaigns', {name: 'Capped', rules: {tags: ['vip']}, per_second: 100,
      subject_tr: 'Yarın', body_tr: 'B', subject_en: 'Tomorrow', body_en: 'B'});
    const id = c.json.id;
    const at = new Date(Date.now() + 2000).toISOString().replace(/\.\d+Z$/, 'Z');
    const s = await api('POST', `/api/v1/campaigns/${id}/schedule`, {at});
    assert.equal(s.status, 202, s.text);
    assert.equal(s.json.status, 'scheduled');
    const past = await api('POST', `/api/v1/campaigns/${id}/schedule`, {at: '2020-01-01T00:00:00Z'});
    assert.equal(past.status, 422);
    // It starts at its time, gathers its recipients, and sends no one: today's cap is reached.
    await eventually(() => api('GET', `/api/v1/campaigns/${id}`), (x) => x.json.status === 'sending' && !x.json.gathering &&
      x.json.results.queued > 0, {ms: T(15000)});
    await new Promise((res) => setTimeout(res, 1500));
    const capped = (await api('GET', `/api/v1/campaigns/${id}`)).json;
    assert.equal(capped.results.sent, 0, 'the daily cap holds');
    assert.ok(await eventually(() => server.stderrText(), (t) => /daily cap/.test(t)));
    // With the cap lifted, pause and resume send the rest now (without the resume, it would go on tomorrow).
    assert.equal((await api('PATCH', '/api/v1/settings', {'campaigns.daily_cap': 0})).status, 200);
    assert.equal((await api('POST', `/api/v1/campaigns/${id}/pause`)).status, 200);
    assert.equal((await api('POST', `/api/v1/campaigns/${id}/resume`)).status, 200);
    const done = await eventually(() => api('GET', `/api/v1/campaigns/${id}`), (x) => x.json.status === 'done', {ms: T(15000)});
    assert.ok(done.json.results.sent >= 1);
    assert.equal(done.json.results.queued, 0);
  });

  test('only admins make and send campaigns; a draft only can be changed', async () => {
    const anon = await request(server.url + '/api/v1/campaigns');
    assert.equal(anon.status, 401);
    const p = await api('PATCH', `/api/v1/campaigns/${c1.json.id}`, {name: 'x'});
    assert.equal(p.status, 409);
    const bad = await api('POST', '/api/v1/campaigns', {name: 'x', rules: {}, subject_tr: 'a\nb', body_tr: 'b', subject_en: 'c', body_en: 'd'});
    assert.equal(bad.status, 422);
    assert.equal(bad.json.error.field, 'subject_tr');
  });
});

describe('kill -9 mid-campaign', () => {
  test('no one gets it twice and no one is skipped', async () => {
    const lines = [];
    for (let i = 0; i < 300; i++) lines.push(row(`k${i}@example.com`, 'ONAY', {tags: 'kill other'}));
    assert.equal((await importCsv('kill list', lines)).status, 201);
    const c = await api('POST', '/api/v1/campaigns', {name: 'Kill', rules: {tags: ['kill']}, per_second: 100,
      subject_tr: 'K', body_tr: 'K', subject_en: 'K', body_en: 'K'});
    const id = c.json.id;
    await api('POST', `/api/v1/campaigns/${id}/schedule`, {});
    await eventually(() => api('GET', `/api/v1/campaigns/${id}`), (r) => r.json.results.sent >= 50, {ms: T(10000)});
    await server.kill9();
    server = await startServer({dataDir: dir});
    await eventually(() => api('GET', `/api/v1/campaigns/${id}`), (r) => r.json.status === 'done' &&
      r.json.results.messages.delivered === 300, {ms: T(40000)});
    // The module handed each recipient to the core's send path exactly once: one queued message each.
    assert.equal(count(`SELECT count(*) FROM core_messages WHERE to_addr LIKE 'k%@example.com'`), 300, 'one message each');
    assert.equal(count(`SELECT count(DISTINCT to_addr) FROM core_messages WHERE to_addr LIKE 'k%@example.com'`), 300);
    const mails = smtp.mails().filter((m) => /<k\d+@example.com>/.test(m.headers.to));
    const to = mails.map((m) => m.headers.to);
    assert.equal(new Set(to).size, 300, 'everyone got it');
    // The core's SMTP leg is at least once: what the server accepted in the last moments before the kill, before its
    // outcome was committed (at most 16 + 8 in flight), goes again, with the same Message-ID.
    const ids = new Map();
    for (const m of mails) {
      const id = m.headers['message-id'];
      if (ids.has(m.headers.to)) assert.equal(ids.get(m.headers.to), id, 'a re-send keeps its Message-ID');
      ids.set(m.headers.to, id);
    }
    assert.ok(to.length - 300 <= 24, `${to.length - 300} re-sent after kill -9`);
  });
});

// Last: its 5,000 contacts would be in the segments of the tests above.
describe('a large consent file', () => {
  test('a file of 5,000 rows imports in one request (parsed, checked and recorded by the core in one call)', async () => {
    const lines = [];
    for (let i = 0; i < 5000; i++) lines.push(row(`bulk${i}@example.com`, 'ONAY', {tags: 'bulk'}));
    const t0 = Date.now();
    const res = await importCsv('bulk 5000', lines);
    console.log(`# 5,000-row import: ${Date.now() - t0} ms`);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.rows, 5000);
    assert.equal(count("SELECT count(*) FROM core_consent WHERE address LIKE 'bulk%@example.com'"), 5000);
    assert.equal(count("SELECT count(*) FROM campaigns_tags WHERE tag = 'bulk'"), 5000);
    const over = [];
    for (let i = 0; i < 10001; i++) over.push(row(`over${i}@example.com`));
    const big = await importCsv('too big', over);
    assert.equal(big.status, 422, 'at most 10,000 rows a file');
    assert.match(big.json.error.rows[0].message, /at most 10000 rows/);
  });
});
