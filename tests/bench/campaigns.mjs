// Campaigns end to end (plugins/campaigns + the core's send path): N contacts imported with ONAY (CSV, 2,000 rows a
// request), a segment counted, a campaign to all of them (per_second 2000) handed to the core's commercial path and
// delivered over SMTP to a loopback aiosmtpd; while it sends, GET /api/v1/me is timed against idle. Figures only.
//
//   DESTEK_BIN=build/destek node tests/bench/campaigns.mjs [N=5000] [ROWS_PER_IMPORT=250] [aiosmtpd|node]
// The last argument picks the SMTP server: aiosmtpd (Python, the tests' sink; the default) or a minimal one in this
// process that only counts (to see what the core's sender does when the SMTP server is not the limit).
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import {startServer, setupAdmin, tempDir, cleanup, sqlite3} from '../api/lib.mjs';
import {startSmtp} from '../api/mail-helpers.mjs';

const N = Number(process.argv[2] || 5000);
const PER = Number(process.argv[3] || 250);
// S of the N contacts have an ONAY for e-mail (the first S), the others a RET: the segment is built over N, the campaign
// queues S recipients (the bench: a segment over 100,000 contacts, a campaign to 50,000).
const S = Number(process.env.BENCH_RECIPIENTS || N);
const dir = tempDir();
const SINK = process.argv[4] || 'aiosmtpd';

// A minimal SMTP server that accepts every message and counts it.
async function nodeSink() {
  let count = 0;
  const srv = net.createServer((sock) => {
    sock.setNoDelay(true);
    let buf = '', data = false;
    sock.write('220 sink ESMTP\r\n');
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        if (data) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          buf = buf.slice(end + 5);
          data = false;
          count++;
          sock.write('250 accepted\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl).toUpperCase();
        buf = buf.slice(nl + 2);
        if (line.startsWith('EHLO')) sock.write('250-sink\r\n250 8BITMIME\r\n');
        else if (line.startsWith('DATA')) { data = true; sock.write('354 go on\r\n'); buf = '\r\n' + buf; }
        else if (line.startsWith('QUIT')) { sock.end('221 bye\r\n'); return; }
        else sock.write('250 ok\r\n');
      }
    });
    sock.on('error', () => {});
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {url: `smtp://127.0.0.1:${srv.address().port}`, count: () => count, stop: async () => srv.close()};
}
const smtp = SINK === 'node' ? await nodeSink() : await startSmtp();
const server = await startServer({dataDir: dir});
const admin = await setupAdmin(server);
// The server's CPU seconds (user + system, /proc/PID/stat; 100 ticks a second).
const serverCpu = () => {
  const f = fs.readFileSync(`/proc/${server.proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const api = (m, p, body) => server.api(m, p, {session: admin, body});
await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'kampanya@shop.example'});

let t0 = performance.now();
try {
for (let i = 0; i < N; i += PER) {
  const lines = ['contact,channel,status,at,source,text_shown,ip,tags'];
  for (let k = i; k < Math.min(N, i + PER); k++) {
    lines.push(k < S ? `b${k}@example.com,email,ONAY,2026-10-01T09:00:00Z,web_form,Kampanyalardan haberdar olmak istiyorum.,203.0.113.9,bench`
                     : `b${k}@example.com,email,RET,2026-10-01T09:00:00Z,call_centre,,,bench`);
  }
  const r = await api('POST', '/api/v1/campaign-imports', {name: `bench ${i}`, csv: lines.join('\n')});
  if (r.status !== 201) throw new Error(r.text + server.stderrText().slice(-600));
}
const importS = (performance.now() - t0) / 1000;
console.log(`imported ${N} contacts (${S} ONAY, ${N - S} RET) (CSV, ${PER} rows a request): ${importS.toFixed(2)} s, ${(N / importS).toFixed(0)} rows/s`);

t0 = performance.now();
// The count comes a page (25,000 contacts) at a time: the pages added up, as the Campaigns page does.
let cnt = null, pages = 0;
for (let after = 0; ;) {
  const r = await api('POST', '/api/v1/campaign-segments/count', {rules: {tags: ['bench']}, after});
  if (r.status !== 200) { cnt = r; break; }
  pages++;
  if (!cnt) cnt = r;
  else for (const k of ['matched', 'with_address', 'sendable', 'no_consent', 'no_address']) cnt.json[k] += r.json[k];
  if (r.json.next_after == null) break;
  after = r.json.next_after;
}
console.log(`segment count over ${N} contacts (tag + ledger state, ${pages} pages): ${(performance.now() - t0).toFixed(0)} ms -> ${JSON.stringify(cnt.json.error ? cnt.json : {matched: cnt.json.matched, with_address: cnt.json.with_address, sendable: cnt.json.sendable, no_consent: cnt.json.no_consent})}`);

// The server's own time for each GET /api/v1/me of a window (its access log): less distorted by the load of the
// client, the SMTP sink and other processes on the machine than the time the client sees.
function serverP99(from, to) {
  const t = [...server.stderrText().slice(from, to).matchAll(/GET \/api\/v1\/me 200 ([\d.]+)ms/g)].map((m) => Number(m[1]));
  t.sort((a, b) => a - b);
  return {n: t.length, p50: t[Math.floor(t.length * 0.5)] || 0, p99: t[Math.floor(t.length * 0.99)] || 0};
}

async function meTimes(ms, until = null) {
  const times = [];
  const from = server.stderrText().length;
  const end = Date.now() + ms;
  while (until ? !until() : Date.now() < end) {
    const s = performance.now();
    const r = await api('GET', '/api/v1/me');
    if (r.status !== 200) throw new Error(r.text);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  return {n: times.length, p50: times[Math.floor(times.length * 0.5)], p99: times[Math.floor(times.length * 0.99)],
    server: serverP99(from, server.stderrText().length)};
}
const idle = await meTimes(2000);

const c = await api('POST', '/api/v1/campaigns', {name: 'bench', rules: {tags: ['bench']}, per_second: 2000,
  subject_tr: 'Merhaba {{first_name}}', body_tr: 'Yılbaşı indirimi: %20.', subject_en: 'Hello', body_en: 'Sale.'});
// Delivered: what the sink counted (node), or the files aiosmtpd wrote (listed once a second).
const delivered = () => (SINK === 'node' ? smtp.count() : fs.readdirSync(smtp.dir).length);
let viewFailed = 0, views = 0;
const before = delivered();
t0 = performance.now();
let cpu0 = serverCpu();
await api('POST', `/api/v1/campaigns/${c.json.id}/schedule`, {});
let done = false;
const busyP = meTimes(0, () => done);   // GET /api/v1/me all along the sending
let queuedAt = null, gatheredAt = null;
for (;;) {
  const r = await api('GET', `/api/v1/campaigns/${c.json.id}`);
  views++;
  if (r.status !== 200) { viewFailed++; await new Promise((res) => setTimeout(res, 1000)); continue; }
  if (!gatheredAt && r.json.results.recipients === N && !r.json.gathering) gatheredAt = performance.now();
  if (!queuedAt && r.json.results.sent + r.json.results.skipped === N && !r.json.gathering) queuedAt = performance.now();
  if (delivered() - before >= S) break;
  if (performance.now() - t0 > 900000) throw new Error('not delivered in 15 minutes');
  await new Promise((res) => setTimeout(res, 1000));
}
const all = (performance.now() - t0) / 1000;
const cpu = serverCpu() - cpu0;
done = true;
const busy = await busyP;
const pending = sqlite3(path.join(dir, 'destek.db'), "SELECT count(*) FROM core_messages WHERE status = 'pending'").stdout.trim();
console.log(`campaign over ${N} contacts to ${S} recipients: the ${N} gathered (${N - S} skipped) in` +
  ` ${((gatheredAt - t0) / 1000).toFixed(2)} s; the ${S} handed to the core's send path in ${((queuedAt - t0) / 1000).toFixed(2)} s` +
  ` (${(S / ((queuedAt - t0) / 1000)).toFixed(0)}/s); all delivered to a loopback ${SINK} in ${all.toFixed(2)} s:` +
  ` ${(S / all).toFixed(0)} messages/s end to end; pending left ${pending}; server CPU ${cpu.toFixed(1)} s` +
  ` (${(cpu * 1000 / S).toFixed(2)} ms a message, queuing included); load ${os.loadavg()[0].toFixed(1)}`);
console.log(`GET /api/v1/campaigns/{id} (results) polled once a second while sending: ${viewFailed} of ${views} failed`);
console.log(`GET /api/v1/me idle: p50 ${idle.p50.toFixed(2)} ms, p99 ${idle.p99.toFixed(2)} ms (${idle.n});` +
  ` while sending: p50 ${busy.p50.toFixed(2)} ms, p99 ${busy.p99.toFixed(2)} ms (${busy.n})`);
console.log(`GET /api/v1/me p99 while sending / idle: ${(busy.p99 / idle.p99).toFixed(2)} x (target: at most 2 x)`);
console.log(`GET /api/v1/me in the server (access log): idle p50 ${idle.server.p50.toFixed(2)} ms, p99 ${idle.server.p99.toFixed(2)} ms;` +
  ` while sending p50 ${busy.server.p50.toFixed(2)} ms, p99 ${busy.server.p99.toFixed(2)} ms:` +
  ` ${(busy.server.p99 / Math.max(idle.server.p99, 0.01)).toFixed(2)} x`);
  if (process.env.DEBUG_LOG) console.log(server.stderrText().split('\n').filter((l) => /WARN|ERROR|campaign-imports/.test(l)).map((l) => l.replace(/^.*(POST \S+ \d+ [\d.]+ms).*$/, '$1')).join('\n'));
} catch (e) {
  console.log(`FAILED: ${e.stack}\nserver log (end):\n${server.stderrText().slice(-4000)}`);
  process.exitCode = 1;
} finally {
  await smtp.stop();
  await cleanup();
}
