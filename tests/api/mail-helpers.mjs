// Helpers of the e-mail tests: a real SMTP server on loopback (aiosmtpd with tests/mail/smtp_sink.py, writing each
// message it accepts to a directory) and a reader of the mails it caught.
import {after} from 'node:test';
import {spawn, spawnSync} from 'node:child_process';
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

/**
 * Starts aiosmtpd on 127.0.0.1:port (a free one when omitted). With auth {user, password} the server requires that
 * login (tests/mail/smtp_auth.py). Resolves {port, dir, url, mails(), stop()}.
 */
export async function startSmtp({port, dir, auth} = {}) {
  port = port || await freePort();
  dir = dir || tempDir('destek-smtp-');
  const env = {...process.env, PYTHONPATH: path.join(ROOT, 'tests/mail'), MAIL_SINK_DIR: dir};
  const args = auth ? ['-W', 'ignore', path.join(ROOT, 'tests/mail/smtp_auth.py'), '127.0.0.1', String(port)]
    : ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'smtp_sink.Handler'];
  if (auth) Object.assign(env, {MAIL_SINK_USER: auth.user, MAIL_SINK_PASSWORD: auth.password});
  const proc = spawn('/usr/bin/python3', args, {env, stdio: ['ignore', 'ignore', 'pipe']});
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((r) => proc.on('exit', r));
  const sink = {
    port, dir, url: `smtp://127.0.0.1:${port}`,
    mails: () => readMails(dir),
    stop: async () => { if (proc.exitCode === null && proc.signalCode === null) { proc.kill('SIGTERM'); await exited; } sinks.delete(sink); },
  };
  sinks.add(sink);
  try { await waitListening(port, T(20000)); } catch (e) { await sink.stop(); throw new Error(`${e.message}: ${stderr}`); }
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

/**
 * Starts Debian's dovecot (dovecot-imapd) in the foreground on 127.0.0.1:port with a config generated in a temp
 * dir: IMAP only, plaintext auth on loopback, one passwd-file user whose Maildir is in the temp dir (owned by
 * nobody, the uid dovecot's mail processes run as). Resolves {port, url, user, password, deliver(raw), flags(),
 * stop()}; deliver() drops a message into the Maildir's new/ as an MTA would.
 */
export async function startDovecot() {
  const dir = tempDir('destek-dovecot-');
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const user = 'destek@test.example';
  const password = 'imap secret 1';
  const maildir = path.join(dir, 'home', 'Maildir');
  for (const d of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(maildir, d), {recursive: true});
  for (const d of ['run', 'state']) fs.mkdirSync(path.join(dir, d));
  fs.writeFileSync(path.join(dir, 'passwd'), `${user}:{PLAIN}${password}::::::\n`);
  const nobody = 65534;
  const chownR = (p) => { fs.chownSync(p, nobody, nobody); if (fs.statSync(p).isDirectory()) for (const f of fs.readdirSync(p)) chownR(path.join(p, f)); };
  chownR(path.join(dir, 'home'));
  const conf = `protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${nobody} gid=${nobody} home=${dir}/home
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
}
service submission-login {
  inet_listener submission {
    port = 0
  }
}
`;
  fs.writeFileSync(path.join(dir, 'dovecot.conf'), conf);
  const proc = spawn('/usr/sbin/dovecot', ['-F', '-c', path.join(dir, 'dovecot.conf')], {stdio: ['ignore', 'pipe', 'pipe']});
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((r) => proc.on('exit', r));
  let n = 0;
  const dv = {
    port, user, password, url: `imap://127.0.0.1:${port}/INBOX`, maildir,
    deliver(raw) {
      const name = `${Date.now()}.${process.pid}_${++n}.test`;
      const tmp = path.join(maildir, 'tmp', name);
      fs.writeFileSync(tmp, raw);
      fs.chownSync(tmp, nobody, nobody);
      fs.renameSync(tmp, path.join(maildir, 'new', name));
    },
    /** Maildir flags of every message ("S" = \Seen), from the file names in cur/ (new/ ones have none). */
    flags() {
      return [...fs.readdirSync(path.join(maildir, 'new')).map(() => ''),
        ...fs.readdirSync(path.join(maildir, 'cur')).map((f) => (f.split(':2,')[1] || ''))];
    },
    stop: async () => { if (proc.exitCode === null && proc.signalCode === null) { proc.kill('SIGTERM'); await exited; } },
  };
  sinks.add(dv);
  try { await waitListening(port, T(20000)); } catch (e) { await dv.stop(); throw new Error(`dovecot did not start: ${e.message}: ${out}`); }
  return dv;
}

/**
 * A self-signed certificate for 127.0.0.1 (openssl), for the TLS mail servers: {cert, key} file paths and the
 * certificate's PEM text (what mail.tls_ca takes).
 */
export function makeCert() {
  const dir = tempDir('destek-cert-');
  const cert = path.join(dir, 'cert.pem'), key = path.join(dir, 'key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], {stdio: ['ignore', 'ignore', 'pipe']});
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
  return {cert, key, pem: fs.readFileSync(cert, 'utf8')};
}

/**
 * aiosmtpd with TLS (tests/mail/smtp_tls.py): mode "starttls" (offered, not required) or "implicit" (TLS from the
 * first byte), with certificate files {cert, key} from makeCert(). Each caught mail has "X-Sink-TLS: yes|no".
 * Resolves like startSmtp.
 */
export async function startSmtpTls(mode, {cert, key}) {
  const port = await freePort();
  const dir = tempDir('destek-smtp-tls-');
  const env = {...process.env, PYTHONPATH: path.join(ROOT, 'tests/mail'), MAIL_SINK_DIR: dir, MAIL_SINK_CERT: cert,
    MAIL_SINK_KEY: key};
  const proc = spawn('/usr/bin/python3', ['-W', 'ignore', path.join(ROOT, 'tests/mail/smtp_tls.py'), mode, '127.0.0.1',
    String(port)], {env, stdio: ['ignore', 'ignore', 'pipe']});
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((r) => proc.on('exit', r));
  const sink = {
    port, dir, url: `smtp://127.0.0.1:${port}`,
    mails: () => readMails(dir),
    stop: async () => { if (proc.exitCode === null && proc.signalCode === null) { proc.kill('SIGTERM'); await exited; } sinks.delete(sink); },
  };
  sinks.add(sink);
  try { await waitListening(port, T(20000)); } catch (e) { await sink.stop(); throw new Error(`${e.message}: ${stderr}`); }
  return sink;
}

/**
 * Runs IMAP commands on dovecot dv as its user with Python's imaplib: ops is a list of ["create", name],
 * ["delete", name], ["append", name, rawBuffer, flags?] (flags: "(\\Seen)"). Throws when one fails.
 */
export function imapOps(dv, ops) {
  const script = `
import imaplib, json, sys, base64
ops = json.load(sys.stdin)
m = imaplib.IMAP4('127.0.0.1', ${Number(dv.port)})
m.login(${JSON.stringify(dv.user)}, ${JSON.stringify(dv.password)})
for op in ops:
    if op[0] == 'create': typ, data = m.create(op[1])
    elif op[0] == 'delete': typ, data = m.delete(op[1])
    elif op[0] == 'append': typ, data = m.append(op[1], op[3] if len(op) > 3 else None, None, base64.b64decode(op[2]))
    if typ != 'OK': raise SystemExit('%s: %s %s' % (op[0], typ, data))
m.logout()
`;
  const input = JSON.stringify(ops.map((o) => (o[0] === 'append'
    ? [o[0], o[1], Buffer.from(o[2]).toString('base64'), ...o.slice(3)] : o)));
  const r = spawnSync('/usr/bin/python3', ['-c', script], {input, stdio: ['pipe', 'pipe', 'pipe']});
  if (r.status !== 0) throw new Error(`imap: ${r.stderr}${r.stdout}`);
}
