// Admins' "Rebuild" on the reports page: every roll-up again from the sources (POST /api/v1/reports/rebuild, what
// `destek reports rebuild` does), after a confirmation. The answer comes when it is done; meanwhile the button says
// so, and then each kind's facts and time are shown. The dashboard reads the old figures until the swap.
import { useState } from 'preact/hooks';
import { ErrorAlert, api, html, number, t, useConfirm } from '@destek/agent';
import { kindTitle } from './common.js';

export function RebuildButton({ onDone }) {
  const [ask, dialog] = useConfirm();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(null);
  const [error, setError] = useState(null);
  const run = async () => {
    setBusy(true);
    setDone(null);
    setError(null);
    try {
      setDone((await api('POST', '/reports/rebuild')).items || []);
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const start = () => ask({ title: t('reports.rebuild_title'), message: t('reports.rebuild_text'), action: t('reports.rebuild'),
    onConfirm: async () => { run(); } });
  return html`<div class="reports-rebuild" data-region="rebuild">
    <button class="btn btn-secondary btn-sm" type="button" data-action="rebuild" disabled=${busy} aria-busy=${busy ? 'true' : 'false'}
      onClick=${start}>${busy ? t('reports.rebuilding') : t('reports.rebuild')}</button>
    <p class="small muted" role="status" data-note="rebuild" data-kinds=${done ? done.map((k) => k.kind).join(' ') : ''}>${busy ? t('reports.rebuilding') : done
      ? t('reports.rebuilt', { list: done.map((k) => t('reports.rebuilt_kind', { kind: kindTitle(k.kind), n: number(k.facts), ms: number(k.ms) })).join(', ') })
      : ''}</p>
    <${ErrorAlert} error=${error} />
    ${dialog}</div>`;
}
