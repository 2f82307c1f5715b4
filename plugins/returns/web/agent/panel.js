// The returns beside a ticket (slot ticket.side): those linked to the ticket, else the customer's, with their status.
import { useEffect, useState } from 'preact/hooks';
import { api, errorText, html, onLinkClick, t } from '@destek/agent';
import { STATUS, day, word } from './words.js';

export function ReturnsPanel({ ticket, customer }) {
  const [rows, setRows] = useState(null);
  const [err, setErr] = useState(null);
  const tid = ticket && ticket.id;
  const cid = customer && customer.id;
  useEffect(() => {
    let gone = false;
    (async () => {
      try {
        let r = tid ? await api('GET', `/returns?ticket_id=${tid}&limit=5`) : { items: [] };
        if (!r.items.length && cid) r = await api('GET', `/returns?contact_id=${cid}&limit=5`);
        if (!gone) setRows(r.items);
      } catch (e) { if (!gone) setErr(errorText(e)); }
    })();
    return () => { gone = true; };
  }, [tid, cid]);
  if (!rows && !err) return null;
  if (rows && !rows.length) return null;
  return html`<section class="card returns-panel" data-region="returns" aria-labelledby="returns-panel-title">
    <h2 class="h4" id="returns-panel-title">${t('returns.panel_title')}</h2>
    ${err ? html`<p class="muted small" role="alert">${err}</p>` : html`<ul class="mini-list">${rows.map((r) => html`<li key=${r.id} data-return=${r.code}>
      <a href=${`/app/returns/${r.id}`} onClick=${onLinkClick}>${r.code}</a> <span class="badge" data-status=${r.status}>${word(STATUS, r.status)}</span>
      <span class="muted small">${r.order_number} · ${day(r.created_at)}${r.refund_due_soon ? ` · ${t('returns.due_soon')}` : ''}</span></li>`)}</ul>`}
  </section>`;
}
