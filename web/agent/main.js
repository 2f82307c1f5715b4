// Entry point of the agents' app: boot the session, then render the page the address asks for.
import { render } from 'preact';
import { html } from './html.js';
import { t } from './i18n.js';
import { useStore } from './store.js';
import { startRouter } from './router.js';
import { boot } from './session.js';
import { LoginPage } from './pages/login.js';
import { SetupPage } from './pages/setup.js';
import { Shell } from './pages/shell.js';

function App() {
  const { boot: booting, path } = useStore();
  if (booting) {
    return html`<div class="boot" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>
      <span class="visually-hidden">${t('common.loading')}</span></div>`;
  }
  if (path === '/setup') return html`<${SetupPage} />`;
  if (path === '/login') return html`<${LoginPage} />`;
  if (path === '/app' || path.startsWith('/app/')) return html`<${Shell} />`;
  return null; // the router is on its way elsewhere
}

startRouter();
render(html`<${App} />`, document.getElementById('app'));
boot();
