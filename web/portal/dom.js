// A few lines instead of a UI library: the portal is two small pages that customers open on phones, often on slow
// connections, so it is plain DOM. Text always becomes a text node (never parsed as HTML), so what a customer or an
// agent wrote can never turn into markup or script.

/* An element: h('p', {class: 'x', onClick: fn, 'aria-live': 'polite'}, 'text', child, [more]). Props named on*
 * become listeners, `value` and `checked` are set as properties, `ref` gets the element; false/null are skipped. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const key in props || {}) {
    const v = props[key];
    if (v == null || v === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2).toLowerCase(), v);
    else if (key === 'value' || key === 'checked') el[key] = v;
    else if (key === 'ref') v(el);
    else el.setAttribute(key === 'class' ? 'class' : key, v === true ? '' : String(v));
  }
  add(el, children);
  return el;
}

function add(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) add(el, c);
    else el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

/* Replaces everything inside el with children. */
export function fill(el, ...children) {
  while (el.firstChild) el.removeChild(el.firstChild);
  add(el, children);
  return el;
}

/* Bytes of s in UTF-8, as the server counts its limits. */
export function utf8Bytes(s) {
  return new TextEncoder().encode(s).length;
}

/* s with http(s) addresses as links (rel=noopener, new tab); everything else stays text. */
export function linkify(s) {
  const out = [];
  const re = /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'’”]/g;
  let last = 0;
  let m;
  while ((m = re.exec(s))) {
    if (m.index > last) out.push(s.slice(last, m.index));
    out.push(h('a', { href: m[0], target: '_blank', rel: 'noopener noreferrer nofollow' }, m[0]));
    last = m.index + m[0].length;
  }
  if (last < s.length) out.push(s.slice(last));
  return out;
}

const ICONS = {
  clip: 'M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4l7.9-7.9',
  x: 'M6 6l12 12M18 6L6 18',
  check: 'M5 12.5l4.5 4.5L19 7.5',
  file: 'M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8zM14 3v5h5',
  chat: 'M5 5h14a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2h-7l-5 4v-4H5a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2z',
};

/* A decorative line icon (hidden from screen readers). */
export function icon(name, cls) {
  const ns = 'http://www.w3.org/2000/svg';
  const s = document.createElementNS(ns, 'svg');
  s.setAttribute('viewBox', '0 0 24 24');
  s.setAttribute('class', 'icon' + (cls ? ' ' + cls : ''));
  s.setAttribute('aria-hidden', 'true');
  s.setAttribute('focusable', 'false');
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', ICONS[name]);
  s.appendChild(p);
  return s;
}
