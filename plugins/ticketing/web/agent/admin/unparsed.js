// Mail the inbound channel could not file (no header block, a bounce or automatic mail for no known ticket): kept
// raw for an admin to read or download.
import { Empty, ErrorAlert, MoreButton, dateTime, html, t, useList } from '@destek/agent';

const SOURCES = { cli: 'admin.src_cli', imap: 'admin.src_imap' };

function size(bytes) {
  if (bytes < 1024) return t('admin.bytes', { n: bytes });
  return t('admin.kib', { n: Math.ceil(bytes / 1024) });
}

export function UnparsedScreen() {
  const list = useList('/mail/unparsed', { limit: 50 });
  const items = list.items || [];
  return html`<div class="admin-screen">
    <p class="muted screen-intro">${t('admin.unparsed_intro')}</p>
    <div class="row-actions"><button class="btn btn-ghost btn-sm" type="button" onClick=${list.reload}
      data-action="refresh">${t('admin.refresh')}</button></div>
    <${ErrorAlert} error=${list.error} />
    ${list.items && !items.length ? html`<${Empty}>${t('admin.no_unparsed')}<//>` : null}
    <div class="item-list">
      ${items.map((m) => html`<article class="card item-card" key=${m.id} data-unparsed=${m.id}>
        <div class="row-between">
          <div class="item-main">
            <strong>${t('admin.unparsed_item', { id: m.id })}</strong>
            <p class="small muted">${dateTime(m.created_at)} · ${SOURCES[m.source] ? t(SOURCES[m.source]) : m.source} · ${size(m.size)}</p>
            <p class="small"><span class="muted">${t('admin.reason')}:</span> <span class="break">${m.reason}</span></p>
          </div>
          <div class="row-actions">
            <a class="btn btn-secondary btn-sm" href=${'/api/v1/mail/unparsed/' + m.id + '/raw'}
              download=${'unparsed-' + m.id + '.eml'} data-action="download">${t('admin.download_raw')}</a>
          </div>
        </div>
        <details class="raw"><summary>${t('admin.show_excerpt')}</summary>
          <pre class="mono small">${m.raw_excerpt}</pre></details>
      </article>`)}
    </div>
    <${MoreButton} list=${list} />
  </div>`;
}
