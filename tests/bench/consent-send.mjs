// The core's send path (core/consent.c): how fast queued commercial mail drains to a loopback aiosmtpd (the sender
// thread over 8 kept SMTP connections); and the cost of queuing (consent check + insert) through a Lua
// plugin's route. Figures only.
//
//   DESTEK_BIN=build/destek node tests/bench/consent-send.mjs [N=500]
import fs from 'node:fs';
import path from 'node:path';
import {ROOT, startServer, setupAdmin, tempDir, cleanup, pool, sqlite3, disableOutOfHoursReply} from '../api/lib.mjs';
import {startSmtp} from '../api/mail-helpers.mjs';

const N = Number(process.argv[2] || 500);
const dir = tempDir();
fs.mkdirSync(path.join(dir, 'plugins'));
fs.copyFileSync(path.join(ROOT, 'tests/lua/hostile_consent.lua'), path.join(dir, 'plugins/hostile_consent.lua'));
const smtp = await startSmtp();
const server = await startServer({dataDir: dir});
const admin = await setupAdmin(server);
await disableOutOfHoursReply(server, admin);
const api = (m, p, body) => server.api(m, p, {session: admin, body});
await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example'});
const t = await api('POST', '/api/v1/tickets', {subject: 'x', body: 'y', channel: 'phone', customer: {email: 'bench@example.com'}});
const id = t.json.customer.id;
await api('POST', `/api/v1/contacts/${id}/consent`, {channel: 'email', status: 'ONAY', source: 'call_centre', text_shown: 'Evet.'});
const db = path.join(dir, 'destek.db');
// Queue N through the Lua route while the sender drains (a round of at most 50 a second).
const t0 = performance.now();
await pool(Array.from({length: N}, (_, i) => i), 8, async () => {
  const r = await server.api('POST', '/hostile-consent/send', {body: {contact_id: id, commercial: true}});
  if (!r.json || !r.json.id) throw new Error(r.text);
});
const queueMs = performance.now() - t0;
const start = Date.now();
for (;;) {
  const sent = fs.readdirSync(smtp.dir).filter((f) => !f.startsWith('.')).length;   // smtp.mails() parses them all
  if (sent >= N) break;
  if (Date.now() - start > 600000) throw new Error(`only ${sent} of ${N} sent in 10 minutes`);
  await new Promise((r) => setTimeout(r, 100));
}
const pending = sqlite3(db, "SELECT count(*) FROM core_messages WHERE status = 'pending'").stdout.trim();
console.log(`queued ${N} commercial messages through a Lua route (8 at a time): ${(N / queueMs * 1000).toFixed(0)}/s`);
const all = (performance.now() - t0) / 1000;
console.log(`all ${N} delivered to loopback aiosmtpd ${all.toFixed(2)} s after the first was queued: ${(N / all).toFixed(0)}`
  + ` messages/s end to end; pending left: ${pending}`);
await smtp.stop();
await cleanup();
