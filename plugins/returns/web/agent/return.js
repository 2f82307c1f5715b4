// One return: its items, photos, history and the order beside them; the next steps an agent takes (approve, reject
// with a written reason, mark shipped back or received, inspect each item, refund, exchange, store credit, a note).
import { useEffect, useState } from 'preact/hooks';
import { Alert, api, errorText, html, onLinkClick, t } from '@destek/agent';
import { CONDITION, OUTCOME, REASON, STATUS, day, money, word } from './words.js';

function Step({ r, reload, setErr }) {
  const [text, setText] = useState('');
  const [amount, setAmount] = useState('');
  const [method, setMethod] = useState('original');
  const [cond, setCond] = useState({});
  const post = async (path, body) => {
    try { await api('POST', `/returns/${r.id}/${path}`, body); setText(''); reload(); } catch (e) { setErr(errorText(e)); }
  };
  const minor = () => Math.round(parseFloat(String(amount).replace(',', '.')) * 100);
  if (r.status === 'requested') {
    return html`<div class="returns-step" data-step="decide">
      <button class="btn primary" data-action="approve" onClick=${() => post('approve', {})}>${t('returns.approve')}</button>
      <label>${t('returns.reject_reason')}<textarea data-field="reject-reason" value=${text} onInput=${(e) => setText(e.target.value)}></textarea></label>
      <button class="btn danger" data-action="reject" disabled=${!text.trim()} onClick=${() => post('reject', { reason: text })}>${t('returns.reject')}</button>
    </div>`;
  }
  if (r.status === 'approved') {
    return html`<div class="returns-step" data-step="ship">
      <label>${t('returns.tracking')}<input data-field="tracking" value=${text} onInput=${(e) => setText(e.target.value)} /></label>
      <button class="btn" data-action="shipped" disabled=${!text.trim()} onClick=${() => post('shipped', { tracking_number: text })}>${t('returns.mark_shipped')}</button>
      <button class="btn" data-action="receive" onClick=${() => post('receive', {})}>${t('returns.mark_received')}</button>
    </div>`;
  }
  if (r.status === 'shipped_back') {
    return html`<div class="returns-step"><button class="btn primary" data-action="receive" onClick=${() => post('receive', {})}>${t('returns.mark_received')}</button></div>`;
  }
  if (r.status === 'received') {
    return html`<div class="returns-step" data-step="inspect">
      ${r.items.map((it) => html`<label key=${it.id}>${it.name} × ${it.quantity}
        <select data-condition=${it.id} onChange=${(e) => setCond({ ...cond, [it.id]: e.target.value })}>
          <option value="">–</option>
          ${Object.keys(CONDITION).map((c) => html`<option value=${c}>${word(CONDITION, c)}</option>`)}
        </select></label>`)}
      <button class="btn primary" data-action="inspect" disabled=${r.items.some((it) => !cond[it.id])}
        onClick=${() => post('inspect', { items: r.items.map((it) => ({ id: it.id, condition: cond[it.id] })) })}>${t('returns.inspect')}</button>
    </div>`;
  }
  if (r.status === 'inspected') {
    return html`<div class="returns-step" data-step="resolve">
      <label>${t('returns.amount')}<input data-field="amount" inputmode="decimal" value=${amount} onInput=${(e) => setAmount(e.target.value)} /></label>
      <label>${t('returns.method')}<select value=${method} onChange=${(e) => setMethod(e.target.value)}>
        <option value="original">${t('returns.m_original')}</option><option value="card">${t('returns.m_card')}</option>
        <option value="bank_transfer">${t('returns.m_bank_transfer')}</option></select></label>
      <button class="btn primary" data-action="refund" disabled=${!(minor() >= 0)} onClick=${() => post('refund', { amount_minor: minor(), method })}>${t('returns.refund')}</button>
      <button class="btn" data-action="credit" disabled=${!(minor() >= 0)} onClick=${() => post('credit', { amount_minor: minor() })}>${t('returns.credit')}</button>
      <label>${t('returns.tracking')}<input data-field="exchange-tracking" value=${text} onInput=${(e) => setText(e.target.value)} /></label>
      <button class="btn" data-action="exchange" disabled=${!text.trim()} onClick=${() => post('exchange', { tracking_number: text })}>${t('returns.exchange')}</button>
      <label>${t('returns.reject_reason')}<textarea data-field="reject-after" onInput=${(e) => setText(e.target.value)}></textarea></label>
      <button class="btn danger" data-action="reject" disabled=${!text.trim()} onClick=${() => post('reject', { reason: text })}>${t('returns.reject')}</button>
    </div>`;
  }
  return null;
}

export function ReturnPage({ id }) {
  const [r, setR] = useState(null);
  const [err, setErr] = useState(null);
  const reload = () => api('GET', `/returns/${id}`).then((x) => { setR(x); setErr(null); }, (e) => setErr(errorText(e)));
  useEffect(() => { reload(); }, [id]);
  if (!r) return html`<div class="page">${err ? html`<${Alert}>${err}<//>` : html`<p>${t('common.loading')}</p>`}</div>`;
  const o = r.order;
  return html`<div class="page returns" data-return=${r.code}>
    <div class="page-head"><h1>${t('returns.return')} ${r.code}</h1>
      <a class="btn" href="/app/returns" onClick=${onLinkClick}>${t('returns.queue')}</a></div>
    ${err ? html`<${Alert}>${err}<//>` : null}
    <p><span class="badge" data-status=${r.status} data-region="return-status">${word(STATUS, r.status)}</span>
      ${' '}${t('returns.order')} ${r.order_number} · ${r.customer_name || ''} ${r.email || ''}
      ${r.ticket_id ? html` · <a href=${`/app/tickets/${r.ticket_id}`} onClick=${onLinkClick}>${t('returns.ticket')}</a>` : null}</p>
    ${r.refund_overdue ? html`<${Alert}>${t('returns.overdue')}: ${day(r.refund_due_at)}<//>`
      : r.refund_due_soon ? html`<p class="returns-soon" role="status">${t('returns.due_soon')}: ${day(r.refund_due_at)}</p>` : null}
    ${r.reject_reason ? html`<p><strong>${t('returns.reject_reason')}:</strong> ${r.reject_reason}</p>` : null}
    <div class="returns-grid">
      <section class="card"><h2 class="h4">${t('returns.items')}</h2>
        <ul>${r.items.map((it) => html`<li key=${it.id}>${it.name}${it.variant ? ` (${it.variant})` : ''} × ${it.quantity} —
          ${word(REASON, it.reason)}, ${word(OUTCOME, it.outcome)}${it.exchange_variant ? `: ${it.exchange_variant}` : ''}
          ${it.comment ? html`<br /><q>${it.comment}</q>` : null}
          ${it.condition ? html`<br /><span class="muted small">${word(CONDITION, it.condition)}${it.condition_note ? ` · ${it.condition_note}` : ''}</span>` : null}</li>`)}</ul>
        ${r.photos.length ? html`<h3 class="h5">${t('returns.photos')}</h3><ul>${r.photos.map((p) => html`<li key=${p.id}>
          <a href=${p.url} download>${p.filename || p.id}</a> <span class="muted small">${p.type}</span></li>`)}</ul>` : null}
        ${r.cod ? html`<p>${t('returns.iban')}: <code data-region="iban">${r.iban_masked || '–'}</code> ${r.iban_holder || ''}</p>` : null}
        ${r.tracking_number ? html`<p>${t('returns.tracking')}: ${r.tracking_number}</p>` : null}
        ${r.refund_minor !== null && r.refund_minor !== undefined ? html`<p>${t('returns.amount')}: ${money(r.refund_minor)} (${r.refund_method}) · ${day(r.refunded_at)}</p>` : null}
      </section>
      <section class="card"><h2 class="h4">${t('returns.order')} ${o ? o.number : ''}</h2>
        ${o ? html`<p>${o.status} · ${o.total} ${o.currency || ''}</p><ul>${(o.items || []).map((it, i) => html`<li key=${i}>${it.name} × ${it.quantity}</li>`)}</ul>
          <ul>${(o.shipments || []).map((s) => html`<li key=${s.id}>${s.carrier_name || s.carrier || ''} ${s.tracking_number || ''}: ${s.status}</li>`)}</ul>`
          : html`<p class="muted">–</p>`}
      </section>
    </div>
    <${Step} r=${r} reload=${reload} setErr=${setErr} />
    <section class="card"><h2 class="h4">${t('returns.history')}</h2>
      <ol data-region="return-history">${r.history.map((h, i) => html`<li key=${i}>${day(h.at)} · ${word(STATUS, h.action) || h.action}
        <span class="muted small">${h.actor}</span>${h.note ? html`: ${h.note}` : null}</li>`)}</ol></section>
  </div>`;
}
