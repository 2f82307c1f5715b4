// The articles of the help centre, newest first, with their status and languages.
import { useEffect, useState } from 'preact/hooks';
import { Alert, api, dateTime, errorText, html, navigate, onLinkClick, t } from '@destek/agent';
import { STATUS } from './keys.js';

export function ArticlesPage() {
  const [items, setItems] = useState(null);
  const [next, setNext] = useState(null);
  const [status, setStatus] = useState('');
  const [err, setErr] = useState(null);
  const load = async (cursor) => {
    try {
      const q = new URLSearchParams({ limit: '50' });
      if (status) q.set('status', status);
      if (cursor) q.set('cursor', cursor);
      const res = await api('GET', '/helpcentre/articles?' + q);
      setItems((old) => (cursor ? old.concat(res.items) : res.items));
      setNext(res.next_cursor || null);
      setErr(null);
    } catch (e) { setErr(e); }
  };
  useEffect(() => { load(null); }, [status]);
  return html`<main class="page helpcentre" id="main">
    <div class="page-head">
      <h1>${t('helpcentre.articles')}</h1>
      <a class="btn" href="/app/help/topics" onClick=${onLinkClick} data-testid="hc-topics">${t('helpcentre.topics')}</a>
      <a class="btn" href="/app/help/report" onClick=${onLinkClick}>${t('helpcentre.report')}</a>
      <button class="btn btn-primary" data-testid="hc-new" onClick=${() => navigate('/app/help/new')}>${t('helpcentre.new')}</button>
    </div>
    <label>${t('helpcentre.status')}
      <select value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
        <option value="">${t('helpcentre.all')}</option>
        ${['draft', 'scheduled', 'published'].map((s) => html`<option value=${s}>${t(STATUS[s])}</option>`)}
      </select>
    </label>
    ${err ? html`<${Alert}>${errorText(err)}<//>` : null}
    ${items && !items.length ? html`<p class="empty">${t('helpcentre.none')}</p>` : null}
    <div class="hc-scroll"><table class="table hc-articles">
      <thead><tr><th>${t('helpcentre.title')}</th><th>${t('helpcentre.status')}</th><th>${t('helpcentre.languages')}</th>
        <th>${t('helpcentre.views')}</th><th>${t('helpcentre.updated')}</th></tr></thead>
      <tbody>
        ${(items || []).map((a) => html`<tr key=${a.id}>
          <td><a href=${'/app/help/' + a.id} onClick=${onLinkClick}>${a.titles.tr || a.titles.en || a.slug}</a></td>
          <td><span class=${'hc-status hc-' + a.status}>${t(STATUS[a.status])}</span></td>
          <td>${Object.keys(a.titles).sort().join(', ')}</td>
          <td>${a.views}</td>
          <td>${dateTime(a.updated_at * 1000)}</td>
        </tr>`)}
      </tbody>
    </table></div>
    ${next ? html`<button class="btn" onClick=${() => load(next)}>${t('helpcentre.more')}</button>` : null}
  </main>`;
}
