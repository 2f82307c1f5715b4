// Shared helpers for the ticket screens: labels, the <mark> snippet renderer, users. (Relative times and dates are
// the core's: ago, dateTime from '@destek/agent'.)
import { api, html, store, t } from '@destek/agent';

export const STATUSES = ['new', 'open', 'pending', 'on_hold', 'solved', 'closed'];
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'];
export const CHANNELS = ['email', 'web', 'chat', 'whatsapp', 'phone', 'api'];

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
