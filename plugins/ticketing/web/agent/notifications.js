// The bell in the top bar (the shell's slot "topbar"): the agent's notifications (notify.c) — assignments to them,
// @mentions in notes, customers' replies on their tickets — with the unread count, marked read when opened, and the
// agent's settings per kind (in the app; on the desktop). New ones are also shown on the desktop through the browser's
// Notification API, when the agent allowed it and wants that kind there. Refreshed on every ticket event of the live
// stream (a mention or an assignment comes with one) and polled every 15 s without it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ago, api, errorText, html, navigate, number, t, useLiveRefresh } from '@destek/agent';

const KINDS = ['assigned', 'mention', 'customer_reply'];
// The words of each kind, written out so that the i18n check sees them used.
const KIND_LABEL = { assigned: 'notify.kind_assigned', mention: 'notify.kind_mention', customer_reply: 'notify.kind_customer_reply' };
const KIND_TEXT = { assigned: 'notify.assigned', mention: 'notify.mention', customer_reply: 'notify.customer_reply' };

function text(n) {
  return t(KIND_TEXT[n.kind] || 'notify.title', { who: n.actor_name || t('author.system'), ref: n.reference, subject: n.subject });
}

function desktopShow(n) {
  try {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || !n.desktop) return;
    const shown = new Notification(text(n), { body: n.excerpt || n.subject, tag: 'destek-' + n.id });
    shown.onclick = () => { window.focus(); navigate('/app/tickets/' + n.ticket_id); };
  } catch (e) { /* a browser without desktop notifications: the bell is enough */ }
}

function Settings({ onClose }) {
  const [prefs, setPrefs] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { api('GET', '/notifications/settings').then(setPrefs, setError); }, []);
  async function set(kind, field, value) {
    try {
      setPrefs(await api('PUT', '/notifications/settings', { [kind]: { [field]: value } }));
    } catch (e) { setError(e); }
  }
  const permission = typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
  return html`<div class="notify-settings" data-region="notify-settings">
    <h3 class="h4">${t('notify.settings')}</h3>
    ${prefs ? html`<table class="notify-prefs"><thead><tr><th></th><th>${t('notify.in_app')}</th><th>${t('notify.desktop')}</th></tr></thead>
      <tbody>${KINDS.map((k) => html`<tr key=${k}><th scope="row">${t(KIND_LABEL[k])}</th>
        ${['in_app', 'desktop'].map((f) => html`<td><input type="checkbox" data-pref=${k + '.' + f} checked=${prefs[k][f]}
          aria-label=${t(KIND_LABEL[k]) + ' · ' + t('notify.' + f)} onChange=${(e) => set(k, f, e.currentTarget.checked)} /></td>`)}
      </tr>`)}</tbody></table>` : null}
    ${permission === 'default' ? html`<button type="button" class="btn btn-secondary btn-sm" data-action="desktop-allow"
      onClick=${() => Notification.requestPermission().then(() => setPrefs({ ...prefs }))}>${t('notify.allow_desktop')}</button>`
      : permission === 'denied' ? html`<p class="muted small">${t('notify.desktop_denied')}</p>` : null}
    ${error ? html`<p class="prop-error" role="alert">${errorText(error)}</p>` : null}
    <button type="button" class="btn btn-ghost btn-sm" onClick=${onClose}>${t('macro.back')}</button>
  </div>`;
}

export function NotificationsBell() {
  const [data, setData] = useState(null);
  const [open, setOpen] = useState(false);
  const [settings, setSettings] = useState(false);
  const seen = useRef(null);   // the newest id shown so far; null before the first load (nothing old pops up)
  const root = useRef(null);
  async function load() {
    try {
      const d = await api('GET', '/notifications?limit=20');
      const newest = d.items.length ? d.items[0].id : 0;
      if (seen.current !== null) d.items.filter((n) => n.id > seen.current && !n.read_at).reverse().forEach(desktopShow);
      seen.current = Math.max(seen.current || 0, newest);
      setData(d);
    } catch (e) { /* signed out, or the server is away: the bell waits */ }
  }
  useEffect(() => { load(); }, []);
  useLiveRefresh(load, { pollMs: 15000, livePollMs: 60000 });
  useEffect(() => {
    if (!open) return undefined;
    const away = (e) => { if (root.current && !root.current.contains(e.target)) setOpen(false); };
    const esc = (e) => { if (e.key === 'Escape') setOpen(false); };
    document.addEventListener('mousedown', away);
    document.addEventListener('keydown', esc);
    return () => { document.removeEventListener('mousedown', away); document.removeEventListener('keydown', esc); };
  }, [open]);
  async function go(n) {
    setOpen(false);
    if (!n.read_at) await api('POST', '/notifications/read', { ids: [n.id] }).catch(() => {});
    navigate('/app/tickets/' + n.ticket_id);
    load();
  }
  async function allRead() {
    await api('POST', '/notifications/read', { all: true }).catch(() => {});
    load();
  }
  const unread = data ? data.unread : 0;
  return html`<div class="notify" ref=${root}>
    <button type="button" class="btn btn-ghost btn-sm notify-bell" data-region="notifications" data-count=${unread}
      aria-expanded=${open ? 'true' : 'false'} aria-label=${t('notify.title') + (unread ? ' · ' + t('notify.unread', { n: number(unread) }) : '')}
      onClick=${() => { setOpen(!open); setSettings(false); }}>
      <svg class="icon" viewBox="0 0 20 20" aria-hidden="true" focusable="false"><path d="M10 3a5 5 0 0 0-5 5v3l-1.5 2.5h13L15 11V8a5 5 0 0 0-5-5zM8 16a2 2 0 0 0 4 0" /></svg>
      ${unread ? html`<span class="notify-count">${number(unread)}</span>` : null}
    </button>
    ${open ? html`<div class="notify-pop card" role="dialog" aria-label=${t('notify.title')}>
      ${settings ? html`<${Settings} onClose=${() => setSettings(false)} />` : html`<div>
        <div class="notify-head"><strong>${t('notify.title')}</strong>
          <span>${unread ? html`<button type="button" class="btn btn-ghost btn-sm" data-action="notify-all-read" onClick=${allRead}>${t('notify.all_read')}</button>` : null}
          <button type="button" class="btn btn-ghost btn-sm" data-action="notify-settings" onClick=${() => setSettings(true)}>${t('notify.settings')}</button></span></div>
        ${data && data.items.length ? html`<ul class="notify-list">${data.items.map((n) => html`<li key=${n.id}
            class=${n.read_at ? '' : 'is-unread'} data-notification=${n.kind}>
          <button type="button" onClick=${() => go(n)}><span>${text(n)}</span>
            ${n.excerpt ? html`<span class="muted small notify-excerpt">${n.excerpt}</span>` : null}
            <time class="muted small" datetime=${n.created_at}>${ago(n.created_at)}</time></button></li>`)}</ul>`
          : html`<p class="muted small pad">${t('notify.none')}</p>`}
      </div>`}
    </div>` : null}
  </div>`;
}
