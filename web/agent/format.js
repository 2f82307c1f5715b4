// Numbers, sizes, durations and dates in the user's language (Intl, tr-TR / en-GB). Nothing here hard-codes a
// unit name or a date order: the browser's locale data writes them.
import { store } from './store.js';

const LOCALES = { tr: 'tr-TR', en: 'en-GB' };
/* The Intl locale of the language the UI shows. */
export const locale = () => LOCALES[store.get().lang] || 'en-GB';

const cache = new Map();
function fmt(kind, options) {
  const key = locale() + '|' + kind + '|' + JSON.stringify(options || {});
  let f = cache.get(key);
  if (!f) {
    f = new Intl[kind](locale(), options);
    cache.set(key, f);
  }
  return f;
}

/* 12345 -> "12.345" (tr) / "12,345" (en). */
export function number(n) {
  return fmt('NumberFormat').format(n);
}

/* A file size: 934 B, 12 kB, 3,4 MB — in powers of 1024, as file managers show them, so that the server's
 * 10485760-byte limit reads "10 MB". */
export function bytes(n) {
  const units = [['megabyte', 1024 * 1024], ['kilobyte', 1024]];
  for (const [unit, size] of units) {
    if (n >= size) {
      const v = n / size;
      return fmt('NumberFormat', { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: v < 10 ? 1 : 0 })
        .format(v);
    }
  }
  return fmt('NumberFormat', { style: 'unit', unit: 'byte', unitDisplay: 'short' }).format(n);
}

/* A span of minutes, at most two units: "2 gün 3 sa.", "1 hr 20 min", "45 dk.". */
export function duration(minutes) {
  let m = Math.max(0, Math.round(minutes));
  const days = Math.floor(m / 1440);
  m -= days * 1440;
  const hours = Math.floor(m / 60);
  m -= hours * 60;
  const parts = days ? { days, hours } : hours ? { hours, minutes: m } : { minutes: m };
  for (const k of Object.keys(parts)) if (!parts[k] && Object.keys(parts).length > 1) delete parts[k];
  if (typeof Intl.DurationFormat === 'function') {
    try {
      return fmt('DurationFormat', { style: 'short' }).format(parts);
    } catch (e) { /* fall through to the unit formatter */ }
  }
  const unit = { days: 'day', hours: 'hour', minutes: 'minute' };
  return Object.entries(parts).map(([k, v]) =>
    fmt('NumberFormat', { style: 'unit', unit: unit[k], unitDisplay: 'short' }).format(v)).join(' ');
}

/* "17:30" today, "Per 17:30" within the week, "3 Ara 2026 17:30" otherwise. */
export function when(value) {
  const d = new Date(value);
  if (isNaN(d.getTime())) return '';
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  if (sameDay) return fmt('DateTimeFormat', { hour: '2-digit', minute: '2-digit' }).format(d);
  if (Math.abs(d.getTime() - now.getTime()) < 6 * 86400000) {
    return fmt('DateTimeFormat', { weekday: 'short', hour: '2-digit', minute: '2-digit' }).format(d);
  }
  return fmt('DateTimeFormat', { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/* "5 min ago" in the user's language (Intl.RelativeTimeFormat). */
export function ago(value) {
  const d = new Date(value);
  if (isNaN(d.getTime())) return '';
  const s = Math.round((d.getTime() - Date.now()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  const abs = Math.abs(s);
  if (abs < 60) return rtf.format(s, 'second');
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86400), 'day');
}

/* A date and time, medium length: "3 Ara 2026 17:30". */
export function dateTime(value) {
  const d = new Date(value);
  if (isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}
