// The customer portal: the pages a shop's customers open (no sign-in). The modules say which pages there are
// (plugins/<name>/web/portal/index.js, gathered by scripts/build-web.mjs into 'destek:modules') and register the
// same addresses with the server, which answers them with portal.html; this picks the page from the address.
// Separate from the agents' app and a fraction of its size.
import installed from 'destek:modules';
import { fill, h, icon } from './dom.js';
import { browserLang, chosenLang, isLang, lang, LANGS, setLang, t } from './i18n.js';
import { config, loadConfig, loadShop, shop } from './api.js';

const root = document.getElementById('app');
const params = new URLSearchParams(location.search);
const given = params.get('lang');
setLang(chosenLang() || (isLang(given) ? given : null) || browserLang());

/* The {name} parts of path if it matches pattern ("/t/{number}": one non-empty part each; one trailing slash is
 * allowed, as the server allows it), else null. */
function match(pattern, path) {
  const want = pattern.split('/');
  const have = path.replace(/(.)\/$/, '$1').split('/');
  if (want.length !== have.length) return null;
  const out = {};
  for (let i = 0; i < want.length; i++) {
    const param = /^\{(\w+)\}$/.exec(want[i]);
    if (!param) {
      if (want[i] !== have[i]) return null;
      continue;
    }
    if (!have[i]) return null;
    try {
      out[param[1]] = decodeURIComponent(have[i]);
    } catch (e) {
      return null; // a malformed %-escape names no page
    }
  }
  return out;
}

/* An address no module claims (the server does not send one here; kept for a mismatch between the two lists). */
function notFoundPage() {
  return {
    title: () => t('shell.not_found'),
    view: () => h('section', { class: 'card empty' }, h('h1', { class: 'page-title', id: 'nf-title', tabindex: '-1' }, t('shell.not_found'))),
    takeFocus: () => null,
  };
}

function pickPage() {
  for (const { name, manifest } of installed) {
    for (const p of manifest.pages || []) {
      const found = match(p.path, location.pathname);
      if (!found) continue;
      try {
        // suggestLang: the page's customer's language (a ticket's), used unless the customer picked one here or the
        // address names one (?lang=, as a link in a mail in that language does).
        return p.page({ params: found, query: params, update: render,
          suggestLang: (l) => { if (!chosenLang() && !isLang(given)) setLang(l); } });
      } catch (e) {
        console.error(`destek: module ${name}: page ${p.path} failed`, e);
        return notFoundPage();
      }
    }
  }
  return notFoundPage();
}

const page = pickPage();

function langSwitch() {
  return h('div', { class: 'lang-switch', role: 'group', 'aria-label': t('lang.label') },
    LANGS.map((code) => h('button', {
      type: 'button', lang: code, class: 'lang-btn' + (code === lang() ? ' is-active' : ''),
      'aria-pressed': code === lang() ? 'true' : 'false', title: t('lang.' + code), 'data-lang': code,
      onClick() {
        if (code === lang()) return;
        setLang(code, true);
        render();
      },
    }, code.toUpperCase())));
}

/* Draws the whole page from the current page's state, then moves focus where the page asks. */
function render() {
  const brand = shop.name || config.name || t('app.support');
  document.title = page.title() + ' · ' + brand;
  // The shop's colour (a checked #rrggbb) through the CSSOM, which the page's CSP allows.
  if (shop.colour) {
    document.documentElement.style.setProperty('--accent', shop.colour);
    document.documentElement.style.setProperty('--accent-hover', shop.colour);
  }
  fill(root,
    h('header', { class: 'top' },
      h('div', { class: 'brand', 'data-region': 'shop' },
        shop.logo_url ? h('img', { class: 'brand-logo', src: shop.logo_url, alt: '' }) : icon('chat', 'brand-mark'),
        h('span', { class: 'brand-name' }, brand)),
      langSwitch()),
    h('main', { id: 'main', class: 'main' }, page.view()),
    // Every portal page takes a person's data (the form, a reply): the shop's KVKK notice is linked on each.
    shop.privacy_url ? h('footer', { class: 'foot' },
      h('a', { href: shop.privacy_url, rel: 'noopener', target: '_blank', 'data-link': 'privacy' }, t('shell.privacy'))) : null);
  const id = page.takeFocus();
  const el = id && document.getElementById(id);
  if (el) {
    el.focus();
    if (el.scrollIntoView) el.scrollIntoView({ block: 'center' });
  }
}

render();
// The shop's name and limits arrive a moment later: redraw, unless the customer has started typing.
Promise.all([loadConfig(), loadShop()]).then(() => {
  const a = document.activeElement;
  if (!a || !/^(INPUT|TEXTAREA)$/.test(a.tagName)) render();
});
