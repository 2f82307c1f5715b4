// İYS (plugins/campaigns/iys.lua, the consent.registry:iys policy) against a loopback mock of its API: the ledger's
// ONAY/RET records are pushed (token, then one POST per record with İYS's field values and Turkey time), a record İYS
// refuses is not retried, changes made on İYS (a citizen's RET through 3338) are pulled into the ledger with source
// "iys" and never pushed back; a sync without configuration is refused.
import {before, after, test} from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {startServer, setupAdmin, tempDir} from './lib.mjs';

let server, admin, mock;
const seen = {token: [], consents: [], changes: []};
const api = (method, p, body) => server.api(method, p, {session: admin, body});

before(async () => {
  mock = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const json = (status, o) => { res.writeHead(status, {'content-type': 'application/json'}); res.end(JSON.stringify(o)); };
      const u = new URL(req.url, 'http://x');
      if (req.method === 'POST' && u.pathname === '/oauth2/token') {
        seen.token.push(JSON.parse(body));
        return json(200, {access_token: 'tok-1', token_type: 'bearer', expires_in: 7200});
      }
      if (req.headers.authorization !== 'Bearer tok-1') return json(401, {message: 'unauthorized'});
      if (req.method === 'POST' && u.pathname === '/sps/700001/brands/800001/consents') {
        const c = JSON.parse(body);
        seen.consents.push(c);
        if (c.recipient === 'refused@example.com') return json(422, {message: 'recipient is not valid'});
        return json(200, {transactionId: `tx-${seen.consents.length}`, creationDate: '2026-12-04 10:00:00'});
      }
      if (req.method === 'GET' && u.pathname === '/sps/700001/brands/800001/consents/changes') {
        seen.changes.push(u.searchParams.get('source') || '');
        if (!u.searchParams.get('source')) {
          return json(200, {list: [{recipient: 'vatandas@example.com', type: 'EPOSTA', status: 'RET',
            consentDate: '2026-12-01 10:15:00', source: 'HS_3338', transactionId: 'iys-77'}], after: 'c-1'});
        }
        return json(200, {list: [], after: u.searchParams.get('source')});
      }
      json(404, {message: 'no such path'});
    });
  });
  await new Promise((r) => mock.listen(0, '127.0.0.1', r));
  server = await startServer({dataDir: tempDir(), args: ['--allow-private-net']});
  admin = await setupAdmin(server);
});

after(() => mock.close());

const CSV = ['contact,channel,status,at,source,text_shown,ip',
  'vatandas@example.com,email,ONAY,2026-10-01T09:00:00Z,web_form,Kampanyalardan haberdar olmak istiyorum.,203.0.113.5',
  '0532 111 22 33,sms,ONAY,2026-10-02T21:30:00Z,call_centre,SMS ile kampanya almak istiyorum.,',
  'refused@example.com,email,ONAY,2026-10-03T09:00:00Z,checkout,Evet.,203.0.113.6'].join('\n');

test('İYS: push with its field values, a refusal not retried, the pull of a citizen\'s RET, nothing echoed back', async () => {
  let res = await api('POST', '/api/v1/campaign-iys/sync');
  assert.equal(res.status, 409, res.text);
  assert.equal(res.json.error.code, 'iys_not_configured');
  res = await api('PATCH', '/api/v1/settings', {'campaigns.iys_enabled': true,
    'campaigns.iys_url': `http://127.0.0.1:${mock.address().port}`, 'campaigns.iys_code': '700001',
    'campaigns.iys_brand_code': '800001', 'campaigns.iys_username': 'api-user', 'campaigns.iys_password': 'gizli'});
  assert.equal(res.status, 200, res.text);
  res = await api('POST', '/api/v1/campaign-imports', {name: 'iys', csv: CSV});
  assert.equal(res.status, 201, res.text);

  res = await api('POST', '/api/v1/campaign-iys/sync');
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(seen.token[0], {username: 'api-user', password: 'gizli', grant_type: 'password'});
  assert.deepEqual(seen.consents[0], {recipient: 'vatandas@example.com', recipientType: 'BIREYSEL', type: 'EPOSTA',
    source: 'HS_WEB', status: 'ONAY', consentDate: '2026-10-01 12:00:00'});
  assert.deepEqual(seen.consents[1], {recipient: '+905321112233', recipientType: 'BIREYSEL', type: 'MESAJ',
    source: 'HS_CAGRI_MERKEZI', status: 'ONAY', consentDate: '2026-10-03 00:30:00'});
  assert.equal(res.json.pushed, 2);
  assert.equal(res.json.failed, 1);
  assert.equal(res.json.pulled, 1);
  assert.equal(res.json.recorded, 1);
  assert.deepEqual({pending: res.json.status.pending, refused: res.json.status.refused, overdue: res.json.status.overdue},
    {pending: 0, refused: 1, overdue: 0});

  // The citizen's RET on İYS is in the ledger now: the latest record, source iys, and it overrides the ONAY.
  const id = (await api('POST', '/api/v1/campaign-segments/count', {rules: {}})).json;
  assert.equal(id.sendable, 1, 'only the refused@ address still has a current ONAY for e-mail');
  const c = await server.api('GET', '/api/v1/campaigns', {session: admin});
  assert.equal(c.status, 200);

  // A second sync: the pulled record is not pushed back, the refused one is not retried, the pull goes on from its cursor.
  const before = seen.consents.length;
  res = await api('POST', '/api/v1/campaign-iys/sync');
  assert.equal(res.status, 200, res.text);
  assert.equal(seen.consents.length, before, 'nothing pushed again');
  assert.deepEqual(seen.changes, ['', 'c-1']);
  const st = await api('GET', '/api/v1/campaign-iys');
  assert.equal(st.json.pushed, 2);
  assert.equal(st.json.enabled, true);
});
