// The article editor: its texts in Turkish and English (an article may have one only), Markdown with a live preview
// rendered by the server exactly as the public page renders it, the category, saving, publishing now or at a time,
// back to a draft, its versions (who changed what, when) with restore, and deleting.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Alert, api, dateTime, errorText, html, insertAt, navigate, placeCaret, t } from '@destek/agent';
import { STATUS, LANG } from './keys.js';

const LANGS = ['tr', 'en'];
const blank = () => ({ title: '', body: '', description: '' });

function textsOf(a) {
  const out = {};
  for (const l of LANGS) out[l] = a && a.texts[l] ? { ...a.texts[l] } : blank();
  return out;
}

export function EditorPage({ id }) {
  const [article, setArticle] = useState(null);
  const [texts, setTexts] = useState(textsOf(null));
  const [lang, setLang] = useState('tr');
  const [slug, setSlug] = useState('');
  const [categoryId, setCategoryId] = useState('');
  const [categories, setCategories] = useState([]);
  const [preview, setPreview] = useState('');
  const [versions, setVersions] = useState([]);
  const [at, setAt] = useState('');
  const [err, setErr] = useState(null);
  const [saved, setSaved] = useState('');
  const timer = useRef(null);

  const show = (a) => {
    setArticle(a);
    setTexts(textsOf(a));
    setSlug(a.slug);
    setCategoryId(a.category_id ? String(a.category_id) : '');
    api('GET', `/helpcentre/articles/${a.id}/versions`).then((v) => setVersions(v.items), setErr);
  };
  useEffect(() => {
    api('GET', '/helpcentre/categories').then((c) => setCategories(c.items), setErr);
    if (id) api('GET', '/helpcentre/articles/' + id).then(show, setErr);
  }, [id]);

  const cur = texts[lang];
  useEffect(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      api('POST', '/helpcentre/preview', { body: cur.body }).then((r) => setPreview(r.html), () => {});
    }, 250);
    return () => clearTimeout(timer.current);
  }, [cur.body, lang]);

  const edit = (field) => (e) => setTexts({ ...texts, [lang]: { ...cur, [field]: e.currentTarget.value } });

  const run = async (fn, message) => {
    try {
      const a = await fn();
      setErr(null);
      setSaved(message);
      if (a && a.id) {
        if (!id) navigate('/app/help/' + a.id);
        else show(a);
      }
    } catch (e) { setErr(e); setSaved(''); }
  };

  const payload = () => {
    const out = {};
    for (const l of LANGS) {
      const x = texts[l];
      if (x.title.trim() || x.body.trim()) out[l] = { title: x.title.trim(), body: x.body, description: x.description.trim() };
      else if (article && article.texts[l]) out[l] = null;
    }
    const body = { texts: out, category_id: categoryId ? Number(categoryId) : null };
    if (slug.trim()) body.slug = slug.trim();
    return body;
  };
  const save = () => run(() => (article ? api('PATCH', '/helpcentre/articles/' + article.id, payload())
    : api('POST', '/helpcentre/articles', payload())), t('helpcentre.saved'));
  const publish = (when) => run(async () => {
    const a = article || await api('POST', '/helpcentre/articles', payload());
    return api('POST', `/helpcentre/articles/${a.id}/publish`, when ? { publish_at: when } : {});
  }, t(when ? 'helpcentre.scheduled_msg' : 'helpcentre.published_msg'));
  const unpublish = () => run(() => api('POST', `/helpcentre/articles/${article.id}/unpublish`, {}), t('helpcentre.unpublished_msg'));
  const restore = (v) => run(() => api('POST', `/helpcentre/articles/${article.id}/versions/${v.id}/restore`, {}),
    t('helpcentre.restored_msg'));
  // An image uploaded to the article goes into the text where the caret is, as Markdown.
  const toBase64 = (file) => new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
  const addImage = async (e) => {
    const file = e.currentTarget.files[0];
    e.currentTarget.value = '';
    if (!file || !article) return;
    try {
      const res = await api('POST', `/helpcentre/articles/${article.id}/images`, { filename: file.name, data_base64: await toBase64(file) });
      const { value, caret } = insertAt('hc-body', cur.body, res.items[0].markdown);
      setTexts({ ...texts, [lang]: { ...cur, body: value } });
      placeCaret('hc-body', caret);
      setErr(null);
    } catch (er) { setErr(er); }
  };
  const remove = async () => {
    if (!window.confirm(t('helpcentre.delete_confirm'))) return;
    try { await api('DELETE', '/helpcentre/articles/' + article.id); navigate('/app/help'); } catch (e) { setErr(e); }
  };

  return html`<main class="page helpcentre hc-editor" id="main">
    <div class="page-head">
      <h1>${article ? (article.texts.tr || article.texts.en).title : t('helpcentre.new')}</h1>
      ${article ? html`<span class=${'hc-status hc-' + article.status} data-testid="hc-status">${t(STATUS[article.status])}
        ${article.status === 'scheduled' ? ' · ' + dateTime(article.publish_at * 1000) : ''}</span>` : null}
      ${article && article.status === 'published' ? html`<a class="btn" href=${'/help/a/' + article.slug + '?lang=' + lang} target="_blank" rel="noopener">${t('helpcentre.open_public')}</a>` : null}
    </div>
    ${err ? html`<${Alert}>${errorText(err)}<//>` : null}
    ${saved ? html`<${Alert} kind="info">${saved}<//>` : null}
    <div class="hc-meta">
      <label>${t('helpcentre.slug')} <input id="hc-slug" value=${slug} placeholder=${t('helpcentre.slug_hint')} onInput=${(e) => setSlug(e.currentTarget.value)} /></label>
      <label>${t('helpcentre.category')}
        <select id="hc-category" value=${categoryId} onChange=${(e) => setCategoryId(e.currentTarget.value)}>
          <option value="">${t('helpcentre.no_category')}</option>
          ${categories.map((c) => html`<option value=${String(c.id)}>${(c.texts.tr || c.texts.en || { title: c.slug }).title}</option>`)}
        </select>
      </label>
    </div>
    <div class="hc-tabs" role="tablist">
      ${LANGS.map((l) => html`<button role="tab" aria-selected=${l === lang} class=${'btn' + (l === lang ? ' btn-primary' : '')}
        data-hc-lang=${l} onClick=${() => setLang(l)}>${t(LANG[l])}${texts[l].title ? '' : ' ○'}</button>`)}
    </div>
    <div class="hc-columns">
      <div class="hc-form">
        <label>${t('helpcentre.title')}<input id="hc-title" value=${cur.title} onInput=${edit('title')} maxlength="200" /></label>
        <label>${t('helpcentre.description')}<input id="hc-description" value=${cur.description} onInput=${edit('description')} maxlength="300" /></label>
        <label>${t('helpcentre.body')}<textarea id="hc-body" rows="18" value=${cur.body} onInput=${edit('body')}></textarea></label>
        <p class="field-hint">${t('helpcentre.markdown_hint')}</p>
        ${article ? html`<label class="btn">${t('helpcentre.add_image')}
          <input type="file" accept="image/png,image/jpeg,image/webp,image/gif" class="hc-file-input" data-testid="hc-image" onChange=${addImage} /></label>` : null}
      </div>
      <section class="hc-preview" aria-label=${t('helpcentre.preview')}>
        <h2>${t('helpcentre.preview')}</h2>
        <h1>${cur.title}</h1>
        <div class="hc-preview-body" data-testid="hc-preview" dangerouslySetInnerHTML=${{ __html: preview }}></div>
      </section>
    </div>
    <div class="hc-actions">
      <button class="btn btn-primary" data-testid="hc-save" onClick=${save}>${t('helpcentre.save')}</button>
      <button class="btn" data-testid="hc-publish" onClick=${() => publish(null)}>${t('helpcentre.publish')}</button>
      <label>${t('helpcentre.publish_at')} <input type="datetime-local" id="hc-at" value=${at} onInput=${(e) => setAt(e.currentTarget.value)} /></label>
      <button class="btn" disabled=${!at} onClick=${() => publish(Math.floor(new Date(at).getTime() / 1000))}>${t('helpcentre.schedule')}</button>
      ${article && article.status !== 'draft' ? html`<button class="btn" onClick=${unpublish}>${t('helpcentre.unpublish')}</button>` : null}
      ${article ? html`<button class="btn btn-danger" onClick=${remove}>${t('helpcentre.delete')}</button>` : null}
    </div>
    ${article ? html`<section class="hc-versions"><h2>${t('helpcentre.versions')}</h2>
      <div class="hc-scroll"><table class="table"><thead><tr><th>${t('helpcentre.when')}</th><th>${t('helpcentre.who')}</th><th>${t('helpcentre.language')}</th>
        <th>${t('helpcentre.change')}</th><th></th></tr></thead>
        <tbody>${versions.map((v, i) => html`<tr key=${v.id}><td>${dateTime(v.at * 1000)}</td><td>${v.user_name || '–'}</td>
          <td>${v.lang}</td><td>${v.change}</td>
          <td>${i > 0 && v.title !== null ? html`<button class="btn" onClick=${() => restore(v)}>${t('helpcentre.restore')}</button>` : null}</td></tr>`)}</tbody>
      </table></div></section>` : null}
  </main>`;
}
