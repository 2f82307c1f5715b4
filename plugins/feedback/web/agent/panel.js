// The customer's CSAT answer beside a ticket: asked or not, the score and the comment. GET /api/v1/feedback/csat?ticket_id=
import { useEffect, useState } from 'preact/hooks';
import { api, errorText, formatDate, html, t } from '@destek/agent';

const STATUS = {
  scheduled: 'feedback.csat_scheduled', sent: 'feedback.csat_sent', answered: 'feedback.csat_answered',
  skipped: 'feedback.csat_skipped',
};

export function CsatPanel({ ticket }) {
  const [q, setQ] = useState(undefined);
  const [error, setError] = useState(null);
  const id = ticket && ticket.id;
  const status = ticket && ticket.status;
  useEffect(() => {
    let gone = false;
    if (!id) return undefined;
    api('GET', `/feedback/csat?ticket_id=${id}`).then((r) => { if (!gone) setQ(r.items[0] || null); },
      (e) => { if (!gone) setError(errorText(e)); });
    return () => { gone = true; };
  }, [id, status]);
  if (!id || q === null && !error) return null;
  return html`<section class="card fb-panel" data-region="csat" aria-labelledby="csat-panel-title">
    <h2 class="h4" id="csat-panel-title">${t('feedback.csat_panel')}</h2>
    ${error ? html`<p class="muted small" role="alert">${error}</p>`
      : q === undefined ? html`<p class="muted small">${t('common.loading')}</p>`
      : q.score ? html`<p data-score=${q.score}><span class=${'fb-score fb-score-' + q.score}>${q.score} / 5</span>
          ${' '}<span class="muted small">${formatDate(q.answered_at)}</span></p>
          ${q.comment ? html`<blockquote class="fb-comment" data-region="csat-comment">${q.comment}</blockquote>` : null}`
      : html`<p class="muted small" data-status=${q.status}>${t(STATUS[q.status] || 'feedback.csat_sent')}</p>`}
  </section>`;
}
