// Admin screen: the carriers and their tracking-page templates ({n} is the tracking number). Carriers change their
// pages without notice; an admin fixes the template here, and every shipment's link follows at once. Reads
// GET /api/v1/order-carriers, writes PATCH /api/v1/order-carriers/{code}.
import { useState } from 'preact/hooks';
import { ErrorAlert, F, FormActions, api, html, t, useForm, useList } from '@destek/agent';

const SAMPLE = '1234567890';

// onSaved: the list is read again before the form closes, so the card never shows the value from before the save.
function CarrierForm({ carrier, onSaved, onCancel }) {
  const form = useForm('order-carrier-' + carrier.code, { name: carrier.name, url_template: carrier.url_template }, {
    validate: (v) => {
      const errors = {};
      if (!v.name.trim()) errors.name = t('validation.required');
      const tpl = v.url_template.trim();
      if (!/^https?:\/\//.test(tpl) || tpl.split('{n}').length !== 2) errors.url_template = t('orders.template_rule');
      return errors;
    },
  });
  const save = form.submit(async (v) => {
    await api('PATCH', `/order-carriers/${encodeURIComponent(carrier.code)}`, { name: v.name.trim(), url_template: v.url_template.trim() });
    onSaved();
  });
  const preview = form.values.url_template.includes('{n}') ? form.values.url_template.replace('{n}', SAMPLE) : '';
  return html`<form class="form-grid" onSubmit=${save} data-form="order-carrier" novalidate>
    <${F} form=${form} name="name" label=${t('orders.f_carrier_name')} required />
    <${F} form=${form} name="url_template" label=${t('orders.f_template')} required wide mono hint=${t('orders.template_hint')} />
    ${preview ? html`<p class="small muted wide">${t('orders.template_preview')}: <code class="break" data-field="preview">${preview}</code></p>` : null}
    <${ErrorAlert} error=${form.error} />
    <${FormActions} form=${form} label=${t('admin.save')} onCancel=${onCancel} />
  </form>`;
}

export function CarriersScreen() {
  const list = useList('/order-carriers');
  const [editing, setEditing] = useState(null);
  const items = list.items || [];
  return html`<div class="admin-screen">
    <p class="muted screen-intro">${t('orders.carriers_intro')}</p>
    <${ErrorAlert} error=${list.error} />
    <div class="item-list">${items.map((c) => html`<article class="card item-card" key=${c.code} data-carrier=${c.code}>
      ${editing === c.code ? html`<${CarrierForm} carrier=${c} onCancel=${() => setEditing(null)}
          onSaved=${async () => { await list.reload(); setEditing(null); }} />`
        : html`<div class="row-between"><div class="item-main">
          <div><strong>${c.name}</strong> <code class="small">${c.code}</code>
            ${' '}<span class="badge" data-verified=${c.verified ? 'yes' : 'no'}>${t(c.verified ? 'orders.verified' : 'orders.unverified')}</span></div>
          <p class="small"><code class="break" data-field="url-template">${c.url_template}</code></p>
          ${c.aliases.length ? html`<p class="small muted">${t('orders.aliases')}: ${c.aliases.join(', ')}</p>` : null}
        </div>
        <div class="row-actions"><button class="btn btn-secondary btn-sm" type="button" data-action="edit"
          onClick=${() => setEditing(c.code)}>${t('admin.edit')}</button></div></div>`}
    </article>`)}</div>
  </div>`;
}
