// The list behind a chart (/app/reports/list?kind&from&to&dim&value&measure&bucket&open&hours): the facts the
// figure counted, each opening its ticket, return or order; paged; with its CSV.
import { useEffect, useState } from 'preact/hooks';
import { ErrorAlert, api, dateTime, html, onLinkClick, queryParam, t } from '@destek/agent';
import { BUCKET_KEYS, dimTitle, hours, itemHref, kindTitle, measureTitle } from './common.js';

const KEYS = ['kind', 'from', 'to', 'dim', 'value', 'measure', 'bucket', 'open', 'hours'];

export function DrillPage() {
  const q = new URLSearchParams();
  for (const k of KEYS) { const v = queryParam(k); if (v) q.set(k, v); }
  const qs = q.toString();
  const kind = q.get('kind') || 'ticket';
  const [items, setItems] = useState(null);
  const [cursor, setCursor] = useState(null);
  const [error, setError] = useState(null);
  const load = (after) => api('GET', `/reports/drill?${qs}&limit=100${after ? `&cursor=${after}` : ''}`)
    .then((j) => { setItems((old) => (after ? [...(old || []), ...j.items] : j.items)); setCursor(j.next_cursor); })
    .catch(setError);
  useEffect(() => { setItems(null); load(null); }, [qs]);
  const what = [];
  if (q.get('dim')) what.push(`${dimTitle(q.get('dim'))}: ${q.get('value')}`);
  if (q.get('measure')) what.push(`${measureTitle(q.get('measure').replace(/_bh$/, ''))}${q.get('bucket') ? ` · ${t(BUCKET_KEYS[Number(q.get('bucket'))])}` : ''}`);
  if (q.get('open')) what.push(t('reports.backlog'));
  if (q.get('from') && !q.get('open')) what.push(`${q.get('from')} – ${q.get('to') || ''}`);
  const csv = `/api/v1/reports/export.csv?${qs}`;
  return html`<main class="page reports-page" id="main">
    <div class="page-head"><h1>${kindTitle(kind)}</h1>
      <a class="btn btn-ghost btn-sm" href=${csv} download data-csv="facts">${t('reports.csv')}</a></div>
    <p><a href="/app/reports" onClick=${onLinkClick}>← ${t('reports.title')}</a></p>
    <p class="muted" data-region="filter">${what.join(' · ')}</p>
    <${ErrorAlert} error=${error} />
    ${items && !items.length ? html`<p class="muted">${t('reports.empty_list')}</p>` : null}
    ${items && items.length ? html`<div class="reports-scroll"><table class="table" data-region="drill">
      <thead><tr><th scope="col">${t('reports.ref')}</th><th scope="col">${t('reports.created')}</th>
        <th scope="col">${t('reports.details')}</th></tr></thead>
      <tbody>${items.map((it) => {
        const href = itemHref(kind, it);
        const ref = it.ref || `#${it.id}`;
        const dims = Object.entries(it.dims || {}).map(([k, v]) => `${dimTitle(k)}: ${Array.isArray(v) ? v.join(', ') : v}`).join(' · ');
        const vals = ['frt', 'res'].filter((m) => it.values?.[m] !== undefined).map((m) => `${measureTitle(m)}: ${hours(it.values[m])}`).join(' · ');
        return html`<tr key=${it.id} data-item=${it.id}>
          <td>${href ? html`<a href=${href} onClick=${onLinkClick}>${ref}</a>` : ref}</td>
          <td>${dateTime(new Date(it.at * 1000).toISOString())}</td>
          <td class="break small">${dims}${vals ? html`<br />${vals}` : null}</td></tr>`;
      })}</tbody></table></div>` : null}
    ${cursor ? html`<button class="btn btn-ghost" type="button" onClick=${() => load(cursor)}>${t('reports.more')}</button>` : null}
  </main>`;
}
