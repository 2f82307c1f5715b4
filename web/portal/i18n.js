// The portal's texts (web/portal/i18n/<lang>.json and each module's plugins/<name>/i18n/portal/<lang>.json, the
// same keys in each language, merged by scripts/build-web.mjs into 'destek:strings') and the customer's language:
// the one they picked on this device, else the one the page was given (the ticket's customer, a shop's ?lang=),
// else the browser's, else Turkish.
import MESSAGES from 'destek:strings';

export const LANGS = ['tr', 'en'];
const LOCALES = { tr: 'tr-TR', en: 'en-GB' };
const STORAGE_KEY = 'destek.portal.lang';
let current = 'tr';

export const isLang = (l) => LANGS.indexOf(l) >= 0;
export const lang = () => current;

/* The text of key in the current language, {name} placeholders filled from vars. */
export function t(key, vars) {
  let text = MESSAGES[current][key];
  if (text === undefined) text = key;
  return vars ? text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m)) : text;
}

/* The language the customer chose on this device, or null. */
export function chosenLang() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    return isLang(saved) ? saved : null;
  } catch (e) {
    return null;
  }
}

/* The first of the browser's languages we have, else Turkish. */
export function browserLang() {
  const list = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ''];
  for (const l of list) {
    const code = String(l).slice(0, 2).toLowerCase();
    if (isLang(code)) return code;
  }
  return 'tr';
}

export function setLang(l, remember) {
  if (!isLang(l)) return;
  current = l;
  document.documentElement.lang = l;
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, l);
    } catch (e) { /* storage disabled: the choice lasts for this page */ }
  }
}

export function formatDate(iso) {
  const d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(LOCALES[current], { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/* 1536 -> "1,5 KB" (tr) / "1.5 KB" (en). */
export function formatSize(bytes) {
  const units = ['B', 'KB', 'MB', 'GB'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return new Intl.NumberFormat(LOCALES[current], { maximumFractionDigits: u && n < 10 ? 1 : 0 }).format(n) + ' ' + units[u];
}
