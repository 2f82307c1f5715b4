// The Campaigns page's special days and coupon pools (specialdays.lua, coupons.lua), and the figures tracking.lua adds
// to a campaign's results (clicks, orders after it, the coupon pool's remaining codes).
import { useEffect, useState } from 'preact/hooks';
import { Alert, api, errorText, html, number, t } from '@destek/agent';

const money = (minor, cur) => `${number((minor || 0) / 100)} ${cur || ''}`.trim();

// Tiles after the campaign's own: clicked, orders after it (absent without the orders module), coupons left.
export function ResultTiles({ c }) {
  const r = c.results || {};
  const tile = (k, label, v) => html`<div><dt>${t(label)}</dt><dd data-tile=${k}>${v}</dd></div>`;
  const o = r.orders;
  const totals = o ? Object.entries(o.totals_minor || {}).map(([cur, m]) => money(m, cur)).join(', ') : '';
  return html`<dl class="cmp-tiles" data-region="results-more">
    ${tile('clicked', 'campaigns.clicked', number(r.clicked || 0))}${tile('clicks', 'campaigns.clicks', number(r.clicks || 0))}
    ${o ? html`${tile('orders', 'campaigns.orders_after', number(o.count))}${tile('revenue', 'campaigns.revenue', totals || '0')}` : null}
    ${c.coupons ? tile('coupons', 'campaigns.coupons_left', number(c.coupons.remaining)) : null}
  </dl>
  ${o ? html`<p class="muted small">${t('campaigns.orders_note', { days: o.days })}</p>` : null}
  ${c.coupons && c.coupons.low ? html`<${Alert}>${t('campaigns.coupons_low', { n: c.coupons.remaining })}<//>` : null}`;
}

function Pools() {
  const [items, setItems] = useState(null);
  const [err, setErr] = useState(null);
  const [f, setF] = useState({ name: '', generate: 100, low_at: 50 });
  const [imp, setImp] = useState({ id: '', csv: '' });
  const [problems, setProblems] = useState(null);
  const load = () => api('GET', '/campaign-coupons').then((r) => setItems(r.items), setErr);
  useEffect(() => { load(); }, []);
  const create = async (e) => {
    e.preventDefault(); setErr(null);
    try {
      await api('POST', '/campaign-coupons', { name: f.name, low_at: Number(f.low_at),
        ...(Number(f.generate) > 0 ? { generate: Number(f.generate) } : {}) });
      setF({ ...f, name: '' }); load();
    } catch (x) { setErr(x); }
  };
  const doImport = async (e) => {
    e.preventDefault(); setErr(null); setProblems(null);
    try { await api('POST', `/campaign-coupons/${imp.id}/import`, { csv: imp.csv }); setImp({ ...imp, csv: '' }); load(); } catch (x) {
      if (x && x.details && x.details.rows) setProblems(x.details.rows); else setErr(x);
    }
  };
  const file = (e) => { const fl = e.target.files[0]; if (fl) fl.text().then((csv) => setImp({ ...imp, csv })); };
  return html`<section data-region="coupon-pools">
    ${err ? html`<${Alert}>${errorText(err)}<//>` : null}
    ${!items ? html`<p>${t('common.loading')}</p>` : !items.length ? html`<p class="empty">${t('campaigns.no_pools')}</p>`
      : html`<table class="table"><thead><tr><th>${t('campaigns.name')}</th><th>${t('campaigns.coupons_total')}</th>
        <th>${t('campaigns.coupons_given')}</th><th>${t('campaigns.coupons_left')}</th></tr></thead>
        <tbody>${items.map((p) => html`<tr data-pool=${p.id}><td>${p.name}</td><td>${number(p.total)}</td><td>${number(p.given)}</td>
          <td data-low=${p.low}>${number(p.remaining)}${p.low ? html` <span class="badge warn">${t('campaigns.low')}</span>` : null}</td></tr>`)}</tbody></table>`}
    <form class="cmp-form" onSubmit=${create} data-region="new-pool">
      <h3>${t('campaigns.new_pool')}</h3>
      <label>${t('campaigns.name')}<input data-field="pool-name" value=${f.name} onInput=${(e) => setF({ ...f, name: e.target.value })} required /></label>
      <div class="cmp-row">
        <label>${t('campaigns.generate')}<input type="number" min="0" max="5000" value=${f.generate} onInput=${(e) => setF({ ...f, generate: e.target.value })} /></label>
        <label>${t('campaigns.low_at')}<input type="number" min="0" value=${f.low_at} onInput=${(e) => setF({ ...f, low_at: e.target.value })} /></label>
      </div>
      <p class="muted small">${t('campaigns.generate_help')}</p>
      <p><button class="btn primary" type="submit">${t('campaigns.create')}</button></p>
    </form>
    ${items && items.length ? html`<form class="cmp-form" onSubmit=${doImport} data-region="import-codes">
      <h3>${t('campaigns.import_codes')}</h3>
      <p class="muted small">${t('campaigns.import_codes_help')}</p>
      ${problems ? html`<div class="cmp-problems"><ul>${problems.map((p) => html`<li>${t('campaigns.line', { line: p.line })}: ${p.message}</li>`)}</ul></div>` : null}
      <label>${t('campaigns.pool')}<select value=${imp.id} onChange=${(e) => setImp({ ...imp, id: e.target.value })} required>
        <option value=""></option>${items.map((p) => html`<option value=${p.id}>${p.name}</option>`)}</select></label>
      <label>${t('campaigns.file')}<input type="file" accept=".csv,.txt,text/csv,text/plain" onChange=${file} /></label>
      <label>CSV<textarea value=${imp.csv} onInput=${(e) => setImp({ ...imp, csv: e.target.value })} required></textarea></label>
      <p><button class="btn primary" type="submit">${t('campaigns.import')}</button></p>
    </form>` : null}
  </section>`;
}

function Occasions() {
  const [items, setItems] = useState(null);
  const [pools, setPools] = useState([]);
  const [err, setErr] = useState(null);
  const [f, setF] = useState({ name: '', kind: 'birthday', date: '', hour: 10, tags: '', pool_id: '', subject_tr: '', body_tr: '',
    subject_en: '', body_en: '' });
  const load = () => api('GET', '/campaign-occasions').then((r) => setItems(r.items), setErr);
  useEffect(() => { load(); api('GET', '/campaign-coupons').then((r) => setPools(r.items), () => {}); }, []);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const save = async (e) => {
    e.preventDefault(); setErr(null);
    const tags = f.tags.split(/[\s,]+/).filter(Boolean);
    try {
      await api('POST', '/campaign-occasions', { name: f.name, kind: f.kind, ...(f.kind === 'date' ? { date: f.date } : {}),
        hour: Number(f.hour), rules: tags.length ? { tags } : {}, ...(f.pool_id ? { pool_id: Number(f.pool_id) } : {}),
        subject_tr: f.subject_tr, body_tr: f.body_tr, subject_en: f.subject_en, body_en: f.body_en });
      setF({ ...f, name: '' }); load();
    } catch (x) { setErr(x); }
  };
  const toggle = async (o) => {
    try { await api('PATCH', `/campaign-occasions/${o.id}`, { enabled: !o.enabled }); load(); } catch (x) { setErr(x); }
  };
  return html`<section data-region="occasions">
    ${err ? html`<${Alert}>${errorText(err)}<//>` : null}
    ${!items ? html`<p>${t('common.loading')}</p>` : !items.length ? html`<p class="empty">${t('campaigns.no_occasions')}</p>`
      : html`<table class="table"><thead><tr><th>${t('campaigns.name')}</th><th>${t('campaigns.when')}</th><th>${t('campaigns.next_run')}</th>
        <th>${t('campaigns.coupons_left')}</th><th></th></tr></thead>
        <tbody>${items.map((o) => html`<tr data-occasion=${o.id}><td>${o.name}</td>
          <td>${o.kind === 'birthday' ? t('campaigns.kind_birthday') : o.date} · ${String(o.hour).padStart(2, '0')}:00</td>
          <td>${o.enabled ? (o.next_day || '—') : t('campaigns.off')}</td>
          <td>${o.coupons ? html`${number(o.coupons.remaining)}${o.coupons.low ? html` <span class="badge warn">${t('campaigns.low')}</span>` : null}` : '—'}</td>
          <td><button class="btn" onClick=${() => toggle(o)}>${t(o.enabled ? 'campaigns.turn_off' : 'campaigns.turn_on')}</button></td></tr>`)}</tbody></table>`}
    <form class="cmp-form" onSubmit=${save} data-region="new-occasion">
      <h3>${t('campaigns.new_occasion')}</h3>
      <label>${t('campaigns.name')}<input data-field="occasion-name" value=${f.name} onInput=${set('name')} required /></label>
      <div class="cmp-row">
        <label>${t('campaigns.kind')}<select value=${f.kind} onChange=${set('kind')}>
          <option value="birthday">${t('campaigns.kind_birthday')}</option><option value="date">${t('campaigns.kind_date')}</option></select></label>
        ${f.kind === 'date' ? html`<label>${t('campaigns.date')}<input value=${f.date} onInput=${set('date')} placeholder="05-10" required /></label>` : null}
        <label>${t('campaigns.hour')}<input type="number" min="0" max="23" value=${f.hour} onInput=${set('hour')} /></label>
        <label>${t('campaigns.tags')}<input value=${f.tags} onInput=${set('tags')} placeholder="vip" /></label>
        <label>${t('campaigns.pool')}<select value=${f.pool_id} onChange=${set('pool_id')}><option value="">—</option>
          ${pools.map((p) => html`<option value=${p.id}>${p.name} (${number(p.remaining)})</option>`)}</select></label>
      </div>
      <p class="muted small">${t('campaigns.occasion_help')}</p>
      <label>${t('campaigns.subject_tr')}<input value=${f.subject_tr} onInput=${set('subject_tr')} required /></label>
      <label>${t('campaigns.body_tr')}<textarea value=${f.body_tr} onInput=${set('body_tr')} required></textarea></label>
      <label>${t('campaigns.subject_en')}<input value=${f.subject_en} onInput=${set('subject_en')} required /></label>
      <label>${t('campaigns.body_en')}<textarea value=${f.body_en} onInput=${set('body_en')} required></textarea></label>
      <p><button class="btn primary" type="submit">${t('campaigns.create')}</button></p>
    </form>
  </section>`;
}

export const EXTRA_TABS = [['occasions', 'campaigns.tab_occasions', Occasions], ['coupons', 'campaigns.tab_coupons', Pools]];

// For admins, above every page: coupon pools in use (by a special day that is on, or a campaign not yet finished)
// with few codes left; recipients without a code get no message.
export function CouponBanner() {
  const [low, setLow] = useState([]);
  useEffect(() => { api('GET', '/campaign-coupons/low').then((d) => setLow(d.items || []), () => {}); }, []);
  if (!low.length) return null;
  return html`<div class="alert alert-warning" role="status" data-region="coupons-low">
    <span>${t('campaigns.banner_coupons_low', { pools: low.map((p) => `${p.name} (${number(p.remaining)})`).join(', ') })}</span>
    <a href="/app/campaigns" class="btn btn-secondary btn-sm">${t('campaigns.tab_coupons')}</a>
  </div>`;
}
