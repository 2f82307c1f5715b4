// Reports (plugins/reports) following its sources: only the events each <module>.report_facts describes are followed
// (subscribed in the start phase, noted in the event's own transaction, no delivery row per event), refreshes are
// batched by the flush job, figures are right after a burst, a rebuild goes in pages into a shadow key while tickets
// are written and swaps whole; and the figures chat and campaigns publish (conversations by channel with the first
// response; a campaign's sent, delivered, failed, withheld by reason, unsubscribed) against a direct computation over
// the modules' own tables. One server for the file.
import {before, test} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import {startServer, setupAdmin, createUser, login, disableOutOfHoursReply, eventually, sqlite3, tempDir, request, T}
  from './lib.mjs';
import {startSmtp} from './mail-helpers.mjs';

const ORIGIN = 'https://shop.example';
const APP_SECRET = 'wa-app-secret';
let server, admin, agent, db, smtp, shop;
const api = (method, p, body, session = admin) => server.api(method, p, {session, body});
const sql = (q) => {
  const r = sqlite3(db, q);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').filter((l) => l).map((l) => l.split('|'));
};
const one = (q) => Number(sql(q)[0][0]);
const median = (v) => (v.length ? [...v].sort((a, b) => a - b)[(v.length - 1) >> 1] : null);

const today = () => new Date(Date.now() + 180 * 60000).toISOString().slice(0, 10);
const dash = async () => {
  const d = today();
  const res = await api('GET', `/api/v1/reports/dashboard?from=${d}&to=${d}`);
  assert.equal(res.status, 200, res.text);
  return res.json;
};
const status = async () => (await api('GET', '/api/v1/reports/status')).json.items;
const drained = async () => eventually(status, (items) => items.every((i) => i.pending === 0 && !i.rebuilding), {ms: T(20000)});

before(async () => {
  const dir = tempDir();
  smtp = await startSmtp();
  server = await startServer({dataDir: dir});
  db = path.join(dir, 'destek.db');
  admin = await setupAdmin(server);
  const a = await createUser(server, admin, {name: 'Ayla Agent', email: 'ayla@example.com'});
  agent = await login(server, a.email, a.password);
  await disableOutOfHoursReply(server, admin);
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example',
    'chat.address_limit': 1000, 'chat.wa_verify_token': 'v', 'chat.wa_app_secret': APP_SECRET, 'chat.wa_access_token': 't',
    'chat.wa_phone_number_id': '1065'});
  assert.equal(set.status, 200, set.text);
  const res = await api('POST', '/api/v1/chat/shops', {name: 'Örnek Mağaza', origins: [ORIGIN]});
  assert.equal(res.status, 201, res.text);
  shop = res.json;
});

test('reports follows only the events its sources name: a note in the event\'s transaction, no delivery rows', async () => {
  const res = await api('POST', '/api/v1/tickets', {subject: 'Kargo', body: 'Merhaba', customer: {email: 'f1@example.com'}});
  assert.equal(res.status, 201, res.text);
  await drained();
  assert.equal(one("SELECT count(*) FROM core_deliveries WHERE subscriber LIKE 'reports:%'"), 0, 'no delivery row for reports');
  assert.equal(one('SELECT count(*) FROM reports_pending'), 0);
  assert.equal(one(`SELECT count(*) FROM reports_facts WHERE kind = 'ticket' AND entity_id = ${res.json.id}`), 1);
  // An event none of the sources names (a help centre article) is not even noted.
  const before = one('SELECT count(*) FROM core_outbox');
  const art = await api('POST', '/api/v1/helpcentre/articles', {title: 'Kargo', body: 'Kargo 2 günde gelir.', status: 'published'});
  if (art.status === 201) assert.ok(one('SELECT count(*) FROM core_outbox') > before);
  assert.equal(one('SELECT count(*) FROM reports_pending'), 0);
});

test('a burst of tickets: every figure right once the batches are through', async () => {
  const channels = ['email', 'web', 'phone', 'api'];
  const ids = [];
  for (let round = 0; round < 6; round++) {
    const made = await Promise.all(Array.from({length: 25}, (_, i) => api('POST', '/api/v1/tickets',
      {subject: `Soru ${round}-${i}`, body: 'Merhaba', channel: channels[(round + i) % 4], customer: {email: `b${round}-${i}@example.com`}})));
    for (const r of made) { assert.equal(r.status, 201, r.text); ids.push(r.json.id); }
  }
  // Some are answered at once (first response), some solved.
  await Promise.all(ids.slice(0, 40).map((id) => api('POST', `/api/v1/tickets/${id}/messages`, {body: 'Bakıyoruz', kind: 'reply'})));
  await Promise.all(ids.slice(0, 20).map((id) => api('PATCH', `/api/v1/tickets/${id}`, {status: 'solved'})));
  await drained();
  const d = await dash();
  const t = d.kinds.ticket.current;
  assert.equal(t.count, one('SELECT count(*) FROM tkt_tickets WHERE merged_into IS NULL'));
  const byChannel = Object.fromEntries(sql('SELECT channel, count(*) FROM tkt_tickets WHERE merged_into IS NULL GROUP BY channel')
    .map(([k, v]) => [k, Number(v)]));
  assert.deepEqual(Object.fromEntries(t.by.channel.map((r) => [r.value, r.count])), byChannel);
  assert.equal(t.durations.res.n, one("SELECT count(*) FROM tkt_tickets WHERE status IN ('solved', 'closed') AND merged_into IS NULL"));
  assert.ok(t.durations.frt.n >= 40, `first responses: ${t.durations.frt.n}`);
});

test('a rebuild goes in pages into a shadow and swaps whole, while tickets are written', async () => {
  const was = sql("SELECT coalesce(store, kind) FROM reports_sources WHERE kind = 'ticket'")[0]?.[0] || 'ticket';
  const rebuild = api('POST', '/api/v1/reports/rebuild');
  const made = [];
  for (let i = 0; i < 30; i++) {
    const r = await api('POST', '/api/v1/tickets', {subject: `Yeni ${i}`, body: 'x', customer: {email: `r${i}@example.com`}});
    assert.equal(r.status, 201, r.text);
    made.push(r.json.id);
  }
  const res = await rebuild;
  assert.equal(res.status, 200, res.text);
  const kinds = res.json.items.map((i) => i.kind);
  assert.ok(kinds.includes('ticket') && kinds.includes('conversation') && kinds.includes('campaign'), kinds.join());
  await drained();
  const now = sql("SELECT store FROM reports_sources WHERE kind = 'ticket'")[0][0];
  assert.notEqual(now, was, 'the live key was swapped');
  assert.equal(one(`SELECT count(*) FROM reports_facts WHERE kind = '${was}'`), 0, 'the old copy is cleared');
  assert.equal(one(`SELECT count(*) FROM reports_daily WHERE kind = '${was}'`), 0);
  const d = await dash();
  assert.equal(d.kinds.ticket.current.count, one('SELECT count(*) FROM tkt_tickets WHERE merged_into IS NULL'));
  assert.equal(one(`SELECT count(*) FROM reports_facts WHERE kind = '${now}'`), one('SELECT count(*) FROM tkt_tickets WHERE merged_into IS NULL'));
  const st = (await status()).find((i) => i.kind === 'ticket');
  assert.ok(st.rebuild_ms >= 0 && st.rebuilt_at > 0 && st.rebuilding === null, JSON.stringify(st));
  // A second rebuild at once is refused while one runs; after, it swaps back.
  const [a, b] = await Promise.all([api('POST', '/api/v1/reports/rebuild'), api('POST', '/api/v1/reports/rebuild')]);
  assert.deepEqual([a.status, b.status].sort(), [200, 409]);
  assert.equal(sql("SELECT store FROM reports_sources WHERE kind = 'ticket'")[0][0], was);
});

// ---- chat and WhatsApp -------------------------------------------------------------------------------------------
const chat = (method, p, {token, body} = {}) =>
  server.api(method, p, {body, headers: {origin: ORIGIN, ...(token ? {'x-chat-token': token} : {})}});
function waPost(from, name, id, text) {
  const raw = JSON.stringify({object: 'whatsapp_business_account', entry: [{id: 'WABA', changes: [{field: 'messages', value: {
    messaging_product: 'whatsapp', metadata: {display_phone_number: '908501234567', phone_number_id: '1065'},
    contacts: [{profile: {name}, wa_id: from}],
    messages: [{from, id, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: {body: text}}]}}]}]});
  const sig = 'sha256=' + crypto.createHmac('sha256', APP_SECRET).update(raw).digest('hex');
  return server.api('POST', '/api/v1/chat/whatsapp/webhook', {rawBody: raw, headers: {'x-hub-signature-256': sig}});
}

test('chat and WhatsApp conversations: counts, first response and its median by channel, as the chat tables say', async () => {
  for (let i = 0; i < 4; i++) {
    const s = await chat('POST', '/api/v1/chat/session', {body: {site_key: shop.site_key, lang: 'tr'}});
    assert.equal(s.status, 201, s.text);
    const token = s.json.token;
    for (let m = 0; m <= i % 2; m++) {
      const r = await chat('POST', '/api/v1/chat/messages', {token, body: {client_id: `c${i}-${m}`, body: `Merhaba ${m}`,
        email: `chat${i}@example.com`, name: `Ziyaretçi ${i}`}});
      assert.equal(r.status, 201, r.text);
    }
    if (i < 3) {
      const ticket = one(`SELECT ticket_id FROM chat_conversations c JOIN chat_visitors v ON v.id = c.visitor_id WHERE v.email = 'chat${i}@example.com'`);
      if (i === 2) await new Promise((r) => setTimeout(r, 1100));   // a first response a second later at least
      const rep = await api('POST', `/api/v1/tickets/${ticket}/messages`, {body: 'Buyrun'}, agent);
      assert.equal(rep.status, 201, rep.text);
    }
  }
  for (let i = 0; i < 2; i++) assert.equal((await waPost(`90532000000${i}`, `Wa ${i}`, `wamid.R${i}`, 'Siparişim?')).status, 200);
  // The agents' chat replies reach the chat on the bus: wait for them, then for the notes.
  await eventually(() => one("SELECT count(*) FROM chat_messages WHERE sender = 'agent'"), (n) => n >= 3, {ms: T(10000)});
  const expect = async () => {
    const rows = sql("SELECT c.ticket_id, strftime('%s', c.created_at), (SELECT strftime('%s', min(m.created_at)) FROM chat_messages m" +
      " WHERE m.conversation_id = c.id AND m.sender = 'agent'), (SELECT count(*) FROM chat_messages m WHERE m.conversation_id = c.id" +
      " AND m.sender = 'visitor') FROM chat_conversations c");
    const wa = sql("SELECT ticket_id, strftime('%s', min(created_at)), count(*) FROM chat_wa_messages WHERE direction = 'in' GROUP BY ticket_id");
    const frt = rows.filter((r) => r[2]).map((r) => Number(r[2]) - Number(r[1]));
    return {count: rows.length + wa.length, chat: rows.length, wa: wa.length,
      messages: rows.reduce((a, r) => a + Number(r[3]), 0) + wa.reduce((a, r) => a + Number(r[2]), 0), frt};
  };
  const exp = await expect();
  await drained();
  const d = await eventually(dash, (x) => x.kinds.conversation?.current.count === exp.count &&
    x.kinds.conversation.current.durations.frt.n === exp.frt.length, {ms: T(15000)});
  const c = d.kinds.conversation.current;
  assert.equal(c.measures.conversations.sum, exp.count);
  assert.equal(c.measures.messages.sum, exp.messages);
  assert.equal(c.measures.answered.sum, exp.frt.length);
  assert.equal(c.durations.frt.median, median(exp.frt));
  const byCh = Object.fromEntries(c.by.channel.map((r) => [r.value, r]));
  assert.equal(byCh.chat.count, exp.chat);
  assert.equal(byCh.whatsapp.count, exp.wa);
  assert.equal(byCh.chat.measures.frt.median, median(exp.frt), 'the first response\'s median per channel');
  assert.equal(byCh.whatsapp.measures.frt, undefined, 'no WhatsApp answer yet');
  assert.equal(d.kinds.conversation.backlog.open, exp.count - exp.frt.length + 0 /* answered chats still open */ +
    one("SELECT count(*) FROM chat_conversations c WHERE c.status = 'open' AND EXISTS (SELECT 1 FROM chat_messages m" +
      " WHERE m.conversation_id = c.id AND m.sender = 'agent')"));
});

// ---- campaigns ---------------------------------------------------------------------------------------------------
test('campaign figures: sent, delivered, failed, withheld by reason, unsubscribed, as the campaign tables say', async () => {
  const TEXT = '"Kampanyalardan haberdar olmak istiyorum."';
  const row = (email, status = 'ONAY', extra = {}) => [email, extra.channel || 'email', status, '2026-10-01T09:00:00Z',
    'web_form', status === 'RET' ? '' : TEXT, '', '203.0.113.9', 'Ayşe Yılmaz', '', 'vip'].join(',');
  const lines = ['k1@example.com', 'k2@example.com', 'k3@example.com'].map((e) => row(e));
  lines.push(row('kret@example.com'), row('kret@example.com', 'RET'), row('ksms@example.com', 'ONAY', {channel: 'sms'}));
  const imp = await api('POST', '/api/v1/campaign-imports', {name: 'liste',
    csv: ['contact,channel,status,at,source,text_shown,address,ip,name,lang,tags', ...lines].join('\r\n') + '\r\n'});
  assert.equal(imp.status, 201, imp.text);
  const c = await api('POST', '/api/v1/campaigns', {name: 'Kış indirimi', rules: {tags: ['vip']}, per_second: 1000,
    subject_tr: 'Merhaba', body_tr: 'İndirim', subject_en: 'Hello', body_en: 'Sale'});
  assert.equal(c.status, 201, c.text);
  const id = c.json.id;
  assert.equal((await api('POST', `/api/v1/campaigns/${id}/schedule`, {})).status, 202);
  const done = await eventually(() => api('GET', `/api/v1/campaigns/${id}`), (r) => r.json.status === 'done' &&
    r.json.results.messages.delivered === 3, {ms: T(15000)});
  // One refuses through the message's link.
  const mail = await eventually(() => smtp.mails().filter((x) => x.headers.to.includes('<k1@example.com>')), (l) => l.length === 1);
  const url = /<([^>]+)>/.exec(mail[0].headers['list-unsubscribe'])[1];
  const u = await request(server.url + new URL(url).pathname, {method: 'POST', body: 'List-Unsubscribe=One-Click',
    headers: {'content-type': 'application/x-www-form-urlencoded'}});
  assert.equal(u.status, 200);
  // Sent and withheld follow campaign.finished; deliveries and refusals come later: asked again on the source's
  // refresh_open period, or at a rebuild, as here.
  await drained();
  let d = await eventually(dash, (x) => x.kinds.campaign?.current.by.campaign?.some((r) => r.value === String(id)), {ms: T(10000)});
  let row1 = d.kinds.campaign.current.by.campaign.find((r) => r.value === String(id));
  assert.equal(row1.label, 'Kış indirimi');
  assert.equal(row1.measures.sent.sum, done.json.results.sent);
  assert.equal((await api('POST', '/api/v1/reports/rebuild')).status, 200);
  d = await dash();
  row1 = d.kinds.campaign.current.by.campaign.find((r) => r.value === String(id));
  const m = row1.measures;
  const direct = {
    recipients: one(`SELECT count(*) FROM campaigns_recipients WHERE campaign_id = ${id}`),
    sent: one(`SELECT count(*) FROM campaigns_recipients WHERE campaign_id = ${id} AND status = 'sent'`),
    delivered: one(`SELECT count(*) FROM campaigns_recipients r JOIN core_messages x ON x.id = r.message_id WHERE r.campaign_id = ${id} AND x.status = 'sent'`),
    failed: one(`SELECT count(*) FROM campaigns_recipients r JOIN core_messages x ON x.id = r.message_id WHERE r.campaign_id = ${id} AND x.status = 'failed'`),
    no_consent: one(`SELECT count(*) FROM campaigns_recipients WHERE campaign_id = ${id} AND status = 'skipped' AND reason = 'no_consent'`),
    unsubscribed: one(`SELECT count(DISTINCT r.contact_id) FROM campaigns_recipients r JOIN core_consent k ON k.contact_id = r.contact_id
      WHERE r.campaign_id = ${id} AND r.status = 'sent' AND k.status = 'RET' AND k.source = 'unsubscribe_link'`),
  };
  assert.deepEqual(direct, {recipients: 5, sent: 3, delivered: 3, failed: 0, no_consent: 2, unsubscribed: 1});
  assert.equal(m.recipients.sum, direct.recipients);
  assert.equal(m.sent.sum, direct.sent);
  assert.equal(m.delivered.sum, direct.delivered);
  assert.equal(m.failed.sum, direct.failed);
  assert.equal(m.withheld.sum, direct.no_consent);
  assert.equal(m.withheld_no_consent.sum, direct.no_consent);
  assert.equal(m.unsubscribed.sum, direct.unsubscribed);
  assert.equal(d.kinds.campaign.current.measures.campaigns.sum, one('SELECT count(*) FROM campaigns_campaigns WHERE started_at IS NOT NULL'));
});

test('campaign figures are live while it sends (campaign.progress), not only when it ends', async () => {
  const TEXT = '"Kampanyalardan haberdar olmak istiyorum."';
  const emails = Array.from({length: 12}, (_, i) => `canli${i}@example.com`);
  const lines = emails.map((e) => [e, 'email', 'ONAY', '2026-10-01T09:00:00Z', 'web_form', TEXT, '', '203.0.113.9',
    'Can Canlı', '', 'canli'].join(','));
  const imp = await api('POST', '/api/v1/campaign-imports', {name: 'canlı liste',
    csv: ['contact,channel,status,at,source,text_shown,address,ip,name,lang,tags', ...lines].join('\r\n') + '\r\n'});
  assert.equal(imp.status, 201, imp.text);
  // One a second: twelve seconds of sending; paused after the first batch, so the figures are those of a campaign
  // that has not ended.
  const c = await api('POST', '/api/v1/campaigns', {name: 'Canlı kampanya', rules: {tags: ['canli']}, per_second: 1,
    subject_tr: 'Merhaba', body_tr: 'İndirim', subject_en: 'Hello', body_en: 'Sale'});
  assert.equal(c.status, 201, c.text);
  const id = c.json.id;
  assert.equal((await api('POST', `/api/v1/campaigns/${id}/schedule`, {})).status, 202);
  await eventually(() => api('GET', `/api/v1/campaigns/${id}`), (r) => r.json.results.sent >= 1, {ms: T(15000)});
  const p = await api('POST', `/api/v1/campaigns/${id}/pause`, {});
  assert.equal(p.status, 200, p.text);
  const now = await api('GET', `/api/v1/campaigns/${id}`);
  assert.equal(now.json.status, 'paused');
  const sent = one(`SELECT count(*) FROM campaigns_recipients WHERE campaign_id = ${id} AND status = 'sent'`);
  assert.ok(sent >= 1 && sent < emails.length, `sent ${sent}`);
  // Within a second or two (the flush), without a rebuild and before any campaign.finished.
  const row = (x) => x.kinds.campaign?.current.by.campaign?.find((r) => r.value === String(id));
  const d = await eventually(dash, (x) => row(x)?.measures.sent?.sum === sent, {ms: T(10000)});
  assert.equal(row(d).label, 'Canlı kampanya');
  assert.equal(row(d).measures.recipients.sum, one(`SELECT count(*) FROM campaigns_recipients WHERE campaign_id = ${id}`));
  assert.equal(one(`SELECT open FROM reports_facts WHERE kind IN ('campaign', 'campaign~') AND entity_id = ${id}`), 1);
});
