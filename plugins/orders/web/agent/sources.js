// Admin screen: the shops that send orders (WooCommerce, Shopify, ikas, IdeaSoft) with their signing secrets and, for
// WooCommerce, REST polling, for IdeaSoft the shop's address, Admin API token and OAuth client for the refetch; the
// webhook URL to give each shop; editing (or switching a shop off), deleting one no order came from; "poll now"; and the delivery log (kept, failed,
// duplicate, stale, ping). Secrets are written, never shown: the API answers only whether they are set.
import { useState } from 'preact/hooks';
import { Empty, ErrorAlert, F, FormActions, MoreButton, Section, Table, api, dateTime, html, required, t, useConfirm,
  useFocusOnMount, useForm, useList, NewButton } from '@destek/agent';

const KINDS = { woocommerce: 'orders.kind_woocommerce', shopify: 'orders.kind_shopify', ikas: 'orders.kind_ikas',
  ideasoft: 'orders.kind_ideasoft' };
const SECRET_HINTS = { woocommerce: 'orders.hint_secret_woo', shopify: 'orders.hint_secret_shopify',
  ikas: 'orders.hint_secret_ikas', ideasoft: 'orders.hint_secret_ideasoft' };
const OUTCOMES = { kept: 'orders.outcome_kept', failed: 'orders.outcome_failed', duplicate: 'orders.outcome_duplicate',
  stale: 'orders.outcome_stale', ping: 'orders.outcome_ping' };
const SECRETS = ['webhook_secret', 'api_key', 'api_secret', 'refresh_token'];

/* A new source (source: null) or one to edit: the kind is fixed once made. Secrets are write-only: a field left
 * blank when editing keeps what is stored, and the form says only whether one is set. */
function SourceForm({ source, onSaved, onCancel }) {
  const initial = source
    ? { kind: source.kind, name: source.name, webhook_secret: '', api_url: source.api_url || '', api_key: '', api_secret: '',
      poll_minutes: String(source.poll_minutes || 0), client_id: source.client_id || '', refresh_token: '', active: source.active }
    : { kind: 'woocommerce', name: '', webhook_secret: '', api_url: '', api_key: '', api_secret: '', poll_minutes: '0',
      client_id: '', refresh_token: '', active: true };
  useFocusOnMount('order-source-' + (source ? 'name' : 'kind'));
  const form = useForm('order-source', initial, {
    validate: (v) => required(v, source ? ['name'] : v.kind === 'ideasoft' ? ['name', 'webhook_secret', 'api_url', 'api_key']
      : ['name', 'webhook_secret']),
  });
  const kind = form.values.kind, woo = kind === 'woocommerce', idea = kind === 'ideasoft';
  const save = form.submit(async (v) => {
    const body = { name: v.name.trim() };
    if (!source) body.kind = v.kind;
    for (const k of SECRETS) if (v[k]) body[k] = v[k];
    if (woo || idea) {
      if (v.api_url.trim() || source) body.api_url = v.api_url.trim() || undefined;
    }
    if (woo && (Number(v.poll_minutes || 0) || source)) body.poll_minutes = Number(v.poll_minutes || 0);
    if (idea && v.client_id.trim()) body.client_id = v.client_id.trim();
    if (source) body.active = !!v.active;
    const saved = await api(source ? 'PATCH' : 'POST', '/order-sources' + (source ? '/' + source.id : ''), body);
    onSaved(saved);
  });
  /* "set" / "not set" beside a write-only field when editing; blank keeps it. */
  const keep = (has) => (source ? t(has ? 'orders.secret_kept' : 'orders.secret_not_set') : undefined);
  const secret = (name, label, has, hint) => html`<${F} form=${form} name=${name} type="password" autocomplete="new-password"
    label=${label} hint=${[hint, keep(has)].filter(Boolean).join(' ')} required=${!source && (name === 'webhook_secret' || (idea && name === 'api_key'))} />`;
  return html`<${Section} title=${t(source ? 'orders.edit_source' : 'orders.new_source')} id="order-source-title">
    <form class="form-grid" onSubmit=${save} data-form="order-source" novalidate>
      ${source ? null : html`<${F} form=${form} name="kind" type="select" label=${t('orders.f_kind')}
        options=${Object.entries(KINDS).map(([k, key]) => [k, t(key)])} />`}
      <${F} form=${form} name="name" label=${t('orders.f_name')} required />
      ${secret('webhook_secret', t('orders.f_webhook_secret'), source && source.has_webhook_secret, t(SECRET_HINTS[kind]))}
      ${woo ? html`<${F} form=${form} name="api_url" label=${t('orders.f_api_url')} placeholder="https://shop.example" />
        <${F} form=${form} name="poll_minutes" type="number" min="0" max="1440" label=${t('orders.f_poll_minutes')}
          hint=${t('orders.hint_poll')} />
        ${secret('api_key', t('orders.f_api_key'), source && source.has_api_credentials)}
        ${secret('api_secret', t('orders.f_api_secret'), source && source.has_api_credentials)}` : null}
      ${idea ? html`<${F} form=${form} name="api_url" label=${t('orders.f_shop_url')} placeholder="https://shop.myideasoft.com"
          required=${!source} hint=${t('orders.hint_ideasoft_url')} />
        ${secret('api_key', t('orders.f_access_token'), !!source, t('orders.hint_ideasoft_token'))}
        <${F} form=${form} name="client_id" label=${t('orders.f_client_id')} mono autocomplete="off" hint=${t('orders.hint_client_id')} />
        ${secret('refresh_token', t('orders.f_refresh_token'), source && source.has_refresh_token)}` : null}
      ${source ? html`<${F} form=${form} name="active" type="checkbox" label=${t('orders.f_active')} hint=${t('orders.hint_active')} />` : null}
      <${ErrorAlert} error=${form.error} />
      <${FormActions} form=${form} label=${source ? t('admin.save') : t('admin.create')} onCancel=${onCancel} />
    </form><//>`;
}

function Deliveries() {
  const [outcome, setOutcome] = useState('');
  const list = useList('/order-deliveries' + (outcome ? '?outcome=' + outcome : ''), { limit: 50 });
  const items = list.items || [];
  return html`<${Section} title=${t('orders.deliveries')} id="order-deliveries-title"
    actions=${html`<select aria-label=${t('orders.filter_outcome')} value=${outcome} data-filter="outcome"
      onChange=${(e) => setOutcome(e.currentTarget.value)}>
      <option value="">${t('orders.all_outcomes')}</option>
      ${Object.entries(OUTCOMES).map(([k, key]) => html`<option value=${k}>${t(key)}</option>`)}</select>
      <button class="btn btn-ghost btn-sm" type="button" onClick=${list.reload} data-action="refresh">${t('admin.refresh')}</button>`}>
    <${ErrorAlert} error=${list.error} />
    ${list.items && !items.length ? html`<${Empty}>${t('orders.no_deliveries')}<//>` : null}
    ${items.length ? html`<${Table} caption=${t('orders.deliveries')} items=${items}
      rowAttrs=${(d) => ({ 'data-delivery': d.id, 'data-outcome': d.outcome })} columns=${[
        { label: t('orders.col_time'), cell: (d) => dateTime(d.received_at) },
        { label: t('orders.col_source'), cell: (d) => '#' + d.source_id },
        { label: t('orders.col_topic'), cell: (d) => d.topic || '' },
        { label: t('orders.col_outcome'), cell: (d) => html`<span class="badge">${OUTCOMES[d.outcome] ? t(OUTCOMES[d.outcome]) : d.outcome}</span>` },
        { label: t('orders.col_order'), cell: (d) => (d.order_number ? '#' + d.order_number : '') },
        { label: t('orders.col_detail'), cls: 'break', cell: (d) => d.detail || '' },
      ]} />` : null}
    <${MoreButton} list=${list} /><//>`;
}

export function SourcesScreen() {
  const list = useList('/order-sources');
  const [editing, setEditing] = useState(null);   // null, 'new' or a source
  const [note, setNote] = useState(null);
  const items = list.items || [];
  const poll = async (s) => {
    setNote(null);
    try {
      const r = await api('POST', `/order-sources/${s.id}/poll`);
      setNote(t('orders.polled', { n: r.orders }));
    } catch (e) {
      list.setError(e);
    }
    await list.reload();
  };
  const done = () => { setEditing(null); list.reload(); };
  const [ask, dialog] = useConfirm();
  const remove = (s) => ask({
    message: t('orders.delete_text', { name: s.name }),
    onConfirm: async () => { await api('DELETE', `/order-sources/${s.id}`); setEditing(null); await list.reload(); },
  });
  const card = (s) => html`<article class="card item-card" key=${s.id} data-source=${s.id} data-kind=${s.kind}>
    <div class="row-between"><div class="item-main">
      <div><strong>${s.name}</strong> <span class="badge">${KINDS[s.kind] ? t(KINDS[s.kind]) : s.kind}</span>
      ${s.active ? null : html` <span class="badge">${t('orders.inactive')}</span>`}</div>
      <p class="small"><span class="muted">${t('orders.webhook_url')}:</span> <code class="break" data-field="webhook-url">${s.webhook_url}</code></p>
      <p class="small muted" data-field="secrets">${s.has_webhook_secret ? t('orders.secret_set') : t('orders.secret_missing')}
        ${s.kind === 'ideasoft' ? ' · ' + t(s.has_refresh_token ? 'orders.refresh_set' : 'orders.refresh_missing') : ''}
        ${s.api_url ? ' · ' + s.api_url : ''}
        ${s.poll_minutes ? ' · ' + t('orders.polls_every', { n: s.poll_minutes }) : ''}
        ${s.polled_at ? ' · ' + t('orders.polled_at', { when: dateTime(s.polled_at) }) : ''}
        ${s.token_refreshed_at ? ' · ' + t('orders.token_refreshed_at', { when: dateTime(s.token_refreshed_at) }) : ''}</p>
      ${s.poll_error ? html`<p class="small field-error" data-field="poll-error">${s.poll_error}</p>` : null}
    </div>
    <div class="row-actions">
      ${s.kind === 'woocommerce' && s.has_api_credentials ? html`
        <button class="btn btn-secondary btn-sm" type="button" data-action="poll" onClick=${() => poll(s)}>${t('orders.poll_now')}</button>` : null}
      <button class="btn btn-ghost btn-sm" type="button" data-action="edit" aria-label=${t('orders.edit_named', { name: s.name })}
        onClick=${() => setEditing(s)}>${t('admin.edit')}</button>
      <button class="btn btn-ghost btn-sm" type="button" data-action="delete" aria-label=${t('orders.delete_named', { name: s.name })}
        onClick=${() => remove(s)}>${t('admin.delete')}</button></div>
    </div></article>`;
  return html`<div class="admin-screen">
    <p class="muted screen-intro">${t('orders.sources_intro')}</p>
    <p class="muted small">${t('orders.api_intro')}</p>
    ${editing ? html`<${SourceForm} key=${editing === 'new' ? 'new' : editing.id} source=${editing === 'new' ? null : editing}
        onCancel=${() => setEditing(null)} onSaved=${done} />`
      : html`<div class="row-actions"><${NewButton} label=${t('orders.new_source')} onClick=${() => setEditing('new')} /></div>`}
    <${ErrorAlert} error=${list.error} />
    ${note ? html`<p class="small" role="status" data-note="polled">${note}</p>` : null}
    ${list.items && !items.length ? html`<${Empty}>${t('orders.no_sources')}<//>` : null}
    <div class="item-list">${items.map(card)}</div>
    <${Deliveries} />
    ${dialog}
  </div>`;
}
