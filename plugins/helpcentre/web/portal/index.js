// The help centre's part of the customer portal: up to three articles that may answer the question while the customer
// types the subject of the contact form (ticketing's slot "contact.subject"). An article opens in a new tab; when the
// customer then leaves the form without sending it, a beacon counts a deflection (POST /help/deflected).
import { h, lang, t } from '@destek/portal';

const st = { q: '', items: [], opened: null, sent: false, el: null, timer: null, seq: 0, hooked: false };

function draw() {
  const el = st.el;
  if (!el) return;
  while (el.firstChild) el.removeChild(el.firstChild);
  el.hidden = !st.items.length;
  if (!st.items.length) return;
  el.appendChild(h('p', { class: 'hc-suggest-title' }, t('helpcentre.suggest_title')));
  el.appendChild(h('ul', null, st.items.map((a) => h('li', null,
    h('a', { href: a.url, target: '_blank', rel: 'noopener', 'data-slug': a.slug, onClick() { st.opened = a.slug; } }, a.title)))));
}

async function search(q) {
  const seq = ++st.seq;
  try {
    const res = await fetch('/help/suggest?lang=' + lang() + '&q=' + encodeURIComponent(q), { headers: { Accept: 'application/json' } });
    const body = res.ok ? await res.json() : { items: [] };
    if (seq !== st.seq) return;
    st.items = body.items || [];
  } catch (e) {
    st.items = [];
  }
  draw();
}

function hook(input) {
  if (st.hooked) return;
  st.hooked = true;
  document.addEventListener('input', (e) => {
    if (!e.target || e.target.id !== input) return;
    const q = e.target.value.trim();
    if (q === st.q) return;
    st.q = q;
    clearTimeout(st.timer);
    if (q.length < 3) { st.items = []; draw(); return; }
    st.timer = setTimeout(() => search(q), 250);
  });
  document.addEventListener('submit', () => { st.sent = true; }, true);
  window.addEventListener('pagehide', () => {
    if (st.opened && !st.sent && navigator.sendBeacon) {
      navigator.sendBeacon('/help/deflected', new Blob([st.opened], { type: 'text/plain' }));
      st.opened = null;
    }
  });
}

function suggestPanel({ values, input }) {
  hook(input);
  st.el = h('div', { class: 'hc-suggest', 'aria-live': 'polite', 'data-slot': 'helpcentre' });
  if (values.subject.trim() !== st.q) { st.q = ''; st.items = []; }
  draw();
  return st.el;
}

export const panels = [{ slot: 'contact.subject', id: 'suggest', panel: suggestPanel, order: 10 }];
