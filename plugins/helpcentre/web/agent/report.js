// The help centre's report: views, searches and what found nothing (what to write next), helpful %, deflections.
import { useEffect, useState } from 'preact/hooks';
import { Alert, api, errorText, html, number, onLinkClick, t } from '@destek/agent';
import { TILE } from './keys.js';

export function ReportPage() {
  const [r, setR] = useState(null);
  const [err, setErr] = useState(null);
  useEffect(() => { api('GET', '/helpcentre/report').then(setR, setErr); }, []);
  if (err) return html`<main class="page" id="main"><${Alert}>${errorText(err)}<//></main>`;
  if (!r) return html`<main class="page" id="main"><p>${t('common.loading')}</p></main>`;
  const tiles = [
    ['views', number(r.views)], ['searches', number(r.searches)],
    ['helpful', r.helpful_pct === null ? '–' : r.helpful_pct + ' %'],
    ['suggested', number(r.suggested)], ['deflections', number(r.deflections)],
  ];
  return html`<main class="page helpcentre" id="main">
    <div class="page-head"><h1>${t('helpcentre.report')}</h1>
      <a class="btn" href="/app/help" onClick=${onLinkClick}>${t('helpcentre.articles')}</a></div>
    <dl class="hc-tiles">${tiles.map(([k, v]) => html`<div data-tile=${k}><dt>${t(TILE[k])}</dt><dd>${v}</dd></div>`)}</dl>
    <h2>${t('helpcentre.r_misses')}</h2>
    ${r.misses.length ? html`<div class="hc-scroll"><table class="table"><thead><tr><th>${t('helpcentre.r_query')}</th><th>${t('helpcentre.r_count')}</th></tr></thead>
      <tbody>${r.misses.map((m) => html`<tr><td>${m.query}</td><td>${m.count}</td></tr>`)}</tbody></table></div>`
      : html`<p class="empty">${t('helpcentre.r_no_misses')}</p>`}
    <h2>${t('helpcentre.r_top')}</h2>
    <div class="hc-scroll"><table class="table"><thead><tr><th>${t('helpcentre.title')}</th><th>${t('helpcentre.views')}</th>
      <th>${t('helpcentre.r_helpful')}</th><th>${t('helpcentre.r_deflections')}</th></tr></thead>
      <tbody>${r.articles_top.map((a) => html`<tr><td><a href=${'/app/help/' + a.id} onClick=${onLinkClick}>${a.title || a.slug}</a></td>
        <td>${a.views}</td><td>${a.helpful_yes} / ${a.helpful_no}</td><td>${a.deflections}</td></tr>`)}</tbody></table></div>
    ${r.reasons.length ? html`<h2>${t('helpcentre.r_reasons')}</h2><ul>${r.reasons.map((x) => html`<li>${x.reason}</li>`)}</ul>` : null}
  </main>`;
}
