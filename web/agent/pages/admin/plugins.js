// Plugins: what the server has loaded — C plugins built in or from <data>/plugins/*.so, and Lua plugins (built in
// or from <data>/plugins/*.lua) — and what it could not load, with the reason (GET /plugins answers both: items and
// failed). Lua failures are those of the last (re)load.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../../html.js';
import { t } from '../../i18n.js';
import { api } from '../../api.js';
import { Empty, ErrorAlert, Table } from './common.js';

const KINDS = { 'c (built-in)': 'admin.kind_c_builtin', 'c (.so)': 'admin.kind_c_so', 'lua (built-in)': 'admin.kind_lua_builtin',
  lua: 'admin.kind_lua' };

export function PluginsScreen() {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    api('GET', '/plugins?limit=100').then((d) => setData(d || {}), setError);
  }, []);
  const items = [...((data && data.items) || []).map((p) => ({ ...p, ok: true })),
    ...((data && data.failed) || []).map((p) => ({ ...p, ok: false }))];
  return html`<div class="admin-screen">
    <p class="muted screen-intro">${t('admin.plugins_intro')}</p>
    <${ErrorAlert} error=${error} />
    ${data && !items.length ? html`<${Empty}>${t('admin.no_plugins')}<//>` : null}
    ${items.length ? html`<${Table} caption=${t('admin.tab_plugins')} items=${items}
      rowKey=${(p) => (p.ok ? 'ok:' : 'failed:') + p.kind + ':' + p.name + ':' + p.source}
      rowAttrs=${(p) => ({ 'data-plugin': p.name, 'data-state': p.ok ? 'loaded' : 'failed' })}
      columns=${[
        { label: t('admin.f_name'), cell: (p) => html`<strong>${p.name}</strong>` },
        { label: t('admin.version'), cell: (p) => (p.ok ? html`<code>${p.version}</code>` : html`<span class="muted">—</span>`) },
        { label: t('admin.kind'), cell: (p) => html`<span data-field="kind">${KINDS[p.kind] ? t(KINDS[p.kind]) : p.kind}</span>` },
        { label: t('admin.source'), cell: (p) => html`<code class="break small">${p.source}</code>` },
        { label: t('admin.state'), cell: (p) => (p.ok ? html`<span class="badge badge-on">${t('admin.loaded')}</span>`
          : html`<span class="badge badge-failed">${t('admin.plugin_failed')}</span>
            <div class="small break plugin-error" data-field="error">${p.error}</div>`) },
      ]} />` : null}
    <p class="muted small">${t('admin.plugins_note')}</p>
  </div>`;
}
