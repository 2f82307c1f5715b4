// Webhooks: URLs that get a signed POST for the events they ask for. Create (the generated signing secret is
// shown once), edit, switch off, delete; each one's delivery log (status, attempts, the receiver's HTTP status,
// the last error) with a retry; and the bus's dead deliveries to any subscriber, which an admin can send again.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../../html.js';
import { t } from '../../i18n.js';
import { api } from '../../api.js';
import { dateTime } from '../../format.js';
import { eventNames } from '../../modules.js';
import { ActiveBadge, Empty, ErrorAlert, F, FormActions, MoreButton, SecretOnce, Section, Table, required, splitList,
  useConfirm, useForm, useList, useFocusOnMount, NewButton } from './common.js';

// The quick picks: every event, then what the modules emit (their manifests' `events`), then the core's own.
const knownEvents = () => ['*', ...eventNames()];
const POLL_MS = 4000;

const STATUS_TEXT = { pending: 'admin.st_pending', delivered: 'admin.st_delivered', dead: 'admin.st_dead' };
function DeliveryStatus({ status }) {
  return html`<span class=${'badge dl-' + status} data-status=${status}>${t(STATUS_TEXT[status] || 'admin.st_pending')}</span>`;
}

/* A new webhook starts with the first quick pick after "*" (ticketing's "ticket.*"; the core's first without modules). */
function WebhookForm({ hook, onSaved, onCancel }) {
  const initial = hook
    ? { url: hook.url, events: (hook.events || []).join(', '), description: hook.description || '', active: hook.active !== false, secret: '' }
    : { url: '', events: eventNames()[0] || '*', description: '', active: true, secret: '' };
  useFocusOnMount(hook ? 'edit-hook-url' : 'hook-url');
  const form = useForm(hook ? 'edit-hook' : 'hook', initial, {
    validate: (v) => {
      const e = required(v, ['url']);
      if (!e.url && !/^https?:\/\/\S+$/i.test(v.url.trim())) e.url = t('admin.url_invalid');
      if (!splitList(v.events).length) e.events = t('validation.required');
      return e;
    },
  });
  const events = splitList(form.values.events);
  const toggleEvent = (ev) => form.set('events', (events.includes(ev) ? events.filter((x) => x !== ev) : [...events, ev]).join(', '));
  const save = form.submit(async (v) => {
    const body = { url: v.url.trim(), events: splitList(v.events), description: v.description.trim(), active: v.active };
    if (v.secret) body.secret = v.secret;
    const saved = hook ? await api('PATCH', '/webhooks/' + hook.id, body) : await api('POST', '/webhooks', body);
    if (!hook) form.reset(initial);
    onSaved(saved);
  });
  return html`<${Section} title=${hook ? t('admin.edit_webhook') : t('admin.new_webhook')} id=${form.id + '-title'}>
    <form class="form-grid" onSubmit=${save} data-form=${form.id} novalidate>
      <${F} form=${form} name="url" type="url" label=${t('admin.url')} required wide placeholder="https://"
        hint=${t('admin.url_hint')} />
      <${F} form=${form} name="events" label=${t('admin.events')} required wide mono hint=${t('admin.events_hint')} />
      <div class="field-wide chips" role="group" aria-label=${t('admin.quick_events')}>
        ${knownEvents().map((ev) => html`<button type="button" class=${'chip mono' + (events.includes(ev) ? ' is-on' : '')}
          aria-pressed=${events.includes(ev) ? 'true' : 'false'} data-event=${ev} onClick=${() => toggleEvent(ev)}>${ev}</button>`)}
      </div>
      <${F} form=${form} name="description" label=${t('admin.description')} wide />
      <${F} form=${form} name="secret" type="password" autocomplete="new-password" label=${t('admin.secret')}
        hint=${hook ? t('admin.secret_keep') : t('admin.secret_generate')} />
      <${F} form=${form} name="active" type="checkbox" label=${t('admin.hook_active')} />
      <${ErrorAlert} error=${form.error} />
      <${FormActions} form=${form} label=${hook ? t('admin.save') : t('admin.create')} onCancel=${onCancel} />
    </form><//>`;
}

/* One webhook's deliveries, newest first, refreshed every few seconds while open. */
function Deliveries({ hook }) {
  const [status, setStatus] = useState('');
  const list = useList('/webhooks/' + hook.id + '/deliveries' + (status ? '?status=' + status : ''), { limit: 50 });
  const [busy, setBusy] = useState(null);
  useEffect(() => {
    const timer = setInterval(() => { if (!document.hidden) list.reload(); }, POLL_MS);
    return () => clearInterval(timer);
  }, [hook.id, status]);
  const retry = async (d) => {
    setBusy(d.id);
    try {
      await api('POST', '/webhooks/' + hook.id + '/deliveries/' + d.id + '/retry');
      await list.reload();
    } catch (e) {
      list.setError(e);
    } finally {
      setBusy(null);
    }
  };
  const items = list.items || [];
  return html`<div class="deliveries" data-region="deliveries" id=${'deliveries-' + hook.id}>
    <div class="toolbar-row">
      <h3 class="h4">${t('admin.deliveries')}</h3>
      <label class="inline"><span>${t('admin.status')}</span>
        <select value=${status} onChange=${(e) => setStatus(e.currentTarget.value)} data-field="delivery-status">
          <option value="">${t('admin.all')}</option>
          <option value="pending">${t('admin.st_pending')}</option>
          <option value="delivered">${t('admin.st_delivered')}</option>
          <option value="dead">${t('admin.st_dead')}</option>
        </select></label>
      <button class="btn btn-ghost btn-sm" type="button" onClick=${list.reload} data-action="refresh">${t('admin.refresh')}</button>
    </div>
    <${ErrorAlert} error=${list.error} />
    ${list.items && !items.length ? html`<${Empty}>${t('admin.no_deliveries')}<//>` : null}
    ${items.length ? html`<${Table} caption=${t('admin.deliveries')} items=${items}
      rowAttrs=${(d) => ({ 'data-delivery': d.id, 'data-status': d.status })}
      columns=${[
        { label: t('admin.when'), cell: (d) => dateTime(d.created_at) },
        { label: t('admin.event'), cell: (d) => html`<code>${d.event}</code> <span class="muted small">${d.subject}</span>` },
        { label: t('admin.status'), cell: (d) => html`<${DeliveryStatus} status=${d.status} />
          ${d.status === 'pending' && d.next_attempt_at && d.attempts ? html`<span class="muted small"> ${t('admin.next_attempt', { when: dateTime(d.next_attempt_at) })}</span>` : null}` },
        { label: t('admin.attempts'), cell: (d) => html`<span data-field="attempts">${d.attempts}</span>` },
        { label: t('admin.response'), cell: (d) => html`<span data-field="response">${d.response_status != null ? d.response_status : '—'}</span>` },
        { label: t('admin.last_error'), cell: (d) => html`<span class="break small" data-field="last-error">${d.last_error || '—'}</span>` },
        { label: '', cls: 'cell-actions', cell: (d) => html`<button class="btn btn-secondary btn-sm" type="button"
          disabled=${busy === d.id} data-action="retry" onClick=${() => retry(d)}>
          ${d.status === 'delivered' ? t('admin.send_again') : t('admin.retry')}</button>` },
      ]} />` : null}
    <${MoreButton} list=${list} />
  </div>`;
}

function HookCard({ hook, onEdit, onChanged, ask }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState(null);
  const setActive = async (active) => {
    await api('PATCH', '/webhooks/' + hook.id, { active });
    onChanged();
  };
  const toggle = () => {
    if (!hook.active) { setActive(true).catch(setError); return; }
    ask({ message: t('admin.confirm_hook_off', { url: hook.url }), action: t('admin.deactivate'), onConfirm: () => setActive(false) });
  };
  const remove = () => ask({ message: t('admin.confirm_hook_delete', { url: hook.url }),
    onConfirm: async () => { await api('DELETE', '/webhooks/' + hook.id); onChanged(); } });
  return html`<article class="card item-card" data-webhook=${hook.url}>
    <div class="row-between">
      <div class="item-main">
        <strong class="break mono">${hook.url}</strong>
        ${hook.description ? html`<p class="small">${hook.description}</p>` : null}
        <p class="small muted">${(hook.events || []).map((e) => html`<span class="badge mono">${e}</span> `)}</p>
        <p class="small muted"><${ActiveBadge} active=${hook.active !== false} />
          · ${t('admin.secret')}: ${hook.has_secret ? t('admin.set') : t('admin.unset')}</p>
      </div>
      <div class="row-actions">
        <button class="btn btn-secondary btn-sm" type="button" aria-expanded=${open ? 'true' : 'false'}
          aria-controls=${'deliveries-' + hook.id} data-action="deliveries" onClick=${() => setOpen(!open)}>${t('admin.deliveries')}</button>
        <button class="btn btn-ghost btn-sm" type="button" data-action="edit" onClick=${() => onEdit(hook)}>${t('admin.edit')}</button>
        <button class="btn btn-ghost btn-sm" type="button" data-action="toggle-active" onClick=${toggle}>
          ${hook.active ? t('admin.deactivate') : t('admin.activate')}</button>
        <button class="btn btn-ghost btn-sm btn-danger-text" type="button" data-action="delete" onClick=${remove}>${t('admin.delete')}</button>
      </div>
    </div>
    <${ErrorAlert} error=${error} />
    ${open ? html`<${Deliveries} hook=${hook} />` : null}
  </article>`;
}

/* Dead deliveries of every async subscriber (webhooks, mail, plugins): what the bus gave up on. */
function DeadLetters() {
  const list = useList('/events/deliveries?status=dead', { limit: 50 });
  const [busy, setBusy] = useState(null);
  const retry = async (d) => {
    setBusy(d.id);
    try {
      await api('POST', '/events/deliveries/' + d.id + '/retry');
      await list.reload();
    } catch (e) {
      list.setError(e);
    } finally {
      setBusy(null);
    }
  };
  const items = list.items || [];
  return html`<${Section} title=${t('admin.dead_title')} id="dead-letters"
    actions=${html`<button class="btn btn-ghost btn-sm" type="button" onClick=${list.reload} data-action="refresh-dead">${t('admin.refresh')}</button>`}>
    <p class="muted small">${t('admin.dead_intro')}</p>
    <div data-region="dead">
    <${ErrorAlert} error=${list.error} />
    ${list.items && !items.length ? html`<${Empty}>${t('admin.no_dead')}<//>` : null}
    ${items.length ? html`<${Table} caption=${t('admin.dead_title')} items=${items}
      rowAttrs=${(d) => ({ 'data-delivery': d.id })}
      columns=${[
        { label: t('admin.when'), cell: (d) => dateTime(d.updated_at) },
        { label: t('admin.subscriber'), cell: (d) => html`<code class="break">${d.subscriber}</code>` },
        { label: t('admin.event'), cell: (d) => html`<code>${d.event}</code> <span class="muted small">${d.subject}</span>` },
        { label: t('admin.attempts'), cell: (d) => d.attempts },
        { label: t('admin.last_error'), cell: (d) => html`<span class="break small">${d.last_error || '—'}</span>` },
        { label: '', cls: 'cell-actions', cell: (d) => html`<button class="btn btn-secondary btn-sm" type="button"
          disabled=${busy === d.id} data-action="retry-dead" onClick=${() => retry(d)}>${t('admin.retry')}</button>` },
      ]} />` : null}
    <${MoreButton} list=${list} />
    </div><//>`;
}

export function WebhooksScreen() {
  const list = useList('/webhooks');
  const [editing, setEditing] = useState(null);
  const [created, setCreated] = useState(null);
  const [ask, dialog] = useConfirm();
  const items = list.items || [];
  return html`<div class="admin-screen">
    <p class="muted screen-intro">${t('admin.webhooks_intro')}</p>
    ${created ? html`<${SecretOnce} secret=${created.secret} title=${t('admin.hook_created', { url: created.url })}
      onDone=${() => setCreated(null)} />` : null}
    ${editing === 'new' ? html`<${WebhookForm} key="new" onCancel=${() => setEditing(null)}
      onSaved=${(h) => { setEditing(null); if (h.secret) setCreated(h); list.reload(); }} />`
      : editing ? html`<${WebhookForm} key=${'e' + editing.id} hook=${editing} onCancel=${() => setEditing(null)}
      onSaved=${async () => { await list.reload(); setEditing(null); }} />`
      : html`<${NewButton} label=${t('admin.new_webhook')} onClick=${() => setEditing('new')} />`}
    <${ErrorAlert} error=${list.error} />
    ${list.items && !items.length ? html`<${Empty}>${t('admin.no_webhooks')}<//>` : null}
    <div class="item-list">
      ${items.map((h) => html`<${HookCard} key=${h.id} hook=${h} ask=${ask} onChanged=${list.reload}
        onEdit=${(x) => { setEditing(x); }} />`)}
    </div>
    <${MoreButton} list=${list} />
    <${DeadLetters} />
    ${dialog}
  </div>`;
}
