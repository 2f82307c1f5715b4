// SMS gateway adapters beside Netgsm (issue 17): sms.gateway:iletimerkezi (İleti Merkezi's JSON API) and the generic
// sms.gateway:http (URL, body template, Authorization from settings), each against a loopback mock; SMS delivery
// reports polled by the core's job (Netgsm's /sms/rest/v2/report and İleti Merkezi's get-report), their statuses on the
// message and in the campaign's results.
import {before, after, test} from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import {startServer, setupAdmin, tempDir, eventually, sqlite3, T} from './lib.mjs';

let server, admin, mock, dir, db, base;
const calls = [];                 // {path, auth, body (parsed when JSON), raw}
const im = {reportCalls: 0};      // İleti Merkezi: the report answers waiting first, then final
const netgsmReport = {};          // jobid -> status Netgsm's report gives
const api = (method, p, body) => server.api(method, p, {session: admin, body});
const count = (sql) => Number(sqlite3(db, sql).stdout.trim());

before(async () => {
  let order = 7000, job = 0;
  mock = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => { raw += d; });
    req.on('end', () => {
      let body = null;
      try { body = JSON.parse(raw); } catch { /* not JSON */ }
      calls.push({path: req.url, method: req.method, auth: req.headers.authorization, body, raw, type: req.headers['content-type']});
      const answer = (status, o) => { res.writeHead(status, {'content-type': 'application/json'}); res.end(JSON.stringify(o)); };
      if (req.url === '/v1/send-sms/json') {
        return answer(200, {response: {status: {code: '200', message: 'İşlem başarılı'}, order: {id: String(++order)}}});
      }
      if (req.url === '/v1/get-report/json') {
        im.reportCalls++;
        const id = body.request.order.id;
        const sent = calls.filter((c) => c.path === '/v1/send-sms/json');
        const numbers = sent.find((c, i) => String(7001 + i) === String(id)).body.request.order.message.receipents.number;
        return answer(200, {response: {status: {code: '200', message: 'OK'}, order: {id, status: im.reportCalls > 1 ? 114 : 113,
          message: numbers.map((n) => ({number: `+90${n}`, status: im.reportCalls > 1 ? (n.endsWith('1') ? 111 : 112) : 110}))}}});
      }
      if (req.url.startsWith('/generic')) return answer(200, {data: {id: `G-${calls.length}`}, ok: true});
      if (req.url === '/sms/rest/v2/send') return answer(200, {code: '00', jobid: `N${++job}`});
      if (req.url === '/sms/rest/v2/report') {
        const jobs = body.jobids.filter((j) => netgsmReport[j] !== undefined).map((j) => ({jobid: j, telno: '905321000031', status: netgsmReport[j]}));
        return answer(200, jobs.length ? {code: '00', jobs} : {code: '60', description: 'no record'});
      }
      answer(404, {});
    });
  });
  await new Promise((r) => mock.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${mock.address().port}`;
  dir = tempDir();
  db = path.join(dir, 'destek.db');
  server = await startServer({dataDir: dir, args: ['--allow-private-net']});
  admin = await setupAdmin(server);
  const res = await api('PATCH', '/api/v1/settings', {
    'sms.trade_name': 'Örnek Mağazacılık A.Ş.', 'sms.mersis': '0123456789000015', 'sms.ret_keyword': 'ORNEK',
    'sms.report_after': 1, 'sms.gateway': 'iletimerkezi',
    'campaigns.iletimerkezi_url': base, 'campaigns.iletimerkezi_key': 'anahtar', 'campaigns.iletimerkezi_hash': 'ozet',
    'campaigns.iletimerkezi_sender': 'MAGAZA',
    'campaigns.sms_http_url': `${base}/generic?to={{to_digits}}`, 'campaigns.sms_http_authorization': 'Bearer gizli-jeton',
    'campaigns.sms_http_body': '{"phone":"{{to}}","message":"{{text}}","iys":{{iys}}}', 'campaigns.sms_http_ref_path': 'data.id',
    'campaigns.netgsm_url': base, 'campaigns.netgsm_user': '8503001122', 'campaigns.netgsm_password': 'gizli',
    'campaigns.netgsm_header': 'MAGAZA'});
  assert.equal(res.status, 200, res.text);
  const lines = ['contact,channel,status,at,source,text_shown,name,tags'];
  for (const [n, tag] of [['0532 100 00 11', 'im'], ['0532 100 00 12', 'im'], ['0532 100 00 21', 'gen'], ['0532 100 00 31', 'ng']]) {
    lines.push(`${n},sms,ONAY,2026-10-01T09:00:00Z,call_centre,SMS ile kampanya almak istiyorum.,Ali Veli,${tag}`);
  }
  const imp = await api('POST', '/api/v1/campaign-imports', {name: 'sms', csv: lines.join('\n')});
  assert.equal(imp.status, 201, imp.text);
});

after(() => mock.close());

async function campaign(tag, body) {
  let res = await api('POST', '/api/v1/campaigns', {name: tag, channel: 'sms', rules: {tags: [tag]}, body_tr: body, body_en: body});
  assert.equal(res.status, 201, res.text);
  const id = res.json.id;
  res = await api('POST', `/api/v1/campaigns/${id}/schedule`, {});
  assert.equal(res.status, 202, res.text);
  await eventually(() => api('GET', `/api/v1/campaigns/${id}`), (r) => r.json.status === 'done' &&
    r.json.results.messages.pending === 0, {ms: T(15000)});
  return id;
}

test('İleti Merkezi: the order as its API takes it (key/hash, iys 1, BIREYSEL, receipents), then its delivery report', async () => {
  const id = await campaign('im', 'Merhaba {{first_name}}, "kış" indirimi!');
  const sends = calls.filter((c) => c.path === '/v1/send-sms/json');
  assert.equal(sends.length, 1, 'one text, one order');
  const req = sends[0].body.request;
  assert.deepEqual(req.authentication, {key: 'anahtar', hash: 'ozet'});
  assert.equal(req.order.sender, 'MAGAZA');
  assert.equal(req.order.iys, '1');
  assert.equal(req.order.iysList, 'BIREYSEL');
  assert.deepEqual(req.order.message.receipents.number.sort(), ['5321000011', '5321000012']);
  assert.match(req.order.message.text, /^Merhaba Ali, "kış" indirimi!\nÖrnek Mağazacılık A\.Ş\. Mersis: 0123456789000015\. Ret için RET ORNEK/);
  assert.equal(count("SELECT count(*) FROM core_messages WHERE gateway_ref = '7001' AND status = 'sent'"), 2);
  // The report job asks (waiting: 110), then again after the backoff (111 delivered, 112 not delivered).
  const res = await eventually(() => api('GET', `/api/v1/campaigns/${id}`),
    (r) => r.json.results.sms_reports.delivered === 1 && r.json.results.sms_reports.undelivered === 1, {ms: T(20000)});
  assert.equal(res.json.results.sms_reports.pending, 0);
  assert.ok(im.reportCalls >= 2);
  const rep = calls.find((c) => c.path === '/v1/get-report/json').body.request;
  assert.deepEqual(rep.authentication, {key: 'anahtar', hash: 'ozet'});
  assert.equal(String(rep.order.id), '7001');
  const rows = (await api('GET', `/api/v1/campaigns/${id}/recipients?status=sent`)).json.items;
  assert.equal(rows.find((r) => r.phone === '+905321000011').report, 'delivered');
  const bad = rows.find((r) => r.phone === '+905321000012');
  assert.equal(bad.report, 'undelivered');
  assert.match(bad.report_error, /112/);
});

test('the generic HTTP adapter: URL and body templates filled and escaped, Authorization, the ref read; no report asked', async () => {
  assert.equal((await api('PATCH', '/api/v1/settings', {'sms.gateway': 'http'})).status, 200);
  const id = await campaign('gen', 'Yeni "sezon" ürünleri & fırsatlar');
  const g = calls.filter((c) => c.path.startsWith('/generic'));
  assert.equal(g.length, 1);
  assert.equal(g[0].path, '/generic?to=905321000021');
  assert.equal(g[0].auth, 'Bearer gizli-jeton');
  assert.match(g[0].type, /application\/json/);
  assert.ok(g[0].body, `the body is JSON: ${g[0].raw}`);
  assert.equal(g[0].body.phone, '+905321000021');
  assert.equal(g[0].body.iys, 1);
  assert.match(g[0].body.message, /^Yeni "sezon" ürünleri & fırsatlar\nÖrnek Mağazacılık/);
  const row = sqlite3(db, "SELECT status, gateway_ref, coalesce(delivery, '-') FROM core_messages WHERE to_addr = '+905321000021'").stdout.trim();
  assert.match(row, /^sent\|G-\d+\|-$/);
  const res = await api('GET', `/api/v1/campaigns/${id}`);
  assert.deepEqual(res.json.results.sms_reports, {delivered: 0, undelivered: 0, pending: 0, unknown: 0});
});

test('Netgsm delivery report: no record yet (code 60) keeps it pending; status 1 is delivered', async () => {
  assert.equal((await api('PATCH', '/api/v1/settings', {'sms.gateway': 'netgsm'})).status, 200);
  const id = await campaign('ng', 'Netgsm raporu');
  const ref = sqlite3(db, "SELECT gateway_ref FROM core_messages WHERE to_addr = '+905321000031'").stdout.trim();
  assert.match(ref, /^N\d+$/);
  await eventually(async () => calls.filter((c) => c.path === '/sms/rest/v2/report').length, (n) => n >= 1, {ms: T(10000)});
  const first = calls.find((c) => c.path === '/sms/rest/v2/report');
  assert.equal(first.auth, 'Basic ' + Buffer.from('8503001122:gizli').toString('base64'));
  assert.deepEqual(first.body.jobids, [ref]);
  assert.equal(count("SELECT count(*) FROM core_messages WHERE to_addr = '+905321000031' AND delivery = 'pending'"), 1);
  netgsmReport[ref] = 1;
  const res = await eventually(() => api('GET', `/api/v1/campaigns/${id}`), (r) => r.json.results.sms_reports.delivered === 1,
    {ms: T(20000)});
  assert.equal(res.json.results.sms_reports.pending, 0);
});
