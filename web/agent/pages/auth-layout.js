// The frame around the sign-in and setup pages: brand, language switch, a centred card.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { t } from '../i18n.js';
import { Alert, LangSwitch, Logo } from '../components.js';

export function AuthLayout({ title, subtitle, children }) {
  const [langError, setLangError] = useState(null);
  return html`<div class="auth">
    <header class="auth-top">
      <div class="brand"><${Logo} /><span class="brand-name">${t('app.name')}</span></div>
      <${LangSwitch} onError=${setLangError} />
    </header>
    <main class="auth-main" id="main">
      <section class="card auth-card" aria-labelledby="auth-title">
        <h1 id="auth-title">${title}</h1>
        ${subtitle ? html`<p class="muted">${subtitle}</p>` : null}
        ${langError ? html`<${Alert}>${langError}<//>` : null}
        ${children}
      </section>
      <p class="auth-foot muted">${t('app.tagline')}</p>
    </main>
  </div>`;
}
