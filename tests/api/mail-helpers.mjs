// Helpers of the e-mail tests: a real SMTP server on loopback (aiosmtpd with tests/mail/smtp_sink.py, writing each
// message it accepts to a directory) and a reader of the mails it caught.
import {after} from 'node:test';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {ROOT, tempDir, T} from './lib.mjs';

const sinks = new Set();
after(async () => { for (const s of sinks) await s.stop(); });

/** A port the kernel says is free now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => { const {port} = srv.address(); srv.close(() => resolve(port)); });
  });
}

async function waitListening(port, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts aiosmtpd on 127.0.0.1:port (a free one when omitted). Resolves {port, dir, url, mails(), stop()}. */
export async function startSmtp({port, dir} = {}) {
  port = port || await freePort();
  dir = dir || tempDir('destek-smtp-');
  const proc = spawn('/usr/bin/python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'smtp_sink.Handler'],
    {env: {...process.env, PYTHONPATH: path.join(ROOT, 'tests/mail'), MAIL_SINK_DIR: dir}, stdio: ['ignore', 'ignore', 'pipe']});
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((r) => proc.on('exit', r));
  const sink = {
    port, dir, url: `smtp://127.0.0.1:${port}`,
    mails: () => readMails(dir),
    stop: async () => { if (proc.exitCode === null && proc.signalCode === null) { proc.kill('SIGTERM'); await exited; } sinks.delete(sink); },
  };
  sinks.add(sink);
  try { await waitListening(port, T(10000)); } catch (e) { await sink.stop(); throw new Error(`${e.message}: ${stderr}`); }
  return sink;
}

/** Headers of a raw message (unfolded; names lower-case; the first of each), and its body. */
export function parseMail(raw) {
  const cut = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, cut).replace(/\r\n[ \t]+/g, ' ');
  const headers = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    const k = line.slice(0, i).toLowerCase();
    if (!(k in headers)) headers[k] = line.slice(i + 1).trim();
  }
  return {headers, body: raw.slice(cut + 4), raw};
}

/** Every mail caught in dir, oldest first. */
export function readMails(dir) {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.eml') && !f.startsWith('.')).sort()
    .map((f) => parseMail(fs.readFileSync(path.join(dir, f), 'latin1')));
}

/** Decodes a quoted-printable body part (UTF-8). */
export function qp(s) {
  const bytes = s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}
