// The reports dashboard (/app/reports): the chosen range beside the one before it, in calendar or business hours.
// Help desk: tickets per day, first response (median and buckets), resolution, SLA met, backlog and its age, and the
// tables by channel, team, agent and tag. Satisfaction (CSAT/NPS), returns and orders when their modules publish
// figures; any other kind as its daily count and tables. Every bar, bucket and row opens the list behind it
// (drill.js); every table has its CSV.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ErrorAlert, api, html, navigate, number, onLinkClick, t } from '@destek/agent';
import { DailyChart } from './chart.js';
import { RebuildButton } from './rebuild.js';
import { AGES, BUCKET_KEYS as BUCKETS, KIND_ORDER, SHARES, change, isSummed, dimTitle, drillHref, hours, kindTitle, measureTitle, pct, pctText, valueLabel } from './common.js';

/* The n days up to today (the shop's today, as the server counts days: its first answer's "to"). */
function lastDays(n, today) {
  const to = new Date(`${today}T12:00:00Z`);
  const from = new Date(to.getTime() - (n - 1) * 86400000);
  return { from: from.toISOString().slice(0, 10), to: today };
}

function Kpi({ id, label, value, prev, delta, href }) {
  const body = html`<span class="reports-kpi-label">${label}</span><strong class="reports-kpi-value">${value}</strong>
    <span class="reports-kpi-prev">${t('reports.previous')}: ${prev}${delta ? html` <span class="reports-delta">${delta}</span>` : null}</span>`;
  return href
    ? html`<a class="reports-kpi" data-kpi=${id} href=${href} onClick=${onLinkClick}>${body}</a>`
    : html`<div class="reports-kpi" data-kpi=${id}>${body}</div>`;
}

function Buckets({ kind, range, measure, d, hoursMode }) {
  const total = d.buckets.reduce((a, b) => a + b, 0);
  return html`<ul class="reports-buckets" data-buckets=${measure}>
    ${d.buckets.map((n, i) => html`<li key=${i}>
      <a href=${drillHref(kind, range, { measure, bucket: String(i), hours: hoursMode })} onClick=${onLinkClick}
        data-bucket=${i}>
        <span class="reports-bucket-label">${t(BUCKETS[i])}</span>
        <span class="reports-bar"><span style=${`width:${total ? (100 * n) / total : 0}%`}></span></span>
        <span class="reports-bucket-n">${number(n)} (${pctText(pct(n, total))})</span>
      </a></li>`)}
  </ul>`;
}

function DimTable({ kind, dim, rows, prevRows, range, hoursMode, durations, perRows }) {
  // Returns per order of the same product (or per order overall): the returns rate beside the count.
  const perOf = (v) => (perRows || []).find((r) => r.value === v)?.count || 0;
  const prevOf = (v) => (prevRows || []).find((r) => r.value === v)?.count || 0;
  const sorted = [...rows].sort((a, b) => b.count - a.count);
  const dur = durations.filter((m) => !m.endsWith('_bh'));
  const pick = (row, m) => row.measures[hoursMode === 'business' && row.measures[`${m}_bh`] ? `${m}_bh` : m];
  const sla = (row) => {
    const met = row.measures.sla_met?.n || 0;
    const br = row.measures.sla_breached?.n || 0;
    return pctText(pct(met, met + br));
  };
  const hasSla = rows.some((r) => r.measures.sla_met || r.measures.sla_breached);
  const scoreKeys = kind === 'ticket' ? [] : Object.keys(rows[0]?.measures || {}).filter((m) => m !== 'count' && !durations.includes(m));
  const csv = `/api/v1/reports/table.csv?${new URLSearchParams({ kind, dim, ...range, hours: hoursMode })}`;
  return html`<section class="reports-table" data-table=${`${kind}.${dim}`}>
    <div class="reports-table-head"><h3>${t('reports.by', { dim: dimTitle(dim) })}</h3>
      <a class="btn btn-ghost btn-sm" href=${csv} download data-csv=${dim}>${t('reports.csv')}</a></div>
    <div class="reports-scroll"><table class="table">
      <thead><tr><th scope="col">${dimTitle(dim)}</th><th scope="col" class="num">${t('reports.count')}</th>
        <th scope="col" class="num">${t('reports.previous')}</th>
        ${dur.map((m) => html`<th scope="col" class="num">${rows.some((r) => pick(r, m)?.median !== undefined)
          ? t('reports.median_of', { m: measureTitle(m) }) : measureTitle(m)}</th>`)}
        ${hasSla ? html`<th scope="col" class="num">${t('reports.sla_met')}</th>` : null}
        ${perRows ? html`<th scope="col" class="num">${t('reports.return_rate')}</th>` : null}
        ${scoreKeys.map((m) => html`<th scope="col" class="num">${measureTitle(m)}</th>`)}</tr></thead>
      <tbody>${sorted.map((row) => html`<tr key=${row.value} data-value=${row.value}>
        <td><a href=${drillHref(kind, range, { dim, value: row.value })} onClick=${onLinkClick}>${valueLabel(kind, dim, row)}</a></td>
        <td class="num">${number(row.count)}</td><td class="num">${number(prevOf(row.value))}</td>
        ${dur.map((m) => html`<td class="num">${hours(pick(row, m)?.median ?? pick(row, m)?.avg)}</td>`)}
        ${hasSla ? html`<td class="num">${sla(row)}</td>` : null}
        ${perRows ? html`<td class="num" data-rate>${pctText(pct(row.count, perOf(row.value)))}</td>` : null}
        ${scoreKeys.map((m) => html`<td class="num">${isSummed(m) ? number(row.measures[m]?.sum || 0)
          : row.measures[m]?.avg === null || row.measures[m]?.avg === undefined ? '–' : number(Math.round(row.measures[m].avg * 100) / 100)}</td>`)}
      </tr>`)}</tbody></table></div>
  </section>`;
}

function TicketSection({ k, range, hoursMode }) {
  const cur = k.current, prev = k.previous;
  const pick = useCallback((i) => {
    const day = cur.series.days[i];
    navigate(drillHref('ticket', { from: day, to: day }));
  }, [cur]);
  const frt = cur.durations.frt, res = cur.durations.res, pfrt = prev.durations.frt, pres = prev.durations.res;
  const sla = (f) => pct(f.measures.sla_met?.n || 0, (f.measures.sla_met?.n || 0) + (f.measures.sla_breached?.n || 0));
  const bl = k.backlog;
  return html`<section class="reports-section" data-kind="ticket">
    <h2>${kindTitle('ticket')}</h2>
    <div class="reports-kpis">
      <${Kpi} id="count" label=${t('reports.tickets')} value=${number(cur.count)} prev=${number(prev.count)}
        delta=${change(cur.count, prev.count)} href=${drillHref('ticket', range)} />
      <${Kpi} id="frt" label=${t('reports.frt_median')} value=${hours(frt?.median)} prev=${hours(pfrt?.median)}
        delta=${change(frt?.median, pfrt?.median)} />
      <${Kpi} id="res" label=${t('reports.res_median')} value=${hours(res?.median)} prev=${hours(pres?.median)}
        delta=${change(res?.median, pres?.median)} />
      <${Kpi} id="sla" label=${t('reports.sla_met')} value=${pctText(sla(cur))} prev=${pctText(sla(prev))} />
      ${bl ? html`<${Kpi} id="backlog" label=${t('reports.backlog')} value=${number(bl.open)}
        prev=${t('reports.oldest', { age: hours(bl.oldest_seconds) })} href=${drillHref('ticket', {}, { open: '1' })} />` : null}
    </div>
    <div class="reports-grid">
      <div class="reports-card"><h3>${t('reports.volume')}</h3>
        <${DailyChart} days=${cur.series.days} series=${cur.series.count} label=${t('reports.volume')} onPick=${pick} /></div>
      ${frt ? html`<div class="reports-card"><h3>${t('reports.frt_buckets')}</h3>
        <${Buckets} kind="ticket" range=${range} measure="frt" d=${frt} hoursMode=${hoursMode} />
        <p class="muted small">${t('reports.avg')}: ${hours(frt.avg)} · ${t('reports.res_avg')}: ${hours(res?.avg)}</p></div>` : null}
      ${bl ? html`<div class="reports-card"><h3>${t('reports.backlog_age')}</h3>
        <ul class="reports-buckets" data-buckets="backlog">${bl.ages.map((n, i) => html`<li key=${i}><span class="reports-bucket-label">${t(AGES[i])}</span>
          <span class="reports-bar"><span style=${`width:${bl.open ? (100 * n) / bl.open : 0}%`}></span></span>
          <span class="reports-bucket-n">${number(n)}</span></li>`)}</ul></div>` : null}
    </div>
    ${['channel', 'team', 'agent', 'tag'].filter((d) => cur.by[d]).map((d) => html`<${DimTable} key=${d} kind="ticket" dim=${d}
      rows=${cur.by[d]} prevRows=${prev.by[d]} range=${range} hoursMode=${hoursMode} durations=${['frt', 'res', 'frt_bh', 'res_bh']} />`)}
  </section>`;
}

/* Any other kind: its count, the daily series of each measure, and its tables. */
function KindSection({ kind, k, all, range, hoursMode }) {
  const cur = k.current, prev = k.previous;
  const measures = Object.keys(cur.series || {}).filter((m) => m !== 'days' && m !== 'count');
  const pick = useCallback((i) => {
    const day = cur.series.days[i];
    navigate(drillHref(kind, { from: day, to: day }));
  }, [cur, kind]);
  const avg = (f, m) => (isSummed(m) ? f.measures[m]?.sum : f.measures[m]?.avg);
  const fmtOf = (m) => (v) => (v === null || v === undefined ? '–'
    : SHARES.includes(m) ? pctText(Math.round(v * 1000) / 10) : number(Math.round(v * 100) / 100));
  // NPS: promoters' share minus detractors'; the returns rate: returns per order of the same days.
  const nps = (f) => (f.measures.promoter?.n ? Math.round(100 * ((f.measures.promoter.avg || 0) - (f.measures.detractor?.avg || 0))) : null);
  const rate = (f, o) => (o && o.count ? pct(f.count, o.count) : null);
  const orders = all.order;
  const durs = Object.keys(cur.durations || {});
  return html`<section class="reports-section" data-kind=${kind}>
    <h2>${kindTitle(kind)}</h2>
    <div class="reports-kpis">
      <${Kpi} id="count" label=${t('reports.count')} value=${number(cur.count)} prev=${number(prev.count)}
        delta=${change(cur.count, prev.count)} href=${drillHref(kind, range)} />
      ${kind === 'nps' ? html`<${Kpi} id="nps" label=${t('reports.m_nps')} value=${nps(cur) === null ? '–' : number(nps(cur))}
        prev=${nps(prev) === null ? '–' : number(nps(prev))} />` : null}
      ${kind === 'return' && orders ? html`<${Kpi} id="rate" label=${t('reports.return_rate')} value=${pctText(rate(cur, orders.current))}
        prev=${pctText(rate(prev, orders.previous))} />` : null}
      ${measures.filter((m) => !durs.includes(m) && !m.endsWith('_bh') && m !== 'returned').map((m) => html`<${Kpi} key=${m} id=${m}
        label=${measureTitle(m)} value=${fmtOf(m)(avg(cur, m))} prev=${fmtOf(m)(avg(prev, m))} />`)}
      ${durs.map((m) => html`<${Kpi} key=${m} id=${m} label=${measureTitle(m)} value=${hours(cur.durations[m].median)}
        prev=${hours(prev.durations[m]?.median)} />`)}
    </div>
    <div class="reports-grid">
      <div class="reports-card"><h3>${t('reports.volume')}</h3>
        <${DailyChart} days=${cur.series.days} series=${cur.series.count} label=${t('reports.volume')} onPick=${pick} color="#7a4fd6" /></div>
      ${measures.filter((m) => !m.endsWith('_bh')).slice(0, 3).map((m) => html`<div class="reports-card" key=${m}><h3>${measureTitle(m)}</h3>
        <${DailyChart} days=${cur.series.days} series=${cur.series[m]} label=${m} kind="line" color="#d6794f" onPick=${pick} /></div>`)}
    </div>
    ${Object.keys(cur.by).map((d) => html`<${DimTable} key=${d} kind=${kind} dim=${d} rows=${cur.by[d]} prevRows=${prev.by[d]}
      range=${range} hoursMode=${hoursMode} durations=${durs}
      perRows=${kind === 'return' && d === 'product' && orders ? orders.current.by.product : undefined} />`)}
  </section>`;
}

export function ReportsPage({ user }) {
  // No range asked at first: the server's default (the last 30 days of the shop's days) comes back with the answer.
  const [asked, setAsked] = useState(null);
  const [today, setToday] = useState(null);
  const [hoursMode, setHours] = useState('calendar');
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [built, setBuilt] = useState(0);   // a rebuild done: the figures again
  useEffect(() => {
    let live = true;
    setError(null);
    api('GET', `/reports/dashboard?${new URLSearchParams({ ...(asked || {}), hours: hoursMode })}`)
      .then((j) => { if (live) { setData(j); if (!asked) setToday(j.to); } }).catch((e) => { if (live) setError(e); });
    return () => { live = false; };
  }, [asked, hoursMode, built]);
  const range = asked || (data ? { from: data.from, to: data.to } : { from: '', to: '' });
  const setRange = setAsked;
  const kinds = data ? Object.keys(data.kinds) : [];
  const rank = (x) => (KIND_ORDER.indexOf(x) < 0 ? 99 : KIND_ORDER.indexOf(x));
  const order = (a, b) => rank(a) - rank(b);
  return html`<main class="page reports-page" id="main">
    <div class="page-head"><h1>${t('reports.title')}</h1>
      ${user && user.role === 'admin' ? html`<${RebuildButton} onDone=${() => setBuilt((n) => n + 1)} />` : null}</div>
    <form class="reports-controls" onSubmit=${(e) => e.preventDefault()} aria-label=${t('reports.range')}>
      <label>${t('reports.from')}<input type="date" data-range="from" value=${range.from} max=${range.to}
        onChange=${(e) => e.currentTarget.value && setRange({ ...range, from: e.currentTarget.value })} /></label>
      <label>${t('reports.to')}<input type="date" data-range="to" value=${range.to} min=${range.from}
        onChange=${(e) => e.currentTarget.value && setRange({ ...range, to: e.currentTarget.value })} /></label>
      <div class="reports-quick" role="group" aria-label=${t('reports.quick')}>
        ${[7, 30, 90, 365].map((n) => html`<button type="button" class="btn btn-ghost btn-sm" data-days=${n}
          disabled=${!today} onClick=${() => setRange(lastDays(n, today))}>${t('reports.last_days', { n })}</button>`)}
      </div>
      <label>${t('reports.hours_label')}<select data-hours value=${hoursMode} onChange=${(e) => setHours(e.currentTarget.value)}>
        <option value="calendar">${t('reports.hours_calendar')}</option>
        <option value="business">${t('reports.hours_business')}</option></select></label>
    </form>
    ${data ? html`<p class="muted small" data-region="period">${t('reports.period', { from: data.from, to: data.to, pfrom: data.previous.from, pto: data.previous.to })}</p>` : null}
    <${ErrorAlert} error=${error} />
    ${data && !kinds.length ? html`<p class="muted">${t('reports.nothing')}</p>` : null}
    ${kinds.sort(order).map((kind) => (kind === 'ticket'
      ? html`<${TicketSection} key=${kind} k=${data.kinds[kind]} range=${range} hoursMode=${hoursMode} />`
      : html`<${KindSection} key=${kind} kind=${kind} k=${data.kinds[kind]} all=${data.kinds} range=${range} hoursMode=${hoursMode} />`))}
  </main>`;
}
