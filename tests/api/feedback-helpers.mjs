// Helpers of the feedback tests: a caught mail's parts decoded as a mail client would (quoted-printable or base64,
// per part), and the HTML's character references undone, so links read from the HTML are the links a person clicks.
import {qp} from './mail-helpers.mjs';

/** Every text part of a mail ({headers, body} from mail-helpers' readMails), decoded, joined by newlines. */
export function mailText(m) {
  const boundary = (m.headers['content-type'] || '').match(/boundary="?([^";]+)"?/);
  const parts = boundary ? m.body.split(`--${boundary[1]}`).slice(1, -1) : [`\r\n${m.body}`];
  const out = [];
  for (const p of parts) {
    const cut = p.indexOf('\r\n\r\n');
    const head = boundary ? p.slice(0, cut).toLowerCase() : (m.headers['content-transfer-encoding'] || '').toLowerCase();
    const body = boundary ? p.slice(cut + 4) : m.body;
    let text = /base64/.test(head) ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
      : /quoted-printable/.test(head) ? qp(body) : Buffer.from(body, 'latin1').toString('utf8');
    if (/text\/html/.test(head)) text = text.replace(/&#61;/g, '=').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    out.push(text);
  }
  return out.join('\n');
}
