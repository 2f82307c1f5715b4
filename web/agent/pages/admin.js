// /app/admin/<tab>: the administrators' screens. Each screen is its own file under admin/; this file holds only
// the tab list and the layout. Agents are never shown the link and get an "admins only" notice at these
// addresses (the server refuses them too).
//
// To add a screen: write admin/<name>.js exporting a component, import it here and add one line to ADMIN_TABS
// (id: the address /app/admin/<id>, letters, digits and _ only; its label is the i18n key admin.tab_<id>).
import { useEffect, useRef } from 'preact/hooks';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { onLinkClick } from '../router.js';
import { Alert } from '../components.js';
import { UsersScreen } from './admin/users.js';
import { TokensScreen } from './admin/tokens.js';
import { WebhooksScreen } from './admin/webhooks.js';
import { SlaScreen } from './admin/sla.js';
import { CalendarsScreen } from './admin/calendars.js';
import { MacrosScreen } from './admin/macros.js';
import { TriggersScreen } from './admin/triggers.js';
import { UnparsedScreen } from './admin/unparsed.js';
import { SettingsScreen } from './admin/settings.js';
import { PluginsScreen } from './admin/plugins.js';
import { Mailboxes } from './admin/mailboxes.js';

export const ADMIN_TABS = [
  { id: 'users', Screen: UsersScreen },
  { id: 'tokens', Screen: TokensScreen },
  { id: 'webhooks', Screen: WebhooksScreen },
  { id: 'mailboxes', Screen: Mailboxes },
  { id: 'sla', Screen: SlaScreen },
  { id: 'calendars', Screen: CalendarsScreen },
  { id: 'macros', Screen: MacrosScreen },
  { id: 'triggers', Screen: TriggersScreen },
  { id: 'unparsed', Screen: UnparsedScreen },
  { id: 'settings', Screen: SettingsScreen },
  { id: 'plugins', Screen: PluginsScreen },
];

export function AdminPage({ tab, user }) {
  if (user.role !== 'admin') {
    return html`<div class="pad" data-region="forbidden"><${Alert}>${t('admin.only')}<//></div>`;
  }
  const current = ADMIN_TABS.find((x) => x.id === tab) || ADMIN_TABS[0];
  const Screen = current.Screen;
  return html`<div class="admin" data-admin=${current.id}>
    <h1>${t('nav.admin')}</h1>
    <${Tabs} current=${current} />
    <div class="admin-body"><${Screen} key=${current.id} /></div>
  </div>`;
}

/* On a phone the tabs are one scrolling row: keep the current one in view. */
function Tabs({ current }) {
  const nav = useRef(null);
  useEffect(() => {
    const el = nav.current && nav.current.querySelector('.is-active');
    if (el && nav.current.scrollWidth > nav.current.clientWidth) {
      nav.current.scrollLeft = el.offsetLeft - (nav.current.clientWidth - el.offsetWidth) / 2;
    }
  }, [current.id]);
  return html`<nav class="admin-tabs" ref=${nav} aria-label=${t('admin.sections')}>
      ${ADMIN_TABS.map((x) => html`<a href=${'/app/admin/' + x.id} onClick=${onLinkClick} data-tab=${x.id}
        class=${x === current ? 'is-active' : ''} aria-current=${x === current ? 'page' : undefined}>${t('admin.tab_' + x.id)}</a>`)}
    </nav>`;
}
