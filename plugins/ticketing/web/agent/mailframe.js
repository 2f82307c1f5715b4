// An HTML mail body (message.body_html) in a sandboxed iframe.
//
// The server already sanitises inbound mail (core/mail_html.c: an allowlist of tags, attributes and style
// properties; remote images moved to data-remote-src so that nothing loads by itself). This is the second wall:
//   * the HTML is parsed here in an inert document (DOMParser: no scripts run, nothing loads) and filtered again
//     by the same kind of allowlist, since an integration may post body_html that never went through the mail path;
//   * it is shown with srcdoc in <iframe sandbox> WITHOUT allow-scripts (so nothing in it can run), with its own
//     CSP (<meta>): images only from this server and data: until the agent clicks "show images" for that message;
//   * allow-same-origin (safe without allow-scripts: there is no script in the frame to use it) lets inline images
//     (/api/v1/attachments/N) load with the agent's cookie, and lets this page size the frame to its content and
//     apply the mail's style attributes through the CSSOM: a srcdoc frame inherits the app's CSP, whose style-src
//     refuses style attributes written in markup, while CSSOM writes are not style attributes;
//   * links open in a new tab outside the sandbox (allow-popups-to-escape-sandbox), with noopener/noreferrer.
// Remote images need the app's CSP to allow https:/http: images (core/http.c); the meta CSP here keeps them off
// until the agent asks.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { html, t } from '@destek/agent';

const ALLOWED_TAGS = new Set(('a abbr address b bdi bdo big blockquote br caption center cite code col colgroup dd del ' +
  'dfn div dl dt em font h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q s samp small span strike strong sub ' +
  'sup table tbody td tfoot th thead tr tt u ul wbr').split(' '));
const DROPPED_TAGS = new Set(('script style iframe frame frameset object embed applet link meta base form input ' +
  'button textarea select option noscript template svg math video audio source track canvas portal dialog title ' +
  'head').split(' '));
const ALLOWED_ATTRS = new Set(('title dir lang align valign width height bgcolor color border cellpadding cellspacing ' +
  'colspan rowspan face size start span nowrap alt summary scope').split(' '));
const SAFE_DATA_IMAGE = /^data:image\/(png|gif|jpe?g|webp);/i;
const SAFE_LINK = /^(https?:|mailto:|tel:|#)/i;
const REMOTE = /^(https?:)?\/\//i;
const UNSAFE_STYLE = /url\s*\(|expression|image-set|@import|behavior|binding|javascript:/i;

/* Keeps the declarations of a style attribute that load nothing and run nothing. */
function safeStyle(text) {
  return String(text || '').split(';').map((d) => d.trim()).filter((d) => d && d.includes(':') && !UNSAFE_STYLE.test(d))
    .join('; ');
}

/* Filters el's subtree in place (el belongs to an inert DOMParser document). */
function clean(el) {
  for (const child of [...el.children]) {
    const tag = child.tagName.toLowerCase();
    if (DROPPED_TAGS.has(tag)) {
      child.remove();
      continue;
    }
    clean(child);
    if (!ALLOWED_TAGS.has(tag)) {
      child.replaceWith(...child.childNodes);
      continue;
    }
    for (const attr of [...child.attributes]) {
      const name = attr.name.toLowerCase();
      const value = attr.value.trim();
      if (name === 'data-style') {
        const style = safeStyle(value);
        if (style) child.setAttribute(name, style); else child.removeAttribute(name);
      } else if (name === 'href' && tag === 'a') {
        if (!SAFE_LINK.test(value)) child.removeAttribute(name);
      } else if (name === 'src' && tag === 'img') {
        if (SAFE_DATA_IMAGE.test(value) || /^\/api\/v1\/attachments\/\d+$/.test(value)) continue;
        child.removeAttribute(name);
        if (REMOTE.test(value)) child.setAttribute('data-remote-src', value.startsWith('//') ? 'https:' + value : value);
      } else if (name === 'data-remote-src' && tag === 'img') {
        if (!/^https?:\/\//i.test(value)) child.removeAttribute(name);
      } else if (!ALLOWED_ATTRS.has(name)) {
        child.removeAttribute(name);
      }
    }
    if (tag === 'a' && child.hasAttribute('href')) {
      child.setAttribute('target', '_blank');
      child.setAttribute('rel', 'noopener noreferrer nofollow');
    }
  }
}

/* The markup with every style attribute renamed data-style and every event handler attribute (on…) renamed
 * data-blocked-on…, before any parsing: parsing either in this page, even into an inert document, is refused by
 * the app's CSP and logged as a violation. A small scanner that knows tags, quoted values and comments; text
 * outside tags is copied as it is. */
export function neutralise(markup) {
  let out = '';
  let i = 0;
  const n = markup.length;
  while (i < n) {
    const lt = markup.indexOf('<', i);
    if (lt < 0) { out += markup.slice(i); break; }
    out += markup.slice(i, lt);
    i = lt;
    if (markup.startsWith('<!--', i)) {
      const end = markup.indexOf('-->', i + 4);
      const stop = end < 0 ? n : end + 3;
      out += markup.slice(i, stop);
      i = stop;
      continue;
    }
    const name = /^<([a-zA-Z][^\s/>]*)/.exec(markup.slice(i, i + 64));
    if (!name) { out += '<'; i += 1; continue; }
    out += name[0];
    i += name[0].length;
    while (i < n && markup[i] !== '>') {
      const ws = /^[\s/]+/.exec(markup.slice(i, i + 256));
      if (ws) { out += ws[0]; i += ws[0].length; continue; }
      const attr = /^[^\s/>=]+/.exec(markup.slice(i, i + 256));
      if (!attr) { out += markup[i]; i += 1; continue; }
      const lower = attr[0].toLowerCase();
      out += lower === 'style' ? 'data-style' : lower.startsWith('on') ? 'data-blocked-' + lower : attr[0];
      i += attr[0].length;
      const eq = /^\s*=\s*/.exec(markup.slice(i, i + 256));
      if (!eq) continue;
      out += eq[0];
      i += eq[0].length;
      const q = markup[i];
      if (q === '"' || q === "'") {
        const end = markup.indexOf(q, i + 1);
        const stop = end < 0 ? n : end + 1;
        out += markup.slice(i, stop);
        i = stop;
      } else {
        const v = /^[^\s>]*/.exec(markup.slice(i));
        out += v[0];
        i += v[0].length;
      }
    }
    if (i < n) { out += '>'; i += 1; }
  }
  return out;
}

/* {srcdoc, remote}: the document for the frame and how many remote images it holds. */
export function prepareMail(bodyHtml, showImages) {
  const doc = new DOMParser().parseFromString(neutralise(String(bodyHtml || '')), 'text/html');
  clean(doc.body);
  const remote = doc.body.querySelectorAll('img[data-remote-src]');
  if (showImages) remote.forEach((img) => img.setAttribute('src', img.getAttribute('data-remote-src')));
  const csp = "default-src 'none'; img-src 'self' data:" + (showImages ? ' https: http:' : '') +
    "; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";
  const head = '<meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="' + csp + '">' +
    '<meta name="referrer" content="no-referrer">';
  return { srcdoc: '<!doctype html><html><head>' + head + '</head><body>' + doc.body.innerHTML + '</body></html>',
    remote: remote.length };
}

const BODY_STYLE = 'margin:0;padding:4px 2px;background:#fff;color:#18212d;overflow-wrap:anywhere;' +
  'font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif';

/* Applies the kept style attributes (CSSOM), fits images to the width, and sizes the frame to its content. */
function dress(frame) {
  const doc = frame.contentDocument;
  if (!doc || !doc.body) return null;
  doc.body.style.cssText = BODY_STYLE;
  doc.documentElement.style.cssText = 'overflow-x:auto;overflow-y:hidden';
  doc.querySelectorAll('[data-style]').forEach((el) => { el.style.cssText = el.getAttribute('data-style'); });
  doc.querySelectorAll('img').forEach((img) => {
    img.style.maxWidth = '100%';
    if (!img.getAttribute('height')) img.style.height = 'auto';
  });
  doc.querySelectorAll('blockquote').forEach((q) => {
    if (!q.getAttribute('data-style')) q.style.cssText = 'margin:8px 0;padding-left:10px;border-left:3px solid #c5ccd5;color:#5a6676';
  });
  const fit = () => { frame.style.height = Math.max(40, doc.documentElement.scrollHeight) + 'px'; };
  fit();
  doc.querySelectorAll('img').forEach((img) => img.addEventListener('load', fit));
  if (typeof ResizeObserver === 'function') {
    const ro = new ResizeObserver(fit);
    ro.observe(doc.body);
    return () => ro.disconnect();
  }
  return null;
}

export function HtmlBody({ message }) {
  const [showImages, setShowImages] = useState(false);
  const [asText, setAsText] = useState(false);
  const frame = useRef(null);
  const undress = useRef(null);
  const prepared = useMemo(() => prepareMail(message.body_html, showImages), [message.body_html, showImages]);
  useEffect(() => () => { if (undress.current) undress.current(); }, []);
  function onLoad() {
    if (undress.current) undress.current();
    undress.current = frame.current ? dress(frame.current) : null;
  }
  return html`<div class="msg-html-wrap">
    <div class="msg-html-bar">
      ${prepared.remote && !showImages && !asText ? html`<span class="msg-html-note" data-region="images-blocked">
        ${t('mail.images_blocked', { n: prepared.remote })}</span>
        <button type="button" class="btn btn-secondary btn-sm" data-action="show-images"
          onClick=${() => setShowImages(true)}>${t('mail.show_images')}</button>` : null}
      <button type="button" class="btn btn-ghost btn-sm msg-html-toggle" data-action="toggle-text"
        aria-pressed=${asText ? 'true' : 'false'} onClick=${() => setAsText(!asText)}>
        ${t(asText ? 'mail.show_formatted' : 'mail.show_text')}</button>
    </div>
    ${asText ? html`<div class="msg-body">${message.body}</div>`
      : html`<iframe ref=${frame} class="msg-html" title=${t('ticket.html_body')} data-images=${showImages ? 'shown' : 'blocked'}
        sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer"
        srcdoc=${prepared.srcdoc} onLoad=${onLoad}></iframe>`}
  </div>`;
}
