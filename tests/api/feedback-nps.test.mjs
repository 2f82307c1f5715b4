// Feedback, NPS: a survey to the people who bought in a window (the orders module's orders.buyers), throttled
// (per_minute), one row and one answer per contact per survey, a promotional one only to contacts with a current ONAY
// in the core's consent ledger (through its commercial send path), results with promoters / passives / detractors and the weekly trend.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, eventually, uniqueEmail, T, request} from './lib.mjs';
import {startSmtp} from './mail-helpers.mjs';
import {mailText} from './feedback-helpers.mjs';

let server, admin, smtp;
const api = (method, p, body, session = admin) => server.api(method, p, {session, body});
const buyers = [];

before(async () => {
  smtp = await startSmtp();
  server = await startServer();
  admin = await setupAdmin(server);
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example',
    'mail.public_url': server.url, 'events.retry_base_seconds': 1});
  assert.equal(set.status, 200, set.text);
  const order = (n, email, placed, status = 'completed') => api('PUT', `/api/v1/orders/N${n}`, {status, payment_status: 'paid',
    currency: 'TRY', total_minor: 1000, placed_at: placed, customer: {email, name: `Alıcı ${n}`},
    items: [{sku: 'S', name: 'Ürün', quantity: 1, price_minor: 1000}]});
  for (let i = 1; i <= 5; i++) {
    const email = uniqueEmail(`nps${i}`);
    buyers.push(email);
    assert.equal((await order(i, email, `2026-11-0${i}T10:00:00Z`)).status, 201);
  }
  await order(6, buyers[0], '2026-11-09T10:00:00Z');                           // the same person twice: asked once
  await order(7, uniqueEmail('before'), '2026-09-01T10:00:00Z');               // outside the window
  await order(8, uniqueEmail('cancelled'), '2026-11-03T10:00:00Z', 'cancelled'); // a cancelled order is no purchase
});

const npsMails = () => smtp.mails().filter((m) => mailText(m).includes('/feedback/nps/'));

describe('NPS', () => {
  let survey;
  test('bad surveys are refused', async () => {
    for (const body of [{name: ''}, {name: 'x', bought_from: 'dün', bought_to: '2026-12-01'},
      {name: 'x', bought_from: '2026-12-01', bought_to: '2026-11-01'}, {name: 'x', bought_from: '2026-11-01', bought_to: '2026-12-01', per_minute: 0}]) {
      const r = await api('POST', '/api/v1/feedback/surveys', body);
      assert.equal(r.status, 422, JSON.stringify(body));
    }
  });

  test('a non-promotional survey goes to each buyer of the window once, throttled per minute', async () => {
    const s = await api('POST', '/api/v1/feedback/surveys', {name: 'Kasım NPS', bought_from: '2026-11-01', bought_to: '2026-12-01', per_minute: 2});
    assert.equal(s.status, 201, s.text);
    survey = s.json;
    const res = await api('POST', `/api/v1/feedback/surveys/${survey.id}/send`);
    assert.equal(res.status, 202, res.text);
    assert.equal((await api('POST', `/api/v1/feedback/surveys/${survey.id}/send`)).status, 409, 'sent once');
    const got = await eventually(() => api('GET', `/api/v1/feedback/surveys/${survey.id}`), (r) => r.json.sent === 2, {ms: T(15000)});
    assert.equal(got.json.recipients, 5, 'five buyers in the window: not the one before it, not the cancelled one');
    await eventually(() => npsMails(), (l) => l.length === 2, {ms: T(10000)});
    await new Promise((r) => setTimeout(r, T(2500)));
    assert.equal(npsMails().length, 2, 'the next two wait a minute: ' + smtp.mails().length + ' ' + (smtp.mails()[0] ? mailText(smtp.mails()[0]).slice(0, 600) : ''));
    const again = (await api('GET', `/api/v1/feedback/surveys/${survey.id}`)).json;
    assert.equal(again.queued, 3);
    const to = npsMails().map((m) => m.headers['x-sink-rcpt-to']);
    assert.equal(new Set(to).size, 2);
    for (const t of to) assert.ok(buyers.includes(t));
  });

  test('one answer per contact: the link opens the page, one click records, a second changes nothing; results', async () => {
    const m = npsMails()[0];
    const text = mailText(m);
    const links = [...new Set(text.match(/http:\/\/\S+\/feedback\/nps\/\d+\?score=\d+&sig=[0-9a-f-]+/g))];
    assert.equal(links.length, 11, '0 to 10');
    const nine = links.find((l) => l.includes('score=9&'));
    for (const l of links) assert.equal((await request(l)).status, 200);   // a link scanner
    let r = (await api('GET', `/api/v1/feedback/surveys/${survey.id}/results`)).json;
    assert.equal(r.answered, 0, 'no GET recorded an answer');
    const page = await request(nine);
    assert.match(page.text, /value="9" checked/);
    const sig = page.text.match(/name="sig" value="([^"]+)"/)[1];
    const action = page.text.match(/<form method="post" action="([^"]+)"/)[1];
    const post = (fields) => request(server.url + action, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams(fields).toString()});
    assert.equal((await post({sig, score: '11'})).status, 422);
    assert.equal((await post({sig: sig + '0', score: '9'})).status, 404);
    assert.equal((await post({sig, score: '9', reason: 'Hızlı kargo'})).status, 200);
    assert.equal((await post({sig, score: '0', reason: 'fikrim değişti'})).status, 200);
    r = (await api('GET', `/api/v1/feedback/surveys/${survey.id}/results`)).json;
    assert.deepEqual({answered: r.answered, promoters: r.promoters, passives: r.passives, detractors: r.detractors, nps: r.nps},
      {answered: 1, promoters: 1, passives: 0, detractors: 0, nps: 100});
    assert.equal(r.trend.length, 1);
    assert.match(r.trend[0].week, /^\d{4}-\d{2}-\d{2}$/);
    assert.deepEqual(r.answers.map((a) => [a.score, a.reason]), [[9, 'Hızlı kargo']], 'the answer and its "why?", once');
    const second = npsMails()[1];
    const t2 = mailText(second);
    const three = t2.match(/http:\/\/\S+\/feedback\/nps\/\d+\?score=3&sig=[0-9a-f-]+/)[0];
    const p2 = await request(three);
    const sig2 = p2.text.match(/name="sig" value="([^"]+)"/)[1];
    const act2 = p2.text.match(/<form method="post" action="([^"]+)"/)[1];
    await request(server.url + act2, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams({sig: sig2, score: '3'}).toString()});
    r = (await api('GET', '/api/v1/feedback/nps')).json;
    assert.equal(r.answered, 2);
    assert.equal(r.detractors, 1);
    assert.equal(r.nps, 0);
  });

  test('a promotional survey goes through the commercial send path: only to buyers with a current ONAY', async () => {
    const before = smtp.mails().length;
    const who = (await api('GET', `/api/v1/customers?q=${encodeURIComponent(buyers[2])}`)).json.items[0];
    const onay = await api('POST', `/api/v1/contacts/${who.id}/consent`, {channel: 'email', status: 'ONAY', source: 'checkout',
      text_shown: 'Kampanya ve anketlerden e-posta ile haberdar olmak istiyorum.'});
    assert.equal(onay.status, 201, onay.text);
    const s = await api('POST', '/api/v1/feedback/surveys', {name: 'Kampanya anketi', promotional: true,
      bought_from: '2026-11-01', bought_to: '2026-12-01', per_minute: 10});
    assert.equal(s.status, 201, s.text);
    assert.equal((await api('POST', `/api/v1/feedback/surveys/${s.json.id}/send`)).status, 202);
    await eventually(() => api('GET', `/api/v1/feedback/surveys/${s.json.id}`), (r) => r.json.status === 'sent', {ms: T(15000)});
    // The confirmation of the ONAY (same day) and the survey, both to the one buyer who agreed.
    const survey = await eventually(() => smtp.mails().slice(before).filter((m) => mailText(m).includes('/feedback/nps/')),
      (l) => l.length === 1, {ms: T(15000)});
    assert.equal(survey[0].headers['x-sink-rcpt-to'], buyers[2]);
    assert.match(String(survey[0].headers['list-unsubscribe'] || ''), /^<http:\/\/.+\/u\/[A-Za-z0-9_-]+>$/);
    assert.equal(survey[0].headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
    await new Promise((r) => setTimeout(r, T(1500)));
    assert.equal(smtp.mails().slice(before).filter((m) => mailText(m).includes('/feedback/nps/')).length, 1,
      'the four buyers without consent were not asked');
  });
});
