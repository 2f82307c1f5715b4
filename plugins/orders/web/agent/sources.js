// Admin screen: the shops that send orders (WooCommerce, Shopify) with their signing secrets and, for WooCommerce,
// REST polling; the webhook URL to give each shop; "poll now"; and the delivery log (kept, failed, duplicate, stale,
// ping). Secrets are written, never shown: the API answers only whether they are set.
import { useState } from 'preact/hooks';
import { Empty, ErrorAlert, F, FormActions, MoreButton, Section, Table, api, dateTime, html, required, t, useFocusOnMount,
  useForm, useList, NewButton } from '@destek/agent';

const KINDS = { woocommerce: 'orders.kind_woocommerce', shopify: 'orders.kind_shopify' };
const OUTCOMES = { kept: 'orders.outcome_kept', failed: 'orders.outcome_failed', duplicate: 'orders.outcome_duplicate',
  stale: 'orders.outcome_stale', ping: 'orders.outcome_ping' };

function SourceForm({ onSaved, onCancel }) {
  const initial = { kind: 'woocommerce', name: '', webhook_secret: '', api_url: '', api_key: '', api_secret: '', poll_minutes: '0' };
  useFocusOnMount('order-source-name');
  const form = useForm('order-source', initial, { validate: (v) => required(v, ['name', 'webhook_secret']) });
  const save = form.submit(async (v) => {
    const body = { kind: v.kind, name: v.name.trim(), webhook_secret: v.webhook_secret };
    for (const k of ['api_url', 'api_key', 'api_secret']) if (v[k].trim()) body[k] = v[k].trim();
    const poll = Number(v.poll_minutes || 0);
    if (poll) body.poll_minutes = poll;
    const saved = await api('POST', '/order-sources', body);
    form.reset(initial);
    onSaved(saved);
  });
  const woo = form.values.kind === 'woocommerce';
  return html`<${Section} title=${t('orders.new_source')} id="order-source-title">
    <form class="form-grid" onSubmit=${save} data-form="order-source" novalidate>
      <${F} form=${form} name="kind" type="select" label=${t('orders.f_kind')}
        options=${Object.entries(KINDS).map(([k, key]) => [k, t(key)])} />
      <${F} form=${form} name="name" label=${t('orders.f_name')} required />
      <${F} form=${form} name="webhook_secret" type="password" autocomplete="new-password" required wide
        label=${t('orders.f_webhook_secret')} hint=${t(woo ? 'orders.hint_secret_woo' : 'orders.hint_secret_shopify')} />
      ${woo ? html`<${F} form=${form} name="api_url" label=${t('orders.f_api_url')} placeholder="https://shop.example" />
        <${F} form=${form} name="poll_minutes" type="number" min="0" max="1440" label=${t('orders.f_poll_minutes')}
          hint=${t('orders.hint_poll')} />
        <${F} form=${form} name="api_key" label=${t('orders.f_api_key')} mono autocomplete="off" />
        <${F} form=${form} name="api_secret" type="password" autocomplete="new-password" label=${t('orders.f_api_secret')} />` : null}
      <${ErrorAlert} error=${form.error} />
      <${FormActions} form=${form} label=${t('admin.create')} onCancel=${onCancel} />
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
  const [adding, setAdding] = useState(false);
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
  return html`<div class="admin-screen">
    <p class="muted screen-intro">${t('orders.sources_intro')}</p>
    ${adding ? html`<${SourceForm} onCancel=${() => setAdding(false)} onSaved=${() => { setAdding(false); list.reload(); }} />`
      : html`<div class="row-actions"><${NewButton} label=${t('orders.new_source')} onClick=${() => setAdding(true)} /></div>`}
    <${ErrorAlert} error=${list.error} />
    ${note ? html`<p class="small" role="status" data-note="polled">${note}</p>` : null}
    ${list.items && !items.length ? html`<${Empty}>${t('orders.no_sources')}<//>` : null}
    <div class="item-list">${items.map((s) => html`<article class="card item-card" key=${s.id} data-source=${s.id}>
      <div class="row-between"><div class="item-main">
        <div><strong>${s.name}</strong> <span class="badge">${KINDS[s.kind] ? t(KINDS[s.kind]) : s.kind}</span>
        ${s.active ? null : html` <span class="badge">${t('orders.inactive')}</span>`}</div>
        <p class="small"><span class="muted">${t('orders.webhook_url')}:</span> <code class="break" data-field="webhook-url">${s.webhook_url}</code></p>
        <p class="small muted">${s.has_webhook_secret ? t('orders.secret_set') : t('orders.secret_missing')}
          ${s.poll_minutes ? ' · ' + t('orders.polls_every', { n: s.poll_minutes }) : ''}
          ${s.polled_at ? ' · ' + t('orders.polled_at', { when: dateTime(s.polled_at) }) : ''}</p>
        ${s.poll_error ? html`<p class="small field-error" data-field="poll-error">${s.poll_error}</p>` : null}
      </div>
      ${s.kind === 'woocommerce' && s.has_api_credentials ? html`<div class="row-actions">
        <button class="btn btn-secondary btn-sm" type="button" data-action="poll" onClick=${() => poll(s)}>${t('orders.poll_now')}</button></div>` : null}
      </div></article>`)}</div>
    <${Deliveries} />
  </div>`;
}
