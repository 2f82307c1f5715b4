// /app: the agents' workspace. The core alone has no modules, so the inbox is an honest empty state;
// modules will add their views here.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { formatDate, t } from '../i18n.js';
import { useStore } from '../store.js';
import { onLinkClick } from '../router.js';
import { logout } from '../session.js';
import { Alert, LangSwitch, Logo } from '../components.js';

function initials(name) {
  const parts = String(name || '').trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] || '?').slice(0, 2);
  return letters.toLocaleUpperCase(document.documentElement.lang || undefined);
}

function TopBar({ user, onLangError }) {
  const [busy, setBusy] = useState(false);
  async function signOut() {
    setBusy(true);
    await logout();
  }
  return html`<header class="topbar">
    <a class="brand" href="/app" onClick=${onLinkClick}><${Logo} /><span class="brand-name">${t('app.name')}</span></a>
    <div class="topbar-end">
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

export function Shell() {
  const { user } = useStore();
  const [langError, setLangError] = useState(null);
  if (!user) return null;
  const today = new Date();
  return html`<div class="shell">
    <a class="skip" href="#main">${t('common.skip_to_content')}</a>
    <${TopBar} user=${user} onLangError=${setLangError} />
    <main class="page" id="main" tabindex="-1">
      ${langError ? html`<${Alert}>${langError}<//>` : null}
      <div class="page-head">
        <h1>${t('nav.inbox')}</h1>
        <p class="muted"><span>${t('inbox.greeting', { name: user.name })}</span><span class="sep" aria-hidden="true"> · </span><time datetime=${today.toISOString().slice(0, 10)}>${formatDate(today)}</time></p>
      </div>
      <section class="card empty" aria-labelledby="empty-title" data-region="inbox">
        <svg class="empty-icon" viewBox="0 0 48 48" aria-hidden="true" focusable="false">
          <path d="M6 28l6-16a3 3 0 0 1 2.8-2h18.4a3 3 0 0 1 2.8 2l6 16v8a3 3 0 0 1-3 3H9a3 3 0 0 1-3-3z" />
          <path d="M6 28h10l2 5h12l2-5h10" />
        </svg>
        <h2 id="empty-title">${t('inbox.empty_title')}</h2>
        <p class="muted">${t('inbox.empty_body')}</p>
      </section>
    </main>
  </div>`;
}
