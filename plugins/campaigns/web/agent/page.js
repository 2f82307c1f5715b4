// The Campaigns page: campaigns and their results, a new campaign, the import of a consent list.
import { useEffect, useState } from 'preact/hooks';
import { Alert, api, errorText, formatDate, html, number, t } from '@destek/agent';
import { EXTRA_TABS, ResultTiles } from './specialdays.js';

const TABS = [['list', 'campaigns.tab_list'], ['new', 'campaigns.tab_new'], ['import', 'campaigns.tab_import'],
  ...EXTRA_TABS.map(([id, label]) => [id, label])];
const STATUS = { draft: 'campaigns.st_draft', scheduled: 'campaigns.st_scheduled', sending: 'campaigns.st_sending',
  paused: 'campaigns.st_paused', done: 'campaigns.st_done' };
const REASON = { no_consent: 'campaigns.reason_no_consent', no_address: 'campaigns.reason_no_address',
  erased: 'campaigns.reason_erased', no_coupon: 'campaigns.reason_no_coupon', already_sent: 'campaigns.reason_already_sent' };

const REPORT = { delivered: 'campaigns.report_delivered', undelivered: 'campaigns.report_undelivered',
  pending: 'campaigns.report_pending', unknown: 'campaigns.report_unknown' };

function Tiles({ r, channel }) {
  const tile = (k, label, v) => html`<div><dt>${t(label)}</dt><dd data-tile=${k}>${number(v || 0)}</dd></div>`;
  const sr = r.sms_reports || {};
  return html`<dl class="cmp-tiles">
    ${tile('recipients', 'campaigns.recipients', r.recipients)}${tile('sent', 'campaigns.sent', r.sent)}
    ${tile('delivered', 'campaigns.delivered', r.messages.delivered)}${tile('skipped', 'campaigns.skipped', r.skipped)}
    ${tile('unsubscribed', 'campaigns.unsubscribed', r.unsubscribed)}${tile('failed', 'campaigns.failed', r.messages.failed)}
    ${channel === 'sms' ? null : html`${tile('bounced', 'campaigns.bounced', r.bounced)}${tile('opened', 'campaigns.opened', r.opened)}${tile('opens', 'campaigns.opens', r.opens)}`}
  </dl>
  ${channel === 'sms' ? html`<h3>${t('campaigns.sms_reports')}</h3><dl class="cmp-tiles" data-region="sms-reports">
    ${Object.keys(REPORT).map((k) => tile('report-' + k, REPORT[k], sr[k]))}</dl>`
    : html`<p class="muted small" data-region="opens-note">${t('campaigns.opens_note')}</p>`}`;
}

// One contact's message as it would go: the subject, the text part and the HTML part (the core made it safe; shown in
// a sandboxed frame without allow-scripts, so nothing in it runs, and with its own CSP, so nothing loads;
// allow-same-origin only lets the page's tests and the browser read it, there being no script in it to use it).
function Preview({ id }) {
  const [contact, setContact] = useState('');
  const [p, setP] = useState(null);
  const [err, setErr] = useState(null);
  const show = async (e) => {
    e.preventDefault(); setErr(null);
    try { setP(await api('POST', `/campaigns/${id}/preview`, { contact_id: Number(contact) })); } catch (x) { setErr(x); }
  };
  return html`<form class="cmp-form" data-region="preview" onSubmit=${show}>
    <h3>${t('campaigns.preview')}</h3>
    ${err ? html`<${Alert}>${errorText(err)}<//>` : null}
    <div class="cmp-row"><label>${t('campaigns.contact_id')}<input type="number" min="1" data-field="preview-contact" value=${contact}
      onInput=${(e) => setContact(e.target.value)} required /></label>
      <button class="btn" type="submit" data-action="preview">${t('campaigns.show')}</button></div>
    ${p ? html`<div data-region="preview-out"><p><strong>${p.subject}</strong> → ${p.to || '—'}
      ${p.may_send ? null : html` <span class="badge">${t('campaigns.may_not_send')}</span>`}</p>
      <h4>${t('campaigns.text_part')}</h4><pre class="cmp-pre" data-region="preview-text">${p.body}</pre>
      ${p.html ? html`<h4>${t('campaigns.html_part')}</h4><iframe class="cmp-html" data-region="preview-html" sandbox="allow-same-origin"
        referrerpolicy="no-referrer" title=${t('campaigns.html_part')} srcdoc=${'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">' + p.html}></iframe>` : null}</div>` : null}
  </form>`;
}

// Each sent recipient's SMS delivery report.
function SmsReports({ id }) {
  const [rows, setRows] = useState([]);
  useEffect(() => { api('GET', `/campaigns/${id}/recipients?status=sent&limit=200`).then((r) => setRows(r.items), () => {}); }, [id]);
  if (!rows.length) return null;
  return html`<table class="table" data-region="sms-report-list">
    <thead><tr><th>${t('campaigns.contact')}</th><th>${t('campaigns.report')}</th></tr></thead>
    <tbody>${rows.map((r) => html`<tr data-contact=${r.contact_id}><td>${r.name || r.phone || '#' + r.contact_id}</td>
      <td>${r.report ? t(REPORT[r.report] || r.report) : '—'}${r.report_error ? ` (${r.report_error})` : ''}</td></tr>`)}</tbody></table>`;
}

function Detail({ id, onBack }) {
  const [c, setC] = useState(null);
  const [skipped, setSkipped] = useState([]);
  const [err, setErr] = useState(null);
  const load = () => {
    api('GET', `/campaigns/${id}`).then(setC, setErr);
    api('GET', `/campaigns/${id}/recipients?status=skipped&limit=200`).then((r) => setSkipped(r.items), setErr);
  };
  useEffect(() => { load(); const timer = setInterval(load, 3000); return () => clearInterval(timer); }, [id]);
  const act = async (verb) => {
    setErr(null);
    try { setC(await api('POST', `/campaigns/${id}/${verb}`, {})); } catch (e) { setErr(e); }
  };
  if (!c) return html`<p>${t('common.loading')}</p>`;
  return html`<section data-region="campaign" data-campaign=${c.id}>
    <p><button class="btn" onClick=${onBack}>${t('campaigns.back')}</button></p>
    <h2>${c.name} <span class="badge" data-status=${c.status}>${t(STATUS[c.status])}</span></h2>
    ${err ? html`<${Alert}>${errorText(err)}<//>` : null}
    <div class="cmp-row">
      ${c.status === 'draft' ? html`<button class="btn" data-action="start" onClick=${() => act('schedule')}>${t('campaigns.start')}</button>` : null}
      ${c.status === 'sending' || c.status === 'scheduled' ? html`<button class="btn" data-action="pause" onClick=${() => act('pause')}>${t('campaigns.pause')}</button>` : null}
      ${c.status === 'paused' ? html`<button class="btn" data-action="resume" onClick=${() => act('resume')}>${t('campaigns.resume')}</button>` : null}
    </div>
    <${Tiles} r=${c.results} channel=${c.channel} />
    <${ResultTiles} c=${c} />
    ${c.channel === 'sms' ? html`<${SmsReports} id=${c.id} />` : null}
    <${Preview} id=${c.id} />
    <h3>${t('campaigns.skipped_who')}</h3>
    ${!skipped.length ? html`<p class="empty">${t('campaigns.none_skipped')}</p>` : html`<table class="table" data-region="skipped">
      <thead><tr><th>${t('campaigns.contact')}</th><th>${t('campaigns.reason')}</th></tr></thead>
      <tbody>${skipped.map((r) => html`<tr data-contact=${r.contact_id}><td>${r.name || r.email || '#' + r.contact_id}</td>
        <td>${t(REASON[r.reason] || r.reason)}</td></tr>`)}</tbody></table>`}
  </section>`;
}

function List({ onOpen }) {
  const [items, setItems] = useState(null);
  const [err, setErr] = useState(null);
  useEffect(() => { api('GET', '/campaigns').then((r) => setItems(r.items), setErr); }, []);
  if (err) return html`<${Alert}>${errorText(err)}<//>`;
  if (!items) return html`<p>${t('common.loading')}</p>`;
  if (!items.length) return html`<p class="empty">${t('campaigns.none')}</p>`;
  return html`<table class="table" data-region="campaigns"><thead><tr><th>${t('campaigns.name')}</th><th>${t('campaigns.status')}</th>
    <th>${t('campaigns.sent')}</th><th>${t('campaigns.skipped')}</th><th>${t('campaigns.unsubscribed')}</th><th>${t('campaigns.created')}</th></tr></thead>
    <tbody>${items.map((c) => html`<tr data-campaign=${c.id}><td><a href="#" onClick=${(e) => { e.preventDefault(); onOpen(c.id); }}>${c.name}</a></td>
      <td>${t(STATUS[c.status])}</td><td>${number(c.results.sent)}</td><td>${number(c.results.skipped)}</td>
      <td>${number(c.results.unsubscribed)}</td><td>${formatDate(c.created_at)}</td></tr>`)}</tbody></table>`;
}

// A segment over many contacts is counted a page at a time (next_after): the pages' figures added up.
async function countAll(body) {
  let total = null, after = 0;
  const add = (a, b) => {
    for (const k of Object.keys(b)) if (typeof b[k] === 'number') a[k] = (a[k] || 0) + b[k];
    return a;
  };
  for (;;) {
    const r = await api('POST', '/campaign-segments/count', { ...body, after });
    if (!total) total = r;
    else {
      add(total, r);
      for (const ch of Object.keys(r.by_channel || {})) add(total.by_channel[ch], r.by_channel[ch]);
    }
    if (r.next_after == null) return total;
    after = r.next_after;
  }
}

function NewCampaign({ onSaved }) {
  const [f, setF] = useState({ name: '', channel: 'email', tags: '', lang: '', subject_tr: '', body_tr: '', subject_en: '', body_en: '',
    body_html_tr: '', body_html_en: '', per_second: 100 });
  const sms = f.channel === 'sms';
  const [count, setCount] = useState(null);
  const [err, setErr] = useState(null);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const rules = () => {
    const r = {};
    const tags = f.tags.split(/[\s,]+/).filter(Boolean);
    if (tags.length) r.tags = tags;
    if (f.lang) r.lang = f.lang;
    return r;
  };
  const doCount = async () => {
    setErr(null);
    try { setCount(await countAll({ rules: rules(), channel: f.channel })); } catch (e) { setErr(e); }
  };
  const save = async (e) => {
    e.preventDefault();
    setErr(null);
    try {
      const c = await api('POST', '/campaigns', { name: f.name, channel: f.channel, rules: rules(),
        ...(sms ? {} : { subject_tr: f.subject_tr, subject_en: f.subject_en }), body_tr: f.body_tr, body_en: f.body_en,
        ...(sms || !f.body_html_tr ? {} : { body_html_tr: f.body_html_tr }), ...(sms || !f.body_html_en ? {} : { body_html_en: f.body_html_en }),
        per_second: Number(f.per_second) });
      onSaved(c.id);
    } catch (x) { setErr(x); }
  };
  return html`<form class="cmp-form" data-region="new-campaign" onSubmit=${save}>
    ${err ? html`<${Alert}>${errorText(err)}<//>` : null}
    <label>${t('campaigns.name')}<input data-field="name" value=${f.name} onInput=${set('name')} required /></label>
    <label>${t('campaigns.channel')}<select data-field="channel" value=${f.channel} onChange=${(e) => { setCount(null); set('channel')(e); }}>
      <option value="email">${t('campaigns.channel_email')}</option><option value="sms">${t('campaigns.channel_sms')}</option></select></label>
    <div class="cmp-row">
      <label>${t('campaigns.tags')}<input data-field="tags" value=${f.tags} onInput=${set('tags')} placeholder="vip" /></label>
      <label>${t('campaigns.lang')}<select data-field="lang" value=${f.lang} onChange=${set('lang')}>
        <option value="">${t('campaigns.any')}</option><option value="tr">Türkçe</option><option value="en">English</option></select></label>
      <button type="button" class="btn" data-action="count" onClick=${doCount}>${t('campaigns.count')}</button>
    </div>
    ${count ? html`<p data-region="count">${t(count.channel === 'sms' ? 'campaigns.count_result_sms' : 'campaigns.count_result', { matched: count.matched, sendable: count.sendable,
      no_consent: count.no_consent, no_address: count.no_address })}</p>` : null}
    <p class="muted small">${t('campaigns.placeholders')}</p>
    ${sms ? null : html`<label>${t('campaigns.subject_tr')}<input data-field="subject_tr" value=${f.subject_tr} onInput=${set('subject_tr')} required /></label>`}
    <label>${t('campaigns.body_tr')}<textarea data-field="body_tr" value=${f.body_tr} onInput=${set('body_tr')} required=${sms || !f.body_html_tr}></textarea></label>
    ${sms ? null : html`<label>${t('campaigns.body_html_tr')}<textarea data-field="body_html_tr" value=${f.body_html_tr} onInput=${set('body_html_tr')}></textarea></label>`}
    ${sms ? null : html`<label>${t('campaigns.subject_en')}<input data-field="subject_en" value=${f.subject_en} onInput=${set('subject_en')} required /></label>`}
    <label>${t('campaigns.body_en')}<textarea data-field="body_en" value=${f.body_en} onInput=${set('body_en')} required=${sms || !f.body_html_en}></textarea></label>
    ${sms ? null : html`<label>${t('campaigns.body_html_en')}<textarea data-field="body_html_en" value=${f.body_html_en} onInput=${set('body_html_en')}></textarea></label>
      <p class="muted small">${t('campaigns.html_note')}</p>`}
    <label>${t('campaigns.per_second')}<input type="number" min="1" max="2000" data-field="per_second" value=${f.per_second} onInput=${set('per_second')} /></label>
    <p class="muted small">${t('campaigns.consent_note')}</p>
    <p><button class="btn primary" type="submit" data-action="save">${t('campaigns.save')}</button></p>
  </form>`;
}

function Import() {
  const [name, setName] = useState('');
  const [csv, setCsv] = useState('');
  const [done, setDone] = useState(null);
  const [problems, setProblems] = useState(null);
  const [err, setErr] = useState(null);
  const send = async (e) => {
    e.preventDefault();
    setErr(null); setProblems(null); setDone(null);
    try { setDone(await api('POST', '/campaign-imports', { name, csv })); } catch (x) {
      if (x && x.details && x.details.rows) setProblems(x.details.rows); else setErr(x);
    }
  };
  const file = (e) => { const fl = e.target.files[0]; if (fl) fl.text().then(setCsv); };
  return html`<form class="cmp-form" data-region="import" onSubmit=${send}>
    <p class="muted small">${t('campaigns.import_help')}</p>
    ${err ? html`<${Alert}>${errorText(err)}<//>` : null}
    ${done ? html`<p data-region="imported">${t('campaigns.imported', { rows: done.rows })}</p>` : null}
    ${problems ? html`<div class="cmp-problems" data-region="problems"><p>${t('campaigns.err_invalid_rows')}</p><ul>${problems.map((p) =>
      html`<li>${t('campaigns.line', { line: p.line })}${p.column ? ` (${p.column})` : ''}: ${p.message}</li>`)}</ul></div>` : null}
    <label>${t('campaigns.import_name')}<input data-field="import-name" value=${name} onInput=${(e) => setName(e.target.value)} required /></label>
    <label>${t('campaigns.file')}<input type="file" accept=".csv,text/csv" onChange=${file} /></label>
    <label>CSV<textarea data-field="csv" value=${csv} onInput=${(e) => setCsv(e.target.value)} required></textarea></label>
    <p><button class="btn primary" type="submit" data-action="import">${t('campaigns.import')}</button></p>
  </form>`;
}

export function CampaignsPage() {
  const [tab, setTab] = useState('list');
  const [open, setOpen] = useState(null);
  const show = (id) => { setOpen(id); setTab('list'); };
  return html`<main class="page campaigns" id="main">
    <div class="page-head"><h1>${t('campaigns.title')}</h1></div>
    <div role="tablist" class="cmp-tabs">${TABS.map(([id, label]) => html`<button role="tab" class="btn" aria-selected=${tab === id}
      data-tab=${id} onClick=${() => { setTab(id); setOpen(null); }}>${t(label)}</button>`)}</div>
    ${EXTRA_TABS.filter(([id]) => id === tab).map(([, , Tab]) => html`<${Tab} />`)[0] ||
      (tab === 'new' ? html`<${NewCampaign} onSaved=${show} />` : tab === 'import' ? html`<${Import} />`
      : open ? html`<${Detail} id=${open} onBack=${() => setOpen(null)} />` : html`<${List} onOpen=${setOpen} />`)}
  </main>`;
}
