// /app and /app/tickets?view=&status=&priority=&channel=&tag=&assignee=&q=&sort= : the inbox.
// Views are list calls with filters; their counts come from GET /tickets/count with the same filters. The list
// is sorted by the server (sort=updated|created|priority|sla_due; a search is ranked by relevance), paged with
// its opaque cursor ("show more"), and refreshed when the live stream (live.js) reports a ticket change (by short poll every 10 s while
// the stream is down).
import { useEffect, useRef, useState } from 'preact/hooks';
import { Alert, OnlineDot, ago, api, dateTime, errorText, html, navigate, number, onLinkClick, person, setKeys, t,
  useLiveRefresh, useLiveState, useStore } from '@destek/agent';
import { CHANNELS, PRIORITIES, STATUSES, PriorityBadge, Snippet, StatusBadge, loadUsers, userName } from './tickets.js';
import { SlaBadge } from './sla.js';

const ACTIVE = 'new,open,pending,on_hold';
export const VIEWS = [
  { id: 'mine', filter: { assignee: 'me', status: ACTIVE } },
  { id: 'unassigned', filter: { assignee: 'none', status: ACTIVE } },
  { id: 'my_teams', filter: { team: 'mine', status: ACTIVE } },
  { id: 'open', filter: { status: 'new,open' } },
  { id: 'pending', filter: { status: 'pending' } },
  { id: 'sla_at_risk', filter: { sla_at_risk: 'true' }, sort: 'sla_due' },
  { id: 'solved', filter: { status: 'solved' } },
];
const VIEW_KEYS = { mine: 'view.mine', unassigned: 'view.unassigned', my_teams: 'view.my_teams', open: 'view.open', pending: 'view.pending',
  sla_at_risk: 'view.sla_at_risk', solved: 'view.solved' };
export const SORTS = ['updated', 'created', 'priority', 'sla_due'];
const SORT_KEYS = { updated: 'sort.updated', created: 'sort.created', priority: 'sort.priority', sla_due: 'sort.sla_due' };
const FILTERS = ['status', 'priority', 'channel', 'tag', 'assignee', 'team', 'customer', 'q'];
const PAGE = 50;
const POLL_MS = 10000;

/* The list call for the address: the view's filters (not when searching: a search looks through every ticket),
 * the filters the agent chose on top, and the sort. */
/* The views: the fixed ones, then one per team (its tickets still to be worked on). */
function allViews(teams) {
  return [...VIEWS, ...(teams || []).map((tm) => ({ id: 'team-' + tm.id, filter: { team: String(tm.id), status: ACTIVE }, name: tm.name }))];
}
const viewName = (v) => (v.name !== undefined ? v.name : t(VIEW_KEYS[v.id]));

function listQuery(params, views) {
  const view = views.find((v) => v.id === params.get('view')) || views.find((v) => v.id === 'open');
  const searching = !!params.get('q');
  const q = new URLSearchParams(searching ? {} : view.filter);
  for (const f of FILTERS) {
    const v = params.get(f);
    if (v) q.set(f, v);
  }
  const sort = searching ? null : (SORTS.includes(params.get('sort')) ? params.get('sort') : view.sort || 'updated');
  const count = q.toString();
  if (sort && sort !== 'updated') q.set('sort', sort);
  q.set('limit', String(PAGE));
  return { view, sort, searching, query: q.toString(), countQuery: count };
}

/* Pages through the list until at least min items (the poll keeps what "show more" loaded). */
async function fetchList(query, min) {
  let items = [];
  let cursor = null;
  for (;;) {
    const d = await api('GET', '/tickets?' + query + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
    items = items.concat(d.items || []);
    cursor = d.next_cursor || null;
    if (!cursor || items.length >= min) return { items, next_cursor: cursor };
  }
}

const LAST_FROM = { customer: 'inbox.last_customer', agent: 'inbox.last_agent', system: 'inbox.last_system' };

/* The customer spoke last on a ticket still to be worked on: they are waiting (the "customer replied" mark). */
const waiting = (it) => it.last_message && it.last_message.from === 'customer' && it.status !== 'solved' && it.status !== 'closed';

/* The caller's own seen marks of the rows still being worked on (seen.c): {id: {seen_at, unread}}, 200 ids a call. */
async function fetchSeen(items) {
  const ids = items.filter((it) => it.status !== 'closed' && it.status !== 'solved').map((it) => it.id);
  const marks = {};
  for (let i = 0; i < ids.length; i += 200) {
    const d = await api('GET', '/tickets/seen?ids=' + ids.slice(i, i + 200).join(','));
    for (const m of (d && d.items) || []) marks[m.id] = m;
  }
  return marks;
}

const countOf = (query) => api('GET', '/tickets/count?' + query).then((d) => (d && typeof d.count === 'number' ? d.count : null));

export function Inbox() {
  const { query: search, user } = useStore();
  const params = new URLSearchParams(search);
  const [teams, setTeams] = useState([]);
  const views = allViews(teams);
  const { view, sort, searching, query, countQuery } = listQuery(params, views);
  const [data, setData] = useState(null);
  const [total, setTotal] = useState(null);
  const [counts, setCounts] = useState({});
  const [error, setError] = useState(null);
  const [cursor, setCursor] = useState(0);
  const [selected, setSelected] = useState(new Set());
  const [users, setUsers] = useState([]);
  const [q, setQ] = useState(params.get('q') || '');
  const [bulkBusy, setBulkBusy] = useState(false);
  const [more, setMore] = useState(false);
  const [bulkTag, setBulkTag] = useState('');
  const [marks, setMarks] = useState({});           // the agent's own seen marks of the rows shown
  const loadMarks = (list) => fetchSeen(list).then((m) => setMarks((old) => ({ ...old, ...m })), () => {});
  const [saved, setSaved] = useState([]);            // saved views: the agent's own and the shared ones
  const [saving, setSaving] = useState(null);        // {name, shared, error} while naming a view to save
  const loadSaved = () => api('GET', '/views').then((d) => setSaved((d && d.items) || []), () => {});
  const [showFilters, setShowFilters] = useState(false);   // on a phone the filters fold away until asked for
  // The compact density (one line a row), remembered in this browser.
  const [compact, setCompact] = useState(() => { try { return localStorage.getItem('destek.inbox.compact') === '1'; } catch (e) { return false; } });
  const toggleCompact = () => {
    const next = !compact;
    setCompact(next);
    try { localStorage.setItem('destek.inbox.compact', next ? '1' : '0'); } catch (e) { /* storage disabled: this page only */ }
  };
  const searchRef = useRef(null);
  const state = useRef({});
  state.current = { data, cursor, query, views };

  const grown = useRef(0);   // bumped by each "show more": a refresh begun before one must not shrink the list
  async function refresh() {
    const asked = query;
    const loaded = state.current.data ? state.current.data.items.length : 0;
    const before = grown.current;
    // The list first and alone (on a first load the rows matter, and the browser opens at most six connections),
    // then the counts, each distinct query once.
    try {
      const d = await fetchList(query, Math.max(PAGE, loaded));
      if (state.current.query !== asked) return;
      if (grown.current !== before) { refresh(); return; }   /* the list grew meanwhile: ask again for all of it */
      setData(d);
      setError(null);
      loadMarks(d.items || []);
    } catch (e) {
      if (state.current.query === asked) setError(e);
    }
    const shown = state.current.views || VIEWS;
    const queries = [...new Set([countQuery, ...shown.map((v) => new URLSearchParams(v.filter).toString())])];
    const answers = await Promise.all(queries.map((q) => countOf(q).catch(() => null)));
    if (state.current.query !== asked) return;
    const byQuery = new Map(queries.map((q, i) => [q, answers[i]]));
    setTotal(byQuery.get(countQuery));
    const next = {};
    for (const v of shown) {
      const n = byQuery.get(new URLSearchParams(v.filter).toString());
      if (n !== null && n !== undefined) next[v.id] = n;
    }
    setCounts(next);
  }

  async function showMore() {
    const d = state.current.data;
    if (!d || !d.next_cursor || more) return;
    const asked = query;
    setMore(true);
    try {
      const page = await api('GET', '/tickets?' + query + '&cursor=' + encodeURIComponent(d.next_cursor));
      if (state.current.query !== asked) return;
      const cur = state.current.data;
      const seen = new Set(cur.items.map((x) => x.id));
      const next = { items: cur.items.concat((page.items || []).filter((x) => !seen.has(x.id))), next_cursor: page.next_cursor || null };
      state.current.data = next;   /* before the next render, for a refresh that reads it meanwhile */
      setData(next);
      grown.current++;
      loadMarks(page.items || []);
    } catch (e) {
      setError(e);
    } finally {
      setMore(false);
    }
  }

  useEffect(() => {
    loadUsers().then(setUsers);
    api('GET', '/teams?limit=200').then((d) => setTeams((d && d.items) || []), () => setTeams([]));
    loadSaved();
  }, []);
  useEffect(() => {
    setData(null);
    setTotal(null);
    setSelected(new Set());
    setCursor(0);
    setQ(params.get('q') || '');
    state.current.data = null;
    refresh();
  }, [query]);
  // Any ticket event may move a ticket into, out of or within this list or change a view's count.
  useLiveRefresh(refresh, { pollMs: POLL_MS }, [query]);
  useEffect(() => { if (teams.length) refresh(); }, [teams.length]);   // the teams' views' counts
  const live = useLiveState();

  function go(patch) {
    const p = new URLSearchParams(search);
    p.delete('saved');
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
    // On a phone the views scroll sideways: keep the current one in sight.
    const active = document.querySelector('.views .view.is-active');
    if (active && active.scrollIntoView) active.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }, [view.id]);
  useEffect(() => {
    const row = document.querySelector('.ticket-row.is-cursor');
    if (row && row.scrollIntoView) row.scrollIntoView({ block: 'nearest' });
  }, [cursor]);

  function toggle(id) {
    setSelected((prev) => {
      const s = new Set(prev);
      if (s.has(id)) s.delete(id); else s.add(id);
      return s;
    });
  }
  const allSelected = items.length > 0 && items.every((it) => selected.has(it.id));
  function toggleAll() {
    setSelected(allSelected ? new Set() : new Set(items.slice(0, 100).map((it) => it.id)));
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

  /* Saves the filters on screen as a named view (the address's query without the saved view's own mark). */
  async function saveView(e) {
    e.preventDefault();
    const name = saving.name.trim();
    if (!name) { setSaving({ ...saving, error: t('views.name_required') }); return; }
    const p = new URLSearchParams(search);
    p.delete('saved');
    try {
      await api('POST', '/views', { name, query: p.toString(), ...(saving.shared ? { shared: true } : {}) });
      setSaving(null);
      loadSaved();
    } catch (err) {
      setSaving({ ...saving, error: errorText(err) });
    }
  }
  async function deleteView(v) {
    try { await api('DELETE', '/views/' + v.id); loadSaved(); } catch (err) { setError(err); }
  }

  /* A ticket's number ("1255", "#1255") opens that ticket; anything else searches. */
  async function findOrSearch(text) {
    const m = /^#?(\d{1,12})$/.exec(text);
    if (m) {
      try {
        const found = await api('GET', '/ticket-references/' + m[1]);
        if (found && found.id) { navigate('/app/tickets/' + found.id); return; }
      } catch (e) { /* no such number: search the text */ }
    }
    // An order number ("AT-10405", "#10405"): its one ticket, or its customer's tickets.
    if (/^#?[A-Za-z0-9][A-Za-z0-9_/-]{1,62}$/.test(text) && /\d/.test(text)) {
      try {
        const found = await api('GET', '/order-references/' + encodeURIComponent(text.replace(/^#/, '')));
        const ids = (found && found.ticket_ids) || [];
        if (ids.length === 1) { navigate('/app/tickets/' + ids[0]); return; }
        if (found && found.contact_id) {
          go({ customer: String(found.contact_id), q: '', status: 'new,open,pending,on_hold,solved,closed' });
          return;
        }
      } catch (e) { /* no such order: search the text */ }
    }
    // An e-mail address or a phone number: that customer's tickets, when it is one customer's.
    if (/@/.test(text) || /^[+\d][\d\s().-]{6,}$/.test(text)) {
      try {
        const found = await api('GET', '/customers?limit=2&q=' + encodeURIComponent(text));
        if (found.items && found.items.length === 1) {
          go({ customer: String(found.items[0].id), q: '', status: 'new,open,pending,on_hold,solved,closed' });
          return;
        }
      } catch (e) { /* search the text instead */ }
    }
    go({ q: text });
  }

  const select = (name, options, label) => html`<label class="filter">
    <span class="visually-hidden">${t('filter.' + name)}</span>
    <select data-filter=${name} value=${params.get(name) || ''} class=${params.get(name) ? 'is-set' : ''}
      onChange=${(e) => go({ [name]: e.currentTarget.value })}>
      <option value="">${t('filter.' + name)}: ${t('filter.any')}</option>
      ${options.map((o) => html`<option value=${o}>${label(o)}</option>`)}
    </select></label>`;
  const me = person(users, user.id);
  const myTeamsNone = !!me && !(me.teams || []).length;
  const filtered = FILTERS.some((f) => f !== 'q' && params.get(f));
  const timeField = sort === 'created' ? 'created_at' : 'updated_at';

  return html`<div class="inbox">
    <nav class="views" aria-label=${t('inbox.views')}>
      ${views.map((v) => html`<a href=${'/app/tickets?view=' + v.id} onClick=${onLinkClick} data-view=${v.id}
          class=${'view' + (v === view && !searching ? ' is-active' : '') + (v.id === 'sla_at_risk' && counts[v.id] ? ' has-risk' : '')}
          aria-current=${v === view && !searching ? 'page' : undefined}>
        <span>${viewName(v)}</span>${counts[v.id] !== undefined
          ? html`<span class="count" data-count=${counts[v.id]}>${number(counts[v.id])}</span>` : null}
      </a>`)}
      ${saved.length ? html`<div class="saved-views" data-region="saved-views">
        <span class="muted small saved-title">${t('views.saved')}</span>
        ${saved.map((v) => html`<span class="saved-view" key=${v.id}>
          <a href=${'/app/tickets?' + v.query + '&saved=' + v.id} onClick=${onLinkClick} data-saved-view=${v.name}
            class=${'view' + (params.get('saved') === String(v.id) ? ' is-active' : '')}>
            <span>${v.name}</span>${v.shared ? html`<span class="muted small"> · ${t('views.shared')}</span>` : null}</a>
          ${v.mine || (v.shared && user.role === 'admin') ? html`<button type="button" class="tag-x" data-action="delete-view"
            aria-label=${t('views.delete', { name: v.name })} onClick=${() => deleteView(v)}>×</button>` : null}
        </span>`)}
      </div>` : null}
    </nav>
    <section class="inbox-main">
      <h1 class="inbox-title">${t('nav.inbox')}<span class="muted"> · ${searching ? t('inbox.results') : viewName(view)}</span></h1>
      <div class="toolbar">
        <form class="search" role="search" onSubmit=${(e) => { e.preventDefault(); findOrSearch(q.trim()); }}>
          <input ref=${searchRef} type="search" name="q" value=${q} placeholder=${t('inbox.search')}
            aria-label=${t('inbox.search')} onInput=${(e) => setQ(e.currentTarget.value)} />
        </form>
        <button type="button" class="btn btn-ghost btn-sm filters-toggle" data-action="filters" aria-expanded=${showFilters ? 'true' : 'false'}
          onClick=${() => setShowFilters(!showFilters)}>${t('inbox.filters')}${FILTERS.some((f) => f !== 'q' && params.get(f)) ? ' •' : ''}</button>
        <div class=${'filters' + (showFilters ? ' is-open' : '')}>
          ${select('status', STATUSES, (s) => t('status.' + s))}
          ${select('priority', PRIORITIES, (s) => t('priority.' + s))}
          ${select('channel', CHANNELS, (s) => t('channel.' + s))}
          ${select('assignee', ['me', 'none', ...users.filter((u) => u.id !== user.id && (u.active !== false || String(u.id) === params.get('assignee')))
              .sort((a, b) => a.name.localeCompare(b.name, 'tr')).map((u) => String(u.id))],
            (s) => (s === 'me' ? t('inbox.me') : s === 'none' ? t('ticket.unassigned') : userName(users, Number(s))))}
          ${teams.length ? select('team', ['mine', ...teams.map((tm) => String(tm.id))],
            (s) => (s === 'mine' ? t('view.my_teams') : (teams.find((tm) => String(tm.id) === s) || { name: '#' + s }).name)) : null}
          <input class=${'tag-filter' + (params.get('tag') ? ' is-set' : '')} type="text" value=${params.get('tag') || ''}
            placeholder=${t('filter.tag')} aria-label=${t('filter.tag')} data-filter="tag"
            onChange=${(e) => go({ tag: e.currentTarget.value.trim() })}
            onKeyDown=${(e) => { if (e.key === 'Escape') e.currentTarget.value = params.get('tag') || ''; }} />
          ${params.get('customer') ? html`<span class="tag" data-filter="customer">${t('filter.customer', {
            name: ((items[0] && items[0].customer) ? (items[0].customer.name || items[0].customer.email) : '#' + params.get('customer')) })}
            <button type="button" class="tag-x" aria-label=${t('filter.clear')} onClick=${() => go({ customer: '', status: '' })}>×</button></span>` : null}
          ${filtered && !saving ? html`<button type="button" class="btn btn-ghost btn-sm" data-action="save-view"
            onClick=${() => setSaving({ name: '', shared: false, error: null })}>${t('views.save')}</button>` : null}
          ${saving ? html`<form class="inline-form save-view" onSubmit=${saveView} data-region="save-view">
            <input type="text" data-field="view-name" value=${saving.name} placeholder=${t('views.name')} aria-label=${t('views.name')}
              aria-invalid=${saving.error ? 'true' : undefined} onInput=${(e) => setSaving({ ...saving, name: e.currentTarget.value, error: null })} />
            ${user.role === 'admin' ? html`<label class="inline small"><input type="checkbox" data-field="view-shared" checked=${saving.shared}
              onChange=${(e) => setSaving({ ...saving, shared: e.currentTarget.checked })} /> ${t('views.share')}</label>` : null}
            <button type="submit" class="btn btn-secondary btn-sm" data-action="save-view-confirm">${t('admin.save')}</button>
            <button type="button" class="btn btn-ghost btn-sm" onClick=${() => setSaving(null)}>${t('merge.cancel')}</button>
            ${saving.error ? html`<span class="field-error" role="alert" data-error="view-name">${saving.error}</span>` : null}
          </form>` : null}
          ${filtered ? html`<button type="button" class="btn btn-ghost btn-sm" data-action="clear-filters"
            onClick=${() => go({ status: '', priority: '', channel: '', tag: '', assignee: '', team: '', customer: '' })}>${t('filter.clear')}</button>` : null}
        </div>
      </div>
      ${selected.size ? html`<div class="bulkbar" role="region" aria-label=${t('bulk.label')}>
        <span>${t('bulk.selected', { n: number(selected.size) })}</span>
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
        <select aria-label=${t('bulk.assign')} data-bulk="assignee" disabled=${bulkBusy}
          onChange=${(e) => e.currentTarget.value && bulk({ assignee_id: e.currentTarget.value === 'none' ? null : Number(e.currentTarget.value) })}>
          <option value="">${t('bulk.assign')}</option>
          <option value="none">${t('ticket.unassigned')}</option>
          ${users.filter((u) => u.active !== false).sort((a, b) => a.name.localeCompare(b.name, 'tr'))
            .map((u) => html`<option value=${String(u.id)}>${u.name}</option>`)}
        </select>
        ${teams.length ? html`<select aria-label=${t('bulk.team')} data-bulk="team" disabled=${bulkBusy}
          onChange=${(e) => e.currentTarget.value && bulk({ team_id: e.currentTarget.value === 'none' ? null : Number(e.currentTarget.value) })}>
          <option value="">${t('bulk.team')}</option>
          <option value="none">${t('ticket.no_team')}</option>
          ${teams.map((tm) => html`<option value=${String(tm.id)}>${tm.name}</option>`)}
        </select>` : null}
        <form class="inline-form" onSubmit=${(e) => { e.preventDefault(); const v = bulkTag.trim(); if (v) { bulk({ add_tags: [v] }); setBulkTag(''); } }}>
          <input type="text" data-bulk="tag" value=${bulkTag} placeholder=${t('bulk.add_tag')} aria-label=${t('bulk.add_tag')}
            disabled=${bulkBusy} onInput=${(e) => setBulkTag(e.currentTarget.value)} /></form>
        <button class="btn btn-ghost" type="button" onClick=${() => setSelected(new Set())}>${t('bulk.clear')}</button>
      </div>` : null}
      ${error ? html`<${Alert}>${errorText(error)}<//>` : null}
      <div class="list-head">
        <label class="select-all">
          <input type="checkbox" checked=${allSelected} disabled=${!items.length} onChange=${toggleAll}
            aria-label=${t('bulk.select_all')} />
        </label>
        <span class="list-total muted small" data-region="total">${total !== null
          ? t('inbox.total', { n: number(total) }) : data ? t('inbox.shown', { n: number(items.length) }) : ''}</span>
        <button type="button" class="btn btn-ghost btn-sm" data-action="density" aria-pressed=${compact ? 'true' : 'false'}
          onClick=${toggleCompact}>${t('inbox.compact')}</button>
        <label class="sort">
          <span class="muted small">${t('sort.label')}</span>
          ${searching ? html`<select data-field="sort" disabled><option>${t('sort.relevance')}</option></select>`
            : html`<select data-field="sort" value=${sort} onChange=${(e) => go({ sort: e.currentTarget.value === (view.sort || 'updated') ? '' : e.currentTarget.value })}>
              ${SORTS.map((s) => html`<option value=${s}>${t(SORT_KEYS[s])}</option>`)}
            </select>`}
        </label>
      </div>
      ${view.id === 'my_teams' && !searching && myTeamsNone ? html`<p class="muted small pad" data-region="my-teams-none">${t('inbox.my_teams_none')}</p>` : null}
      ${!data ? html`<p class="muted pad">${t('common.loading')}</p>` : !items.length
        ? html`<div class="card empty"><h2>${t('inbox.none_title')}</h2><p class="muted">${t('inbox.none_body')}</p></div>`
        : html`<ul class=${'ticket-list' + (compact ? ' is-compact' : '')} data-region="inbox">
        ${items.map((it, i) => html`<li key=${it.id} data-ticket=${it.id}
            class=${'ticket-row' + (i === cursor ? ' is-cursor' : '') + (selected.has(it.id) ? ' is-selected' : '')
              + (marks[it.id] && marks[it.id].unread ? ' is-unread' : '')}>
          <input type="checkbox" checked=${selected.has(it.id)} onChange=${() => toggle(it.id)}
            aria-label=${t('bulk.select', { ref: it.reference })} />
          <a class="row-main" href=${'/app/tickets/' + it.id} onClick=${onLinkClick}>
            <span class="row-top">
              <span class="ref">${it.reference}</span>
              ${marks[it.id] && marks[it.id].unread ? html`<span class=${'unread-mark' + (marks[it.id].seen_at ? ' is-replied' : '')}
                data-field="unread" data-kind=${marks[it.id].seen_at ? 'replied' : 'new'}
                title=${t(marks[it.id].seen_at ? 'inbox.unread_replied' : 'inbox.unread_new')}>${marks[it.id].seen_at
                  ? t('inbox.unread_replied_short') : html`<span class="visually-hidden">${t('inbox.unread_new')}</span>`}</span>` : null}
              <span class="subject">${it.subject}</span>
            </span>
            <span class="row-sub">
              <span class="customer">${it.customer && (it.customer.name || it.customer.email)}</span>
              ${it.search && it.search.snippet_html ? html`<${Snippet} html=${it.search.snippet_html} />`
                : it.last_message ? html`<span class="excerpt" data-field="last-message">
                  <span class=${'last-from from-' + it.last_message.from}>${t(LAST_FROM[it.last_message.from] || 'inbox.last_system')}:</span>
                  ${' ' + (String(it.last_message.excerpt || '').split('\n').find((l) => l.trim()) || '')}</span>` : null}
            </span>
          </a>
          <span class="row-meta">
            <${SlaBadge} sla=${it.sla} />
            ${waiting(it) ? html`<span class=${'waiting' + (it.assignee_id === user.id ? ' is-mine' : '')} data-field="customer-waiting"
              title=${dateTime(it.last_message.at)}>${t('inbox.customer_waiting', { time: ago(it.last_message.at) })}</span>` : null}
            <${StatusBadge} status=${it.status} />
            ${it.priority !== 'normal' ? html`<${PriorityBadge} priority=${it.priority} />` : null}
            ${it.team_id != null ? html`<span class="team muted small" data-team=${it.team_id}>${(teams.find((tm) => tm.id === it.team_id) || { name: '#' + it.team_id }).name}</span>` : null}
            <span class="assignee" data-assignee=${it.assignee_id == null ? '' : it.assignee_id}>${it.assignee_id == null ? null
              : html`<${OnlineDot} person=${person(users, it.assignee_id)} />`}${userName(users, it.assignee_id)}</span>
            <time datetime=${it[timeField]} title=${t(sort === 'created' ? 'inbox.created_at' : 'inbox.updated_at',
              { time: dateTime(it[timeField]) })}>${ago(it[timeField])}</time>
          </span>
        </li>`)}
      </ul>`}
      ${data && data.next_cursor ? html`<div class="more"><button type="button" class="btn btn-ghost" data-action="more"
        disabled=${more} onClick=${showMore}>${more ? t('common.loading') : t('inbox.more')}</button></div>` : null}
      <p class="muted small pad">${t(live === 'open' ? 'live.inbox_note' : 'inbox.live_note')}</p>
    </section>
  </div>`;
}
