// Admin screen: the shops the chat widget runs on (plugins/chat/shops.c): each one's name, the page origins allowed,
// the snippet to paste into the shop's pages (copied with one button), and the identity secret its backend signs
// signed-in customers with, shown once when made or renewed and never again. A shop nobody has chatted on can be
// deleted (the API refuses one with visitors: 409 shop_in_use, shown in the dialog).
import { useState } from 'preact/hooks';
import { Empty, ErrorAlert, F, FormActions, NewButton, SecretOnce, Section, api, html, required, t,
  useConfirm, useFocusOnMount, useForm, useList } from '@destek/agent';

function ShopForm({ shop, onSaved, onCancel }) {
  const initial = { name: shop ? shop.name : '', origins: shop ? shop.origins.join('\n') : '' };
  useFocusOnMount('chat-shop-name');
  const form = useForm('chat-shop', initial, { validate: (v) => required(v, ['name']) });
  const save = form.submit(async (v) => {
    const body = { name: v.name.trim(), origins: v.origins.split(/[\s,]+/).filter(Boolean) };
    onSaved(await api(shop ? 'PATCH' : 'POST', '/chat/shops' + (shop ? '/' + shop.id : ''), body));
  });
  return html`<${Section} title=${t(shop ? 'chat.edit_shop' : 'chat.new_shop')} id="chat-shop-title">
    <form class="form-grid" onSubmit=${save} data-form="chat-shop" novalidate>
      <${F} form=${form} name="name" label=${t('chat.f_shop_name')} required />
      <${F} form=${form} name="origins" type="textarea" rows="3" wide mono label=${t('chat.f_origins')}
        placeholder="https://shop.example" hint=${t('chat.hint_origins')} />
      <${ErrorAlert} error=${form.error} />
      <${FormActions} form=${form} label=${shop ? t('admin.save') : t('admin.create')} onCancel=${onCancel} />
    </form><//>`;
}

/* The snippet with a copy button; without clipboard access the text is selected for Ctrl+C. */
function Snippet({ shop }) {
  const [copied, setCopied] = useState(null);
  const id = 'chat-snippet-' + shop.id;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(shop.snippet);
      setCopied('ok');
    } catch (e) {
      const el = document.getElementById(id);
      if (el) { el.focus(); el.select(); }
      setCopied('select');
    }
  };
  return html`<div class="inline-form">
    <input id=${id} class="mono" type="text" readonly value=${shop.snippet} aria-label=${t('chat.snippet_of', { name: shop.name })}
      data-field="snippet" onFocus=${(e) => e.currentTarget.select()} />
    <button class="btn btn-secondary btn-sm" type="button" data-action="copy-snippet" onClick=${copy}>${t('chat.copy_snippet')}</button>
    <span class="small" aria-live="polite" data-note="copied">${copied === 'ok' ? t('admin.copied') : copied === 'select' ? t('admin.copy_manual') : ''}</span>
  </div>`;
}

export function ShopsScreen() {
  const list = useList('/chat/shops');
  const [editing, setEditing] = useState(null);   // null, 'new' or a shop
  const [secret, setSecret] = useState(null);
  const [ask, dialog] = useConfirm();
  const items = list.items || [];
  const saved = (s) => { setEditing(null); if (s.identity_secret) setSecret(s); list.reload(); };
  const rotate = (s) => ask({
    title: t('chat.rotate_title'), message: t('chat.rotate_text', { name: s.name }), action: t('chat.rotate'),
    onConfirm: async () => { setSecret(await api('POST', `/chat/shops/${s.id}/secret`)); },
  });
  const remove = (s) => ask({
    message: t('chat.delete_text', { name: s.name }),
    onConfirm: async () => { await api('DELETE', `/chat/shops/${s.id}`); setEditing(null); await list.reload(); },
  });
  return html`<div class="admin-screen">
    <p class="muted screen-intro">${t('chat.shops_intro')}</p>
    ${secret ? html`<${SecretOnce} secret=${secret.identity_secret} title=${t('chat.identity_secret_of', { name: secret.name })}
      onDone=${() => setSecret(null)} />` : null}
    ${editing ? html`<${ShopForm} key=${editing === 'new' ? 'new' : editing.id} shop=${editing === 'new' ? null : editing}
        onCancel=${() => setEditing(null)} onSaved=${saved} />`
      : html`<div class="row-actions"><${NewButton} label=${t('chat.new_shop')} onClick=${() => setEditing('new')} /></div>`}
    <${ErrorAlert} error=${list.error} />
    ${list.items && !items.length ? html`<${Empty}>${t('chat.no_shops')}<//>` : null}
    <div class="item-list">${items.map((s) => html`<article class="card item-card" key=${s.id} data-shop=${s.id}>
      <div class="row-between"><div class="item-main">
        <div><strong>${s.name}</strong> <code class="small">${s.site_key}</code></div>
        <p class="small"><span class="muted">${t('chat.f_origins')}:</span> <span data-field="origins">${s.origins.length
          ? s.origins.join(', ') : t('chat.no_origins')}</span></p>
      </div>
      <div class="row-actions">
        <button class="btn btn-ghost btn-sm" type="button" data-action="edit" aria-label=${t('chat.edit_named', { name: s.name })}
          onClick=${() => setEditing(s)}>${t('admin.edit')}</button>
        <button class="btn btn-ghost btn-sm" type="button" data-action="rotate" onClick=${() => rotate(s)}>${t('chat.rotate')}</button>
        <button class="btn btn-ghost btn-sm" type="button" data-action="delete" aria-label=${t('chat.delete_named', { name: s.name })}
          onClick=${() => remove(s)}>${t('admin.delete')}</button>
      </div></div>
      <${Snippet} shop=${s} />
    </article>`)}</div>
    ${dialog}
  </div>`;
}
