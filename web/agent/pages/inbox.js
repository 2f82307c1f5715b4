// /app and /app/tickets?view=&status=&priority=&channel=&tag=&assignee=&q= : the inbox.
// Views are list calls with filters; counts are the number of items a limit=100 call returns ("100+" when the
// API says there are more) — there is no count API. The list refreshes when the live stream (live.js) reports a
// ticket change, and by short poll every 10 s while the stream is down.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { useStore } from '../store.js';
import { navigate, onLinkClick } from '../router.js';
import { Alert, errorText } from '../components.js';
import { CHANNELS, PRIORITIES, STATUSES, PriorityBadge, Snippet, StatusBadge, ago, loadUsers, userName }
  from '../tickets.js';
import { setKeys } from '../keys.js';
import { useLiveRefresh, useLiveState } from '../live.js';

const ACTIVE = 'new,open,pending,on_hold';
export const VIEWS = [
  { id: 'mine', filter: { assignee: 'me', status: ACTIVE } },
  { id: 'unassigned', filter: { assignee: 'none', status: ACTIVE } },
  { id: 'open', filter: { status: 'new,open' } },
  { id: 'pending', filter: { status: 'pending' } },
  { id: 'solved', filter: { status: 'solved' } },
];
const FILTERS = ['status', 'priority', 'channel', 'tag', 'assignee', 'q'];
const POLL_MS = 10000;

function listQuery(params) {
  const view = VIEWS.find((v) => v.id === params.get('view')) || VIEWS[2];
  // A search looks through every ticket; the view's filters apply to browsing only.
  const q = new URLSearchParams(params.get('q') ? {} : view.filter);
  for (const f of FILTERS) {
    const v = params.get(f);
    if (v) q.set(f, v);
  }
  q.set('limit', '50');
  return { view, query: q.toString() };
}

function countLabel(data) {
  if (!data) return '';
  return data.next_cursor ? data.items.length + '+' : String(data.items.length);
}

export function Inbox() {
  const { query: search, user } = useStore();
  const params = new URLSearchParams(search);
  const { view, query } = listQuery(params);
  const [data, setData] = useState(null);
  const [counts, setCounts] = useState({});
  const [error, setError] = useState(null);
  const [cursor, setCursor] = useState(0);
  const [selected, setSelected] = useState(new Set());
  const [users, setUsers] = useState([]);
  const [q, setQ] = useState(params.get('q') || '');
  const [bulkBusy, setBulkBusy] = useState(false);
  const searchRef = useRef(null);
  const state = useRef({});
  state.current = { data, cursor };

  async function refresh() {
    try {
      const d = await api('GET', '/tickets?' + query);
      setData(d);
      setError(null);
    } catch (e) {
      setError(e);
    }
    const next = {};
    await Promise.all(VIEWS.map(async (v) => {
      try {
        next[v.id] = countLabel(await api('GET', '/tickets?' + new URLSearchParams({ ...v.filter, limit: '100' })));
      } catch (e) { /* leave the count out rather than guess */ }
    }));
    setCounts(next);
  }

  useEffect(() => {
    loadUsers().then(setUsers);
  }, []);
  useEffect(() => {
    setData(null);
    setSelected(new Set());
    setCursor(0);
    setQ(params.get('q') || '');
    refresh();
  }, [query]);
  // Any ticket event may move a ticket into, out of or within this list or change a view's count.
  useLiveRefresh(refresh, { pollMs: POLL_MS }, [query]);
  const live = useLiveState();

  function go(patch) {
    const p = new URLSearchParams(search);
    for (const [k, v] of Object.entries(patch)) {
      if (v) p.set(k, v); else p.delete(k);
    }
    const s = p.toString();
    navigate('/app/tickets' + (s ? '?' + s : ''));
  }

  const items = (data && data.items) || [];
  useEffect(() => {
    setKeys({
      j: () => setCursor((c) => Math.min(c + 1, Math.max(0, state.current.data ? state.current.data.items.length - 1 : 0))),
      k: () => setCursor((c) => Math.max(c - 1, 0)),
      Enter: () => {
        const it = state.current.data && state.current.data.items[state.current.cursor];
        if (it) navigate('/app/tickets/' + it.id);
      },
      '/': () => searchRef.current && searchRef.current.focus(),
    });
    return () => setKeys({});
  }, []);
  useEffect(() => {
    const row = document.querySelector('.ticket-row.is-cursor');
    if (row && row.scrollIntoView) row.scrollIntoView({ block: 'nearest' });
  }, [cursor]);

  function toggle(id) {
    const s = new Set(selected);
    if (s.has(id)) s.delete(id); else s.add(id);
    setSelected(s);
  }
  async function bulk(changes) {
    if (!selected.size) return;
    setBulkBusy(true);
    try {
      await api('POST', '/tickets/bulk', { ids: [...selected], changes });
      setSelected(new Set());
      await refresh();
    } catch (e) {
      setError(e);
    } finally {
      setBulkBusy(false);
    }
  }

  const select = (name, options, label) => html`<label class="filter">
    <span class="visually-hidden">${t('filter.' + name)}</span>
    <select data-filter=${name} value=${params.get(name) || ''} onChange=${(e) => go({ [name]: e.currentTarget.value })}>
      <option value="">${t('filter.' + name)}: ${t('filter.any')}</option>
      ${options.map((o) => html`<option value=${o}>${label(o)}</option>`)}
    </select></label>`;

  return html`<div class="inbox">
    <nav class="views" aria-label=${t('inbox.views')}>
      ${VIEWS.map((v) => html`<a href=${'/app/tickets?view=' + v.id} onClick=${onLinkClick} data-view=${v.id}
          class=${'view' + (v === view ? ' is-active' : '')} aria-current=${v === view ? 'page' : undefined}>
        <span>${t('view.' + v.id)}</span>${counts[v.id] !== undefined ? html`<span class="count">${counts[v.id]}</span>` : null}
      </a>`)}
    </nav>
    <section class="inbox-main">
      <h1 class="inbox-title">${t('nav.inbox')}<span class="muted"> · ${params.get('q') ? t('inbox.results') : t('view.' + view.id)}</span></h1>
      <div class="toolbar">
        <form class="search" role="search" onSubmit=${(e) => { e.preventDefault(); go({ q: q.trim() }); }}>
          <input ref=${searchRef} type="search" name="q" value=${q} placeholder=${t('inbox.search')}
            aria-label=${t('inbox.search')} onInput=${(e) => setQ(e.currentTarget.value)} />
        </form>
        <div class="filters">
          ${select('status', STATUSES, (s) => t('status.' + s))}
          ${select('priority', PRIORITIES, (s) => t('priority.' + s))}
          ${select('channel', CHANNELS, (s) => t('channel.' + s))}
          ${select('assignee', ['me', 'none', ...users.filter((u) => u.id !== user.id).map((u) => String(u.id))],
            (s) => (s === 'me' ? t('inbox.me') : s === 'none' ? t('ticket.unassigned') : userName(users, Number(s))))}
          <input class="tag-filter" type="text" value=${params.get('tag') || ''} placeholder=${t('filter.tag')}
            aria-label=${t('filter.tag')} onChange=${(e) => go({ tag: e.currentTarget.value.trim() })} />
        </div>
      </div>
      ${selected.size ? html`<div class="bulkbar" role="region" aria-label=${t('bulk.label')}>
        <span>${t('bulk.selected', { n: selected.size })}</span>
        <select aria-label=${t('bulk.status')} data-bulk="status" disabled=${bulkBusy}
          onChange=${(e) => e.currentTarget.value && bulk({ status: e.currentTarget.value })}>
          <option value="">${t('bulk.status')}</option>
          ${STATUSES.filter((s) => s !== 'new').map((s) => html`<option value=${s}>${t('status.' + s)}</option>`)}
        </select>
        <select aria-label=${t('bulk.priority')} disabled=${bulkBusy}
          onChange=${(e) => e.currentTarget.value && bulk({ priority: e.currentTarget.value })}>
          <option value="">${t('bulk.priority')}</option>
          ${PRIORITIES.map((s) => html`<option value=${s}>${t('priority.' + s)}</option>`)}
        </select>
        <button class="btn btn-secondary" type="button" disabled=${bulkBusy} onClick=${() => bulk({ assignee_id: 'me' })}>
          ${t('ticket.assign_me')}</button>
        <button class="btn btn-ghost" type="button" onClick=${() => setSelected(new Set())}>${t('bulk.clear')}</button>
      </div>` : null}
      ${error ? html`<${Alert}>${errorText(error)}<//>` : null}
      ${!data ? html`<p class="muted pad">${t('common.loading')}</p>` : !items.length
        ? html`<div class="card empty"><h2>${t('inbox.none_title')}</h2><p class="muted">${t('inbox.none_body')}</p></div>`
        : html`<ul class="ticket-list" data-region="inbox">
        ${items.map((it, i) => html`<li key=${it.id} data-ticket=${it.id}
            class=${'ticket-row' + (i === cursor ? ' is-cursor' : '') + (selected.has(it.id) ? ' is-selected' : '')}>
          <input type="checkbox" checked=${selected.has(it.id)} onChange=${() => toggle(it.id)}
            aria-label=${t('bulk.select', { ref: it.reference })} />
          <a class="row-main" href=${'/app/tickets/' + it.id} onClick=${onLinkClick}>
            <span class="row-top">
              <span class="ref">${it.reference}</span>
              <span class="subject">${it.subject}</span>
            </span>
            <span class="row-sub">
              <span class="customer">${it.customer && (it.customer.name || it.customer.email)}</span>
              ${it.search && it.search.snippet_html ? html`<${Snippet} html=${it.search.snippet_html} />`
                : it.body_excerpt ? html`<span class="excerpt">${it.body_excerpt}</span>` : null}
            </span>
          </a>
          <span class="row-meta">
            <${StatusBadge} status=${it.status} />
            ${it.priority !== 'normal' ? html`<${PriorityBadge} priority=${it.priority} />` : null}
            <span class="assignee">${userName(users, it.assignee_id)}</span>
            <time datetime=${it.updated_at}>${ago(it.updated_at)}</time>
          </span>
        </li>`)}
      </ul>`}
      <p class="muted small pad">${t(live === 'open' ? 'live.inbox_note' : 'inbox.live_note')}</p>
    </section>
  </div>`;
}
