// /app/tickets/{id}: the SLA clocks, the thread, the composer, the ticket's fields, merge, presence, history, and
// the customer panel (details, other tickets, a slot for plugin panels).
//
// Tickets of two different customers merged into one keep each customer's part (ticket.parts, message
// part_ticket_id): the thread labels whose part each message is, the composer asks whom a reply is for, and a merge
// of another customer's ticket is confirmed first in a dialog that shows both tickets and both customers.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Alert, OnlineDot, Slot, ago, api, bytes, dateTime, errorText, formatDate, html, navigate, number, onLinkClick, person, setKeys, t,
  useLiveRefresh, useStore, when } from '@destek/agent';
import { PRIORITIES, PriorityBadge, STATUSES, StatusBadge, assignGroups, loadUsers, userName } from './tickets.js';
import { SlaClock } from './sla.js';
import { History } from './history.js';
import { HtmlBody } from './mailframe.js';
import { Composer } from './composer.js';
import { usePresence } from './presence.js';

const OTHER_TICKETS_SHOWN = 8;

/* customer | reply | note | auto (a trigger's reply, no author). */
function messageKind(m) {
  if (m.kind === 'note') return 'note';
  if (m.author && m.author.type === 'customer') return 'customer';
  if (m.author && m.author.type === 'system') return 'auto';
  return 'reply';
}
const KIND_LABEL = { customer: 'kind.customer', reply: 'kind.reply', note: 'kind.note', auto: 'kind.auto' };

function Attachments({ items }) {
  if (!items || !items.length) return null;
  return html`<ul class="attachments" data-region="attachments">
    ${items.map((a) => html`<li key=${a.id} class="attachment" data-attachment=${a.id}>
      ${/^image\/(png|jpeg|gif|webp)$/.test(a.content_type) ? html`<img class="thumb" src=${a.url} alt="" loading="lazy" />`
        : html`<svg class="icon" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
          <path d="M12 3H6a1 1 0 0 0-1 1v12a1 1 0 0 0 1 1h8a1 1 0 0 0 1-1V6zM12 3v3h3" /></svg>`}
      <a href=${a.url} download=${a.filename} rel="noopener" data-action="download">${a.filename}</a>
      <span class="muted small" data-size=${a.size}>${bytes(a.size)}</span>
    </li>`)}
  </ul>`;
}
/* A note the desk wrote with a fixed meaning (message.notice), in the agent's language; null for one it does not know. */
function Notice({ notice }) {
  if (notice.code === 'mail_other_sender') {
    return html`<div class="msg-body" data-notice=${notice.code}>
      ${t('notice.mail_other_sender', { address: notice.address })}${' '}
      <a href=${'/app/tickets/' + notice.ticket_id} onClick=${onLinkClick} data-action="notice-ticket">${notice.reference}</a>
    </div>`;
  }
  return null;
}

/* part: the ticket (of ticket.parts) whose customer's conversation m belongs to, shown when the thread has several
 * customers. */
function Message({ m, part }) {
  const kind = messageKind(m);
  const who = m.author && m.author.name ? m.author.name : t('author.' + ((m.author && m.author.type) || 'system'));
  const notice = m.notice ? Notice({ notice: m.notice }) : null;
  return html`<article class=${'msg msg-' + kind} data-message=${m.id} data-kind=${kind}>
    <header class="msg-head">
      <span class="msg-avatar" aria-hidden="true">${kind === 'note' ? '✎' : (who || '?').slice(0, 1).toLocaleUpperCase()}</span>
      <strong class="msg-author">${who}</strong>
      <span class=${'msg-kind kind-' + kind}>${t(KIND_LABEL[kind])}</span>
      ${part && kind !== 'note' ? html`<span class="msg-part muted small" data-part=${part.ticket_id}>
        ${t('part.of', { ref: part.reference, name: part.customer.name || part.customer.email || '' })}</span>` : null}
      <time datetime=${m.created_at} title=${dateTime(m.created_at)}>${when(m.created_at)} · ${ago(m.created_at)}</time>
    </header>
    ${notice || (m.body_html ? html`<${HtmlBody} message=${m} />` : html`<div class="msg-body">${m.body}</div>`)}
    <${Attachments} items=${m.attachments} />
  </article>`;
}

/* The customers of a thread (ticket.parts), each once with its first ticket there (the thread's own first). */
function partCustomers(parts) {
  const seen = new Map();
  for (const p of parts || []) {
    if (!seen.has(p.customer.id)) {
      seen.set(p.customer.id, { ...p.customer, ticket_id: p.ticket_id, reference: p.reference, subject: p.subject,
        order_number: p.order_number });
    }
  }
  return [...seen.values()];
}

/* The confirmation of a merge of another customer's ticket (the API's 409 customers_differ names both sides). */
function MergeConfirm({ ask, busy, onConfirm, onCancel }) {
  const cancel = useRef(null);
  useEffect(() => {
    if (cancel.current) cancel.current.focus();
    const esc = (e) => { if (e.key === 'Escape') { e.stopPropagation(); onCancel(); } };
    document.addEventListener('keydown', esc, true);
    return () => document.removeEventListener('keydown', esc, true);
  }, []);
  const side = (x, label, role) => html`<section class="merge-side" data-merge-side=${role}>
    <h3 class="h4">${label}</h3>
    <p><span class="ref">${x.reference}</span> <span data-field="merge-subject">${x.subject}</span></p>
    <p data-field="merge-customer"><strong>${x.customer.name || x.customer.email}</strong>
      ${x.customer.email ? html` <span class="muted break">${x.customer.email}</span>` : null}</p>
  </section>`;
  return html`<div class="overlay" onClick=${onCancel}>
    <div class="dialog card merge-confirm" role="alertdialog" aria-modal="true" aria-labelledby="merge-confirm-title"
      aria-describedby="merge-confirm-lead" data-region="merge-confirm" onClick=${(e) => e.stopPropagation()}>
      <h2 id="merge-confirm-title">${t(ask.differ ? 'merge.confirm_title' : 'merge.confirm_title_same')}</h2>
      <p id="merge-confirm-lead">${t(ask.differ ? 'merge.confirm_lead' : 'merge.confirm_lead_same')}</p>
      ${side(ask.target, t('merge.confirm_target'), 'target')}
      ${side(ask.source, t('merge.confirm_source'), 'source')}
      ${ask.differ ? html`<p class="muted small">${t('merge.confirm_note')}</p>` : null}
      <div class="row-actions">
        <button class="btn btn-primary" type="button" data-action="merge-confirm" disabled=${busy}
          onClick=${onConfirm}>${t(ask.differ ? 'merge.confirm' : 'merge.confirm_same')}</button>
        <button class="btn btn-secondary" type="button" data-action="merge-cancel" ref=${cancel}
          onClick=${onCancel}>${t('merge.cancel')}</button>
      </div>
    </div>
  </div>`;
}

/* "a" on a ticket a colleague owns: taking it from them is asked first. */
function TakeConfirm({ name, busy, onConfirm, onCancel }) {
  const cancel = useRef(null);
  useEffect(() => {
    if (cancel.current) cancel.current.focus();
    const esc = (e) => { if (e.key === 'Escape') { e.stopPropagation(); onCancel(); } };
    document.addEventListener('keydown', esc, true);
    return () => document.removeEventListener('keydown', esc, true);
  }, []);
  return html`<div class="overlay" onClick=${onCancel}>
    <div class="dialog card merge-confirm" role="alertdialog" aria-modal="true" aria-labelledby="take-confirm-title"
      data-region="take-confirm" onClick=${(e) => e.stopPropagation()}>
      <h2 id="take-confirm-title">${t('ticket.take_title')}</h2>
      <p>${t('ticket.take_lead', { name })}</p>
      <div class="row-actions">
        <button class="btn btn-primary" type="button" data-action="take-confirm" disabled=${busy} onClick=${onConfirm}>${t('ticket.take_confirm')}</button>
        <button class="btn btn-secondary" type="button" data-action="take-cancel" ref=${cancel} onClick=${onCancel}>${t('merge.cancel')}</button>
      </div>
    </div>
  </div>`;
}

/* The confirmation of a KVKK erasure: what goes and what stays, named by the person. */
function EraseConfirm({ name, busy, error, onConfirm, onCancel }) {
  const cancel = useRef(null);
  useEffect(() => {
    if (cancel.current) cancel.current.focus();
    const esc = (e) => { if (e.key === 'Escape') { e.stopPropagation(); onCancel(); } };
    document.addEventListener('keydown', esc, true);
    return () => document.removeEventListener('keydown', esc, true);
  }, []);
  return html`<div class="overlay" onClick=${onCancel}>
    <div class="dialog card merge-confirm" role="alertdialog" aria-modal="true" aria-labelledby="erase-confirm-title"
      aria-describedby="erase-confirm-lead" data-region="erase-confirm" onClick=${(e) => e.stopPropagation()}>
      <h2 id="erase-confirm-title">${t('customer.erase_title', { name })}</h2>
      <p id="erase-confirm-lead">${t('customer.erase_lead')}</p>
      <p class="muted small">${t('customer.erase_note')}</p>
      ${error ? html`<${Alert} kind="error">${errorText(error)}<//>` : null}
      <div class="row-actions">
        <button class="btn btn-primary btn-danger" type="button" data-action="erase-confirm" disabled=${busy}
          onClick=${onConfirm}>${t('customer.erase_confirm')}</button>
        <button class="btn btn-secondary" type="button" data-action="erase-cancel" ref=${cancel}
          onClick=${onCancel}>${t('merge.cancel')}</button>
      </div>
    </div>
  </div>`;
}

/* Admins' KVKK actions on the customer: download everything held about them (a ZIP), or erase them. */
function PersonActions({ customer, onErased }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  if (customer.erased_at) return html`<p class="muted small" data-field="erased">${t('customer.erased')}</p>`;
  const erase = async () => {
    setBusy(true);
    setError(null);
    try {
      await api('POST', '/contacts/' + customer.id + '/erase', { confirm_id: customer.id });
      setAsking(false);
      onErased();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="row-actions kvkk-actions" data-region="kvkk">
    <a class="btn btn-secondary btn-sm" data-action="contact-export" href=${'/api/v1/contacts/' + customer.id + '/export'}
      download=${'contact-' + customer.id + '.zip'}>${t('customer.export')}</a>
    <button class="btn btn-ghost btn-sm btn-danger-text" type="button" data-action="contact-erase"
      onClick=${() => { setError(null); setAsking(true); }}>${t('customer.erase')}</button>
    ${asking ? html`<${EraseConfirm} name=${customer.name || customer.email || customer.phone} busy=${busy} error=${error}
      onConfirm=${erase} onCancel=${() => setAsking(false)} />` : null}
  </div>`;
}

function CustomerPanel({ ticket, customer, onErased }) {
  const { user } = useStore();
  const otherParts = partCustomers(ticket.parts).filter((x) => x.id !== ticket.customer.id);
  const [all, setAll] = useState(false);
  const c = customer || ticket.customer;
  const others = ((customer && customer.tickets) || []).filter((x) => x.id !== ticket.id);
  const isOpen = (x) => x.status !== 'solved' && x.status !== 'closed';
  const open = others.filter(isOpen).length + (isOpen(ticket) ? 1 : 0);
  const shown = all ? others : others.slice(0, OTHER_TICKETS_SHOWN);
  return html`<aside class="side" aria-label=${t('customer.panel')}>
    <section class="card customer-card" data-region="customer">
      <h2 class="h3">${t('customer.title')}</h2>
      <p class="customer-name"><strong>${c.name || c.email || c.phone}</strong></p>
      ${c.email ? html`<p class="customer-email small"><a href=${'mailto:' + c.email} class="break"
        aria-label=${t('customer.email') + ': ' + c.email}>${c.email}</a></p>` : null}
      <dl class="facts">
        ${c.phone ? html`<div><dt>${t('customer.phone')}</dt><dd><a href=${'tel:' + c.phone}>${c.phone}</a></dd></div>` : null}
        ${customer && customer.lang ? html`<div><dt>${t('customer.lang')}</dt><dd>${t('lang.' + customer.lang)}</dd></div>` : null}
        ${customer && (customer.first_seen_at || customer.created_at) ? html`<div><dt>${t('customer.since')}</dt>
          <dd data-field="first-seen"><time datetime=${customer.first_seen_at || customer.created_at} title=${dateTime(customer.first_seen_at || customer.created_at)}>${formatDate(customer.first_seen_at || customer.created_at, { dateStyle: 'medium' })}</time></dd></div>` : null}
        ${customer ? html`<div><dt>${t('customer.tickets')}</dt>
          <dd data-field="ticket-count">${t('customer.tickets_count', { n: number(others.length + 1), open: number(open) })}</dd></div>` : null}
      </dl>
      <h3 class="h4">${t('customer.other_tickets')}</h3>
      ${others.length ? html`<ul class="mini-list" data-region="other-tickets">${shown.map((x) => html`<li key=${x.id}>
        <a href=${'/app/tickets/' + x.id} onClick=${onLinkClick}><span class="ref">${x.reference}</span> ${x.subject}</a>
        <span class="mini-meta"><${StatusBadge} status=${x.status} />
          <time class="muted small" datetime=${x.updated_at} title=${dateTime(x.updated_at)}>${ago(x.updated_at)}</time></span>
      </li>`)}</ul>
      ${others.length > OTHER_TICKETS_SHOWN ? html`<button type="button" class="btn btn-ghost btn-sm" onClick=${() => setAll(!all)}>
        ${all ? t('customer.show_fewer') : t('customer.show_all', { n: number(others.length) })}</button>` : null}`
        : html`<p class="muted small">${t('customer.no_other')}</p>`}
      ${otherParts.length ? html`<h3 class="h4">${t('customer.other_parts')}</h3>
        <ul class="mini-list parts-list" data-region="other-parts">${otherParts.map((x) => html`<li key=${x.id}>
          <span><span class="ref">${x.reference}</span> ${x.name || x.email}</span>
          ${x.email ? html`<span class="muted small break">${x.email}</span>` : null}
        </li>`)}</ul>` : null}
      ${user && user.role === 'admin' && customer ? html`<${PersonActions} customer=${customer} onErased=${onErased} />` : null}
    </section>
    <${Slot} name="ticket.side" label=${t('customer.plugin_panels')} ticket=${ticket} customer=${customer} />
  </aside>`;
}

/* Snooze until a date and time: the ticket becomes pending and opens again by itself then (snooze.c). */
function pad(n) { return String(n).padStart(2, '0'); }
function localInput(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function Snooze({ ticket, disabled, onChanged }) {
  const tomorrow = new Date();
  tomorrow.setDate(tomorrow.getDate() + 1);
  tomorrow.setHours(9, 0, 0, 0);
  const [value, setValue] = useState(localInput(tomorrow));
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function call(method, body) {
    setBusy(true);
    setError(null);
    try {
      onChanged(await api(method, '/tickets/' + ticket.id + '/snooze', body));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const submit = (e) => {
    e.preventDefault();
    const d = new Date(value);
    if (!value || Number.isNaN(d.getTime())) { setError({ message: t('snooze.invalid') }); return; }
    if (d.getTime() <= Date.now()) { setError({ message: t('snooze.past') }); return; }
    call('POST', { until: d.toISOString().replace(/\.\d{3}Z$/, 'Z') });
  };
  if (ticket.snoozed_until) {
    return html`<div class="prop" data-region="snooze">
      <span>${t('snooze.label')}</span>
      <p data-field="snoozed-until"><strong>${t('snooze.until', { time: dateTime(ticket.snoozed_until) })}</strong></p>
      <button type="button" class="btn btn-ghost btn-sm" data-action="unsnooze" disabled=${busy || disabled}
        onClick=${() => call('DELETE')}>${t('snooze.cancel')}</button>
      ${error ? html`<p class="prop-error" role="alert" data-error="snooze">${errorText(error)}</p>` : null}
    </div>`;
  }
  if (ticket.status === 'solved' || ticket.status === 'closed') return null;
  return html`<form class="prop" data-region="snooze" onSubmit=${submit}>
    <label for="snooze-until">${t('snooze.label')}</label>
    <div class="inline-form">
      <input id="snooze-until" type="datetime-local" value=${value} aria-invalid=${error ? 'true' : undefined}
        onInput=${(e) => { setValue(e.currentTarget.value); setError(null); }} />
      <button class="btn btn-secondary btn-sm" type="submit" data-action="snooze" disabled=${busy || disabled}>${t('snooze.submit')}</button>
    </div>
    ${error ? html`<p class="prop-error" role="alert" data-error="snooze">${errorText(error)}</p>` : null}
    <p class="muted small">${t('snooze.hint')}</p>
  </form>`;
}

/* Forward the thread (without notes) to an outside address, with a note on top. */
function Forward({ ticket, disabled, onDone }) {
  const [to, setTo] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState(null);
  const [sent, setSent] = useState(null);
  const [busy, setBusy] = useState(false);
  const [open, setOpen] = useState(false);   // the form is made only when opened: no stray fields on the page
  const [withFiles, setWithFiles] = useState(true);
  const files = (ticket.messages || []).filter((m) => m.kind !== 'note').reduce((n, m) => n + ((m.attachments || []).length), 0);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setSent(null);
    if (!/^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/.test(to.trim())) { setError({ message: t('forward.invalid') }); return; }
    setBusy(true);
    try {
      await api('POST', '/tickets/' + ticket.id + '/forward', { to: to.trim(), ...(note.trim() ? { note: note.trim() } : {}),
        ...(files && !withFiles ? { attachments: false } : {}) });
      setSent(to.trim());
      setTo('');
      setNote('');
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<details class="prop forward" data-region="forward" onToggle=${(e) => setOpen(e.currentTarget.open)}>
    <summary>${t('forward.label')}</summary>
    ${open ? html`<form onSubmit=${submit} novalidate>
      <label for="forward-to" class="small">${t('forward.to')}</label>
      <input id="forward-to" type="email" value=${to} aria-invalid=${error ? 'true' : undefined}
        onInput=${(e) => { setTo(e.currentTarget.value); setError(null); }} />
      ${error ? html`<p class="prop-error" role="alert" data-error="forward">${errorText(error)}</p>` : null}
      <label for="forward-note" class="small">${t('forward.note')}</label>
      <textarea id="forward-note" rows="3" value=${note} onInput=${(e) => setNote(e.currentTarget.value)}></textarea>
      ${files ? html`<label class="inline small"><input type="checkbox" data-field="forward-files" checked=${withFiles}
        onChange=${(e) => setWithFiles(e.currentTarget.checked)} /> ${t('forward.files', { n: files })}</label>` : null}
      <button class="btn btn-secondary btn-sm" type="submit" data-action="forward" disabled=${busy || disabled}>${t('forward.submit')}</button>
      ${sent ? html`<p class="muted small" role="status" data-field="forwarded">${t('forward.done', { to: sent })}</p>` : null}
      <p class="muted small">${t('forward.hint')}</p>
    </form>` : null}
  </details>`;
}

export function TicketPage({ id }) {
  const { user } = useStore();
  const [ticket, setTicket] = useState(null);
  const [customer, setCustomer] = useState(null);
  const [error, setError] = useState(null);
  const [users, setUsers] = useState([]);
  const [teams, setTeams] = useState([]);
  const [busy, setBusy] = useState(false);
  const [mergeRef, setMergeRef] = useState('');
  const [mergeAsk, setMergeAsk] = useState(null);   // {sourceId, target, source, differ}: shown before any merge
  const [mergeError, setMergeError] = useState(null); // beside the merge field
  const [taking, setTaking] = useState(false);         // "a" on a colleague's ticket: asked first
  const ticketRef = useRef(null);
  ticketRef.current = ticket;
  const [tagText, setTagText] = useState('');
  const [macros, setMacros] = useState([]);
  const [focus, setFocus] = useState({ kind: 'reply', n: 0 });
  // The draft's text for presence ("typing"), taken from the composer at most once a second: a state set on
  // every keystroke would redraw the whole thread as the agent types.
  const [draftText, setDraftText] = useState('');
  const draftLatest = useRef('');
  const draftTimer = useRef(null);
  const onDraft = (text) => {
    draftLatest.current = text;
    if (draftTimer.current) return;
    draftTimer.current = setTimeout(() => { draftTimer.current = null; setDraftText(draftLatest.current); }, 1000);
  };
  useEffect(() => () => clearTimeout(draftTimer.current), []);

  async function loadCustomer(customerId) {
    try {
      setCustomer(await api('GET', '/customers/' + customerId));
    } catch (e) { /* the panel shows what the ticket carries */ }
  }
  const seenRef = useRef(null);
  async function load() {
    try {
      const d = await api('GET', '/tickets/' + id);
      if (d.merged_into) {
        navigate('/app/tickets/' + d.merged_into, true);
        return;
      }
      setTicket(d);
      setError(null);
      if (d.customer) loadCustomer(d.customer.id);
      // The agent's own seen mark (the inbox's "customer wrote since you looked"), once per newest message.
      const newest = Math.max(0, ...(d.messages || []).map((m) => m.id || 0));
      if (seenRef.current !== id + ':' + newest) {
        seenRef.current = id + ':' + newest;
        api('POST', '/tickets/' + id + '/seen').catch(() => { seenRef.current = null; });
      }
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    setTicket(null);
    setCustomer(null);
    load();
    loadUsers().then(setUsers);
    api('GET', '/teams').then((d) => setTeams((d && d.items) || []), () => setTeams([]));
    api('GET', '/macros').then((d) => setMacros((d && d.items) || []), () => setMacros([]));
  }, [id]);

  // Collision warning, and the thread refetched whenever this ticket changes — another agent's reply, the
  // customer's mail, a trigger — without touching the draft (the composer's own state). A merge away from this
  // ticket shows here too, and load() follows it.
  const others = usePresence(id, draftText, user.id);
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
  // A macro is applied by the server: it sends its reply (in the customer's language) and its changes at once;
  // toId names the customer it is for when the ticket has several.
  const applyMacro = (macroId, toId) => run(async () => {
    await api('POST', '/tickets/' + id + '/macros/' + macroId + '/apply', toId ? { to_customer_id: toId } : undefined);
    await load();
  });
  // Merges sourceId in, once the agent has seen both tickets (the dialog); another customer's ticket is sent with
  // confirm_different_customers.
  async function mergeIn(sourceId, differ) {
    setTicket(await api('POST', '/tickets/' + id + '/merge',
      differ ? { source_id: sourceId, confirm_different_customers: true } : { source_id: sourceId }));
    setMergeAsk(null);
    setMergeRef('');
    await load();
  }
  const confirmMerge = () => run(async () => {
    try {
      await mergeIn(mergeAsk.sourceId, mergeAsk.differ);
    } catch (e) {
      setMergeAsk(null);
      setMergeError(e);
    }
  });
  const side = (x) => ({ reference: x.reference, subject: x.subject, customer: x.customer || {} });
  const merge = (e) => {
    e.preventDefault();
    const text = mergeRef.trim().replace(/^#/, '');
    setMergeError(null);
    if (!text) { setMergeError({ message: t('merge.empty') }); return; }
    run(async () => {
      let sourceId = null;
      if (mergeRef.trim().startsWith('#') || !/^\d+$/.test(text)) {
        if (/^\d{1,12}$/.test(text)) {
          try { sourceId = (await api('GET', '/ticket-references/' + text)).id; } catch (err) { sourceId = null; }
        }
      } else {
        sourceId = parseInt(text, 10);
      }
      let source = null;
      if (sourceId && sourceId !== ticket.id) {
        try { source = await api('GET', '/tickets/' + sourceId); } catch (err) { source = null; }
      }
      if (sourceId === ticket.id) { setMergeError({ message: t('merge.same') }); return; }
      if (!source) { setMergeError({ message: t('merge.not_found') }); return; }
      if (source.status === 'closed') { setMergeError({ message: t('merge.closed', { ref: source.reference }) }); return; }
      setMergeAsk({ sourceId, target: side(ticket), source: side(source),
        differ: !!(source.customer && ticket.customer && source.customer.id !== ticket.customer.id) });
    });
  };
  function setStatusKey(status) {
    const tk = ticketRef.current;
    if (!tk || tk.status === status || tk.status === 'closed') return;
    run(async () => setTicket(await api('PATCH', '/tickets/' + id, { status })));
  }
  const addTag = (e) => {
    e.preventDefault();
    const tag = tagText.trim();
    if (!tag || !ticket) return;
    patch({ tags: [...ticket.tags.filter((x) => x !== tag), tag] });
    setTagText('');
  };

  useEffect(() => {
    setKeys({
      r: () => setFocus((f) => ({ kind: 'reply', n: f.n + 1 })),
      n: () => setFocus((f) => ({ kind: 'note', n: f.n + 1 })),
      a: () => {
        const tk = ticketRef.current;
        if (tk && tk.assignee_id != null && tk.assignee_id !== user.id) setTaking(true);
        else assign('me');
      },
      u: () => navigate('/app/tickets'),
      // Status keys: o open, p pending, h on hold, s solved (solve).
      o: () => setStatusKey('open'),
      p: () => setStatusKey('pending'),
      h: () => setStatusKey('on_hold'),
      s: () => setStatusKey('solved'),
    });
    return () => setKeys({});
  }, [id]);

  /* Names for the history: the colleague directory, else whoever appears as an author or actor (a user the
   * directory does not know). */
  function names(kind, nameId) {
    if (kind === 'team') {
      const team = teams.find((x) => x.id === nameId);
      return team ? team.name : '#' + nameId;
    }
    const known = userName(users, nameId);
    if (!known.startsWith('#') || !ticket) return known;
    const h = (ticket.history || []).find((x) => x.actor === 'user:' + nameId && x.actor_name);
    if (h) return h.actor_name;
    const m = (ticket.messages || []).find((x) => x.author && x.author.type === 'user' && x.author.id === nameId && x.author.name);
    return m ? m.author.name : known;
  }

  if (!ticket) {
    return html`<div class="pad">${error ? html`<${Alert}>${errorText(error)}<//>` : html`<p class="muted">${t('common.loading')}</p>`}</div>`;
  }
  const closed = ticket.status === 'closed';
  const customers = partCustomers(ticket.parts);
  const several = customers.length > 1;
  const partOf = new Map((ticket.parts || []).map((p) => [p.ticket_id, p]));
  // A reply is for the customer who wrote last, unless the agent picks another.
  const lastFrom = [...(ticket.messages || [])].reverse().find((m) => m.kind === 'customer');
  const lastPart = lastFrom && partOf.get(lastFrom.part_ticket_id);
  return html`<div class="ticket-page" data-ticket-id=${ticket.id}>
    <div class="ticket-main">
      <div class="ticket-head">
        <a class="back" href="/app/tickets" onClick=${onLinkClick}>← ${t('nav.inbox')}</a>
        <h1><span class="ref">${ticket.reference}</span> <span class="subject">${ticket.subject}</span></h1>
        <p class="ticket-meta muted small">
          <${StatusBadge} status=${ticket.status} />
          ${ticket.priority !== 'normal' ? html`<${PriorityBadge} priority=${ticket.priority} />` : null}
          <span>${t('channel.' + ticket.channel)}</span>
          <span>· <time datetime=${ticket.created_at} title=${dateTime(ticket.created_at)}>${t('ticket.opened', { time: when(ticket.created_at) })}</time></span>
          ${ticket.order_number ? html`<span>· ${t('ticket.order', { number: ticket.order_number })}</span>` : null}
          ${ticket.team_id != null ? html`<span data-field="team-name">· ${t('ticket.in_team', { team: names('team', ticket.team_id) })}</span>` : null}
        </p>
      </div>
      <${SlaClock} sla=${ticket.sla} />
      ${others.length ? html`<div class="alert alert-warning" role="status" data-region="presence">
        ${others.map((o) => html`<span data-viewer=${o.user_id}><${OnlineDot} person=${person(users, o.user_id)} />${t(o.typing ? 'presence.typing' : 'presence.viewing',
          { name: (person(users, o.user_id) || o).name })} </span>`)}
      </div>` : null}
      ${error ? html`<${Alert}>${errorText(error)}<//>` : null}
      <div class="thread" data-region="thread">
        ${(ticket.messages || []).map((m) => html`<${Message} key=${m.id} m=${m} part=${several ? partOf.get(m.part_ticket_id) : null} />`)}
      </div>
      ${closed ? html`<p class="muted">${t('ticket.closed_note')}</p>`
        : html`<${Composer} key=${ticket.id} ticket=${ticket} customer=${customer || ticket.customer} macros=${macros}
          recipients=${several ? customers : null} defaultTo=${lastPart ? lastPart.customer.id : ticket.customer.id}
          focus=${focus} disabled=${busy} onSent=${load} onApplyMacro=${applyMacro} users=${users} teams=${teams}
          onTyping=${onDraft} />`}
      <${History} items=${ticket.history} names=${names} />
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
        ${teams.length ? html`<label class="prop"><span>${t('ticket.team')}</span>
          <select data-field="team" value=${ticket.team_id == null ? '' : String(ticket.team_id)} disabled=${busy || closed}
            onChange=${(e) => patch({ team_id: e.currentTarget.value ? Number(e.currentTarget.value) : null })}>
            <option value="">${t('ticket.no_team')}</option>
            ${teams.map((tm) => html`<option value=${String(tm.id)}>${tm.name}</option>`)}
          </select></label>` : null}
        <div class="prop"><span>${t('ticket.assignee')}</span>
          <strong data-field="assignee">${ticket.assignee_id == null ? null : html`<${OnlineDot} person=${person(users, ticket.assignee_id)} />`}${ticket.assignee_id == null ? t('ticket.unassigned') : names('user', ticket.assignee_id)}</strong>
          <div class="row-actions">
            ${ticket.assignee_id !== user.id ? html`<button class="btn btn-secondary btn-sm" type="button"
              disabled=${busy || closed} data-action="assign-me" onClick=${() => assign('me')}>${t('ticket.assign_me')}</button>` : null}
            ${users.length ? html`<select aria-label=${t('ticket.assign_to')} disabled=${busy || closed} data-field="assign-to"
              onChange=${(e) => e.currentTarget.value && assign(e.currentTarget.value === 'none' ? null : Number(e.currentTarget.value))}>
              <option value="">${t('ticket.assign_to')}</option>
              <option value="none">${t('ticket.unassigned')}</option>
              ${assignGroups(users, ticket.team_id, teams, user.id).map((g) => {
                const options = g.people.map((u) => html`<option value=${u.id}>${u.name}${u.online ? ' · ' + t('directory.online') : ''}</option>`);
                return g.label ? html`<optgroup label=${g.label}>${options}</optgroup>` : options;
              })}
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
        <${Snooze} ticket=${ticket} disabled=${busy || closed} onChanged=${(d) => setTicket(d)} />
        ${closed ? null : html`<form class="prop" onSubmit=${merge}>
          <label for="merge-ref">${t('merge.label')}</label>
          <div class="inline-form">
            <input id="merge-ref" type="text" value=${mergeRef} placeholder=${t('merge.placeholder')}
              aria-invalid=${mergeError ? 'true' : undefined} aria-describedby=${mergeError ? 'merge-error' : undefined}
              onInput=${(e) => { setMergeRef(e.currentTarget.value); setMergeError(null); }} />
            <button class="btn btn-secondary btn-sm" type="submit" disabled=${busy} data-action="merge">${t('merge.submit')}</button>
          </div>
          ${mergeError ? html`<p class="prop-error" id="merge-error" role="alert" data-error="merge">${errorText(mergeError)}</p>` : null}
          <p class="muted small">${t('merge.hint', { ref: ticket.reference })}</p>
        </form>`}
        <${Forward} ticket=${ticket} disabled=${busy} onDone=${load} />
      </section>
      <${CustomerPanel} ticket=${ticket} customer=${customer} onErased=${load} />
    </div>
    ${mergeAsk ? html`<${MergeConfirm} ask=${mergeAsk} busy=${busy} onConfirm=${confirmMerge}
      onCancel=${() => setMergeAsk(null)} />` : null}
    ${taking ? html`<${TakeConfirm} name=${names('user', ticket.assignee_id)} busy=${busy}
      onConfirm=${() => { setTaking(false); assign('me'); }} onCancel=${() => setTaking(false)} />` : null}
  </div>`;
}
