// /app/tickets/{id}: the thread, the composer, the ticket's fields, merge, presence, and the customer panel.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { useStore } from '../store.js';
import { navigate, onLinkClick } from '../router.js';
import { Alert, errorText } from '../components.js';
import { PRIORITIES, STATUSES, StatusBadge, ago, dateTime, loadUsers, userName } from '../tickets.js';
import { setKeys } from '../keys.js';
import { useLiveRefresh, usePresence } from '../live.js';

function Message({ m }) {
  const who = m.author ? (m.author.name || t('author.' + m.author.type)) : '';
  const kind = m.kind === 'note' ? 'note' : m.author && m.author.type === 'customer' ? 'customer' : 'reply';
  return html`<article class=${'msg msg-' + kind} data-message=${m.id} data-kind=${kind}>
    <header class="msg-head">
      <strong class="msg-author">${who}</strong>
      <span class="msg-kind">${t('kind.' + kind)}</span>
      <time datetime=${m.created_at} title=${dateTime(m.created_at)}>${ago(m.created_at)}</time>
    </header>
    ${m.body_html ? html`<iframe class="msg-html" sandbox="" title=${t('ticket.html_body')}
        srcdoc=${m.body_html} referrerpolicy="no-referrer"></iframe>` : html`<div class="msg-body">${m.body}</div>`}
    ${m.attachments && m.attachments.length ? html`<ul class="attachments">
      ${m.attachments.map((a) => html`<li><a href=${a.url} download=${a.filename} rel="noopener">
        ${a.filename}</a> <span class="muted small">${Math.ceil(a.size / 1024)} KB</span></li>`)}
    </ul>` : null}
  </article>`;
}

function History({ items, users }) {
  if (!items || !items.length) return null;
  return html`<details class="history card"><summary>${t('ticket.history')} (${items.length})</summary>
    <ol>${items.map((h) => html`<li>
      <time datetime=${h.created_at}>${dateTime(h.created_at)}</time>
      <span> · ${h.actor && h.actor.name ? h.actor.name : ''} · ${h.field || h.type}</span>
      ${h.old !== undefined || h.new !== undefined ? html`<span>: ${fmt(h.old)} → ${fmt(h.new)}</span>` : null}
    </li>`)}</ol></details>`;
  function fmt(v) {
    if (v === null || v === undefined) return '—';
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
}

function CustomerPanel({ customer, ticketId }) {
  const [data, setData] = useState(null);
  useEffect(() => {
    if (!customer) return;
    api('GET', '/customers/' + customer.id).then(setData, () => setData(null));
  }, [customer && customer.id, ticketId]);
  if (!customer) return null;
  const c = data || customer;
  const others = ((data && data.tickets) || []).filter((x) => x.id !== ticketId);
  return html`<aside class="side" aria-label=${t('customer.panel')}>
    <section class="card" data-region="customer">
      <h2 class="h3">${t('customer.title')}</h2>
      <p><strong>${c.name}</strong></p>
      ${c.email ? html`<p class="muted small">${c.email}</p>` : null}
      ${c.phone ? html`<p class="muted small">${c.phone}</p>` : null}
      <h3 class="h4">${t('customer.other_tickets')}</h3>
      ${others.length ? html`<ul class="mini-list">${others.map((x) => html`<li>
        <a href=${'/app/tickets/' + x.id} onClick=${onLinkClick}>${x.reference} ${x.subject}</a>
        <${StatusBadge} status=${x.status} /></li>`)}</ul>` : html`<p class="muted small">${t('customer.no_other')}</p>`}
    </section>
    <div class="plugin-slot" data-slot="ticket.side" aria-hidden="true"></div>
  </aside>`;
}

export function TicketPage({ id }) {
  const { user } = useStore();
  const [ticket, setTicket] = useState(null);
  const [error, setError] = useState(null);
  const [users, setUsers] = useState([]);
  const [kind, setKind] = useState('reply');
  const [body, setBody] = useState('');
  const [sendStatus, setSendStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const [mergeRef, setMergeRef] = useState('');
  const [tagText, setTagText] = useState('');
  const [macros, setMacros] = useState([]);
  const bodyRef = useRef(null);

  async function load() {
    try {
      const d = await api('GET', '/tickets/' + id);
      if (d.merged_into) {
        navigate('/app/tickets/' + d.merged_into, true);
        return;
      }
      setTicket(d);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    setTicket(null);
    load();
    loadUsers().then(setUsers);
    api('GET', '/macros').then((d) => setMacros((d && d.items) || []), () => setMacros([]));
  }, [id]);

  // Collision warning, and the thread refetched whenever this ticket changes — another agent's reply, the
  // customer's mail, a trigger — without touching the draft (the composer's own state). A merge away from this
  // ticket shows here too, and load() follows it.
  const others = usePresence(id, body, user.id);
  useLiveRefresh(load, { match: (f) => String(f.ticket_id) === String(id) || String(f.source_id) === String(id),
    pollMs: 30000, livePollMs: 300000 }, [id]);

  async function run(fn) {
    setBusy(true);
    try {
      await fn();
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const patch = (changes) => run(async () => setTicket(await api('PATCH', '/tickets/' + id, changes)));
  const assign = (assignee) => run(async () => {
    await api('POST', '/tickets/' + id + '/assign', { assignee_id: assignee });
    await load();
  });
  const send = (e) => {
    if (e) e.preventDefault();
    if (!body.trim()) return;
    run(async () => {
      await api('POST', '/tickets/' + id + '/messages', { body, kind });
      if (sendStatus) await api('PATCH', '/tickets/' + id, { status: sendStatus });
      setBody('');
      setSendStatus('');
      await load();
    });
  };
  // A macro is applied by the server: it sends its reply (in the customer's language) and its changes at once.
  const applyMacro = (macroId) => run(async () => {
    await api('POST', '/tickets/' + id + '/macros/' + macroId + '/apply');
    await load();
  });
  const merge = (e) => {
    e.preventDefault();
    const text = mergeRef.trim().replace(/^#/, '');
    if (!text) return;
    run(async () => {
      let sourceId = null;
      if (mergeRef.trim().startsWith('#')) {
        // The API has no lookup by reference: page through every ticket (newest first) until it turns up.
        let cursor = null;
        for (let page = 0; page < 20 && !sourceId; page++) {
          const found = await api('GET', '/tickets?limit=100&status=' + STATUSES.join(',') +
            (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
          const hit = found.items.find((x) => x.reference === '#' + text);
          if (hit) sourceId = hit.id;
          cursor = found.next_cursor;
          if (!cursor) break;
        }
      } else {
        sourceId = parseInt(text, 10);
      }
      if (!sourceId) throw Object.assign(new Error(t('merge.not_found')), { status: 404, message: t('merge.not_found') });
      setTicket(await api('POST', '/tickets/' + id + '/merge', { source_id: sourceId }));
      setMergeRef('');
      await load();
    });
  };
  const addTag = (e) => {
    e.preventDefault();
    const tag = tagText.trim();
    if (!tag || !ticket) return;
    patch({ tags: [...ticket.tags.filter((x) => x !== tag), tag] });
    setTagText('');
  };

  const focusComposer = (k) => {
    setKind(k);
    if (bodyRef.current) bodyRef.current.focus();
  };
  useEffect(() => {
    setKeys({
      r: () => focusComposer('reply'),
      n: () => focusComposer('note'),
      a: () => assign('me'),
      u: () => navigate('/app/tickets'),
    });
    return () => setKeys({});
  }, [id]);

  if (!ticket) {
    return html`<div class="pad">${error ? html`<${Alert}>${errorText(error)}<//>` : html`<p class="muted">${t('common.loading')}</p>`}</div>`;
  }
  const closed = ticket.status === 'closed';
  return html`<div class="ticket-page" data-ticket-id=${ticket.id}>
    <div class="ticket-main">
      <div class="ticket-head">
        <a class="back" href="/app/tickets" onClick=${onLinkClick}>← ${t('nav.inbox')}</a>
        <h1><span class="ref">${ticket.reference}</span> <span class="subject">${ticket.subject}</span></h1>
        <p class="muted small">${t('channel.' + ticket.channel)} · ${dateTime(ticket.created_at)}</p>
      </div>
      ${others.length ? html`<div class="alert alert-warning" role="status" data-region="presence">
        ${others.map((o) => html`<span>${t(o.typing ? 'presence.typing' : 'presence.viewing', { name: o.name })} </span>`)}
      </div>` : null}
      ${error ? html`<${Alert}>${errorText(error)}<//>` : null}
      <div class="thread" data-region="thread">
        ${(ticket.messages || []).map((m) => html`<${Message} key=${m.id} m=${m} />`)}
      </div>
      ${closed ? html`<p class="muted">${t('ticket.closed_note')}</p>` : html`<form class=${'composer card composer-' + kind} onSubmit=${send}>
        <div class="tabs" role="tablist">
          <button type="button" role="tab" aria-selected=${kind === 'reply'} class=${kind === 'reply' ? 'is-active' : ''}
            onClick=${() => setKind('reply')} data-kind="reply">${t('composer.reply')}</button>
          <button type="button" role="tab" aria-selected=${kind === 'note'} class=${kind === 'note' ? 'is-active' : ''}
            onClick=${() => setKind('note')} data-kind="note">${t('composer.note')}</button>
        </div>
        <textarea ref=${bodyRef} name="body" rows="5" value=${body} aria-label=${t('composer.' + kind)}
          placeholder=${t(kind === 'note' ? 'composer.note_placeholder' : 'composer.reply_placeholder')}
          onInput=${(e) => setBody(e.currentTarget.value)}
          onKeyDown=${(e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) send(e); }}></textarea>
        <div class="composer-foot">
          ${macros.length ? html`<select class="macro-pick" data-field="macro" aria-label=${t('composer.macro')} disabled=${busy}
            onChange=${(e) => { const v = e.currentTarget.value; e.currentTarget.value = ''; if (v) applyMacro(v); }}>
            <option value="">${t('composer.macro')}</option>
            ${macros.map((m) => html`<option value=${m.id}>${m.name}</option>`)}
          </select>` : null}
          <label class="inline"><span>${t('composer.then')}</span>
            <select value=${sendStatus} onChange=${(e) => setSendStatus(e.currentTarget.value)} data-field="send-status">
              <option value="">${t('composer.keep_status')}</option>
              ${['open', 'pending', 'on_hold', 'solved'].map((s) => html`<option value=${s}>${t('status.' + s)}</option>`)}
            </select></label>
          <button class="btn btn-primary" type="submit" disabled=${busy || !body.trim()} data-action="send">
            ${t(kind === 'note' ? 'composer.add_note' : 'composer.send')}</button>
        </div>
      </form>`}
      <${History} items=${ticket.history} users=${users} />
    </div>
    <div class="ticket-side">
      <section class="card props" aria-label=${t('ticket.properties')}>
        <label class="prop"><span>${t('ticket.status')}</span>
          <select data-field="status" value=${ticket.status} disabled=${busy || closed}
            onChange=${(e) => patch({ status: e.currentTarget.value })}>
            ${STATUSES.filter((s) => s !== 'new' || ticket.status === 'new').map((s) => html`<option value=${s}>${t('status.' + s)}</option>`)}
          </select></label>
        <label class="prop"><span>${t('ticket.priority')}</span>
          <select data-field="priority" value=${ticket.priority} disabled=${busy || closed}
            onChange=${(e) => patch({ priority: e.currentTarget.value })}>
            ${PRIORITIES.map((s) => html`<option value=${s}>${t('priority.' + s)}</option>`)}
          </select></label>
        <div class="prop"><span>${t('ticket.assignee')}</span>
          <strong data-field="assignee">${userName(users, ticket.assignee_id)}</strong>
          <div class="row-actions">
            ${ticket.assignee_id !== user.id ? html`<button class="btn btn-secondary btn-sm" type="button"
              disabled=${busy || closed} data-action="assign-me" onClick=${() => assign('me')}>${t('ticket.assign_me')}</button>` : null}
            ${users.length ? html`<select aria-label=${t('ticket.assign_to')} disabled=${busy || closed}
              onChange=${(e) => e.currentTarget.value && assign(e.currentTarget.value === 'none' ? null : Number(e.currentTarget.value))}>
              <option value="">${t('ticket.assign_to')}</option>
              <option value="none">${t('ticket.unassigned')}</option>
              ${users.filter((u) => u.active !== false && u.id !== user.id).map((u) => html`<option value=${u.id}>${u.name}</option>`)}
            </select>` : null}
          </div>
        </div>
        <div class="prop"><span>${t('ticket.tags')}</span>
          <ul class="tags">${ticket.tags.map((tag) => html`<li class="tag">${tag}
            <button type="button" class="tag-x" aria-label=${t('ticket.remove_tag', { tag })} disabled=${busy || closed}
              onClick=${() => patch({ tags: ticket.tags.filter((x) => x !== tag) })}>×</button></li>`)}</ul>
          ${closed ? null : html`<form class="inline-form" onSubmit=${addTag}>
            <input type="text" value=${tagText} aria-label=${t('ticket.add_tag')} placeholder=${t('ticket.add_tag')}
              onInput=${(e) => setTagText(e.currentTarget.value)} /></form>`}
        </div>
        ${closed ? null : html`<form class="prop" onSubmit=${merge}>
          <label for="merge-ref">${t('merge.label')}</label>
          <div class="inline-form">
            <input id="merge-ref" type="text" value=${mergeRef} placeholder=${t('merge.placeholder')}
              onInput=${(e) => setMergeRef(e.currentTarget.value)} />
            <button class="btn btn-secondary btn-sm" type="submit" disabled=${busy} data-action="merge">${t('merge.submit')}</button>
          </div>
          <p class="muted small">${t('merge.hint', { ref: ticket.reference })}</p>
        </form>`}
      </section>
      <${CustomerPanel} customer=${ticket.customer} ticketId=${ticket.id} />
    </div>
  </div>`;
}
