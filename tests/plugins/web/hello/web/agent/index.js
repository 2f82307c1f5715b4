// A test-only module (tests/e2e/build-web.test.mjs builds the bundles with tests/plugins/web as the plugins folder,
// so that ticketing is absent and this is the only module): a page that is the home page, a page that fails, an
// admin screen, a slot with a panel, a shortcut, styles and strings.
import { useEffect, useState } from 'preact/hooks';
import { Slot, html, setKeys, t } from '@destek/agent';

function HelloPage({ name }) {
  const [count, setCount] = useState(0);
  useEffect(() => {
    setKeys({ h: () => setCount((n) => n + 1) });
    return () => setKeys({});
  }, []);
  return html`<div class="hello" data-region="hello">
    <h1>${t('hello.title')}</h1>
    <p data-field="greeting">${t('hello.greet', { name: name || '—' })}</p>
    <p data-field="count">${count}</p>
    <${Slot} name="hello.side" label=${t('hello.title')} count=${count} />
  </div>`;
}

function Broken() {
  throw new Error('this page fails on purpose');
}

function Panel({ count }) {
  return html`<p data-field="panel">${t('hello.panel', { n: count })}</p>`;
}

function HelloAdmin() {
  return html`<p data-region="hello-admin">${t('hello.admin_tab')}</p>`;
}

export const routes = [
  { path: '/app/hello', page: HelloPage },
  { path: '/app/hello/{name}', page: HelloPage },
  { path: '/app/hello/broken', page: Broken },
];
export const nav = [{ id: 'hello', href: '/app/hello', label: 'hello.nav', order: 5 }];
export const admin = [{ id: 'hello', label: 'hello.admin_tab', screen: HelloAdmin, order: 50 }];
export const panels = [{ slot: 'hello.side', id: 'count', panel: Panel }];
export const shortcuts = [{ keys: 'h', label: 'hello.key' }];
