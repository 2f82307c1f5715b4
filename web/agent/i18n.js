// User-visible text lives in web/agent/i18n/<lang>.json (the core's) and plugins/<name>/i18n/agent/<lang>.json (each
// module's), the same keys in every language; scripts/build-web.mjs merges them into 'destek:strings'. t() looks a
// key up in the current language. Dates go through Intl so that they read naturally in each language.
import MESSAGES from 'destek:strings';
import { store } from './store.js';

export const LANGS = ['tr', 'en'];
const en = MESSAGES.en;
const LOCALES = { tr: 'tr-TR', en: 'en-GB' };
const STORAGE_KEY = 'destek.lang';

export function isLang(lang) {
  return LANGS.indexOf(lang) >= 0;
}

/* The text for key in the current language, with {name} placeholders filled from vars. An unknown key
 * shows as itself, so that a missing translation is visible rather than blank. */
export function t(key, vars) {
  const lang = store.get().lang;
  let text = MESSAGES[lang][key];
  if (text === undefined) text = en[key] !== undefined ? en[key] : key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  return text;
}

/* The language for an anonymous visitor: the one they picked before (localStorage), else the browser's. */
export function initialLang() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (isLang(saved)) return saved;
  } catch (e) { /* storage disabled: fall through */ }
  const nav = (navigator.language || '').toLowerCase();
  return nav.startsWith('tr') ? 'tr' : 'en';
}

export function rememberLang(lang) {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch (e) { /* storage disabled: the choice lasts for this page only */ }
}

/* Switches the UI language: store, <html lang>, and the document title. */
export function applyLang(lang) {
  if (!isLang(lang)) return;
  store.set({ lang });
  document.documentElement.lang = lang;
  document.title = MESSAGES[lang]['app.name'];
}

/* A date (Date or ISO-8601 string) written out in the current language, e.g. "23 Kasım 2026 Pazartesi". */
export function formatDate(value, options) {
  const date = value instanceof Date ? value : new Date(value);
  if (isNaN(date.getTime())) return '';
  const fmt = new Intl.DateTimeFormat(LOCALES[store.get().lang], options || { dateStyle: 'full' });
  return fmt.format(date);
}
