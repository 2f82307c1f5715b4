// The help centre's topics (categories): their address, order and titles and descriptions in Turkish and English.
// Everyone sees them; admins add, change and delete them (the API's rule).
import { useEffect, useState } from 'preact/hooks';
import { Alert, api, errorText, html, onLinkClick, store, t, useConfirm } from '@destek/agent';

const LANGS = ['tr', 'en'];
const blank = () => ({ slug: '', position: '0', tr: { title: '', description: '' }, en: { title: '', description: '' } });
const formOf = (c) => ({
  slug: c.slug, position: String(c.position || 0),
  tr: { title: '', description: '', ...(c.texts.tr || {}) }, en: { title: '', description: '', ...(c.texts.en || {}) },
});

// The body for POST/PATCH: a language without a title is left out (new) or removed (an edit).
function bodyOf(f, editing) {
  const texts = {};
  for (const l of LANGS) {
    if (f[l].title.trim()) texts[l] = { title: f[l].title.trim(), description: f[l].description.trim() };
    else if (editing) texts[l] = null;
  }
  return { slug: f.slug.trim(), position: Number(f.position) || 0, texts };
}

function TopicForm({ initial, editing, onSave, onCancel }) {
  const [f, setF] = useState(initial);
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const setText = (l, k) => (e) => setF({ ...f, [l]: { ...f[l], [k]: e.currentTarget.value } });
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    try {
      await onSave(bodyOf(f, editing));
      setErr(null);
      if (!editing) setF(blank());
    } catch (x) { setErr(x); }
    setBusy(false);
  };
  const id = editing ? 'hc-topic-' + editing : 'hc-topic-new';
  return html`<form class="hc-form hc-topic-form card" data-form=${id} onSubmit=${submit} novalidate>
    <div class="hc-meta">
      <label>${t('helpcentre.slug')}<input data-field="slug" value=${f.slug} required pattern="[a-z0-9-]+"
        onInput=${set('slug')} /></label>
      <label>${t('helpcentre.position')}<input data-field="position" type="number" value=${f.position}
        onInput=${set('position')} /></label>
    </div>
    <div class="hc-columns">
      ${LANGS.map((l) => html`<fieldset lang=${l}><legend>${t('helpcentre.lang_' + l)}</legend>
        <label>${t('helpcentre.title')}<input data-field=${'title-' + l} value=${f[l].title} onInput=${setText(l, 'title')} /></label>
        <label>${t('helpcentre.topic_description')}<input data-field=${'description-' + l} value=${f[l].description}
          onInput=${setText(l, 'description')} /></label>
      </fieldset>`)}
    </div>
    ${err ? html`<${Alert}>${errorText(err)}<//>` : null}
    <div class="hc-actions">
      <button class="btn btn-primary" type="submit" disabled=${busy}>${t(editing ? 'helpcentre.save' : 'helpcentre.topic_add')}</button>
      ${onCancel ? html`<button class="btn" type="button" onClick=${onCancel}>${t('helpcentre.cancel')}</button>` : null}
    </div>
  </form>`;
}

export function TopicsPage() {
  const admin = (store.get().user || {}).role === 'admin';
  const [items, setItems] = useState(null);
  const [editing, setEditing] = useState(null);
  const [err, setErr] = useState(null);
  const [ask, dialog] = useConfirm();
  const load = () => api('GET', '/helpcentre/categories').then((r) => { setItems(r.items); setErr(null); }, setErr);
  useEffect(() => { load(); }, []);
  const remove = (c) => ask({
    message: t('helpcentre.topic_delete_confirm', { name: (c.texts.tr || c.texts.en || {}).title || c.slug }),
    onConfirm: async () => { await api('DELETE', '/helpcentre/categories/' + c.id); await load(); },
  });
  return html`<main class="page helpcentre" id="main">
    <div class="page-head">
      <h1>${t('helpcentre.topics')}</h1>
      <a class="btn" href="/app/help" onClick=${onLinkClick}>${t('helpcentre.articles')}</a>
    </div>
    <p class="muted">${t(admin ? 'helpcentre.topics_hint' : 'helpcentre.topics_admins')}</p>
    ${err ? html`<${Alert}>${errorText(err)}<//>` : null}
    ${items && !items.length ? html`<p class="empty">${t('helpcentre.topics_none')}</p>` : null}
    <div class="hc-scroll"><table class="table hc-topics">
      <thead><tr><th>${t('helpcentre.slug')}</th><th>${t('helpcentre.position')}</th><th>${t('helpcentre.lang_tr')}</th>
        <th>${t('helpcentre.lang_en')}</th>${admin ? html`<th></th>` : null}</tr></thead>
      <tbody>
        ${(items || []).map((c) => html`<tr key=${c.id} data-topic=${c.slug}>
          <td>${c.slug}</td><td>${c.position}</td>
          <td lang="tr">${(c.texts.tr || {}).title || '—'}</td><td lang="en">${(c.texts.en || {}).title || '—'}</td>
          ${admin ? html`<td class="hc-row-actions">
            <button class="btn btn-sm" type="button" data-action="edit-topic" onClick=${() => setEditing(c.id)}>${t('helpcentre.edit')}</button>
            <button class="btn btn-sm btn-danger" type="button" data-action="delete-topic" onClick=${() => remove(c)}>${t('helpcentre.delete')}</button>
          </td>` : null}
        </tr>`)}
      </tbody>
    </table></div>
    ${admin && editing ? html`<h2>${t('helpcentre.topic_edit')}</h2>
      <${TopicForm} key=${'e' + editing} editing=${editing} initial=${formOf(items.find((c) => c.id === editing))}
        onSave=${async (b) => { await api('PATCH', '/helpcentre/categories/' + editing, b); setEditing(null); await load(); }}
        onCancel=${() => setEditing(null)} />` : null}
    ${admin ? html`<h2>${t('helpcentre.topic_new')}</h2>
      <${TopicForm} key="new" initial=${blank()}
        onSave=${async (b) => { await api('POST', '/helpcentre/categories', b); await load(); }} />` : null}
    ${dialog}
  </main>`;
}
