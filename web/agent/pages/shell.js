// /app: the agents' workspace: top bar, the page the address names (inbox, ticket, admin), shortcut help.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { useStore } from '../store.js';
import { onLinkClick } from '../router.js';
import { logout } from '../session.js';
import { Alert, LangSwitch, Logo } from '../components.js';
import { startKeys } from '../keys.js';
import { LiveStatus } from '../live.js';
import { Inbox } from './inbox.js';
import { TicketPage } from './ticket.js';
import { AdminPage } from './admin.js';

function initials(name) {
  const parts = String(name || '').trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] || '?').slice(0, 2);
  return letters.toLocaleUpperCase(document.documentElement.lang || undefined);
}

function TopBar({ user, onLangError, path }) {
  const [busy, setBusy] = useState(false);
  async function signOut() {
    setBusy(true);
    await logout();
  }
  return html`<header class="topbar">
    <a class="brand" href="/app" onClick=${onLinkClick}><${Logo} /><span class="brand-name">${t('app.name')}</span></a>
    <nav class="mainnav" aria-label=${t('nav.main')}>
      <a href="/app/tickets" onClick=${onLinkClick} data-nav="inbox"
        class=${!path.startsWith('/app/admin') ? 'is-active' : ''}>${t('nav.inbox')}</a>
      ${user.role === 'admin' ? html`<a href="/app/admin/users" onClick=${onLinkClick} data-nav="admin"
        class=${path.startsWith('/app/admin') ? 'is-active' : ''}>${t('nav.admin')}</a>` : null}
    </nav>
    <div class="topbar-end">
      <${LiveStatus} />
      <${LangSwitch} onError=${onLangError} />
      <div class="user" title=${user.name}>
        <span class="avatar" aria-hidden="true">${initials(user.name)}</span>
        <span class="user-text">
          <span class="user-name">${user.name}</span>
          <span class="user-role">${t('role.' + user.role)}</span>
        </span>
      </div>
      <button class="btn btn-ghost" type="button" onClick=${signOut} disabled=${busy} data-action="logout"
        aria-label=${t('shell.logout')} title=${t('shell.logout')}>
        <svg class="icon" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
          <path d="M8 4H5a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h3M12 14l4-4-4-4M16 10H8" />
        </svg>
        <span class="btn-label">${t('shell.logout')}</span>
      </button>
    </div>
  </header>`;
}

const SHORTCUTS = [['j / k', 'keys.move'], ['Enter', 'keys.open'], ['r', 'keys.reply'], ['n', 'keys.note'],
  ['a', 'keys.assign'], ['/', 'keys.search'], ['u', 'keys.back'], ['?', 'keys.help']];

function Help({ onClose }) {
  return html`<div class="overlay" onClick=${onClose}>
    <div class="dialog card" role="dialog" aria-modal="true" aria-labelledby="keys-title" data-region="shortcuts"
      onClick=${(e) => e.stopPropagation()}>
      <h2 id="keys-title">${t('keys.title')}</h2>
      <dl class="keys">${SHORTCUTS.map(([k, label]) => html`<div><dt><kbd>${k}</kbd></dt><dd>${t(label)}</dd></div>`)}</dl>
      <button class="btn btn-secondary" type="button" onClick=${onClose}>${t('keys.close')}</button>
    </div></div>`;
}

let helpToggle = () => {};
startKeys(() => helpToggle());

export function Shell() {
  const { user, path } = useStore();
  const [langError, setLangError] = useState(null);
  const [help, setHelp] = useState(false);
  helpToggle = () => setHelp((h) => !h);
  useEffect(() => {
    const esc = (e) => { if (e.key === 'Escape') setHelp(false); };
    document.addEventListener('keydown', esc);
    return () => document.removeEventListener('keydown', esc);
  }, []);
  if (!user) return null;
  const ticketMatch = path.match(/^\/app\/tickets\/(\d+)$/);
  const adminMatch = path.match(/^\/app\/admin(?:\/(\w+))?$/);
  let content;
  if (ticketMatch) content = html`<${TicketPage} id=${ticketMatch[1]} />`;
  else if (adminMatch) content = html`<${AdminPage} tab=${adminMatch[1]} user=${user} />`;
  else content = html`<${Inbox} />`;
  return html`<div class="shell">
    <a class="skip" href="#main">${t('common.skip_to_content')}</a>
    <${TopBar} user=${user} onLangError=${setLangError} path=${path} />
    <main class="page page-wide" id="main" tabindex="-1">
      ${langError ? html`<${Alert}>${langError}<//>` : null}
      ${content}
    </main>
    ${help ? html`<${Help} onClose=${() => setHelp(false)} />` : null}
  </div>`;
}
