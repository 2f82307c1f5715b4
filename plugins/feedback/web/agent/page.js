// The Feedback page: CSAT figures, the review moderation queue, NPS surveys.
import { useEffect, useState } from 'preact/hooks';
import { Alert, api, errorText, formatDate, html, number, store, t } from '@destek/agent';

const TABS = [['csat', 'feedback.tab_csat'], ['reviews', 'feedback.tab_reviews'], ['nps', 'feedback.tab_nps']];
const RULES = { abuse: 'feedback.rule_abuse', personal_data: 'feedback.rule_personal_data', spam: 'feedback.rule_spam',
  off_topic: 'feedback.rule_off_topic', meets_rules: 'feedback.rule_meets_rules' };
const REVIEW_STATUS = { pending: 'feedback.st_pending', approved: 'feedback.st_approved', rejected: 'feedback.st_rejected' };

const SURVEY_STATUS = { draft: 'feedback.survey_draft', sending: 'feedback.survey_sending', sent: 'feedback.survey_sent' };

function pct(v) { return v === null || v === undefined ? '–' : `${v} %`; }

function CsatTab() {
  const [r, setR] = useState(null);
  const [err, setErr] = useState(null);
  useEffect(() => { api('GET', '/feedback/csat/report?days=30').then(setR, setErr); }, []);
  if (err) return html`<${Alert}>${errorText(err)}<//>`;
  if (!r) return html`<p>${t('common.loading')}</p>`;
  const o = r.overall;
  return html`<div data-region="csat-report">
    <dl class="fb-tiles">
      <div><dt>${t('feedback.answered')}</dt><dd data-tile="answered">${number(o.answered || 0)}</dd></div>
      <div><dt>${t('feedback.average')}</dt><dd data-tile="average">${o.average ?? '–'}</dd></div>
      <div><dt>${t('feedback.csat')}</dt><dd data-tile="csat">${pct(o.csat)}</dd></div>
      <div><dt>${t('feedback.response_rate')}</dt><dd data-tile="rate">${pct(o.response_rate)}</dd></div>
    </dl>
    <h2>${t('feedback.by_agent')}</h2>
    ${r.agents.length ? html`<table class="table"><thead><tr><th>${t('feedback.agent')}</th><th>${t('feedback.answered')}</th>
      <th>${t('feedback.average')}</th><th>${t('feedback.csat')}</th></tr></thead>
      <tbody>${r.agents.map((a) => html`<tr data-agent=${a.agent_id}><td>${a.name || a.agent_id}</td><td>${a.answered}</td>
        <td>${a.average}</td><td>${pct(a.csat)}</td></tr>`)}</tbody></table>` : html`<p class="empty">${t('feedback.none')}</p>`}
    <h2>${t('feedback.by_team')}</h2>
    ${r.teams.length ? html`<table class="table"><thead><tr><th>${t('feedback.team')}</th><th>${t('feedback.answered')}</th>
      <th>${t('feedback.average')}</th><th>${t('feedback.csat')}</th></tr></thead>
      <tbody>${r.teams.map((a) => html`<tr><td>${a.team_id}</td><td>${a.answered}</td><td>${a.average}</td><td>${pct(a.csat)}</td></tr>`)}</tbody></table>`
      : html`<p class="empty">${t('feedback.none')}</p>`}
  </div>`;
}

function Review({ r, rules, onChange }) {
  const [rule, setRule] = useState('');
  const [note, setNote] = useState('');
  const [reply, setReply] = useState(r.reply ? r.reply.body : '');
  const [err, setErr] = useState(null);
  const act = async (path, body) => {
    setErr(null);
    try { onChange(await api('POST', `/feedback/reviews/${r.id}/${path}`, body)); } catch (e) { setErr(errorText(e)); }
  };
  return html`<li class="card fb-review" data-review=${r.id}>
    <p><strong>${r.product_name}</strong> <span class="muted small">#${r.order_number}</span>
      ${' '}<span class="fb-stars" aria-label=${t('feedback.stars', { n: r.rating })}>${'★'.repeat(r.rating)}${'☆'.repeat(5 - r.rating)}</span>
      ${r.verified ? html` <span class="badge" data-verified>${t('feedback.verified')}</span>` : null}
      ${' '}<span class="badge" data-status=${r.status}>${t(REVIEW_STATUS[r.status])}</span></p>
    <p class="fb-body">${r.body}</p>
    <p class="muted small">${r.author} · ${formatDate(r.created_at)}${r.ticket_id ? html` · <a href=${'/app/tickets/' + r.ticket_id}>${t('feedback.ticket')}</a>` : null}</p>
    ${r.photos.length ? html`<p>${r.photos.map((p) => html`<a href=${p.url} target="_blank" rel="noopener">${t('feedback.photo')}</a> `)}</p>` : null}
    ${r.decisions.length ? html`<ul class="muted small" data-region="decisions">${r.decisions.map((d) => html`<li>${t(REVIEW_STATUS[d.decision])}:${" "}
      ${t(RULES[d.rule] || d.rule)} · #${d.moderator_id} · ${formatDate(d.at)}${d.note ? ` · ${d.note}` : ''}</li>`)}</ul>` : null}
    ${err ? html`<${Alert}>${err}<//>` : null}
    <div class="fb-actions">
      ${r.status !== 'approved' ? html`<button class="btn" data-action="approve" onClick=${() => act('moderate', { decision: 'approve' })}>${t('feedback.approve')}</button>` : null}
      ${r.status !== 'rejected' ? html`<label>${t('feedback.rule')}
        <select value=${rule} onChange=${(e) => setRule(e.target.value)} data-field="rule">
          <option value="">${t('feedback.choose_rule')}</option>
          ${rules.map((x) => html`<option value=${x.rule} title=${x.text}>${x.label}</option>`)}
        </select></label>
        <input type="text" placeholder=${t('feedback.note')} aria-label=${t('feedback.note')} value=${note} onInput=${(e) => setNote(e.target.value)} />
        <button class="btn" data-action="reject" onClick=${() => act('moderate', { decision: 'reject', rule, note })}>${t('feedback.reject')}</button>` : null}
    </div>
    ${r.status === 'approved' ? html`<div class="fb-reply"><label>${t('feedback.reply')}
      <textarea rows="2" value=${reply} onInput=${(e) => setReply(e.target.value)} data-field="reply"></textarea></label>
      <button class="btn" data-action="reply" onClick=${() => act('reply', { body: reply })}>${t('feedback.save_reply')}</button></div>` : null}
  </li>`;
}

function ReviewsTab() {
  const [status, setStatus] = useState('pending');
  const [items, setItems] = useState(null);
  const [rules, setRules] = useState([]);
  const [err, setErr] = useState(null);
  useEffect(() => { api('GET', '/feedback/rules').then((r) => setRules(r.items), setErr); }, []);
  useEffect(() => {
    setItems(null);
    api('GET', `/feedback/reviews?status=${status}&limit=50`).then((r) => setItems(r.items), setErr);
  }, [status]);
  const changed = (r) => setItems(items.map((x) => (x.id === r.id ? r : x)).filter((x) => status === 'all' || x.status === status));
  return html`<div data-region="reviews">
    <p><label>${t('feedback.show')} <select value=${status} onChange=${(e) => setStatus(e.target.value)} data-field="review-status">
      ${['pending', 'approved', 'rejected'].map((s) => html`<option value=${s}>${t(REVIEW_STATUS[s])}</option>`)}
    </select></label></p>
    ${err ? html`<${Alert}>${errorText(err)}<//>` : null}
    ${!items ? html`<p>${t('common.loading')}</p>` : !items.length ? html`<p class="empty">${t('feedback.no_reviews')}</p>`
      : html`<ul class="fb-reviews">${items.map((r) => html`<${Review} key=${r.id} r=${r} rules=${rules} onChange=${changed} />`)}</ul>`}
  </div>`;
}

function Figures({ f }) {
  return html`<dl class="fb-tiles">
    <div><dt>NPS</dt><dd data-tile="nps">${f.nps ?? '–'}</dd></div>
    <div><dt>${t('feedback.promoters')}</dt><dd data-tile="promoters">${f.promoters}</dd></div>
    <div><dt>${t('feedback.passives')}</dt><dd data-tile="passives">${f.passives}</dd></div>
    <div><dt>${t('feedback.detractors')}</dt><dd data-tile="detractors">${f.detractors}</dd></div>
  </dl>
  ${f.trend && f.trend.length ? html`<h3>${t('feedback.trend')}</h3><table class="table"><thead><tr><th>${t('feedback.week')}</th>
    <th>NPS</th><th>${t('feedback.answered')}</th></tr></thead><tbody>${f.trend.map((w) => html`<tr><td>${w.week}</td>
    <td>${w.nps}</td><td>${w.answered}</td></tr>`)}</tbody></table>` : null}`;
}

// A new survey: who is asked (buyers in a date window), the question in both languages, promotional or not, pace.
function NewSurvey({ onDone, onCancel }) {
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 30 * 86400e3).toISOString().slice(0, 10);
  const [f, setF] = useState({ name: '', question_tr: '', question_en: '', promotional: false, bought_from: monthAgo,
    bought_to: today, per_minute: 60 });
  const [err, setErr] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const fieldErr = (name) => (err && err.field === name ? html`<span class="field-error" role="alert">${errorText(err)}</span>` : null);
  const submit = async (e) => {
    e.preventDefault();
    setErr(null);
    setBusy(true);
    const body = { name: f.name.trim(), promotional: f.promotional, bought_from: f.bought_from, bought_to: f.bought_to,
      per_minute: Number(f.per_minute) };
    if (f.question_tr.trim()) body.question_tr = f.question_tr.trim();
    if (f.question_en.trim()) body.question_en = f.question_en.trim();
    try { onDone(await api('POST', '/feedback/surveys', body)); } catch (x) { setErr(x); } finally { setBusy(false); }
  };
  return html`<form class="card fb-new-survey" data-form="new-survey" onSubmit=${submit}>
    <h3>${t('feedback.new_survey')}</h3>
    ${err && !err.field ? html`<${Alert}>${errorText(err)}<//>` : null}
    <label>${t('feedback.survey_name')}<input name="name" required maxlength="200" value=${f.name} onInput=${set('name')} />${fieldErr('name')}</label>
    <label>${t('feedback.question_tr')}<textarea name="question_tr" rows="2" maxlength="500" value=${f.question_tr}
      placeholder=${t('feedback.question_default')} onInput=${set('question_tr')}></textarea>${fieldErr('question_tr')}</label>
    <label>${t('feedback.question_en')}<textarea name="question_en" rows="2" maxlength="500" value=${f.question_en}
      placeholder=${t('feedback.question_default')} onInput=${set('question_en')}></textarea>${fieldErr('question_en')}</label>
    <fieldset><legend>${t('feedback.buyers_between')}</legend>
      <input type="date" name="bought_from" aria-label=${t('feedback.bought_from')} value=${f.bought_from} onInput=${set('bought_from')} />
      ${' – '}<input type="date" name="bought_to" aria-label=${t('feedback.bought_to')} value=${f.bought_to} onInput=${set('bought_to')} />
      ${fieldErr('bought_from')}${fieldErr('bought_to')}</fieldset>
    <label>${t('feedback.per_minute')}<input type="number" name="per_minute" min="1" max="1000" value=${f.per_minute}
      onInput=${set('per_minute')} />${fieldErr('per_minute')}</label>
    <label class="check"><input type="checkbox" name="promotional" checked=${f.promotional} onChange=${set('promotional')} />
      ${t('feedback.promotional_label')}</label>
    <p class="muted small">${t('feedback.promotional_hint')}</p>
    <div class="fb-actions"><button class="btn primary" type="submit" disabled=${busy}>${t('feedback.create_survey')}</button>
      <button class="btn" type="button" onClick=${onCancel}>${t('feedback.cancel')}</button></div>
  </form>`;
}

// One survey's results: its figures and trend, and the latest answers with the customers' reasons.
function SurveyResults({ id, onClose }) {
  const [r, setR] = useState(null);
  const [err, setErr] = useState(null);
  useEffect(() => { setR(null); api('GET', `/feedback/surveys/${id}/results`).then(setR, setErr); }, [id]);
  if (err) return html`<${Alert}>${errorText(err)}<//>`;
  if (!r) return html`<p>${t('common.loading')}</p>`;
  return html`<section class="card" data-region="survey-results" data-survey=${id}>
    <h3>${r.survey.name}</h3>
    <p class="muted small">${t('feedback.buyers_between')}: ${r.survey.bought_from.slice(0, 10)} – ${r.survey.bought_to.slice(0, 10)}
      · ${t('feedback.sent')}: ${r.survey.sent} · ${t('feedback.answered')}: ${r.survey.answered}</p>
    <${Figures} f=${r} />
    <h3>${t('feedback.answers')}</h3>
    ${r.answers && r.answers.length ? html`<table class="table" data-region="answers"><thead><tr><th>${t('feedback.score')}</th>
      <th>${t('feedback.why')}</th><th>${t('feedback.when')}</th></tr></thead><tbody>${r.answers.map((a) => html`<tr data-score=${a.score}>
      <td>${a.score}</td><td>${a.reason || '–'}</td><td>${formatDate(a.answered_at)}</td></tr>`)}</tbody></table>`
      : html`<p class="empty">${t('feedback.no_answers')}</p>`}
    <button class="btn" onClick=${onClose}>${t('feedback.close')}</button>
  </section>`;
}

function NpsTab() {
  const [list, setList] = useState(null);
  const [overall, setOverall] = useState(null);
  const [err, setErr] = useState(null);
  const [creating, setCreating] = useState(false);
  const [open, setOpen] = useState(null);
  const admin = (store.get().user || {}).role === 'admin';
  const load = () => {
    api('GET', '/feedback/surveys').then((r) => setList(r.items), setErr);
    api('GET', '/feedback/nps').then(setOverall, setErr);
  };
  useEffect(load, []);
  const send = async (id) => {
    setErr(null);
    try { await api('POST', `/feedback/surveys/${id}/send`); load(); } catch (e) { setErr(e); }
  };
  return html`<div data-region="nps">
    ${err ? html`<${Alert}>${errorText(err)}<//>` : null}
    ${overall ? html`<${Figures} f=${overall} />` : null}
    <div class="fb-head"><h2>${t('feedback.surveys')}</h2>
      ${admin && !creating ? html`<button class="btn" data-action="new-survey" onClick=${() => setCreating(true)}>${t('feedback.new_survey')}</button>` : null}</div>
    ${creating ? html`<${NewSurvey} onCancel=${() => setCreating(false)} onDone=${(s) => { setCreating(false); load(); setOpen(s.id); }} />` : null}
    ${!list ? html`<p>${t('common.loading')}</p>` : !list.length ? html`<p class="empty">${t('feedback.no_surveys')}</p>`
      : html`<table class="table"><thead><tr><th>${t('feedback.survey')}</th><th>${t('feedback.status')}</th><th>${t('feedback.sent')}</th>
        <th>${t('feedback.answered')}</th><th></th></tr></thead><tbody>${list.map((s) => html`<tr data-survey=${s.id}>
        <td><a href="#" onClick=${(e) => { e.preventDefault(); setOpen(s.id); }}>${s.name}</a>${s.promotional ? html` <span class="badge">${t('feedback.promotional')}</span>` : null}</td>
        <td data-status=${s.status}>${t(SURVEY_STATUS[s.status] || s.status)}</td>
        <td>${s.sent}</td><td>${s.answered}</td>
        <td>${s.status === 'draft' && admin ? html`<button class="btn" data-action="send" onClick=${() => send(s.id)}>${t('feedback.send')}</button>` : null}</td></tr>`)}</tbody></table>`}
    ${open ? html`<${SurveyResults} id=${open} onClose=${() => setOpen(null)} />` : null}
  </div>`;
}

export function FeedbackPage() {
  const [tab, setTab] = useState('csat');
  return html`<main class="page feedback" id="main">
    <div class="page-head"><h1>${t('feedback.title')}</h1></div>
    <div role="tablist" class="fb-tabs">${TABS.map(([id, label]) => html`<button role="tab" class="btn" aria-selected=${tab === id}
      data-tab=${id} onClick=${() => setTab(id)}>${t(label)}</button>`)}</div>
    ${tab === 'csat' ? html`<${CsatTab} />` : tab === 'reviews' ? html`<${ReviewsTab} />` : html`<${NpsTab} />`}
  </main>`;
}
