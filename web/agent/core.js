// The core's own part of the agents' app, declared the way a module declares its part (plugins/README.md, "A
// module's screens and pages"): the admin page with the screens for what the core owns, its place in the top bar,
// the "?" key and the core's events. The modules' screens come in between by their `order`: the core's admin screens take 10–30 and
// 900–910, its navigation item 1000, its shortcut 1000.
import { AdminPage } from './pages/admin.js';
import { UsersScreen } from './pages/admin/users.js';
import { TokensScreen } from './pages/admin/tokens.js';
import { WebhooksScreen } from './pages/admin/webhooks.js';
import { SettingsScreen } from './pages/admin/settings.js';
import { PluginsScreen } from './pages/admin/plugins.js';

export const routes = [
  { path: '/app/admin', page: AdminPage, role: 'admin' },
  { path: '/app/admin/{tab}', page: AdminPage, role: 'admin' },
];

export const nav = [{ id: 'admin', href: '/app/admin', label: 'nav.admin', role: 'admin', order: 1000 }];

export const admin = [
  { id: 'users', label: 'admin.tab_users', screen: UsersScreen, order: 10 },
  { id: 'tokens', label: 'admin.tab_tokens', screen: TokensScreen, order: 20 },
  { id: 'webhooks', label: 'admin.tab_webhooks', screen: WebhooksScreen, order: 30 },
  { id: 'settings', label: 'admin.tab_settings', screen: SettingsScreen, order: 900 },
  { id: 'plugins', label: 'admin.tab_plugins', screen: PluginsScreen, order: 910 },
];

export const shortcuts = [{ keys: '?', label: 'keys.help', order: 1000 }];

export const events = ['user.created', 'user.updated'];
