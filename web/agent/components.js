// Small shared pieces: the logo, the language switch, form fields, alerts, and error text.
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { LANGS, t } from './i18n.js';
import { store, useStore } from './store.js';
import { changeLang } from './session.js';

export function Logo() {
  return html`<svg class="logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
    <rect width="32" height="32" rx="8" class="logo-bg" />
    <path class="logo-fg" d="M9 9.5h14a2.5 2.5 0 0 1 2.5 2.5v7a2.5 2.5 0 0 1-2.5 2.5h-7.2L11 25v-3.5H9A2.5 2.5 0 0 1 6.5 19v-7A2.5 2.5 0 0 1 9 9.5z" />
    <path class="logo-check" d="M11.5 15.6l2.9 2.9 6.1-6.1" />
  </svg>`;
}

const TRANSLATED_ERRORS = new Set(['network', 'bad_credentials', 'too_many_attempts', 'rate_limited',
  'bad_setup_token', 'setup_done', 'email_taken', 'unauthenticated', 'csrf_failed']);

/* What to tell the user about a failed call: our own words for the errors we know, the server's message
 * for the rest (validation details), a generic line when there is nothing better. */
export function errorText(err) {
  if (!err) return '';
  if (TRANSLATED_ERRORS.has(err.code)) {
    let text = t('error.' + err.code);
    if (err.status === 429 && err.retryAfter > 0) {
      text += ' ' + t('error.retry_after', { minutes: Math.max(1, Math.ceil(err.retryAfter / 60)) });
    }
    return text;
  }
  if (err.status && err.status < 500 && err.message) return err.message;
  return t('error.unexpected');
}

export function Alert({ kind, children }) {
  return html`<div class=${'alert alert-' + (kind || 'error')} role=${kind === 'info' ? 'status' : 'alert'}>
    ${children}
  </div>`;
}

/* A labelled input with an optional hint and error, wired up for screen readers. */
export function Field({ id, label, type, value, onInput, error, hint, autocomplete, inputRef }) {
  const described = [hint ? id + '-hint' : '', error ? id + '-error' : ''].filter(Boolean).join(' ');
  return html`<div class=${'field' + (error ? ' field-invalid' : '')}>
    <label for=${id}>${label}</label>
    <input id=${id} name=${id} type=${type || 'text'} value=${value} ref=${inputRef}
      autocomplete=${autocomplete} aria-invalid=${error ? 'true' : 'false'}
      aria-describedby=${described || undefined}
      onInput=${(e) => onInput(e.currentTarget.value)} />
    ${hint && !error ? html`<p class="field-hint" id=${id + '-hint'}>${hint}</p>` : null}
    ${error ? html`<p class="field-error" id=${id + '-error'}>${error}</p>` : null}
  </div>`;
}

/* TR | EN buttons; the current language is pressed. */
export function LangSwitch({ onError }) {
  const { lang } = useStore();
  const [busy, setBusy] = useState(false);
  async function pick(next) {
    if (busy || next === store.get().lang) return;
    setBusy(true);
    try {
      await changeLang(next);
      if (onError) onError(null);
    } catch (e) {
      if (onError) onError(t('lang.save_failed'));
    } finally {
      setBusy(false);
    }
  }
  return html`<div class="lang-switch" role="group" aria-label=${t('lang.label')}>
    ${LANGS.map((code) => html`<button key=${code} type="button" lang=${code}
        class=${'lang-btn' + (code === lang ? ' is-active' : '')} aria-pressed=${code === lang ? 'true' : 'false'}
        title=${t('lang.' + code)} data-lang=${code} onClick=${() => pick(code)}>
      ${code.toUpperCase()}
    </button>`)}
  </div>`;
}

/* Client-side checks with the same limits as the server, so that most mistakes get a message in the
 * user's language before anything is sent. */
export function validateEmail(value) {
  if (!value.trim()) return t('validation.required');
  if (!/^[^\s@]+@[^\s@]+$/.test(value.trim())) return t('validation.email');
  return null;
}

export function validatePassword(value) {
  if (!value) return t('validation.required');
  const length = Array.from(value).length; // characters, not UTF-16 units
  if (length < 8 || length > 1024) return t('validation.password_length');
  return null;
}
