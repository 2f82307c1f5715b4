// Shared helpers for the ticket screens: labels, the <mark> snippet renderer, users. (Relative times and dates are
// the core's: ago, dateTime from '@destek/agent'.)
import { html, loadDirectory, personName, t } from '@destek/agent';

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

/* Colleagues by id for names: the core's directory (GET /directory), which every signed-in user may read, so an
 * agent sees names, not "#3". */
export function loadUsers() {
  return loadDirectory();
}
export function userName(users, id) {
  if (id == null) return t('ticket.unassigned');
  return personName(users, id);
}

/* The active colleagues for an assignment menu: the members of teamId first (when the ticket has a team), then
 * everyone else, each group by name. Returns [{label, people}], the first label null when there is no team. */
export function assignGroups(users, teamId, teams, exceptId) {
  const active = users.filter((u) => u.active !== false && u.id !== exceptId)
    .sort((a, b) => a.name.localeCompare(b.name, 'tr'));
  const inTeam = (u) => teamId != null && (u.teams || []).some((x) => x.id === teamId);
  const team = teamId != null ? (teams || []).find((x) => x.id === teamId) : null;
  const members = active.filter(inTeam);
  if (!members.length) return [{ label: null, people: active }];
  return [{ label: t('ticket.team_members', { team: team ? team.name : '#' + teamId }), people: members },
    { label: t('ticket.other_agents'), people: active.filter((u) => !inTeam(u)) }];
}

export function StatusBadge({ status }) {
  return html`<span class=${'badge st-' + status}>${t('status.' + status)}</span>`;
}
export function PriorityBadge({ priority }) {
  return html`<span class=${'badge pr-' + priority}>${t('priority.' + priority)}</span>`;
}
