// A minimal websocket client (RFC 6455) over node:http's upgrade, for tests: Node 20 has no WebSocket client and
// the project takes no runtime dependency for one. Text and close frames, ping answered with pong, masking, no
// extensions, no fragmentation (the server sends none).
import http from 'node:http';
import https from 'node:https';
import crypto from 'node:crypto';
import {T} from './lib.mjs';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * Opens url (http(s)://… — the ws scheme is implied). opts: {headers, origin, cookie, token, timeout}.
 * Resolves a client once the server answered 101; rejects with an Error carrying {status, headers, text, json}
 * when it answered anything else.
 * The client: {frames (every text frame, parsed), onFrame (set it to be called with each), next(pred, ms), none(pred, ms), send(obj), sendRaw(opcode,
 * payload, fin), ping(), close(code, reason), closed (a promise of {code, reason}), socket, headers}.
 */
export function wsConnect(url, opts = {}) {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  const key = crypto.randomBytes(16).toString('base64');
  const headers = {
    Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key,
    ...(opts.origin === undefined ? {Origin: u.origin} : opts.origin === null ? {} : {Origin: opts.origin}),
    ...(opts.cookie ? {Cookie: opts.cookie} : {}),
    ...(opts.token ? {Authorization: `Bearer ${opts.token}`} : {}),
    ...(opts.headers || {}),
  };
  return new Promise((resolve, reject) => {
    const req = mod.request(u, {headers, agent: false, rejectUnauthorized: false, timeout: opts.timeout || T(10000)});
    req.on('timeout', () => req.destroy(new Error(`websocket handshake timed out: ${url}`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        reject(Object.assign(new Error(`websocket refused: ${res.statusCode} ${text}`),
          {status: res.statusCode, headers: res.headers, text, json}));
      });
    });
    req.on('upgrade', (res, socket, head) => {
      const want = crypto.createHash('sha1').update(key + GUID).digest('base64');
      if (res.headers['sec-websocket-accept'] !== want) {
        socket.destroy();
        reject(new Error('bad Sec-WebSocket-Accept'));
        return;
      }
      resolve(makeClient(socket, head, res.headers));
    });
    req.end();
  });
}

function encode(opcode, payload, fin = true) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload || '');
  const len = data.length;
  const head = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (len < 126) head[1] = 0x80 | len;
  else if (len < 65536) { head[1] = 0x80 | 126; head.writeUInt16BE(len, 2); }
  else { head[1] = 0x80 | 127; head.writeBigUInt64BE(BigInt(len), 2); }
  const mask = crypto.randomBytes(4);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = data[i] ^ mask[i & 3];
  return Buffer.concat([head, mask, masked]);
}

function makeClient(socket, head, headers) {
  let buf = head && head.length ? Buffer.from(head) : Buffer.alloc(0);
  const waiters = new Set();
  let closeInfo = null;
  let resolveClosed;
  const closed = new Promise((r) => { resolveClosed = r; });
  const client = {
    socket, headers, frames: [], pongs: 0, closed,
    get isClosed() { return closeInfo !== null; },
    send(obj) { client.sendRaw(1, JSON.stringify(obj)); },
    sendRaw(opcode, payload, fin = true) { if (!socket.destroyed) socket.write(encode(opcode, payload, fin)); },
    ping() { client.sendRaw(9, 'p'); },
    close(code = 1000, reason = '') {
      const p = Buffer.alloc(2 + Buffer.byteLength(reason));
      p.writeUInt16BE(code, 0);
      p.write(reason, 2);
      client.sendRaw(8, p);
      return closed;
    },
    /** The first frame (seen already or to come) matching pred; rejects after ms. */
    next(pred = () => true, ms = T(5000)) {
      const seen = client.frames.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = {pred, resolve: (f) => { clearTimeout(timer); waiters.delete(w); resolve(f); }};
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`no matching frame within ${ms} ms; frames: ${JSON.stringify(client.frames)}`));
        }, ms);
        waiters.add(w);
      });
    },
    /** Resolves after ms if no frame matching pred arrived meanwhile (counting those seen already); else rejects. */
    async none(pred, ms) {
      const start = client.frames.length;
      await new Promise((r) => setTimeout(r, ms));
      const bad = client.frames.filter(pred);
      if (bad.length) throw new Error(`unexpected frames: ${JSON.stringify(bad)} (${client.frames.length - start} new)`);
    },
    /** Forgets the frames seen so far (next() then waits for new ones). */
    clear() { client.frames.length = 0; },
  };
  const finish = (code, reason) => {
    if (closeInfo) return;
    closeInfo = {code, reason};
    resolveClosed(closeInfo);
  };
  const parse = () => {
    for (;;) {
      if (buf.length < 2) return;
      const fin = (buf[0] & 0x80) !== 0;
      const opcode = buf[0] & 0x0f;
      const masked = (buf[1] & 0x80) !== 0;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      if (masked) off += 4;       // servers must not mask; tolerate it anyway
      if (buf.length < off + len) return;
      let payload = buf.subarray(off, off + len);
      if (masked) {
        const m = buf.subarray(off - 4, off);
        payload = Buffer.from(payload.map((b, i) => b ^ m[i & 3]));
      }
      buf = buf.subarray(off + len);
      if (opcode === 1 && fin) {
        let f;
        try { f = JSON.parse(payload.toString('utf8')); } catch { f = {type: '(not json)', text: payload.toString('utf8')}; }
        f._at = Date.now();
        client.frames.push(f);
        if (client.onFrame) client.onFrame(f);
        for (const w of [...waiters]) if (w.pred(f)) w.resolve(f);
      } else if (opcode === 9) {
        client.sendRaw(10, payload);
      } else if (opcode === 10) {
        client.pongs++;
      } else if (opcode === 8) {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        const reason = payload.length > 2 ? payload.subarray(2).toString('utf8') : '';
        if (!closeInfo) {
          // Answer a server's close (unless we started it), then let the server end the TCP connection.
          if (!client._closing) client.sendRaw(8, payload.subarray(0, 2));
          finish(code, reason);
        }
        setTimeout(() => socket.destroy(), 200);
      }
    }
  };
  const origClose = client.close;
  client.close = (code, reason) => { client._closing = true; return origClose(code, reason); };
  socket.on('data', (d) => { buf = Buffer.concat([buf, d]); parse(); });
  socket.on('close', () => finish(1006, 'connection lost'));
  socket.on('error', () => { /* reported as close 1006 */ });
  parse();
  return client;
}
