// /app: the agents' workspace: top bar, the page the address names (a module's route, or the admin page), shortcut
// help. What the pages and the navigation are comes from the modules (modules.js); the shell names none of them.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { useStore } from '../store.js';
import { onLinkClick } from '../router.js';
import { logout } from '../session.js';
import { Alert, LangSwitch, Logo } from '../components.js';
import { startKeys } from '../keys.js';
import { LiveStatus } from '../live.js';
import { Guard, Slot, navItems, pageFor, shortcuts } from '../modules.js';

function initials(name) {
  const parts = String(name || '').trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] || '?').slice(0, 2);
  return letters.toLocaleUpperCase(document.documentElement.lang || undefined);
}

function TopBar({ user, onLangError, path, home }) {
  const [busy, setBusy] = useState(false);
  async function signOut() {
    setBusy(true);
    await logout();
  }
  return html`<header class="topbar">
    <a class="brand" href="/app" onClick=${onLinkClick}><${Logo} /><span class="brand-name">${t('app.name')}</span></a>
    <nav class="mainnav" aria-label=${t('nav.main')}>
      ${navItems(user).map((n) => {
        const base = n.href.split('?')[0];
        const active = n === home || path === base || path.startsWith(base + '/');
        return html`<a key=${n.id} href=${n.href} onClick=${onLinkClick} data-nav=${n.id}
          class=${active ? 'is-active' : ''}>${t(n.label)}</a>`;
      })}
    </nav>
    <div class="topbar-end">
      <${Slot} name="topbar" label=${t('nav.topbar_tools')} />
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

function Help({ onClose }) {
  return html`<div class="overlay" onClick=${onClose}>
    <div class="dialog card" role="dialog" aria-modal="true" aria-labelledby="keys-title" data-region="shortcuts"
      onClick=${(e) => e.stopPropagation()}>
      <h2 id="keys-title">${t('keys.title')}</h2>
      <dl class="keys">${shortcuts().map((s) => html`<div><dt><kbd>${s.keys}</kbd></dt><dd>${t(s.label)}</dd></div>`)}</dl>
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
  const found = pageFor(path, user);
  let content;
  if (!found) {
    content = html`<p class="pad muted" data-region="no-pages">${t('shell.no_pages')}</p>`;
  } else if (found.route.role === 'admin' && user.role !== 'admin') {
    content = html`<div class="pad" data-region="forbidden"><${Alert}>${t('admin.only')}<//></div>`;
  } else {
    const { route, params } = found;
    content = html`<${Guard} key=${route.path} owner=${route.owner}
      fallback=${html`<${Alert}>${t('shell.page_failed')}<//>`}><${route.page} ...${params} user=${user} /><//>`;
  }
  return html`<div class="shell">
    <a class="skip" href="#main">${t('common.skip_to_content')}</a>
    <${TopBar} user=${user} onLangError=${setLangError} path=${path} home=${found && found.home} />
    <main class="page page-wide" id="main" tabindex="-1">
      ${langError ? html`<${Alert}>${langError}<//>` : null}
      <${Slot} name="banner" label=${t('shell.banners')} />
      ${content}
    </main>
    ${help ? html`<${Help} onClose=${() => setHelp(false)} />` : null}
  </div>`;
}
