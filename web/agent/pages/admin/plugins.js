// Plugins: what the server has loaded — C plugins built in or from <data>/plugins/*.so, and Lua plugins (built in
// or from <data>/plugins/*.lua). A plugin that failed to load is not listed: the server log names it and why.
import { html } from '../../html.js';
import { t } from '../../i18n.js';
import { Empty, ErrorAlert, Table, useList } from './common.js';

const KINDS = { 'c (built-in)': 'admin.kind_c_builtin', 'c (.so)': 'admin.kind_c_so', 'lua (built-in)': 'admin.kind_lua_builtin',
  lua: 'admin.kind_lua' };

export function PluginsScreen() {
  const list = useList('/plugins');
  const items = list.items || [];
  return html`<div class="admin-screen">
    <p class="muted screen-intro">${t('admin.plugins_intro')}</p>
    <${ErrorAlert} error=${list.error} />
    ${list.items && !items.length ? html`<${Empty}>${t('admin.no_plugins')}<//>` : null}
    ${items.length ? html`<${Table} caption=${t('admin.tab_plugins')} items=${items} rowKey=${(p) => p.kind + ':' + p.name}
      rowAttrs=${(p) => ({ 'data-plugin': p.name })}
      columns=${[
        { label: t('admin.f_name'), cell: (p) => html`<strong>${p.name}</strong>` },
        { label: t('admin.version'), cell: (p) => html`<code>${p.version}</code>` },
        { label: t('admin.kind'), cell: (p) => html`<span data-field="kind">${KINDS[p.kind] ? t(KINDS[p.kind]) : p.kind}</span>` },
        { label: t('admin.source'), cell: (p) => html`<code class="break small">${p.source}</code>` },
        { label: t('admin.state'), cell: () => html`<span class="badge badge-on">${t('admin.loaded')}</span>` },
      ]} />` : null}
    <p class="muted small">${t('admin.plugins_note')}</p>
  </div>`;
}
