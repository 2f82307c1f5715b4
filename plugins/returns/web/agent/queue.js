// The approval queue: returns newest first, filtered by status and reason, with the refund's legal limit flagged;
// requests are approved in bulk (each is checked by the state machine; all or none).
import { useEffect, useState } from 'preact/hooks';
import { Alert, api, errorText, html, navigate, onLinkClick, queryParam, t } from '@destek/agent';
import { REASON, STATUS, day, word } from './words.js';

export function QueuePage() {
  const [status, setStatus] = useState(queryParam('status') || 'requested');
  const [reason, setReason] = useState(queryParam('reason') || '');
  const [rows, setRows] = useState(null);
  const [next, setNext] = useState(null);
  const [picked, setPicked] = useState({});
  const [err, setErr] = useState(null);
  const [done, setDone] = useState(null);

  const load = async (cursor) => {
    const q = new URLSearchParams({ limit: '50' });
    if (status) q.set('status', status);
    if (reason) q.set('reason', reason);
    if (cursor) q.set('cursor', cursor);
    try {
      const r = await api('GET', `/returns?${q}`);
      setRows((old) => (cursor ? [...(old || []), ...r.items] : r.items));
      setNext(r.next_cursor || null);
      setErr(null);
    } catch (e) { setErr(errorText(e)); }
  };
  useEffect(() => { setPicked({}); setRows(null); load(null); }, [status, reason]);

  const ids = Object.keys(picked).filter((k) => picked[k]).map(Number);
  const bulk = async () => {
    try {
      const r = await api('POST', '/returns/bulk-approve', { ids });
      setDone(t('returns.bulk_done', { n: r.items.length }));
      setPicked({});
      load(null);
    } catch (e) { setErr(errorText(e)); }
  };

  return html`<div class="page returns">
    <div class="page-head"><h1>${t('returns.queue')}</h1>
      <a class="btn" href="/api/v1/returns/export" download>${t('returns.export')}</a></div>
    <div class="returns-filters">
      <label>${t('returns.status')} <select data-filter="status" value=${status} onChange=${(e) => setStatus(e.target.value)}>
        <option value="">${t('returns.all')}</option>
        ${Object.keys(STATUS).map((s) => html`<option value=${s} selected=${s === status}>${word(STATUS, s)}</option>`)}
      </select></label>
      <label>${t('returns.reason')} <select data-filter="reason" value=${reason} onChange=${(e) => setReason(e.target.value)}>
        <option value="">${t('returns.all')}</option>
        ${Object.keys(REASON).map((s) => html`<option value=${s} selected=${s === reason}>${word(REASON, s)}</option>`)}
      </select></label>
      <button class="btn primary" data-action="bulk-approve" disabled=${!ids.length} onClick=${bulk}>
        ${t('returns.bulk_approve', { n: ids.length })}</button>
    </div>
    ${err ? html`<${Alert}>${err}<//>` : null}
    ${done ? html`<p class="ok" role="status">${done}</p>` : null}
    ${!rows ? html`<p>${t('common.loading')}</p>` : !rows.length ? html`<p class="empty" data-empty="returns">${t('returns.none')}</p>`
      : html`<div class="returns-scroll"><table class="table" data-region="returns-queue"><thead><tr><th></th>
        <th>${t('returns.code')}</th><th>${t('returns.order')}</th><th>${t('returns.customer')}</th><th>${t('returns.reason')}</th>
        <th>${t('returns.status')}</th><th>${t('returns.requested_at')}</th><th>${t('returns.refund_due')}</th></tr></thead>
        <tbody>${rows.map((r) => html`<tr key=${r.id} data-return=${r.code}>
          <td>${r.status === 'requested' ? html`<input type="checkbox" aria-label=${r.code} checked=${!!picked[r.id]}
            onChange=${(e) => setPicked({ ...picked, [r.id]: e.target.checked })} />` : null}</td>
          <td><a href=${`/app/returns/${r.id}`} onClick=${onLinkClick}>${r.code}</a></td>
          <td>${r.order_number}</td><td>${r.customer_name || r.email || ''}</td>
          <td>${word(REASON, r.reason)}</td>
          <td><span class="badge" data-status=${r.status}>${word(STATUS, r.status)}</span></td>
          <td>${day(r.created_at)}</td>
          <td class=${r.refund_overdue ? 'returns-late' : r.refund_due_soon ? 'returns-soon' : ''}>${day(r.refund_due_at)}
            ${r.refund_overdue ? html` <strong>${t('returns.overdue')}</strong>` : r.refund_due_soon ? html` <strong>${t('returns.due_soon')}</strong>` : null}</td>
        </tr>`)}</tbody></table></div>`}
    ${next ? html`<button class="btn" onClick=${() => load(next)}>${t('returns.more')}</button>` : null}
    <p class="muted small"><a href="/app/returns" onClick=${(e) => { e.preventDefault(); navigate('/app/returns'); }}>${t('returns.queue')}</a></p>
  </div>`;
}
