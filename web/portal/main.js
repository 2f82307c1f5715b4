// The customer portal: the pages a shop's customers open (no sign-in). The server answers /contact and /t/{number}
// with portal.html; this picks the page from the address. Separate from the agents' app and a fraction of its size.
import { fill, h, icon } from './dom.js';
import { browserLang, chosenLang, isLang, lang, LANGS, setLang, t } from './i18n.js';
import { config, loadConfig } from './api.js';
import { contactPage } from './form.js';
import { notFoundPage, ticketPage } from './ticket.js';

const root = document.getElementById('app');
const params = new URLSearchParams(location.search);
const given = params.get('lang');
setLang(chosenLang() || (isLang(given) ? given : null) || browserLang());

let page;
const contact = /^\/contact\/?$/.test(location.pathname);
const ticket = /^\/t\/([^/]+)$/.exec(location.pathname);
if (contact) page = contactPage(params, render);
else if (ticket) {
  // The ticket's customer's language, unless the customer picked one on this device.
  page = ticketPage(ticket[1], params.get('sig'), render, (l) => { if (!chosenLang()) setLang(l); });
} else page = notFoundPage();

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
  const brand = config.name || t('app.support');
  document.title = page.title() + ' · ' + brand;
  fill(root,
    h('header', { class: 'top' },
      h('div', { class: 'brand' }, icon('chat', 'brand-mark'), h('span', { class: 'brand-name' }, brand)),
      langSwitch()),
    h('main', { id: 'main', class: 'main' }, page.view()));
  const id = page.takeFocus();
  const el = id && document.getElementById(id);
  if (el) {
    el.focus();
    if (el.scrollIntoView) el.scrollIntoView({ block: 'center' });
  }
}

render();
// The shop's name and limits arrive a moment later: redraw, unless the customer has started typing.
loadConfig().then(() => {
  const a = document.activeElement;
  if (!a || !/^(INPUT|TEXTAREA)$/.test(a.tagName)) render();
});
