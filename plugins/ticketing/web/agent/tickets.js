// Shared helpers for the ticket screens: labels, the <mark> snippet renderer, relative times, users.
import { html } from './html.js';
import { api } from './api.js';
import { store } from './store.js';
import { t } from './i18n.js';

export const STATUSES = ['new', 'open', 'pending', 'on_hold', 'solved', 'closed'];
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'];
export const CHANNELS = ['email', 'web', 'chat', 'whatsapp', 'phone', 'api'];

const LOCALES = { tr: 'tr-TR', en: 'en-GB' };
export const locale = () => LOCALES[store.get().lang] || 'en-GB';

/* "5 min ago" in the user's language (Intl.RelativeTimeFormat). */
export function ago(value) {
  const d = new Date(value);
  if (isNaN(d.getTime())) return '';
  const s = Math.round((d.getTime() - Date.now()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  const abs = Math.abs(s);
  if (abs < 60) return rtf.format(s, 'second');
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86400), 'day');
}

export function dateTime(value) {
  const d = new Date(value);
  if (isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/* Renders the API's snippet_html (HTML-escaped text with <mark>…</mark>) without innerHTML: split on the
 * two tags we expect and unescape the five entities; everything else stays text. */
const ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&#x27;': "'" };
export function unescapeHtml(s) {
  return s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (m) => ENTITIES[m]);
}
export function Snippet({ html: snippet }) {
  const parts = String(snippet || '').split(/(<mark>|<\/mark>)/);
  const out = [];
  let marked = false;
  for (const p of parts) {
    if (p === '<mark>') marked = true;
    else if (p === '</mark>') marked = false;
    else if (p) out.push(marked ? html`<mark>${unescapeHtml(p)}</mark>` : unescapeHtml(p));
  }
  return html`<span class="snippet">${out}</span>`;
}

/* Agents by id for names (GET /users is tried; an agent who may not list users sees "#id"). */
let usersPromise = null;
export function loadUsers() {
  if (!usersPromise) {
    usersPromise = api('GET', '/users').then((d) => (d && (d.items || d.users)) || [], () => []);
  }
  return usersPromise;
}
export function userName(users, id) {
  if (id == null) return t('ticket.unassigned');
  const me = store.get().user;
  if (me && me.id === id) return me.name;
  const u = users.find((x) => x.id === id);
  return u ? u.name : '#' + id;
}

export function StatusBadge({ status }) {
  return html`<span class=${'badge st-' + status}>${t('status.' + status)}</span>`;
}
export function PriorityBadge({ priority }) {
  return html`<span class=${'badge pr-' + priority}>${t('priority.' + priority)}</span>`;
}
