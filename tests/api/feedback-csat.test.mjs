// Feedback, CSAT: the question after a solved ticket, mailed through a real SMTP server (aiosmtpd) with five
// one-click links in its HTML; a link scanner's GET records nothing; one click on the page records the score and the
// comment; the score is on the ticket (ticket.rated, the panel's API), in the figures and a trigger reopens the ticket.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, eventually, uniqueEmail, T, disableOutOfHoursReply, request} from './lib.mjs';
import {startSmtp} from './mail-helpers.mjs';
import {mailText} from './feedback-helpers.mjs';

let server, admin, smtp;
const api = (method, p, body, session = admin) => server.api(method, p, {session, body});

before(async () => {
  smtp = await startSmtp();
  server = await startServer();
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example',
    'events.retry_base_seconds': 1, 'feedback.csat_delay_minutes': 0});
  assert.equal(set.status, 200, set.text);
});

async function solvedTicket(customer) {
  const res = await api('POST', '/api/v1/tickets', {subject: 'Kargom nerede?', body: 'Siparişim gelmedi.', channel: 'phone', customer});
  assert.equal(res.status, 201, res.text);
  const solved = await api('PATCH', `/api/v1/tickets/${res.json.id}`, {status: 'solved'});
  assert.equal(solved.status, 200, solved.text);
  return res.json;
}

const csatOf = async (ticketId) => (await api('GET', `/api/v1/feedback/csat?ticket_id=${ticketId}`)).json.items[0];

/** The CSAT mail to `to`, its five links read from the HTML part as a mail client would. */
async function csatMail(to) {
  const isCsat = (m) => m.headers['x-sink-rcpt-to'] === to && mailText(m).includes('/feedback/csat/');
  const ms = await eventually(() => smtp.mails(), (ms) => ms.some(isCsat), {ms: T(15000)});
  const m = ms.find(isCsat);
  assert.ok(m, `a CSAT mail to ${to}: ${server.stderrText().slice(-1500)} ${JSON.stringify(await server.api('GET', '/api/v1/events?limit=20', {session: admin}).then((r) => r.json.items.map((e) => [e.event, e.payload.status])))}`);
  const body = mailText(m);
  const htmlPart = body;   // hrefs appear only in the HTML part
  const links = [...htmlPart.matchAll(/href="([^"]+)"/g)].map((x) => x[1]);
  return {m, body, links};
}

/** The form's fields on a page: hidden inputs and the chosen radio. */
function formOf(html) {
  const action = html.match(/<form method="post" action="([^"]+)"/)[1];
  const sig = html.match(/name="sig" value="([^"]+)"/)[1];
  const checked = (html.match(/name="score" value="(\d+)" checked/) || [])[1];
  return {action, sig, checked};
}

const post = (p, fields) => request(server.url + p, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'},
  body: new URLSearchParams(fields).toString()});

describe('CSAT', () => {
  let rateTrigger;
  before(async () => {
    // A bad score reopens the ticket and tags it: an admin's trigger on ticket.rated (module-neutral: ticketing.rate).
    rateTrigger = await api('POST', '/api/v1/triggers', {name: 'Bad CSAT', event: 'ticket.rated',
      conditions: {score_max: 2}, actions: {status: 'open', add_tags: ['csat-bad']}});
    assert.equal(rateTrigger.status, 201, rateTrigger.text);
  });

  test('a solved ticket gets one mail with five one-click links; a scanner GET changes nothing; one click records', async () => {
    const email = uniqueEmail('csat');
    const t = await solvedTicket({email, name: 'Ayşe Yılmaz', lang: 'tr'});
    const {m, body, links} = await csatMail(email);
    assert.match(m.headers['content-type'], /multipart\/alternative/);
    assert.ok(body.includes('Nasıl yardımcı olduk') || body.includes('Nas'), 'Turkish: the ticket customer\'s language');
    assert.equal(links.length, 5, links.join('\n'));
    for (const [i, l] of links.entries()) assert.match(l, new RegExp(`^${server.url}/feedback/csat/\\d+\\?score=${5 - i}&sig=`));
    let q = await csatOf(t.id);
    assert.equal(q.status, 'sent');

    // A link scanner follows every link, twice, and HEADs them: the page opens, nothing is recorded.
    for (const l of [...links, ...links]) {
      const page = await request(l);
      assert.equal(page.status, 200);
      assert.match(page.headers['x-robots-tag'] || '', /noindex/);
    }
    q = await csatOf(t.id);
    assert.equal(q.status, 'sent');
    assert.equal(q.score, undefined, 'no GET recorded a score');

    // The customer clicks "2" in the mail, then "Send" on the page: the score and a comment are recorded.
    const page = await request(links[3]);
    const f = formOf(page.text);
    assert.equal(f.checked, '2', 'the page has the link\'s score chosen');
    assert.match(page.text, /Nasıl yardımcı olduk/);
    const done = await post(f.action, {sig: f.sig, score: f.checked, comment: 'Çok geç yanıt verdiniz.'});
    assert.equal(done.status, 200, done.text);
    assert.match(done.text, /data-region="thanks"/);
    q = await csatOf(t.id);
    assert.equal(q.score, 2);
    assert.equal(q.comment, 'Çok geç yanıt verdiniz.');
    assert.equal(q.answered_via, 'mail');

    // A second click changes nothing (once per ticket).
    const again = await post(f.action, {sig: f.sig, score: '5'});
    assert.equal(again.status, 200);
    assert.equal((await csatOf(t.id)).score, 2);

    // On the ticket: the trigger reopened it and tagged it; ticket.rated and csat.rated are events.
    const ticket = await eventually(() => api('GET', `/api/v1/tickets/${t.id}`), (r) => r.json.status === 'open');
    assert.ok(ticket.json.tags.includes('csat-bad'), JSON.stringify(ticket.json.tags));
    const events = (await api('GET', '/api/v1/events?limit=200')).json.items;
    const rated = events.find((e) => e.event === 'ticket.rated' && e.subject === `ticket:${t.id}`);
    assert.ok(rated, 'ticket.rated emitted');
    assert.deepEqual(rated.payload.rating, {score: 2, max: 5, source: 'feedback', has_comment: true});
    assert.ok(!JSON.stringify(rated.payload).includes('Çok geç'), 'the comment is not in the event');
    assert.ok(events.find((e) => e.event === 'csat.rated' && e.payload.ticket_id === t.id && e.payload.score === 2));

    // Solved again: not asked again for the same ticket.
    await api('PATCH', `/api/v1/tickets/${t.id}`, {status: 'solved'});
    await new Promise((r) => setTimeout(r, T(1500)));
    assert.equal(smtp.mails().filter((x) => x.headers['x-sink-rcpt-to'] === email && mailText(x).includes('/feedback/csat/')).length, 1);
  });

  test('a good score leaves the ticket solved; English for an English customer; figures per agent', async () => {
    const email = uniqueEmail('csat-en');
    const t = await solvedTicket({email, name: 'John Smith', lang: 'en'});
    const {body, links} = await csatMail(email);
    assert.ok(body.includes('How did we do'), 'English');
    const page = await request(links[0]);
    assert.match(page.text, /lang="en"/);
    const f = formOf(page.text);
    assert.equal(f.checked, '5');
    assert.equal((await post(f.action, {sig: f.sig, score: '5'})).status, 200);
    assert.equal((await csatOf(t.id)).score, 5);
    await new Promise((r) => setTimeout(r, T(500)));
    assert.equal((await api('GET', `/api/v1/tickets/${t.id}`)).json.status, 'solved');
    const rep = await api('GET', '/api/v1/feedback/csat/report?days=30');
    assert.equal(rep.status, 200, rep.text);
    assert.ok(rep.json.overall.answered >= 2);
    assert.ok(rep.json.overall.sent >= 2);
    assert.equal(typeof rep.json.overall.csat, 'number');
  });

  test('at most once a week per contact; a contact without e-mail is not asked', async () => {
    const email = uniqueEmail('csat-week');
    const first = await solvedTicket({email, name: 'Mehmet Kaya'});
    await csatMail(email);
    const second = await solvedTicket({email});
    const q2 = await eventually(() => csatOf(second.id), (q) => q && q.status === 'skipped', {ms: T(10000)});
    assert.equal(q2.skip_reason, 'weekly_limit');
    assert.equal((await csatOf(first.id)).status, 'sent');
    const phone = await solvedTicket({phone: '0532 111 22 33', name: 'Telefonla'});
    const q3 = await eventually(() => csatOf(phone.id), (q) => q !== undefined, {ms: T(10000)});
    assert.equal(q3.status, 'skipped');
    assert.equal(q3.skip_reason, 'no_email');
  });

  test('a forged or altered link opens nothing and records nothing', async () => {
    const email = uniqueEmail('csat-forge');
    const t = await solvedTicket({email});
    const {links} = await csatMail(email);
    const bad = links[0].replace(/sig=([0-9a-f]+)/, (m, s) => `sig=${s.slice(0, -2)}${s.endsWith('00') ? '11' : '00'}`);
    assert.equal((await request(bad)).status, 404);
    const id = links[0].match(/csat\/(\d+)/)[1];
    const other = links[0].replace(`/csat/${id}?`, `/csat/${Number(id) + 1000}?`);
    assert.equal((await request(other)).status, 404);
    const f = formOf((await request(links[0])).text);
    const res = await post(f.action, {sig: 'x' + f.sig.slice(1), score: '1'});
    assert.equal(res.status, 404);
    const outOfRange = await post(f.action, {sig: f.sig, score: '9'});
    assert.equal(outOfRange.status, 422);
    assert.equal((await csatOf(t.id)).score, undefined);
  });

  test('on the ticket\'s portal page: the customer rates a solved ticket with its link, once', async () => {
    const open = await api('POST', '/api/v1/tickets', {subject: 'Fatura', body: 'Faturam nerede?', channel: 'phone',
      customer: {phone: '0532 444 55 66', name: 'Portal Müşteri'}});
    const number = open.json.reference.slice(1);
    const sig = (await api('GET', `/api/v1/tickets/${open.json.id}`)).json.public_sig;
    let r = await server.api('GET', `/api/v1/public/feedback/csat?number=${number}&sig=${sig}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.offered, false, 'not offered before the ticket is solved');
    r = await server.api('POST', '/api/v1/public/feedback/csat', {body: {number, sig, score: 5}});
    assert.equal(r.status, 409);
    await api('PATCH', `/api/v1/tickets/${open.json.id}`, {status: 'solved'});
    r = await server.api('GET', `/api/v1/public/feedback/csat?number=${number}&sig=${sig}`);
    assert.equal(r.json.offered, true);
    r = await server.api('POST', '/api/v1/public/feedback/csat', {body: {number, sig: sig.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')), score: 5}});
    assert.equal(r.status, 404);
    r = await server.api('POST', '/api/v1/public/feedback/csat', {body: {number, sig, score: 4, comment: 'Teşekkürler'}});
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.score, 4);
    r = await server.api('POST', '/api/v1/public/feedback/csat', {body: {number, sig, score: 1}});
    assert.equal(r.status, 409);
    const q = await csatOf(open.json.id);
    assert.equal(q.score, 4);
    assert.equal(q.answered_via, 'portal');
  });

  test('KVKK: an erased customer\'s comment is blanked, the score stays; the export carries their answers', async () => {
    const email = uniqueEmail('csat-kvkk');
    const t = await solvedTicket({email, name: 'Silinecek Kişi'});
    const {links} = await csatMail(email);
    const f = formOf((await request(links[0])).text);
    assert.equal((await post(f.action, {sig: f.sig, score: '5', comment: 'Adım Silinecek Kişi, telefonum 0532 000 00 00'})).status, 200);
    const contactId = (await api('GET', `/api/v1/tickets/${t.id}`)).json.customer.id;
    const exp = await api('GET', `/api/v1/contacts/${contactId}/export?format=json`);
    assert.equal(exp.status, 200, exp.text);
    assert.equal(exp.json.modules.feedback.csat[0].score, 5);
    const er = await api('POST', `/api/v1/contacts/${contactId}/erase`, {confirm_id: contactId});
    assert.equal(er.status, 200, er.text);
    const q = await csatOf(t.id);
    assert.equal(q.score, 5);
    assert.equal(q.comment, '***');
  });

  test('the trigger API takes score conditions and the status action only where they mean something', async () => {
    const bad = await api('POST', '/api/v1/triggers', {name: 'x', event: 'ticket.rated', conditions: {score_max: 'low'}, actions: {status: 'open'}});
    assert.equal(bad.status, 422);
    const bad2 = await api('POST', '/api/v1/triggers', {name: 'x', event: 'ticket.rated', conditions: {}, actions: {status: 'closed'}});
    assert.equal(bad2.status, 422);
  });

  test('the survey page carries the shop\'s face: name (escaped), logo, colour sheet and the KVKK notice link', async () => {
    const set = await api('PATCH', '/api/v1/settings', {'shop.name': 'Anadolu <b>Tekstil</b>',
      'shop.logo_url': 'https://cdn.example/logo.png', 'shop.privacy_url': 'https://shop.example/kvkk'});
    assert.equal(set.status, 200, set.text);
    try {
      const email = uniqueEmail('csat-face');
      await solvedTicket({email, name: 'Yüz Testi', lang: 'tr'});
      const {links} = await csatMail(email);
      const page = await request(links[0]);
      assert.equal(page.status, 200);
      assert.match(page.text, /Anadolu &lt;b&gt;Tekstil&lt;\/b&gt;/);
      assert.ok(!page.text.includes('<b>Tekstil'), 'the shop name is escaped');
      assert.match(page.text, /<img class="fb-logo" alt="" src="https:\/\/cdn.example\/logo.png">/);
      assert.match(page.text, /<link rel="stylesheet" href="\/shop\/theme.css">/);
      assert.match(page.text, /href="https:\/\/shop.example\/kvkk">Kişisel verilerin işlenmesine ilişkin aydınlatma metni \(KVKK\)</);
    } finally {
      await api('PATCH', '/api/v1/settings', {'shop.name': '', 'shop.logo_url': '', 'shop.privacy_url': ''});
    }
  });
});
